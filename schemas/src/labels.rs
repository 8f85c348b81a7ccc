//! Ground truth of a simulated estate: which events were malicious, and how much benign activity there
//! was. `vigil simulate` writes it, `vigil eval` scores alerts against it.
//!
//! The file is one JSON document ([`Labels`]); event ids and identity keys are exactly those the
//! normalizers give the simulated records, so alerts can be matched by evidence event id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the labels layout.
pub const LABELS_VERSION: u32 = 1;

/// The labels file of one simulation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub version: u32,
    /// The simulation's parameters, so a run can be reproduced from its labels.
    pub seed: u64,
    pub start: DateTime<Utc>,
    pub days: u32,
    /// Identities simulated (all clouds).
    pub identities: u64,
    /// Events written, benign and malicious.
    pub events: u64,
    /// Days on which an identity had benign activity, summed over identities: the exposure that false
    /// alerts are counted against.
    pub benign_identity_days: u64,
    pub scenarios: Vec<ScenarioLabel>,
}

/// One injected attack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioLabel {
    /// Unique in the file, e.g. `s03-aws.defense-evasion.cloudtrail-stop`.
    pub scenario_id: String,
    /// The Stratus Red Team technique id (`aws.defense-evasion.cloudtrail-stop`), or a `vigil.` id for
    /// scenarios modelled on ATT&CK where Stratus has none.
    pub technique: String,
    /// MITRE ATT&CK technique id, e.g. `T1562.008`.
    pub mitre_technique: String,
    /// MITRE ATT&CK tactic, e.g. `defense-evasion`.
    pub tactic: String,
    /// `aws`, `azure` or `gcp`.
    pub provider: String,
    /// The identity key (as the normalizers compute it) that performed the malicious events.
    pub identity_key: String,
    pub first_event_time: DateTime<Utc>,
    pub last_event_time: DateTime<Utc>,
    /// Ids of every malicious event, in event-time order.
    pub event_ids: Vec<String>,
}
