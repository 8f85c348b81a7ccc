//! A record that could not be normalized, kept whole so nothing is dropped silently.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// One dead letter: why, where, and the original bytes (base64), written as one JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Why the record was refused, in words an operator can act on.
    pub reason: String,
    /// A short machine-readable kind of the reason (`invalid_json`, `too_large`, `missing_field`...).
    pub kind: String,
    /// File path, `stdin`, or Kafka `topic/partition`.
    pub source: String,
    /// Byte offset in the (decompressed) source where the refused bytes start.
    pub byte_offset: u64,
    /// Record index within its document, when the document itself was readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_index: Option<u64>,
    /// Provider and wire format, when they were recognised before the record failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The original bytes, base64 (standard alphabet), at most the configured dead-letter cap.
    pub original_base64: String,
    /// Length of the original record; larger than the decoded `original_base64` when it was capped.
    pub original_len: u64,
    pub original_truncated: bool,
}

impl DeadLetter {
    /// Builds a dead letter keeping at most `max_original` bytes of `original`.
    pub fn new(
        kind: &str,
        reason: impl Into<String>,
        source: &str,
        byte_offset: u64,
        original: &[u8],
        max_original: usize,
    ) -> DeadLetter {
        let kept = &original[..original.len().min(max_original)];
        DeadLetter {
            reason: reason.into(),
            kind: kind.to_string(),
            source: source.to_string(),
            byte_offset,
            record_index: None,
            provider: None,
            format: None,
            original_base64: base64::engine::general_purpose::STANDARD.encode(kept),
            original_len: original.len() as u64,
            original_truncated: kept.len() < original.len(),
        }
    }

    pub fn with_record_index(mut self, index: u64) -> DeadLetter {
        self.record_index = Some(index);
        self
    }

    pub fn with_format(mut self, provider: Option<&str>, format: &str) -> DeadLetter {
        self.provider = provider.map(str::to_string);
        self.format = Some(format.to_string());
        self
    }

    /// The original bytes as far as they were kept.
    pub fn original(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.original_base64)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_and_marks_truncation() {
        let dl = DeadLetter::new("invalid_json", "bad", "f.json", 7, b"{\"x\":", 100);
        assert_eq!(dl.original().as_deref(), Some(&b"{\"x\":"[..]));
        assert!(!dl.original_truncated);
        let capped = DeadLetter::new("too_large", "big", "f.json", 0, &[b'a'; 10], 4);
        assert_eq!(capped.original().map(|o| o.len()), Some(4));
        assert_eq!(capped.original_len, 10);
        assert!(capped.original_truncated);
    }
}
