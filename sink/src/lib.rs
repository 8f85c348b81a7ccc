//! Vigil's sinks: the Parquet event lake, the alert file and the dead-letter file.

pub mod dead_letter;
pub mod dedupe;
pub mod findings;
pub mod lake;
pub mod lake_scan;
pub mod query;
pub mod report;
pub mod siem;
pub mod webhook;

pub use dead_letter::{AlertWriter, DeadLetterWriter, JsonLinesWriter};
pub use lake::{LakeConfig, LakeWriter, WrittenFile};

/// Errors of the sink crate.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("schema: {0}")]
    Schema(#[from] vigil_schemas::SchemaError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("{file}: lake column `{column}` is missing or not of the expected type")]
    Column { file: String, column: String },
    #[error("cannot encode a dead letter: {0}")]
    Json(#[from] serde_json::Error),
    /// An invalid `[webhooks]` section (one line naming the field).
    #[error("{0}")]
    WebhookConfig(String),
    /// A webhook target the SSRF guard refuses, or that does not resolve.
    #[error("webhook target: {0}")]
    WebhookTarget(String),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// A lake that cannot be queried as asked (no lake there, an empty window, an unknown table).
    #[error("{0}")]
    Lake(String),
    /// A query that DataFusion could not plan or run.
    /// Not a `source`: DataFusion's message already carries its own chain, printed once.
    #[error("{what}: {error}")]
    Query {
        what: String,
        error: Box<datafusion::error::DataFusionError>,
    },
    /// A report subject (an alert id) that the lake does not hold.
    #[error("{0}")]
    NotFound(String),
    /// An invalid `[siem]` section or TLS setting (one line naming the field).
    #[error("{0}")]
    SiemConfig(String),
}

impl SinkError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> SinkError {
        SinkError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
