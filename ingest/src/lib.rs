//! Vigil's ingest stage: sans-I/O parsers that turn the native audit logs of AWS (CloudTrail), Azure
//! (Activity Log, Entra ID) and GCP (Cloud Audit Logs) into normalized events, detecting the wire
//! format by themselves; and the sources that read files, folders and stdin.
//!
//! ```
//! use vigil_ingest::{normalize_bytes, Limits};
//! let line = br#"{"eventVersion":"1.08","eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com",
//!   "eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"}}"#;
//! let out = normalize_bytes("example", line, chrono::Utc::now(), &Limits::default());
//! assert_eq!(out.events[0].action.permission, "iam:CreateAccessKey");
//! assert!(out.dead_letters.is_empty());
//! ```

mod aws;
mod azure;
mod document;
mod gcp;
mod json;
pub mod record;
pub mod simulate;
pub mod source;
mod text;

pub use document::{Limits, Normalized, normalize_bytes, normalize_bytes_on};

/// Errors of the ingest crate's I/O edge (reading sources). Parsing never errors: bad records become
/// dead letters.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("input path {0} does not exist; pass a file, a folder or - for stdin")]
    Missing(String),
}
