//! JSON-lines files: the dead-letter file (one object per line, each with the reason, the source and
//! position, and the original bytes in base64) and the alert file. Written under a temporary name and
//! renamed when closed.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use vigil_schemas::{Alert, DeadLetter};

use crate::SinkError;

/// Writes one JSON object per line.
#[derive(Debug)]
pub struct JsonLinesWriter<T> {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<fs::File>,
    count: u64,
    _items: std::marker::PhantomData<fn(&T)>,
}

/// The dead-letter file.
pub type DeadLetterWriter = JsonLinesWriter<DeadLetter>;
/// The alert file.
pub type AlertWriter = JsonLinesWriter<Alert>;

impl<T: Serialize> JsonLinesWriter<T> {
    pub fn create(path: impl Into<PathBuf>) -> Result<JsonLinesWriter<T>, SinkError> {
        let path = path.into();
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| SinkError::io(&dir, e))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("deadletters.jsonl");
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = fs::File::create(&tmp).map_err(|e| SinkError::io(&tmp, e))?;
        Ok(JsonLinesWriter {
            path,
            tmp,
            out: BufWriter::new(file),
            count: 0,
            _items: std::marker::PhantomData,
        })
    }

    pub fn write(&mut self, items: &[T]) -> Result<(), SinkError> {
        for item in items {
            serde_json::to_writer(&mut self.out, item)?;
            self.out
                .write_all(b"\n")
                .map_err(|e| SinkError::io(&self.tmp, e))?;
            self.count += 1;
        }
        Ok(())
    }

    /// Flushes, fsyncs and makes the file visible; returns its path and how many lines it holds.
    pub fn finish(self) -> Result<(PathBuf, u64), SinkError> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| SinkError::io(&self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| SinkError::io(&self.tmp, e))?;
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(|e| SinkError::io(&self.path, e))?;
        Ok((self.path, self.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut w = DeadLetterWriter::create(dir.path().join("dl/letters.jsonl"))?;
        w.write(&[DeadLetter::new("invalid_json", "bad", "f", 3, b"{x", 1024)])?;
        let (path, count) = w.finish()?;
        assert_eq!(count, 1);
        let text = fs::read_to_string(path)?;
        let back: DeadLetter = serde_json::from_str(text.trim())?;
        assert_eq!(back.original().as_deref(), Some(&b"{x"[..]));
        assert_eq!(back.byte_offset, 3);
        Ok(())
    }
}
