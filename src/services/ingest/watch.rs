//! The watched folder: files dropped in (as an S3 or GCS sync does) are normalized once each.
//!
//! A file is taken when it is a regular file, not hidden (no path component under the folder starts
//! with `.`), not named `*.tmp`, and its size and modification time were the same on two consecutive
//! scans (so a file still being written in place is not read half-way). It is remembered as finished
//! (path, size, modification time) in an append-only state file only once all its events and dead
//! letters are acknowledged by the broker; a file whose size or modification time changes later counts
//! as a new file and is read again whole.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::Context;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use vigil_ingest::source::time_key;
use vigil_ingest::{Limits, normalize_bytes};

use super::metrics::IngestMetrics;
use super::output::{Output, Pending};
use crate::services::ops::Health;

/// Name of the state file under `services.ingest_state_dir`.
pub(super) const STATE_FILE: &str = "watched-files.jsonl";

/// One line of the state file: a file that was read and whose output the broker acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Finished {
    path: String,
    size: u64,
    mtime_ns: u64,
}

/// The finished files, loaded at start and appended to as files finish.
#[derive(Debug)]
pub(super) struct State {
    path: PathBuf,
    file: File,
    finished: HashSet<Finished>,
}

impl State {
    pub(super) fn open(dir: &Path) -> anyhow::Result<State> {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create the ingest state folder {} (services.ingest_state_dir)",
                dir.display()
            )
        })?;
        let path = dir.join(STATE_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open the ingest state file {}", path.display()))?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .with_context(|| format!("cannot read the ingest state file {}", path.display()))?;
        let mut finished = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Finished>(line) {
                Ok(f) => {
                    finished.insert(f);
                }
                // A line cut short by a crash while appending: that file was not recorded, so it is
                // read again (at least once).
                Err(e) => {
                    tracing::warn!(file = %path.display(), line = n + 1, error = %e, "ignoring an unreadable state line")
                }
            }
        }
        if !text.is_empty() && !text.ends_with('\n') {
            // Start the next record on a line of its own after a torn last line.
            file.write_all(b"\n")
                .and_then(|()| file.sync_data())
                .with_context(|| {
                    format!("cannot repair the ingest state file {}", path.display())
                })?;
        }
        file.seek(SeekFrom::End(0))
            .with_context(|| format!("cannot seek in {}", path.display()))?;
        tracing::info!(file = %path.display(), finished = finished.len(), "watched-folder state loaded");
        Ok(State {
            path,
            file,
            finished,
        })
    }

    fn contains(&self, f: &Finished) -> bool {
        self.finished.contains(f)
    }

    /// Appends `f` and makes it durable before returning.
    fn record(&mut self, f: Finished) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(&f)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .with_context(|| {
                format!(
                    "cannot append to the ingest state file {}",
                    self.path.display()
                )
            })?;
        self.finished.insert(f);
        Ok(())
    }
}

/// Scans `dir` every `interval` until a stop is requested; each finished file is processed once.
pub(super) fn run(
    dir: &Path,
    interval: Duration,
    mut state: State,
    output: &Output,
    limits: &Limits,
    health: &Health,
    metrics: &IngestMetrics,
) {
    let latency = metrics.latency("file");
    // Size and mtime of each unfinished file on the previous scan.
    let mut previous: HashMap<String, (u64, u64)> = HashMap::new();
    while !health.stopping() {
        let mut seen = HashMap::new();
        for candidate in scan(dir) {
            if health.stopping() {
                return;
            }
            if state.contains(&candidate) {
                continue;
            }
            let stable =
                previous.get(&candidate.path) == Some(&(candidate.size, candidate.mtime_ns));
            seen.insert(candidate.path.clone(), (candidate.size, candidate.mtime_ns));
            if !stable {
                continue;
            }
            match ingest_file(&candidate, output, limits, &latency) {
                Ok(()) => match state.record(candidate.clone()) {
                    Ok(()) => {
                        metrics.files.inc();
                        seen.remove(&candidate.path);
                    }
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "cannot remember a finished file; it will be read again")
                    }
                },
                Err(e) => tracing::error!(
                    file = candidate.path,
                    error = e,
                    "watched file not finished; retrying on a later scan"
                ),
            }
        }
        previous = seen;
        let until = Instant::now() + interval;
        while Instant::now() < until && !health.stopping() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Reads, normalizes and produces one file, waiting until the broker acknowledged all of it.
