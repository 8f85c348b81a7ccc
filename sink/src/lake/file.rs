//! Writing one Parquet file so that it appears whole or not at all.

use std::fs;
use std::path::Path;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::SinkError;

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
