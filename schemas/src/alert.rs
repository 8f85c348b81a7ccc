//! The alert the detect stage raises: who, when, how sure, why, and on which events.
//!
//! `time` is on the event-time clock (the time of the event that completed the evidence), so time to
//! detect is measured the same way on replayed and live data.

use std::collections::BTreeMap;

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
    /// What the alert is about, for duplicate suppression and analyst feedback: a rule id
    /// (`aws.cloudtrail.stop-logging`) or `model:<feature>` for a behavioural alert.
    #[serde(default)]
    pub reason_key: String,
    /// The baseline figures the decision used (events seen, days of history, usual volume…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline: BTreeMap<String, f64>,
}

/// Alerts of one identity that chain ATT&CK tactics within a window, grouped with raised severity.
/// Re-emitted with the same id and a higher `revision` when further alerts join it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Stable: derived from the identity and the first alert.
    pub incident_id: String,
    pub revision: u32,
    pub identity_key: String,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    pub severity: String,
    /// The highest alert score.
    pub score: f64,
    /// Tactics in the order they were first seen.
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    pub alert_ids: Vec<String>,
    /// One line: what happened, in order.
    pub summary: String,
}
