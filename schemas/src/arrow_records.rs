//! Arrow schemas of the lake's other tables: alerts, incidents and dead letters, one row each.
//!
//! Lists stay lists (reasons, evidence ids, tactics) so a query can `unnest` them; the baseline map is
//! kept as its JSON text, since its keys differ from alert to alert.

use std::sync::{Arc, LazyLock};

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};

use crate::event::Provider;
use crate::{Alert, DeadLetter, Incident, SchemaError};

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn strings() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn string_list(values: &[String], list: &mut ListBuilder<StringBuilder>) {
    for v in values {
        list.values().append_value(v);
    }
    list.append(true);
}

/// The provider an identity key belongs to, from its prefix (`arn:aws:…`, `aws-…`, `azure:…`,
/// `gcp:…`, `anonymous:<provider>`); `None` for a key of no known provider.
pub fn provider_of_identity_key(key: &str) -> Option<Provider> {
    let lower = |p: &str| {
        key.get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    };
    if lower("arn:aws") || lower("aws") {
        Some(Provider::Aws)
    } else if lower("azure") {
        Some(Provider::Azure)
    } else if lower("gcp") {
        Some(Provider::Gcp)
    } else {
        key.strip_prefix("anonymous:").and_then(Provider::parse)
    }
}

static ALERT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("alert_id", DataType::Utf8, false),
        Field::new("identity_key", DataType::Utf8, false),
        Field::new("time", timestamp(), false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("tactic", DataType::Utf8, true),
        Field::new("technique", DataType::Utf8, true),
        Field::new("reason_key", DataType::Utf8, false),
        Field::new("reasons", strings(), false),
        Field::new("evidence_event_ids", strings(), false),
        Field::new("baseline_json", DataType::Utf8, false),
    ]))
});

/// The columns of an alert row.
pub fn alert_schema() -> SchemaRef {
    ALERT_SCHEMA.clone()
}

/// One record batch of alerts, in order.
pub fn alerts_to_batch(alerts: &[Alert]) -> Result<RecordBatch, SchemaError> {
    let n = alerts.len();
    let s = || StringBuilder::with_capacity(n, n * 24);
    let (mut id, mut key, mut severity, mut reason_key, mut baseline) = (s(), s(), s(), s(), s());
    let (mut tactic, mut technique) = (s(), s());
    let mut time = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut score = Float64Builder::with_capacity(n);
    let mut reasons = ListBuilder::new(StringBuilder::new());
    let mut evidence = ListBuilder::new(StringBuilder::new());
    for a in alerts {
        id.append_value(&a.alert_id);
        key.append_value(&a.identity_key);
        time.append_value(a.time.timestamp_micros());
        severity.append_value(&a.severity);
        score.append_value(a.score);
        tactic.append_option(a.tactic.as_deref());
        technique.append_option(a.technique.as_deref());
        reason_key.append_value(&a.reason_key);
        string_list(&a.reasons, &mut reasons);
        string_list(&a.evidence_event_ids, &mut evidence);
        // A map of finite numbers always serializes; NaN would become `null`, which is still JSON.
        baseline.append_value(serde_json::to_string(&a.baseline).unwrap_or_default());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(key.finish()),
        Arc::new(time.finish()),
        Arc::new(severity.finish()),
        Arc::new(score.finish()),
        Arc::new(tactic.finish()),
        Arc::new(technique.finish()),
        Arc::new(reason_key.finish()),
        Arc::new(reasons.finish()),
        Arc::new(evidence.finish()),
        Arc::new(baseline.finish()),
    ];
    Ok(RecordBatch::try_new(alert_schema(), columns)?)
}

static INCIDENT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("incident_id", DataType::Utf8, false),
        Field::new("revision", DataType::UInt32, false),
        Field::new("identity_key", DataType::Utf8, false),
        Field::new("first_time", timestamp(), false),
        Field::new("last_time", timestamp(), false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("tactics", strings(), false),
        Field::new("techniques", strings(), false),
        Field::new("alert_ids", strings(), false),
        Field::new("summary", DataType::Utf8, false),
    ]))
});

/// The columns of an incident row (one row per revision).
pub fn incident_schema() -> SchemaRef {
    INCIDENT_SCHEMA.clone()
}

/// One record batch of incidents, in order.
pub fn incidents_to_batch(incidents: &[Incident]) -> Result<RecordBatch, SchemaError> {
    let n = incidents.len();
    let s = || StringBuilder::with_capacity(n, n * 24);
    let (mut id, mut key, mut severity, mut summary) = (s(), s(), s(), s());
    let mut revision = UInt32Builder::with_capacity(n);
    let mut first = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut last = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut score = Float64Builder::with_capacity(n);
    let mut tactics = ListBuilder::new(StringBuilder::new());
    let mut techniques = ListBuilder::new(StringBuilder::new());
    let mut alert_ids = ListBuilder::new(StringBuilder::new());
    for i in incidents {
        id.append_value(&i.incident_id);
        revision.append_value(i.revision);
        key.append_value(&i.identity_key);
        first.append_value(i.first_time.timestamp_micros());
        last.append_value(i.last_time.timestamp_micros());
        severity.append_value(&i.severity);
        score.append_value(i.score);
        string_list(&i.tactics, &mut tactics);
        string_list(&i.techniques, &mut techniques);
        string_list(&i.alert_ids, &mut alert_ids);
        summary.append_value(&i.summary);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(revision.finish()),
        Arc::new(key.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
        Arc::new(severity.finish()),
        Arc::new(score.finish()),
        Arc::new(tactics.finish()),
        Arc::new(techniques.finish()),
        Arc::new(alert_ids.finish()),
        Arc::new(summary.finish()),
    ];
    Ok(RecordBatch::try_new(incident_schema(), columns)?)
}

static DEAD_LETTER_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("written_time", timestamp(), false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("byte_offset", DataType::UInt64, false),
        Field::new("record_index", DataType::UInt64, true),
        Field::new("format", DataType::Utf8, true),
        Field::new("original", DataType::Binary, false),
        Field::new("original_len", DataType::UInt64, false),
        Field::new("original_truncated", DataType::Boolean, false),
    ]))
});

