//! The alert the detect stage raises: who, when, how sure, why, and on which events.
//!
//! `time` is on the event-time clock (the time of the event that completed the evidence), so time to
//! detect is measured the same way on replayed and live data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One alert, serialized as a JSON line in `alerts/` of the lake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Stable for the same input, so delivery can be idempotent.
    pub alert_id: String,
    pub identity_key: String,
    pub time: DateTime<Utc>,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// 0–100.
    pub score: f64,
    /// MITRE ATT&CK tactic and technique, when known.
    pub tactic: Option<String>,
    pub technique: Option<String>,
    /// The top reasons, in words and numbers.
    pub reasons: Vec<String>,
    pub evidence_event_ids: Vec<String>,
}
