//! The on-disk spool of one endpoint: one JSON file per message not yet delivered.
//!
//! One file per (endpoint, message) rather than an append log: a message's whole state (body,
//! attempts, next attempt, first enqueue time) changes atomically with one rename, delivery is one
//! unlink, and there is nothing to compact. Alerts are few (not events), so a file each is cheap.
//! Every write goes to a hidden temporary file that is fsynced, renamed into place and followed by
//! an fsync of the directory. The file name is a hash of the `webhook-id`, which also makes a second
//! enqueue of the same message a no-op while the first is pending.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::MessageKind;
use crate::SinkError;

/// The marker file of an endpoint disabled by a 410 Gone; delete it to enable the endpoint again.
const DISABLED: &str = "DISABLED";
/// The file naming the endpoint's URL, for people looking at the spool.
const ENDPOINT: &str = "ENDPOINT";
const SUFFIX: &str = ".msg.json";

/// One pending message of one endpoint, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpoolEntry {
    /// The `webhook-id`.
    pub(crate) id: String,
    pub(crate) kind: MessageKind,
    /// The rendered body, sent byte for byte on every attempt.
    pub(crate) body: String,
    /// Unix milliseconds of the first enqueue: the retry period counts from here.
    pub(crate) first_enqueued_ms: i64,
    /// Failed attempts so far.
    pub(crate) attempts: u32,
    /// Unix milliseconds before which no attempt is made.
    pub(crate) next_attempt_ms: i64,
    /// Why the last attempt failed.
    #[serde(default)]
    pub(crate) last_error: Option<String>,
}

/// The spool directory of one endpoint.
#[derive(Debug)]
pub(crate) struct EndpointSpool {
    dir: PathBuf,
    tmp_seq: AtomicU64,
}

/// The spool directory name of an endpoint: a hash of its URL.
pub(crate) fn endpoint_key(url: &str) -> String {
    hex(&Sha256::digest(url.as_bytes())[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl EndpointSpool {
    /// Opens (creating) `root/<endpoint key>/` and removes temporary files a crash left behind.
    pub(crate) fn open(root: &Path, url: &str) -> Result<EndpointSpool, SinkError> {
        let dir = root.join(endpoint_key(url));
        fs::create_dir_all(&dir).map_err(|e| SinkError::io(&dir, e))?;
        let spool = EndpointSpool {
            dir,
            tmp_seq: AtomicU64::new(0),
        };
        for entry in fs::read_dir(&spool.dir).map_err(|e| SinkError::io(&spool.dir, e))? {
            let entry = entry.map_err(|e| SinkError::io(&spool.dir, e))?;
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_file(entry.path());
            }
        }
        let marker = spool.dir.join(ENDPOINT);
        if !marker.exists() {
            spool.write_atomic(&marker, format!("{url}\n").as_bytes())?;
        }
        Ok(spool)
    }

    /// The file name of message `id`.
    pub(crate) fn file_name(id: &str) -> String {
        format!("{}{SUFFIX}", hex(&Sha256::digest(id.as_bytes())[..16]))
    }

    /// Makes new messages durable; returns those that were not already pending.
    pub(crate) fn add(
        &self,
        entries: Vec<SpoolEntry>,
    ) -> Result<Vec<(String, SpoolEntry)>, SinkError> {
        let mut added = Vec::new();
        for entry in entries {
            let name = Self::file_name(&entry.id);
            let path = self.dir.join(&name);
            if path.exists() {
                continue;
            }
            self.write_file(&path, &serde_json::to_vec(&entry)?)?;
            added.push((name, entry));
        }
        if !added.is_empty() {
            self.sync_dir();
        }
        Ok(added)
    }

    /// Persists a message's new schedule.
    pub(crate) fn update(&self, name: &str, entry: &SpoolEntry) -> Result<(), SinkError> {
        self.write_atomic(&self.dir.join(name), &serde_json::to_vec(entry)?)
    }

    /// Forgets a delivered or dropped message.
    pub(crate) fn remove(&self, name: &str) -> Result<(), SinkError> {
        let path = self.dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SinkError::io(&path, e)),
        }
    }

    /// Every pending message. A file that cannot be read back is renamed `*.bad` and logged.
    pub(crate) fn load(&self) -> Result<Vec<(String, SpoolEntry)>, SinkError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| SinkError::io(&self.dir, e))? {
            let entry = entry.map_err(|e| SinkError::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(SUFFIX) {
                continue;
            }
            let path = entry.path();
            let parsed = fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(spooled) => out.push((name, spooled)),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "unreadable webhook spool file, set aside as .bad");
                    let _ = fs::rename(&path, path.with_extension("bad"));
                }
            }
        }
        Ok(out)
    }

    /// Number of pending messages on disk.
    pub(crate) fn count(&self) -> usize {
        fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(SUFFIX))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Why the endpoint was disabled, if it was.
    pub(crate) fn disabled(&self) -> Option<String> {
        fs::read_to_string(self.dir.join(DISABLED)).ok()
    }

    /// Records that the endpoint is disabled, durably.
    pub(crate) fn mark_disabled(&self, reason: &str) -> Result<(), SinkError> {
        self.write_atomic(&self.dir.join(DISABLED), format!("{reason}\n").as_bytes())
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), SinkError> {
        self.write_file(path, bytes)?;
        self.sync_dir();
        Ok(())
    }

    /// Temporary file, fsync, rename (the caller fsyncs the directory).
    fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), SinkError> {
        let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".tmp-{}-{seq}", std::process::id()));
        let mut file = fs::File::create(&tmp).map_err(|e| SinkError::io(&tmp, e))?;
        file.write_all(bytes).map_err(|e| SinkError::io(&tmp, e))?;
        file.sync_all().map_err(|e| SinkError::io(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| SinkError::io(path, e))
    }

    fn sync_dir(&self) {
        // Makes the renames durable; not every filesystem supports a directory fsync.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
    }
}