/// The columns of a dead-letter row: the original bytes are kept as bytes, not base64.
pub fn dead_letter_schema() -> SchemaRef {
    DEAD_LETTER_SCHEMA.clone()
}

/// One record batch of dead letters, each with the time it was written.
pub fn dead_letters_to_batch(
    letters: &[(DeadLetter, DateTime<Utc>)],
) -> Result<RecordBatch, SchemaError> {
    let n = letters.len();
    let s = || StringBuilder::with_capacity(n, n * 24);
    let (mut kind, mut reason, mut source, mut format) = (s(), s(), s(), s());
    let mut time = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut byte_offset = UInt64Builder::with_capacity(n);
    let mut record_index = UInt64Builder::with_capacity(n);
    let mut original = BinaryBuilder::with_capacity(n, n * 256);
    let mut original_len = UInt64Builder::with_capacity(n);
    let mut truncated = BooleanBuilder::with_capacity(n);
    for (d, written_time) in letters {
        time.append_value(written_time.timestamp_micros());
        kind.append_value(&d.kind);
        reason.append_value(&d.reason);
        source.append_value(&d.source);
        byte_offset.append_value(d.byte_offset);
        record_index.append_option(d.record_index);
        format.append_option(d.format.as_deref());
        // The dead letter itself wrote this base64, so it decodes; an empty value is the fallback.
        original.append_value(d.original().unwrap_or_default());
        original_len.append_value(d.original_len);
        truncated.append_value(d.original_truncated);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(time.finish()),
        Arc::new(kind.finish()),
        Arc::new(reason.finish()),
        Arc::new(source.finish()),
        Arc::new(byte_offset.finish()),
        Arc::new(record_index.finish()),
        Arc::new(format.finish()),
        Arc::new(original.finish()),
        Arc::new(original_len.finish()),
        Arc::new(truncated.finish()),
    ];
    Ok(RecordBatch::try_new(dead_letter_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn providers_come_from_key_prefixes() {
        assert_eq!(
            provider_of_identity_key("arn:aws:iam::1:user/a"),
            Some(Provider::Aws)
        );
        assert_eq!(
            provider_of_identity_key("aws-account:1:root"),
            Some(Provider::Aws)
        );
        assert_eq!(
            provider_of_identity_key("azure:0000-1"),
            Some(Provider::Azure)
        );
        assert_eq!(provider_of_identity_key("gcp:a@b.com"), Some(Provider::Gcp));
        assert_eq!(
            provider_of_identity_key("anonymous:gcp"),
            Some(Provider::Gcp)
        );
        assert_eq!(provider_of_identity_key("someone"), None);
    }

    #[test]
    fn alerts_incidents_and_dead_letters_become_rows() -> Result<(), SchemaError> {
        let alert = Alert {
            alert_id: "va-1".into(),
            identity_key: "gcp:a@b.com".into(),
            time: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            severity: "high".into(),
            score: 97.5,
            tactic: Some("Persistence".into()),
            technique: None,
            reasons: vec!["one".into(), "two".into()],
            evidence_event_ids: vec!["e1".into()],
            reason_key: "model:volume".into(),
            baseline: BTreeMap::from([("events".to_string(), 12.0)]),
        };
        let batch = alerts_to_batch(std::slice::from_ref(&alert))?;
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), alert_schema());
        let baseline = batch
            .column_by_name("baseline_json")
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::StringArray>())
            .map(|c| c.value(0).to_string());
        assert_eq!(baseline.as_deref(), Some(r#"{"events":12.0}"#));

        let incident = Incident {
            incident_id: "vi-1".into(),
            revision: 2,
            identity_key: alert.identity_key.clone(),
            first_time: alert.time,
            last_time: alert.time,
            severity: "critical".into(),
            score: 97.5,
            tactics: vec!["Persistence".into(), "Impact".into()],
            techniques: vec![],
            alert_ids: vec!["va-1".into(), "va-2".into()],
            summary: "s".into(),
        };
        assert_eq!(incidents_to_batch(&[incident])?.num_rows(), 1);

        let letter = DeadLetter::new("invalid_json", "bad", "f.json", 7, b"{oops", 1024);
        let batch = dead_letters_to_batch(&[(letter, alert.time)])?;
        let original = batch
            .column_by_name("original")
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::BinaryArray>())
            .map(|c| c.value(0).to_vec());
        assert_eq!(original.as_deref(), Some(&b"{oops"[..]));
        Ok(())
    }
}
