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

/// Expands command-line paths: `-` is stdin, a folder is every file below it (recursively, in name
/// order, hidden files skipped), a file is itself.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, IngestError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else if path.is_file() {
            out.push(Input::File(path.clone()));
        } else {
            return Err(IngestError::Missing(path.display().to_string()));
        }
    }
    Ok(out)
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
