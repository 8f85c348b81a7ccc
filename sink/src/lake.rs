//! The Parquet event lake: `<root>/events/provider=<p>/date=<YYYY-MM-DD>/part-<run>-<seq>.parquet`,
//! zstd, with column statistics; each file is written under a temporary name, fsynced, then renamed,
//! so a reader never sees a half-written file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use vigil_schemas::Event;
use vigil_schemas::arrow::events_to_batch;

use crate::SinkError;

/// How the lake is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LakeConfig {
    /// Events buffered per partition before a file is written.
    pub rows_per_file: usize,
    /// Rows per Parquet row group; smaller groups prune better, larger ones compress better.
    pub row_group_rows: usize,
    /// zstd level (1-22).
    pub zstd_level: i32,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            rows_per_file: 250_000,
            row_group_rows: 64 * 1024,
            zstd_level: 3,
        }
    }
}

/// A file the lake made visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub rows: usize,
    pub bytes: u64,
}

/// Buffers events per partition and writes Parquet files atomically.
#[derive(Debug)]
pub struct LakeWriter {
    root: PathBuf,
    run_id: String,
    config: LakeConfig,
    properties: WriterProperties,
    pending: BTreeMap<(String, String), Vec<Event>>,
    sequence: u64,
    written: Vec<WrittenFile>,
}

impl LakeWriter {
    /// A writer under `root`; `run_id` makes file names unique across runs and processes.
    pub fn new(
        root: impl Into<PathBuf>,
        run_id: impl Into<String>,
        config: LakeConfig,
    ) -> Result<LakeWriter, SinkError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| SinkError::io(&root, e))?;
        let level = ZstdLevel::try_new(config.zstd_level)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_size(config.row_group_rows.max(1))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_created_by(format!("vigil {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(LakeWriter {
            root,
            run_id: run_id.into(),
            config,
            properties,
            pending: BTreeMap::new(),
            sequence: 0,
            written: Vec::new(),
        })
    }

    /// Adds events; writes any partition whose buffer is full.
    pub fn write(&mut self, events: Vec<Event>) -> Result<(), SinkError> {
        for event in events {
            let key = (event.provider.as_str().to_string(), event.date_partition());
            let buffer = self.pending.entry(key.clone()).or_default();
            buffer.push(event);
            if buffer.len() >= self.config.rows_per_file
                && let Some(full) = self.pending.remove(&key)
            {
                self.write_partition(&key, full)?;
            }
        }
        Ok(())
    }

    /// Writes everything buffered and returns the files written over the writer's life.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, SinkError> {
        let pending = std::mem::take(&mut self.pending);
        for (key, events) in pending {
            self.write_partition(&key, events)?;
        }
        Ok(self.written)
    }

    fn write_partition(
        &mut self,
        (provider, date): &(String, String),
        mut events: Vec<Event>,
    ) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        // Sorted by identity then time, so an identity's timeline sits in few row groups and pages.
        events.sort_by(|a, b| {
            a.identity
                .key
                .cmp(&b.identity.key)
                .then(a.event_time.cmp(&b.event_time))
        });
        let dir = self
            .root
            .join("events")
            .join(format!("provider={provider}"))
            .join(format!("date={date}"));
        fs::create_dir_all(&dir).map_err(|e| SinkError::io(&dir, e))?;
        self.sequence += 1;
        let name = format!("part-{}-{:05}.parquet", self.run_id, self.sequence);
        let batch = events_to_batch(&events)?;
        let path = dir.join(&name);
        let bytes = write_atomically(&path, &batch, self.properties.clone())?;
        tracing::debug!(path = %path.display(), rows = events.len(), bytes, "lake file written");
        self.written.push(WrittenFile {
            path,
            rows: events.len(),
            bytes,
        });
        Ok(())
    }
}

