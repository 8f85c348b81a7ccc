//! CloudTrail Lake query results (`QueryResultRows`).

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;
use vigil_schemas::Provider;

use super::{Located, Run};
use crate::aws;
use crate::json::get_ci;
use crate::record::RecordError;

impl Run<'_> {
    /// CloudTrail Lake query results: each row is a list of one-column objects. Rows that are not events
    /// (aggregates such as `count(*)`) are refused as such.
    pub(super) fn lake_rows(&mut self, rows: &RawValue, whole: &Located<'_>, offset: u64) {
        let Ok(rows) = serde_json::from_str::<Vec<Vec<BTreeMap<String, Value>>>>(rows.get()) else {
            let err = RecordError::bad_value(
                "QueryResultRows is not a list of rows of single-column objects",
            );
            self.record_failed(whole, Some(Provider::Aws), "cloudtrail_lake_row", err);
            return;
        };
        for (i, row) in rows.into_iter().enumerate() {
            let merged: serde_json::Map<String, Value> = row.into_iter().flatten().collect();
            let record = Value::Object(merged);
            let at = Located {
                bytes: whole.bytes,
                offset,
                index: i as u64,
                envelope: Some("lake_rows"),
            };
            let has_event_fields =
                get_ci(&record, "eventTime").is_some() && get_ci(&record, "eventName").is_some();
            if !has_event_fields {
                let columns: Vec<&str> = record
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let err = RecordError::not_an_event(format!(
                    "CloudTrail Lake row has columns {columns:?}, not an event (an event needs eventTime and eventName)"
                ));
                self.record_failed(&at, Some(Provider::Aws), aws::FORMAT, err);
                continue;
            }
            self.value_record(&record, &at, None);
        }
    }
}
