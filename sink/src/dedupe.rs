//! Id dedupe for the sink service: at-least-once input (redelivery after a crash or rebalance,
//! a producer that sent twice) must still leave exactly one copy of each event in the lake, and of
//! each alert (by `alert_id`).
//!
//! The set holds 128-bit hashes of event ids (the first 16 bytes of SHA-256): 16 bytes per event
//! whatever the id's length, and a false "duplicate" needs a 128-bit collision, which is negligible
//! for any lake (about 2^-64 at 2^32 events). It is seeded by scanning only the `event_id` column of
//! the lake's files and then kept current with what the sink writes. Ids of a buffer not yet durable
//! are held apart ("pending") so a failed flush can be forgotten without poisoning the set.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::SinkError;
use crate::lake::Table;
use crate::lake_scan::{scan_ids, table_files};

/// The 128-bit hash of an event id the set keeps.
pub fn id_hash(event_id: &str) -> u128 {
    let digest = Sha256::digest(event_id.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

/// The keys are already uniform hashes: hashing them again (SipHash) would only cost time.
#[derive(Debug, Default, Clone, Copy)]
pub struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u128; fold them in so the hasher stays correct.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

type IdSet = HashSet<u128, BuildHasherDefault<PrehashedHasher>>;

/// The ids already in one table of the lake, plus those of the buffer being flushed.
#[derive(Debug)]
pub struct Dedupe {
    table: Table,
    /// The id column of `table`.
    column: &'static str,
    durable: IdSet,
    pending: IdSet,
    /// Lake files whose ids are in `durable` (scanned or written by this process).
    files: HashSet<PathBuf>,
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::of(Table::Events, "event_id")
    }
}

impl Dedupe {
    /// An empty set of event ids (a lake with no events).
    pub fn new() -> Dedupe {
        Dedupe::default()
    }

    /// An empty set of the ids in `column` of `table` (`alert_id` of alerts, say).
    pub fn of(table: Table, column: &'static str) -> Dedupe {
        Dedupe {
            table,
            column,
            durable: IdSet::default(),
            pending: IdSet::default(),
            files: HashSet::new(),
        }
    }

    /// The set of every event id in the lake at `lake`.
    pub fn load(lake: &Path) -> Result<Dedupe, SinkError> {
        let mut d = Dedupe::new();
        d.refresh(lake)?;
        Ok(d)
    }

    /// The set of every alert id in the lake at `lake`: a redelivered alert is written once.
    pub fn load_alerts(lake: &Path) -> Result<Dedupe, SinkError> {
        let mut d = Dedupe::of(Table::Alerts, "alert_id");
        d.refresh(lake)?;
        Ok(d)
    }

    /// Adds the ids of lake files not seen yet (written by another sink process sharing the lake);
    /// returns how many files were scanned.
    pub fn refresh(&mut self, lake: &Path) -> Result<usize, SinkError> {
        let mut scanned = 0;
        for path in table_files(lake, self.table)? {
            if self.files.contains(&path) {
                continue;
            }
            let durable = &mut self.durable;
            scan_ids(&path, self.column, |id| {
                durable.insert(id_hash(id));
            })?;
            self.files.insert(path);
            scanned += 1;
        }
        Ok(scanned)
    }

    /// True when `event_id` is new (neither in the lake nor already in the pending buffer), and then
    /// remembers it as pending; false for a duplicate, which the caller drops.
    pub fn admit(&mut self, event_id: &str) -> bool {
        let h = id_hash(event_id);
        if self.durable.contains(&h) {
            return false;
        }
        self.pending.insert(h)
    }

    /// The pending ids are now durable in `files`.
    pub fn commit_pending(&mut self, files: impl IntoIterator<Item = PathBuf>) {
        self.durable.extend(self.pending.drain());
        self.files.extend(files);
    }

    /// The pending buffer was not written: forget its ids so a redelivery is admitted again.
    pub fn discard_pending(&mut self) {
        self.pending.clear();
    }

    /// Ids known to be in the lake.
    pub fn durable_len(&self) -> usize {
        self.durable.len()
    }

    /// Ids admitted but not yet durable.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LakeConfig, LakeWriter};
    use vigil_schemas::*;

    fn event(id: &str) -> Event {
        let time = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        Event {
            event_id: id.into(),
            event_time: time,
            event_time_estimated: false,
            ingest_time: time,
            provider: Provider::Aws,
            class: EventClass::ApiActivity,
            account_id: None,
            tenant_id: None,
            region: None,
            identity: Identity::new("k", IdentityKind::HumanUser),
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
                source: "t".into(),
                byte_offset: 0,
                record_index: 0,
                format: "cloudtrail".into(),
            },
        }
    }

    #[test]
    fn drops_duplicates_within_a_buffer_and_against_the_lake() {
        let mut d = Dedupe::new();
        assert!(d.admit("a"));
        assert!(!d.admit("a"), "twice in one buffer");
        assert!(d.admit("b"));
        d.commit_pending(Vec::new());
        assert_eq!((d.durable_len(), d.pending_len()), (2, 0));
        assert!(!d.admit("a"), "already durable");
        assert!(d.admit("c"));
    }

    #[test]
    fn a_failed_flush_forgets_its_ids() {
        let mut d = Dedupe::new();
        assert!(d.admit("x"));
        d.discard_pending();
        assert!(
            d.admit("x"),
            "redelivered after a failed flush, it must be written"
        );
    }

    #[test]
    fn loads_ids_from_the_lake_and_refreshes_only_new_files()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        assert_eq!(Dedupe::load(dir.path())?.durable_len(), 0, "no lake yet");
        let mut lake = LakeWriter::new(dir.path(), "one", LakeConfig::default())?;
        lake.write(vec![event("e1"), event("e2")])?;
        lake.finish()?;
        let mut d = Dedupe::load(dir.path())?;
        assert_eq!(d.durable_len(), 2);
        assert!(!d.admit("e1"));
        assert!(d.admit("e3"));
        assert_eq!(d.refresh(dir.path())?, 0, "nothing new");
        let mut lake = LakeWriter::new(dir.path(), "two", LakeConfig::default())?;
        lake.write(vec![event("e4")])?;
        lake.finish()?;
        assert_eq!(d.refresh(dir.path())?, 1);
        assert!(
            !d.admit("e4"),
            "written by another process, seen after refresh"
        );
        Ok(())
    }

    #[test]
    fn alert_ids_are_loaded_from_the_alerts_table() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut lake = LakeWriter::new(dir.path(), "a", LakeConfig::default())?;
        lake.write(vec![event("va-2")])?;
        lake.write_alerts(&[Alert {
            alert_id: "va-1".into(),
            identity_key: "arn:aws:iam::1:user/a".into(),
            time: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            severity: "high".into(),
            score: 90.0,
            tactic: None,
            technique: None,
            reasons: vec![],
            evidence_event_ids: vec![],
            reason_key: "r".into(),
            baseline: Default::default(),
        }])?;
        lake.finish()?;
        let mut alerts = Dedupe::load_alerts(dir.path())?;
        assert_eq!(alerts.durable_len(), 1, "only the alerts table");
        assert!(!alerts.admit("va-1"));
        assert!(alerts.admit("va-2"), "an event id is not an alert id");
        Ok(())
    }

    #[test]
    fn hash_is_stable_and_distinguishes_ids() {
        assert_eq!(id_hash("abc"), id_hash("abc"));
        assert_ne!(id_hash("abc"), id_hash("abd"));
    }
}