/// Writes `batch` to a hidden temporary file beside `path`, fsyncs it, renames it into place and
/// fsyncs the directory.
pub(crate) fn write_atomically(
    path: &Path,
    batch: &RecordBatch,
    properties: WriterProperties,
) -> Result<u64, SinkError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("part.parquet");
    let tmp = dir.join(format!(".{file_name}.tmp"));
    let file = fs::File::create(&tmp).map_err(|e| SinkError::io(&tmp, e))?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties))?;
    writer.write(batch)?;
    let file = writer.into_inner()?;
    file.sync_all().map_err(|e| SinkError::io(&tmp, e))?;
    let bytes = file.metadata().map_err(|e| SinkError::io(&tmp, e))?.len();
    drop(file);
    fs::rename(&tmp, path).map_err(|e| SinkError::io(path, e))?;
    if let Ok(d) = fs::File::open(dir) {
        // Directory fsync makes the rename durable; not every filesystem supports it, so failure is tolerated.
        let _ = d.sync_all();
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use vigil_schemas::arrow::batch_to_events;
    use vigil_schemas::*;

    fn event(id: &str, provider: Provider, day: u32, key: &str) -> Event {
        let time = Utc
            .with_ymd_and_hms(2024, 3, day, 12, 0, 0)
            .single()
            .unwrap_or_default();
        Event {
            event_id: id.into(),
            event_time: time,
            event_time_estimated: false,
            ingest_time: time,
            provider,
            class: EventClass::ApiActivity,
            account_id: Some("1".into()),
            tenant_id: None,
            region: None,
            identity: Identity::new(key, IdentityKind::HumanUser),
            action: Action {
                service: "s".into(),
                operation: "o".into(),
                permission: "s:o".into(),
                category: ActionCategory::Read,
            },
            resources: vec![],
            source: SourceEndpoint::default(),
            user_agent: None,
            outcome: Outcome::success(),
            raw_ref: RawRef {
                source: "f".into(),
                byte_offset: 0,
                record_index: 0,
                format: "cloudtrail".into(),
            },
        }
    }

    #[test]
    fn partitions_sorts_and_reads_back() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let config = LakeConfig {
            rows_per_file: 2,
            ..LakeConfig::default()
        };
        let mut lake = LakeWriter::new(dir.path(), "r1", config)?;
        lake.write(vec![
            event("a", Provider::Aws, 1, "z"),
            event("b", Provider::Aws, 1, "a"),
            event("c", Provider::Gcp, 2, "g"),
            event("d", Provider::Aws, 1, "m"),
        ])?;
        let files = lake.finish()?;
        assert_eq!(files.len(), 3);
        assert_eq!(files.iter().map(|f| f.rows).sum::<usize>(), 4);
        let first = &files[0];
        assert!(
            first
                .path
                .ends_with("events/provider=aws/date=2024-03-01/part-r1-00001.parquet")
        );
        let builder = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&first.path)?)?;
        let metadata = builder.metadata().clone();
        let key_column = metadata
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .position(|c| c.name() == "identity_key")
            .ok_or("no identity_key column")?;
        let chunk = metadata.row_group(0).column(key_column);
        assert!(matches!(
            chunk.compression(),
            parquet::basic::Compression::ZSTD(_)
        ));
        let stats = chunk.statistics().ok_or("identity_key has no statistics")?;
        assert_eq!(
            stats.min_bytes_opt(),
            Some(&b"a"[..]),
            "statistics let readers prune by identity"
        );
        assert_eq!(stats.max_bytes_opt(), Some(&b"z"[..]));
        let reader = builder.build()?;
        let mut back = Vec::new();
        for batch in reader {
            back.extend(batch_to_events(&batch?)?);
        }
        let keys: Vec<&str> = back.iter().map(|e| e.identity.key.as_str()).collect();
        assert_eq!(keys, vec!["a", "z"], "sorted by identity key");
        let leftovers: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(".tmp"))
            })
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary files remain: {leftovers:?}"
        );
        Ok(())
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    out.extend(walk(&p))
                } else {
                    out.push(p)
                }
            }
        }
        out
    }
}
