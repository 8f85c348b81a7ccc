//! The Parquet lake: events, alerts, incidents and dead letters under
//! `<root>/table=<t>/provider=<p>/date=<YYYY-MM-DD>/hour=<HH>/part-<run>-<seq>.parquet`.
//!
//! zstd, page statistics, rows sorted by identity then time so an identity's timeline sits in few row
//! groups. Rows are buffered per partition; a partition's file is written when it holds
//! `rows_per_file` rows (size), when its first row has waited `roll_seconds` (time), or at `finish`.
//! Each file is written under a hidden temporary name, fsynced, then renamed, so a reader never sees a
//! half-written file.

mod file;
mod partition;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use chrono::{DateTime, Utc};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use vigil_schemas::arrow::events_to_batch;
use vigil_schemas::arrow_records::{
    alerts_to_batch, dead_letters_to_batch, incidents_to_batch, provider_of_identity_key,
};
use vigil_schemas::{Alert, DeadLetter, Event, Incident, Provider};

pub(crate) use file::write_atomically;
pub use partition::{Partition, Table, path_value};

use crate::SinkError;

/// How the lake is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LakeConfig {
    /// Rows buffered per partition before its file is written (the size roll).
    pub rows_per_file: usize,
    /// Seconds a partition's first buffered row may wait before its file is written (the time roll).
    pub roll_seconds: u64,
    /// Rows per Parquet row group; smaller groups prune better, larger ones compress better.
    pub row_group_rows: usize,
    /// zstd level (1-22).
    pub zstd_level: i32,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            rows_per_file: 250_000,
            roll_seconds: 300,
            row_group_rows: 64 * 1024,
            zstd_level: 3,
        }
    }
}

impl LakeConfig {
    /// The Parquet settings of every lake file: zstd at `zstd_level`, `row_group_rows` rows per row
    /// group, page-level statistics.
    pub fn writer_properties(&self) -> Result<WriterProperties, SinkError> {
        let level = ZstdLevel::try_new(self.zstd_level)?;
        Ok(WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_size(self.row_group_rows.max(1))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_created_by(format!("vigil {}", env!("CARGO_PKG_VERSION")))
            .build())
    }
}

/// A file the lake made visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub table: Table,
    pub path: PathBuf,
    pub rows: usize,
    pub bytes: u64,
}

/// Rows of one partition waiting for their file.
#[derive(Debug)]
enum Rows {
    Events(Vec<Event>),
    Alerts(Vec<Alert>),
    Incidents(Vec<Incident>),
    DeadLetters(Vec<(DeadLetter, DateTime<Utc>)>),
}

impl Rows {
    fn empty(table: Table) -> Rows {
        match table {
            Table::Events => Rows::Events(Vec::new()),
            Table::Alerts => Rows::Alerts(Vec::new()),
            Table::Incidents => Rows::Incidents(Vec::new()),
            Table::DeadLetters => Rows::DeadLetters(Vec::new()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Rows::Events(v) => v.len(),
            Rows::Alerts(v) => v.len(),
            Rows::Incidents(v) => v.len(),
            Rows::DeadLetters(v) => v.len(),
        }
    }

    /// Sorted by identity then time, then as one batch without the `provider` column (its value is
    /// in the path).
    fn into_batch(self) -> Result<RecordBatch, SinkError> {
        Ok(match self {
            Rows::Events(mut v) => {
                v.sort_by(|a, b| {
                    (a.identity.key.as_str(), a.event_time)
                        .cmp(&(b.identity.key.as_str(), b.event_time))
                });
                let batch = events_to_batch(&v)?;
                let keep: Vec<usize> = (0..batch.num_columns())
                    .filter(|i| batch.schema().field(*i).name() != "provider")
                    .collect();
                batch.project(&keep)?
            }
            Rows::Alerts(mut v) => {
                v.sort_by(|a, b| {
                    (a.identity_key.as_str(), a.time).cmp(&(b.identity_key.as_str(), b.time))
                });
                alerts_to_batch(&v)?
            }
            Rows::Incidents(mut v) => {
                v.sort_by(|a, b| {
                    (a.identity_key.as_str(), a.first_time, a.revision).cmp(&(
                        b.identity_key.as_str(),
                        b.first_time,
                        b.revision,
                    ))
                });
                incidents_to_batch(&v)?
            }
            Rows::DeadLetters(v) => dead_letters_to_batch(&v)?,
        })
    }
}

#[derive(Debug)]
struct Pending {
    rows: Rows,
    opened: Instant,
}

/// Buffers rows per partition and writes Parquet files atomically.
#[derive(Debug)]
pub struct LakeWriter {
    root: PathBuf,
    run_id: String,
    config: LakeConfig,
    properties: WriterProperties,
    pending: BTreeMap<Partition, Pending>,
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
        std::fs::create_dir_all(&root).map_err(|e| SinkError::io(&root, e))?;
        let properties = config.writer_properties()?;
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