fn ingest_file(
    f: &Finished,
    output: &Output,
    limits: &Limits,
    latency: &prometheus::Histogram,
) -> Result<(), String> {
    let started = Instant::now();
    // One byte past the limit is enough for normalize_bytes to refuse the file as too large without
    // holding all of a huge file in memory.
    let mut bytes = Vec::new();
    File::open(&f.path)
        .and_then(|file| {
            file.take(limits.max_input_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(|e| format!("cannot read: {e}"))?;
    let normalized = normalize_bytes(&f.path, &bytes, Utc::now(), limits);
    drop(bytes);
    let (tx, rx) = oneshot::channel();
    let pending = Pending::new(started, latency.clone(), Some(tx));
    let counts = output.produce(normalized, &pending);
    let settled = rx
        .blocking_recv()
        .map_err(|_| "the producer dropped the delivery reports".to_string())?;
    settled?;
    tracing::info!(
        file = f.path,
        events = counts.events,
        dead_letters = counts.dead_letters,
        "watched file ingested"
    );
    Ok(())
}

/// Every candidate file under `dir`, in the order `vigil run` reads the same folder
/// ([`vigil_ingest::source::expand`]): by the time the path names, then by path. Path order alone
/// would hand the detect stage one region's or channel's whole backlog before the next one's, out of
/// time order for the identities acting in both.
fn scan(dir: &Path) -> Vec<Finished> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(folder = %folder.display(), error = %e, "cannot list a watched folder");
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            // Symbolic links are not followed (`file_type` does not follow them): only regular files
            // and real sub-folders count.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && !name.ends_with(".tmp") {
                let Ok(meta) = entry.metadata() else { continue };
                let mtime_ns = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                out.push(Finished {
                    path: path.to_string_lossy().into_owned(),
                    size: meta.len(),
                    mtime_ns,
                });
            }
        }
    }
    out.sort_by_cached_key(|f| {
        let path = PathBuf::from(&f.path);
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        (time_key(&relative.to_string_lossy()), path.clone())
    });
    out
}

/// Starts the watcher thread.
pub(super) fn spawn(
    dir: PathBuf,
    interval: Duration,
    state: State,
    output: Arc<Output>,
    limits: Limits,
    health: Arc<Health>,
    metrics: IngestMetrics,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("ingest-watch".into())
        .spawn(move || {
            tracing::info!(folder = %dir.display(), "watching a folder");
            run(&dir, interval, state, &output, &limits, &health, &metrics);
        })
        .context("cannot start the folder watcher thread")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn scan_skips_hidden_and_tmp_files_and_recurses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub/.hidden")).unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("b.json.tmp"), b"{}").unwrap();
        std::fs::write(dir.path().join(".c.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("sub/d.ndjson"), b"{}").unwrap();
        std::fs::write(dir.path().join("sub/.hidden/e.json"), b"{}").unwrap();
        let found: Vec<String> = scan(dir.path())
            .into_iter()
            .map(|f| {
                f.path
                    .strip_prefix(&*dir.path().to_string_lossy())
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(found, vec!["/a.json", "/sub/d.ndjson"]);
    }

    #[test]
    fn scan_reads_in_the_time_order_vigil_run_uses() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            "aws/AWSLogs/1/CloudTrail/us-east-1/2026/03/02/1_CloudTrail_us-east-1_20260302T0905Z_a.json",
            "aws/AWSLogs/1/CloudTrail/eu-west-1/2026/03/03/1_CloudTrail_eu-west-1_20260303T0105Z_b.json",
            "aws/AWSLogs/1/CloudTrail/eu-west-1/2026/03/02/1_CloudTrail_eu-west-1_20260302T1005Z_c.json",
            "gcp/p/2026/03/02/08:00:00_08:59:59_S0.json",
            "notes/readme.json",
        ];
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"{}").unwrap();
        }
        let found: Vec<String> = scan(dir.path()).into_iter().map(|f| f.path).collect();
        let want: Vec<String> = vigil_ingest::source::expand(&[dir.path().to_path_buf()])
            .unwrap()
            .into_iter()
            .map(|i| i.name())
            .collect();
        assert_eq!(found, want);
        let short: Vec<&str> = found
            .iter()
            .map(|p| p.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            short,
            vec![
                "readme.json",
                "08:00:00_08:59:59_S0.json",
                "1_CloudTrail_us-east-1_20260302T0905Z_a.json",
                "1_CloudTrail_eu-west-1_20260302T1005Z_c.json",
                "1_CloudTrail_eu-west-1_20260303T0105Z_b.json",
            ]
        );
    }

    #[test]
    fn state_survives_reopening_and_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let one = Finished {
            path: "/x/one.json".into(),
            size: 10,
            mtime_ns: 5,
        };
        let two = Finished {
            path: "/x/two.json".into(),
            size: 11,
            mtime_ns: 6,
        };
        let mut state = State::open(dir.path()).unwrap();
        state.record(one.clone()).unwrap();
        drop(state);
        // A crash in the middle of appending the next line.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(STATE_FILE))
            .unwrap();
        f.write_all(b"{\"path\":\"/x/tw").unwrap();
        drop(f);
        let mut state = State::open(dir.path()).unwrap();
        assert!(state.contains(&one));
        assert!(!state.contains(&two));
        state.record(two.clone()).unwrap();
        drop(state);
        let state = State::open(dir.path()).unwrap();
        assert!(state.contains(&one) && state.contains(&two));
        assert_eq!(state.finished.len(), 2);
    }
}
