//! Permission findings (OCSF-aligned with the Detection Finding class in spirit: what, who, evidence,
//! remediation) and their Arrow schema for the Parquet output of `vigil permissions analyze`.

use std::sync::{Arc, LazyLock};

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::SchemaError;

/// One finding about an identity's permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable for the same inventory and usage: a hash of kind, identity and what was found.
    pub finding_id: String,
    /// `inactive_identity`, `super_identity`, `over_provisioned`, `inactive_group`, `unused_credential`,
    /// `can_read_secrets`, `can_disable_security_tooling`, `escalation_path`.
    pub kind: String,
    pub provider: String,
    pub account: String,
    pub identity_key: String,
    pub identity_name: String,
    /// `low`, `medium`, `high`, `critical`.
    pub severity: String,
    pub title: String,
    /// The facts behind it, as JSON.
    pub evidence: serde_json::Value,
    pub suggested_fix: String,
    /// The identity's Permission Creep Index, 0–100.
    pub pci: Option<f64>,
    pub analyzed_at: DateTime<Utc>,
}

static FINDING_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        utf8("finding_id"),
        utf8("kind"),
        utf8("provider"),
        utf8("account"),
        utf8("identity_key"),
        utf8("identity_name"),
        utf8("severity"),
        utf8("title"),
        utf8("evidence"),
        utf8("suggested_fix"),
        Field::new("pci", DataType::Float64, true),
        Field::new(
            "analyzed_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
});

/// The Arrow schema of findings; `evidence` is JSON text.
pub fn finding_schema() -> SchemaRef {
    FINDING_SCHEMA.clone()
}

/// Findings as one record batch.
pub fn findings_to_batch(findings: &[Finding]) -> Result<RecordBatch, SchemaError> {
    let mut text: Vec<StringBuilder> = (0..10).map(|_| StringBuilder::new()).collect();
    let mut pci = Float64Builder::new();
    let mut at = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    for f in findings {
        let evidence = f.evidence.to_string();
        let values = [
            f.finding_id.as_str(),
            &f.kind,
            &f.provider,
            &f.account,
            &f.identity_key,
            &f.identity_name,
            &f.severity,
            &f.title,
            &evidence,
            &f.suggested_fix,
        ];
        for (builder, value) in text.iter_mut().zip(values) {
            builder.append_value(value);
        }
        pci.append_option(f.pci);
        at.append_value(f.analyzed_at.timestamp_micros());
    }
    let mut columns: Vec<ArrayRef> = text
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(pci.finish()));
    columns.push(Arc::new(at.finish()));
    Ok(RecordBatch::try_new(finding_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_become_a_batch_of_the_schema() -> Result<(), SchemaError> {
        let f = Finding {
            finding_id: "f1".into(),
            kind: "super_identity".into(),
            provider: "aws".into(),
            account: "111122223333".into(),
            identity_key: "arn:aws:iam::111122223333:user/bob".into(),
            identity_name: "bob".into(),
            severity: "high".into(),
            title: "bob is admin-equivalent".into(),
            evidence: serde_json::json!({"policy": "AdministratorAccess"}),
            suggested_fix: "replace with a right-sized policy".into(),
            pci: Some(97.0),
            analyzed_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        let batch = findings_to_batch(&[f.clone(), f])?;
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), finding_schema());
        Ok(())
    }
}
