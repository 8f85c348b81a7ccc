//! Where a row lands: `<lake>/table=<t>/provider=<p>/date=<YYYY-MM-DD>/hour=<HH>/`.
//!
//! Partition values live only in the path (hive style), so DataFusion, DuckDB and pyarrow read them
//! as columns and skip whole folders on a filter.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Timelike, Utc};

/// The lake's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Events,
    Alerts,
    Incidents,
    DeadLetters,
}

impl Table {
    pub const ALL: [Table; 4] = [
        Table::Events,
        Table::Alerts,
        Table::Incidents,
        Table::DeadLetters,
    ];

    /// The table's name in paths and queries.
    pub fn name(self) -> &'static str {
        match self {
            Table::Events => "events",
            Table::Alerts => "alerts",
            Table::Incidents => "incidents",
            Table::DeadLetters => "deadletters",
        }
    }

    /// `<lake>/table=<name>`.
    pub fn dir(self, lake: &Path) -> PathBuf {
        lake.join(format!("table={}", self.name()))
    }
}

/// One folder of one table. `Copy`, so finding a row's buffer allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    pub table: Table,
    /// `aws`, `azure`, `gcp`, or `unknown` for a dead letter whose provider was never recognised.
    pub provider: &'static str,
    /// UTC.
    pub date: NaiveDate,
    /// 0–23, UTC.
    pub hour: u32,
}

impl Partition {
    pub fn new(table: Table, provider: &'static str, time: DateTime<Utc>) -> Partition {
        Partition {
            table,
            provider,
            date: time.date_naive(),
            hour: time.hour(),
        }
    }

    /// The partition's folder under `lake`.
    pub fn dir(&self, lake: &Path) -> PathBuf {
        self.table
            .dir(lake)
            .join(format!("provider={}", self.provider))
            .join(format!("date={}", self.date.format("%Y-%m-%d")))
            .join(format!("hour={:02}", self.hour))
    }
}

/// The value of the `key=value` folder named `key` on `path`, if any (`provider` of
/// `…/provider=aws/date=…/part.parquet` is `aws`).
pub fn path_value<'a>(path: &'a Path, key: &str) -> Option<&'a str> {
    path.components().find_map(|c| {
        c.as_os_str()
            .to_str()
            .and_then(|s| s.strip_prefix(key))
            .and_then(|s| s.strip_prefix('='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_hive_style_and_read_back() {
        let time = DateTime::from_timestamp(1_709_300_000, 0).unwrap_or_default();
        let dir = Partition::new(Table::Alerts, "gcp", time).dir(Path::new("/lake"));
        assert_eq!(
            dir,
            Path::new("/lake/table=alerts/provider=gcp/date=2024-03-01/hour=13")
        );
        let file = dir.join("part-x.parquet");
        assert_eq!(path_value(&file, "provider"), Some("gcp"));
        assert_eq!(path_value(&file, "hour"), Some("13"));
        assert_eq!(path_value(&file, "region"), None);
    }
}