    /// Adds events; writes any partition that is full or has waited long enough.
    pub fn write(&mut self, events: Vec<Event>) -> Result<(), SinkError> {
        for event in events {
            let partition =
                Partition::new(Table::Events, event.provider.as_str(), event.event_time);
            self.add(partition, |rows| {
                if let Rows::Events(v) = rows {
                    v.push(event);
                }
            })?;
        }
        self.roll()
    }

    /// Adds alerts, partitioned by the provider of their identity and the time they were raised.
    pub fn write_alerts(&mut self, alerts: &[Alert]) -> Result<(), SinkError> {
        for alert in alerts {
            let partition =
                Partition::new(Table::Alerts, key_provider(&alert.identity_key), alert.time);
            self.add(partition, |rows| {
                if let Rows::Alerts(v) = rows {
                    v.push(alert.clone());
                }
            })?;
        }
        self.roll()
    }

    /// Adds incidents (every revision is a row), partitioned by their latest alert's time.
    pub fn write_incidents(&mut self, incidents: &[Incident]) -> Result<(), SinkError> {
        for incident in incidents {
            let partition = Partition::new(
                Table::Incidents,
                key_provider(&incident.identity_key),
                incident.last_time,
            );
            self.add(partition, |rows| {
                if let Rows::Incidents(v) = rows {
                    v.push(incident.clone());
                }
            })?;
        }
        self.roll()
    }

    /// Adds dead letters, partitioned by the provider they were recognised as (`unknown` when none)
    /// and `now`, the time they are written.
    pub fn write_dead_letters(
        &mut self,
        letters: &[DeadLetter],
        now: DateTime<Utc>,
    ) -> Result<(), SinkError> {
        for letter in letters {
            let provider = letter
                .provider
                .as_deref()
                .and_then(Provider::parse)
                .map_or("unknown", Provider::as_str);
            let partition = Partition::new(Table::DeadLetters, provider, now);
            self.add(partition, |rows| {
                if let Rows::DeadLetters(v) = rows {
                    v.push((letter.clone(), now));
                }
            })?;
        }
        self.roll()
    }

    /// Rows buffered and not yet in a file.
    pub fn buffered_rows(&self) -> usize {
        self.pending.values().map(|p| p.rows.len()).sum()
    }

    /// Writes every partition that has waited `roll_seconds`; for callers that go quiet for a while.
    pub fn roll(&mut self) -> Result<(), SinkError> {
        let max_rows = self.config.rows_per_file.max(1);
        let max_wait = Duration::from_secs(self.config.roll_seconds);
        let due: Vec<Partition> = self
            .pending
            .iter()
            .filter(|(_, p)| p.rows.len() >= max_rows || p.opened.elapsed() >= max_wait)
            .map(|(k, _)| *k)
            .collect();
        for partition in due {
            if let Some(pending) = self.pending.remove(&partition) {
                self.write_partition(&partition, pending.rows)?;
            }
        }
        Ok(())
    }

    /// Writes everything buffered and returns the files written over the writer's life.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, SinkError> {
        let pending = std::mem::take(&mut self.pending);
        for (partition, p) in pending {
            self.write_partition(&partition, p.rows)?;
        }
        Ok(self.written)
    }

    /// Adds a row to `partition`'s buffer; writes the file at once when the buffer is full.
    fn add(&mut self, partition: Partition, push: impl FnOnce(&mut Rows)) -> Result<(), SinkError> {
        let table = partition.table;
        let pending = self.pending.entry(partition).or_insert_with(|| Pending {
            rows: Rows::empty(table),
            opened: Instant::now(),
        });
        push(&mut pending.rows);
        if pending.rows.len() >= self.config.rows_per_file.max(1)
            && let Some(full) = self.pending.remove(&partition)
        {
            self.write_partition(&partition, full.rows)?;
        }
        Ok(())
    }

    fn write_partition(&mut self, partition: &Partition, rows: Rows) -> Result<(), SinkError> {
        if rows.len() == 0 {
            return Ok(());
        }
        self.write_batch(partition, &rows.into_batch()?)
    }

    /// Writes an Arrow batch already in the table's file layout (for events: the event schema
    /// without `provider`) as one new file of `partition`, at once.
    pub fn write_batch(
        &mut self,
        partition: &Partition,
        batch: &RecordBatch,
    ) -> Result<(), SinkError> {
        let count = batch.num_rows();
        let dir = partition.dir(&self.root);
        std::fs::create_dir_all(&dir).map_err(|e| SinkError::io(&dir, e))?;
        self.sequence += 1;
        let path = dir.join(format!("part-{}-{:05}.parquet", self.run_id, self.sequence));
        let bytes = write_atomically(&path, batch, self.properties.clone())?;
        tracing::debug!(path = %path.display(), rows = count, bytes, "lake file written");
        self.written.push(WrittenFile {
            table: partition.table,
            path,
            rows: count,
            bytes,
        });
        Ok(())
    }
}

fn key_provider(identity_key: &str) -> &'static str {
    provider_of_identity_key(identity_key).map_or("unknown", |p| p.as_str())
}
