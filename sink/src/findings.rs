//! Permission findings as one Parquet file, written atomically.

use std::path::Path;

use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use vigil_schemas::Finding;
use vigil_schemas::finding::findings_to_batch;

use crate::SinkError;

/// Writes `findings` to `path` (zstd), via a temporary file, fsync and rename.
pub fn write_findings(path: &Path, findings: &[Finding]) -> Result<u64, SinkError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SinkError::io(dir, e))?;
    }
    let batch = findings_to_batch(findings)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    crate::lake::write_atomically(path, &batch, properties)
}
