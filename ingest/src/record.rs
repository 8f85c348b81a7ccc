//! The contract between the framing layer and the per-provider normalizers: one JSON record in, one
//! event or a typed refusal out.

use chrono::{DateTime, Utc};
use vigil_schemas::{Event, Provider, RawRef};

/// Where a record sits, handed to every normalizer so events point back to their bytes.
#[derive(Debug, Clone)]
pub struct RecordContext<'a> {
    pub source: &'a str,
    pub byte_offset: u64,
    pub record_index: u64,
    /// The envelope the record arrived in (`s3_file`, `records`, `pubsub_push`...), if any.
    pub envelope: Option<&'static str>,
    pub ingest_time: DateTime<Utc>,
    /// The record's own bytes when the framing layer has them; used for content-hash ids.
    pub raw: Option<&'a [u8]>,
}

impl RecordContext<'_> {
    /// The raw reference of an event of `record_format` (`cloudtrail`, `azure_activity`, `gcp_audit`...);
    /// the format stored is `envelope:record_format` when the record came in an envelope.
    pub fn raw_ref(&self, record_format: &str) -> RawRef {
        RawRef {
            source: self.source.to_string(),
            byte_offset: self.byte_offset,
            record_index: self.record_index,
            format: match self.envelope {
                Some(envelope) => format!("{envelope}:{record_format}"),
                None => record_format.to_string(),
            },
        }
    }

    /// The event time, or the ingest time when the record carries none (trimmed or hand-made records);
    /// the flag says the time is estimated and lands in `Event::event_time_estimated`.
    pub fn time_or_ingest(&self, parsed: Option<DateTime<Utc>>) -> (DateTime<Utc>, bool) {
        match parsed {
            Some(t) => (vigil_schemas::event::truncate_to_micros(t), false),
            None => (self.ingest_time, true),
        }
    }

    /// The id for a record without a provider id: a hash of its bytes (or of its canonical JSON).
    pub fn content_id(&self, record: &serde_json::Value) -> String {
        match self.raw {
            Some(raw) => Event::content_hash_id(raw),
            None => Event::content_hash_id(record.to_string().as_bytes()),
        }
    }
}

/// Why one record could not become an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct RecordError {
    /// Short machine-readable kind: `missing_field`, `not_an_event`, `bad_value`, `unrecognized`.
    pub kind: &'static str,
    pub reason: String,
}

impl RecordError {
    pub fn missing(provider: Provider, field: &str) -> RecordError {
        RecordError {
            kind: "missing_field",
            reason: format!("{provider} record has no usable `{field}`"),
        }
    }

    pub fn not_an_event(reason: impl Into<String>) -> RecordError {
        RecordError {
            kind: "not_an_event",
            reason: reason.into(),
        }
    }

    pub fn bad_value(reason: impl Into<String>) -> RecordError {
        RecordError {
            kind: "bad_value",
            reason: reason.into(),
        }
    }
}

/// Result of normalizing one record.
pub type RecordResult = Result<Event, RecordError>;
