//! Reads what identities did back out of the event lake, fast: only the action, identity, time,
//! credential and resource columns are decoded, and `date=` partitions outside the window are never
//! opened. The provider is read off each file's `provider=` folder. Used by permission analytics ("used") over tens of millions of events.

use std::fs;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, StringArray};
use chrono::{DateTime, NaiveDate, Utc};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::SinkError;
use crate::lake::{Table, path_value};

/// One event's action, as the scan hands it over.
#[derive(Debug, Clone, Copy)]
pub struct ActionRow<'a> {
    pub provider: &'a str,
    pub identity_key: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    pub permission: &'a str,
    pub time: DateTime<Utc>,
    pub credential_id: Option<&'a str>,
    /// Ids of the resources the event names (ARNs, resource ids).
    pub resources: &'a [&'a str],
}

const COLUMNS: [&str; 7] = [
    "identity_key",
    "action_service",
    "action_operation",
    "action_permission",
    "event_time",
    "identity_credential_id",
    "resources",
];

fn value_at(a: &StringArray, row: usize) -> &str {
    if a.is_null(row) { "" } else { a.value(row) }
}

/// Files of `table` whose `date=` partition overlaps `since..=until`.
fn files_in_window(
    lake: &Path,
    table: Table,
    since: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<PathBuf>, SinkError> {
    let mut out = Vec::new();
    let root = table.dir(lake);
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => return Err(SinkError::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| SinkError::io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                if let Some(date) = name.strip_prefix("date=")
                    && let Ok(day) = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    && (day < since || day > until)
                {
                    continue;
                }
                stack.push(path);
            } else if name.ends_with(".parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Calls `f` for every event in the lake with `since <= time <= until`.
pub fn scan_actions(
    lake: &Path,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    mut f: impl FnMut(&ActionRow<'_>),
) -> Result<u64, SinkError> {
    let mut rows = 0u64;
    for path in files_in_window(lake, Table::Events, since.date_naive(), until.date_naive())? {
        let provider = path_value(&path, "provider")
            .unwrap_or("unknown")
            .to_string();
        let provider = provider.as_str();
        let file = fs::File::open(&path).map_err(|e| SinkError::io(&path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
        let schema = builder.parquet_schema();
        let wanted: Vec<usize> = (0..schema.num_columns())
            .filter(|i| {
                let col = schema.column(*i);
                let top = col.path().parts().first().map(String::as_str).unwrap_or("");
                COLUMNS.contains(&top) && (top != "resources" || col.name() == "id")
            })
            .collect();
        let mask = ProjectionMask::leaves(schema, wanted);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(64 * 1024)
            .build()?;
        for batch in reader {
            let batch = batch?;
            let text = |name: &str| -> Result<&StringArray, SinkError> {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_string_opt::<i32>())
                    .ok_or_else(|| SinkError::Column {
                        file: path.display().to_string(),
                        column: name.to_string(),
                    })
            };
            let (identity, service, operation, permission, credential) = (
                text("identity_key")?,
                text("action_service")?,
                text("action_operation")?,
                text("action_permission")?,
                text("identity_credential_id")?,
            );
            let times = batch
                .column_by_name("event_time")
                .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
                .ok_or_else(|| SinkError::Column {
                    file: path.display().to_string(),
                    column: "event_time".to_string(),
                })?;
            // The ids of every row's resources live in one child array; offsets say whose is whose.
            let resources = batch
                .column_by_name("resources")
                .and_then(|c| c.as_list_opt::<i32>());
            let resource_ids = resources.and_then(|list| {
                list.values()
                    .as_struct_opt()
                    .and_then(|s| s.column_by_name("id"))
                    .and_then(|c| c.as_string_opt::<i32>())
            });
            let mut ids: Vec<&str> = Vec::new();
            for row in 0..batch.num_rows() {
                let Some(time) = DateTime::from_timestamp_micros(times.value(row)) else {
                    continue;
                };
                if time < since || time > until {
                    continue;
                }
                ids.clear();
                if let (Some(list), Some(id)) = (resources, resource_ids)
                    && !list.is_null(row)
                {
                    let offsets = list.value_offsets();
                    for i in offsets[row] as usize..offsets[row + 1] as usize {
                        if !id.is_null(i) {
                            ids.push(id.value(i));
                        }
                    }
                }
                let value = value_at;
                f(&ActionRow {
                    provider,
                    identity_key: value(identity, row),
                    service: value(service, row),
                    operation: value(operation, row),
                    permission: value(permission, row),
                    time,
                    credential_id: (!credential.is_null(row)).then(|| credential.value(row)),
                    resources: &ids,
                });
                rows += 1;
            }
        }
    }
    Ok(rows)
}

/// Every visible event file under `<lake>/table=events` (none when the lake has no events yet). Hidden
/// files (`.part-….tmp`, still being written) are left out.
pub fn event_files(lake: &Path) -> Result<Vec<PathBuf>, SinkError> {
    table_files(lake, Table::Events)
}

/// Every visible file of `table` (none when the table has no files yet).
pub fn table_files(lake: &Path, table: Table) -> Result<Vec<PathBuf>, SinkError> {
    if !table.dir(lake).is_dir() {
        return Ok(Vec::new());
    }
    files_in_window(lake, table, NaiveDate::MIN, NaiveDate::MAX)
}

/// Calls `f` with the `event_id` of every row of the lake file `path`, decoding only that column.
pub fn scan_event_ids(path: &Path, f: impl FnMut(&str)) -> Result<u64, SinkError> {
    scan_ids(path, "event_id", f)
}

/// Calls `f` with the value of the text column `column` of every row of `path`, decoding only it.
pub fn scan_ids(path: &Path, column: &str, mut f: impl FnMut(&str)) -> Result<u64, SinkError> {
    let file = fs::File::open(path).map_err(|e| SinkError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let schema = builder.parquet_schema();
    let wanted: Vec<usize> = (0..schema.num_columns())
        .filter(|i| schema.column(*i).path().parts() == [column])
        .collect();
    let column_error = || SinkError::Column {
        file: path.display().to_string(),
        column: column.to_string(),
    };
    if wanted.is_empty() {
        return Err(column_error());
    }
    let mask = ProjectionMask::leaves(schema, wanted);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()?;
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch?;
        let ids = batch
            .column_by_name(column)
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(column_error)?;
        for row in 0..batch.num_rows() {
            f(value_at(ids, row));
            rows += 1;
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{LakeConfig, LakeWriter};
    use vigil_schemas::*;

    fn event(key: &str, permission: &str, time: &str) -> Event {
        let time: DateTime<Utc> = time.parse().unwrap();
        let mut identity = Identity::new(key, IdentityKind::HumanUser);
        identity.credential_id = Some("AKIAEXAMPLE".into());
        Event {
            event_id: format!("{key}{permission}{time}"),
            event_time: time,
            event_time_estimated: false,
            ingest_time: time,
            provider: Provider::Aws,
            class: EventClass::ApiActivity,
            account_id: Some("111122223333".into()),
            tenant_id: None,
            region: None,
            identity,
            action: Action {
                service: "iam.amazonaws.com".into(),
                operation: "CreateAccessKey".into(),
                permission: permission.into(),
                category: ActionCategory::PermissionChange,
            },
            resources: vec![Resource {
                id: "arn:aws:iam::111122223333:user/carol".into(),
                kind: None,
                name: None,
            }],
            source: SourceEndpoint::default(),
            user_agent: None,
            outcome: Outcome::success(),
            raw_ref: RawRef {
                source: "t".into(),
                byte_offset: 0,
                record_index: 0,
                format: "cloudtrail".into(),
            },
        }
    }

    #[test]
    fn scans_only_the_window_with_resources_and_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let mut lake = LakeWriter::new(dir.path(), "t", LakeConfig::default()).unwrap();
        lake.write(vec![
            event("bob", "iam:CreateAccessKey", "2026-01-10T10:00:00Z"),
            event("bob", "iam:ListUsers", "2026-03-01T10:00:00Z"),
            event("amy", "s3:GetObject", "2026-03-02T10:00:00Z"),
        ])
        .unwrap();
        lake.finish().unwrap();
        let since = "2026-02-01T00:00:00Z".parse().unwrap();
        let until = "2026-03-31T00:00:00Z".parse().unwrap();
        let mut seen = Vec::new();
        let n = scan_actions(dir.path(), since, until, |r| {
            seen.push((
                r.identity_key.to_string(),
                r.permission.to_string(),
                r.resources.to_vec().join(","),
                r.credential_id.map(str::to_string),
            ));
        })
        .unwrap();
        assert_eq!(n, 2);
        seen.sort();
        assert_eq!(seen[0].0, "amy");
        assert_eq!(seen[1].1, "iam:ListUsers");
        assert_eq!(seen[1].2, "arn:aws:iam::111122223333:user/carol");
        assert_eq!(seen[1].3.as_deref(), Some("AKIAEXAMPLE"));
    }
}
