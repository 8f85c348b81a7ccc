//! File, folder and stdin sources. The only I/O in this crate: everything after `read` is sans-I/O.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::IngestError;

/// One input to read: a file, or standard input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// The name events and dead letters carry as their source.
    pub fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "stdin".to_string(),
        }
    }

    /// Size in bytes when known in advance (files), for progress reporting.
    pub fn len_hint(&self) -> Option<u64> {
        match self {
            Input::File(path) => fs::metadata(path).ok().map(|m| m.len()),
            Input::Stdin => None,
        }
    }

    /// Reads the whole input, stopping one byte past `limit` so an oversized input is seen as such
    /// without being read whole.
    pub fn read(&self, limit: u64) -> Result<Vec<u8>, IngestError> {
        let read_err = |source| IngestError::Read {
            path: self.name(),
            source,
        };
        let mut buf = Vec::new();
        match self {
            Input::File(path) => {
                let file = fs::File::open(path).map_err(read_err)?;
                file.take(limit.saturating_add(1))
                    .read_to_end(&mut buf)
                    .map_err(read_err)?;
            }
            Input::Stdin => {
                std::io::stdin()
                    .lock()
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut buf)
                    .map_err(read_err)?;
            }
        }
        Ok(buf)
    }
}

/// Expands command-line paths: `-` is stdin, a folder is every file below it (recursively, hidden
/// files skipped), a file is itself.
///
/// A folder's files are read in time order wherever their paths name a time, as every provider's export
/// layout does (CloudTrail's `…_20260302T0105Z_…` names and `YYYY/MM/DD` folders, Azure's
/// `y=/m=/d=/h=`, GCP's `YYYY/MM/DD/HH:00:00_…`); files naming no time come first, in name order.
/// Name order alone would read one region's or channel's whole month before the next one's, and a
/// baseline needs an identity's events in time order.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, IngestError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort_by_cached_key(|f| {
                let relative = f.strip_prefix(path).unwrap_or(f);
                (time_key(&relative.to_string_lossy()), f.clone())
            });
            out.extend(files.into_iter().map(Input::File));
        } else if path.is_file() {
            out.push(Input::File(path.clone()));
        } else {
            return Err(IngestError::Missing(path.display().to_string()));
        }
    }
    Ok(out)
}

/// The time a path names, to the hour when it says: `(year, month, day, hour)`.
pub fn time_key(path: &str) -> Option<(u32, u32, u32, u32)> {
    let bytes = path.as_bytes();
    // Runs of digits with their start, and what follows each.
    let mut runs: Vec<(usize, &str)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, &path[start..i]));
        } else {
            i += 1;
        }
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let valid = |y: u32, m: u32, d: u32| {
        (2000..2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
    };
    // A compact stamp, YYYYMMDDTHHMM (CloudTrail file names), is the most precise: prefer it.
    for (k, (start, run)) in runs.iter().enumerate() {
        if run.len() == 8
            && bytes.get(start + 8) == Some(&b'T')
            && let Some((_, next)) = runs.get(k + 1)
            && next.len() == 4
        {
            let (y, m, d, h) = (
                num(&run[..4])?,
                num(&run[4..6])?,
                num(&run[6..8])?,
                num(&next[..2])?,
            );
            if valid(y, m, d) && h < 24 {
                return Some((y, m, d, h));
            }
        }
    }
    for (k, three) in runs.windows(3).enumerate() {
        let [(_, y), (_, m), (_, d)] = [three[0], three[1], three[2]];
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            continue;
        }
        let (Some(y), Some(m), Some(d)) = (num(y), num(m), num(d)) else {
            continue;
        };
        if !valid(y, m, d) {
            continue;
        }
        let hour = runs
            .get(k + 3)
            .filter(|(_, h)| h.len() == 2)
            .and_then(|(_, h)| num(h))
            .filter(|h| *h < 24)
            .unwrap_or(0);
        return Some((y, m, d, hour));
    }
    None
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let entries = fs::read_dir(dir).map_err(|source| IngestError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| IngestError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        let path = entry.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            tracing::info!(path = %path.display(), "hidden file or folder not read");
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod time_order {
    use super::time_key;

    #[test]
    fn provider_layouts_name_their_hour() {
        let cases = [
            (
                "aws/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T0405Z_ab12.json.gz",
                Some((2026, 3, 2, 4)),
            ),
            (
                "azure/insights-activity-logs/resourceId=/SUBSCRIPTIONS/0A1B/y=2026/m=03/d=02/h=07/m=00/PT1H.json",
                Some((2026, 3, 2, 7)),
            ),
            (
                "gcp/proj-123456/cloudaudit.googleapis.com%2Factivity/2026/03/02/13:00:00_13:59:59_S0.json",
                Some((2026, 3, 2, 13)),
            ),
            (
                "azure/activity-log-rest/sub/2026-03-02T22.json",
                Some((2026, 3, 2, 22)),
            ),
            (
                "gcp/pubsub-push/p/2026-03-03/01.ndjson",
                Some((2026, 3, 3, 1)),
            ),
            ("samples/cloudtrail.json", None),
        ];
        for (path, want) in cases {
            assert_eq!(time_key(path), want, "{path}");
        }
        assert!(time_key("x/2026/03/02/a.json") < time_key("y/2026-03-02T01.json"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_expand_recursively_in_order() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("vigil-source-test-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub"))?;
        fs::write(dir.join("b.json"), "{}")?;
        fs::write(dir.join("sub/a.json.gz"), "")?;
        fs::write(dir.join(".hidden"), "")?;
        let inputs = expand(&[dir.clone(), PathBuf::from("-")])?;
        let names: Vec<String> = inputs.iter().map(Input::name).collect();
        assert_eq!(names.len(), 3);
        assert!(names[0].ends_with("b.json"));
        assert!(names[1].ends_with("sub/a.json.gz"));
        assert_eq!(names[2], "stdin");
        assert!(matches!(
            expand(&[dir.join("nope")]),
            Err(IngestError::Missing(_))
        ));
        let big = Input::File(dir.join("b.json")).read(1)?;
        assert_eq!(big.len(), 2, "reads one byte past the limit, no more");
        fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
