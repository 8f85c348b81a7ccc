//! Alerts and incidents as OCSF 1.3 findings.
//!
//! - An [`Alert`] is a **Detection Finding** (class 2004, activity Create). The identity is `actor.user.uid`,
//!   which OCSF 1.3 defines through the `host` profile, so that profile is declared in `metadata.profiles`.
//!   ATT&CK goes in `finding_info.attacks` (core in 1.3; the top-level `attacks` needs the
//!   `security_control` profile and its required `action_id`, which says nothing true about a cloud alert).
//! - An [`Incident`] is a Detection Finding too: revision 1 is Create, later revisions Update, and its
//!   alerts are `finding_info.related_events` (their uids are the alert findings' uids). OCSF 1.3 has an
//!   Incident Finding (2005), but it requires an `assignee` or `assignee_group` (it models a case in a
//!   case-management tool), which Vigil does not have and should not invent; and it has no `actor`,
//!   so the identity, the one thing a SOC pivots on, would lose its mapped place.
//!
//! Times are epoch milliseconds. Vigil fields OCSF has no place for go under `unmapped.vigil`.

use serde_json::{Map, Value, json};

use crate::alert::{Alert, Incident};
use crate::ocsf::OCSF_VERSION;

/// Detection Finding class uid.
pub const DETECTION_FINDING_UID: u32 = 2004;
/// The Findings category.
const FINDINGS_CATEGORY_UID: u32 = 2;

impl Alert {
    /// The alert as an OCSF 1.3 Detection Finding (class 2004, activity Create, type 200401).
    pub fn to_ocsf(&self) -> Value {
        let (severity_id, severity) = severity_id(&self.severity);
        let time = self.time.timestamp_millis();
        let (analytic_type_id, analytic_type) = if self.reason_key.starts_with("model:") {
            (2, "Behavioral")
        } else {
            (1, "Rule")
        };
        let title = self
            .reasons
            .first()
            .cloned()
            .unwrap_or_else(|| self.reason_key.clone());
        let mut finding_info = json!({
            "uid": self.alert_id,
            "title": title,
            "desc": self.reasons.join("; "),
            "types": [self.reason_key],
            "analytic": {
                "uid": self.reason_key,
                "name": self.reason_key,
                "type_id": analytic_type_id,
                "type": analytic_type,
            },
            "first_seen_time": time,
            "last_seen_time": time,
            "created_time": time,
            "related_events": self.evidence_event_ids.iter().map(|id| json!({ "uid": id })).collect::<Vec<_>>(),
        });
        if let Some(attack) = attack(self.tactic.as_deref(), self.technique.as_deref()) {
            finding_info["attacks"] = json!([attack]);
        }
        let (risk_level_id, risk_level) = risk_level(self.score);
        let mut out = json!({
            "class_uid": DETECTION_FINDING_UID,
            "class_name": "Detection Finding",
            "category_uid": FINDINGS_CATEGORY_UID,
            "category_name": "Findings",
            "activity_id": 1,
            "activity_name": "Create",
            "type_uid": DETECTION_FINDING_UID * 100 + 1,
            "type_name": "Detection Finding: Create",
            "severity_id": severity_id,
            "severity": severity,
            "time": time,
            "status_id": 1,
            "status": "New",
            "message": title,
            "metadata": metadata(&self.alert_id, &["host"]),
            "finding_info": finding_info,
            "actor": { "user": { "uid": self.identity_key } },
            "observables": [user_observable(&self.identity_key)],
            "risk_score": score_int(self.score),
            "risk_level_id": risk_level_id,
            "risk_level": risk_level,
            "unmapped": { "vigil": {
                "score": self.score,
                "reason_key": self.reason_key,
                "reasons": self.reasons,
                "tactic": self.tactic,
                "technique": self.technique,
                "baseline": self.baseline,
            }},
        });
        strip_nulls(&mut out);
        out
    }
}

impl Incident {
    /// The incident as an OCSF 1.3 Detection Finding (class 2004): activity Create (200401) for
    /// revision 1, Update (200402) for later revisions, with its alerts as related events.
    pub fn to_ocsf(&self) -> Value {
        let (severity_id, severity) = severity_id(&self.severity);
        let (activity_id, activity) = if self.revision <= 1 {
            (1, "Create")
        } else {
            (2, "Update")
        };
        let first = self.first_time.timestamp_millis();
        let last = self.last_time.timestamp_millis();
        let attacks: Vec<Value> = self
            .tactics
            .iter()
            .enumerate()
            .filter_map(|(i, tactic)| {
                attack(Some(tactic), self.techniques.get(i).map(String::as_str))
            })
            .chain(
                self.techniques
                    .iter()
                    .skip(self.tactics.len())
                    .filter_map(|t| attack(None, Some(t))),
            )
            .collect();
        // The alerts are Detection Findings themselves (sent with these uids), so they are the
        // incident's related events.
        let related: Vec<Value> = self
            .alert_ids
            .iter()
            .map(|id| json!({ "uid": id, "type_uid": DETECTION_FINDING_UID * 100 + 1, "type": "Detection Finding: Create" }))
            .collect();
        let mut finding_info = json!({
            "uid": self.incident_id,
            "title": self.summary,
            "desc": self.summary,
            "types": ["vigil.incident"],
            "analytic": {
                "uid": "vigil.incident.tactic-chain",
                "name": "ATT&CK tactics chained by one identity",
                "type_id": 1,
                "type": "Rule",
            },
            "first_seen_time": first,
            "last_seen_time": last,
            "created_time": first,
            "modified_time": last,
            "related_events": related,
        });
        if !attacks.is_empty() {
            finding_info["attacks"] = Value::Array(attacks);
        }
        let (risk_level_id, risk_level) = risk_level(self.score);
        let mut out = json!({
            "class_uid": DETECTION_FINDING_UID,
            "class_name": "Detection Finding",
            "category_uid": FINDINGS_CATEGORY_UID,
            "category_name": "Findings",
            "activity_id": activity_id,
            "activity_name": activity,
            "type_uid": DETECTION_FINDING_UID * 100 + activity_id,
            "type_name": format!("Detection Finding: {activity}"),
            "severity_id": severity_id,
            "severity": severity,
            "time": last,
            "start_time": first,
            "end_time": last,
            "status_id": 1,
            "status": "New",
            "message": self.summary,
            "metadata": metadata(&format!("{}-r{}", self.incident_id, self.revision), &["host"]),
            "finding_info": finding_info,
            "actor": { "user": { "uid": self.identity_key } },
            "observables": [user_observable(&self.identity_key)],
            "risk_score": score_int(self.score),
            "risk_level_id": risk_level_id,
            "risk_level": risk_level,
            "unmapped": { "vigil": {
                "kind": "incident",
                "incident_id": self.incident_id,
                "revision": self.revision,
                "score": self.score,
                "tactics": self.tactics,
                "techniques": self.techniques,
                "alert_ids": self.alert_ids,
            }},
        });
        // Every revision is its own record; the incident id ties them together.
        out["metadata"]["correlation_uid"] = json!(self.incident_id);
        out
    }
}

fn metadata(uid: &str, profiles: &[&str]) -> Value {
    let mut m = json!({
        "version": OCSF_VERSION,
        "uid": uid,
        "product": { "name": "Vigil", "vendor_name": "Vigil", "version": env!("CARGO_PKG_VERSION") },
    });
    if !profiles.is_empty() {
        m["profiles"] = json!(profiles);
    }
    m
}

fn user_observable(identity_key: &str) -> Value {
    json!({ "name": "actor.user.uid", "type_id": 21, "type": "User", "value": identity_key })
}

/// OCSF severity: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 0 Unknown.
fn severity_id(severity: &str) -> (u32, &'static str) {
    match severity.to_ascii_lowercase().as_str() {
        "info" | "informational" => (1, "Informational"),
        "low" => (2, "Low"),
        "medium" => (3, "Medium"),
        "high" => (4, "High"),
        "critical" => (5, "Critical"),
        _ => (0, "Unknown"),
    }
}

/// OCSF risk level from the 0–100 score: Info < 20 ≤ Low < 40 ≤ Medium < 70 ≤ High < 90 ≤ Critical.
fn risk_level(score: f64) -> (u32, &'static str) {
    match score {
        s if s >= 90.0 => (4, "Critical"),
        s if s >= 70.0 => (3, "High"),
        s if s >= 40.0 => (2, "Medium"),
        s if s >= 20.0 => (1, "Low"),
        _ => (0, "Info"),
    }
}

/// The 0–100 score as the integer OCSF wants (`risk_score` is `integer_t`).
fn score_int(score: f64) -> i64 {
    if score.is_finite() {
        score.round().clamp(0.0, 100.0) as i64
    } else {
        0
    }
}

/// One OCSF `attack` object. The technique is written as Vigil has it (`T1562.008`, the id the eval
/// reader and ATT&CK use), with its ATT&CK name when known; the tactic gets its `TA` id and name.
fn attack(tactic: Option<&str>, technique: Option<&str>) -> Option<Value> {
    let mut out = Map::new();
    if let Some(t) = tactic.filter(|t| !t.is_empty()) {
        let mut tac = Map::new();
        match tactic_id(t) {
            Some((uid, name)) => {
                tac.insert("uid".into(), json!(uid));
                tac.insert("name".into(), json!(name));
            }
            None => {
                tac.insert("name".into(), json!(t));
            }
        }
        out.insert("tactic".into(), Value::Object(tac));
    }
    if let Some(t) = technique.filter(|t| !t.is_empty()) {
        let mut tech = Map::new();
        tech.insert("uid".into(), json!(t));
        if let Some(name) = technique_name(t) {
            tech.insert("name".into(), json!(name));
        }
        out.insert("technique".into(), Value::Object(tech));
    }
    if out.is_empty() {
        return None;
    }
    out.insert("version".into(), json!("v16"));
    Some(Value::Object(out))
}

/// ATT&CK (Enterprise) tactic id and name from Vigil's kebab-case tactic.
pub fn tactic_id(tactic: &str) -> Option<(&'static str, &'static str)> {
    Some(match tactic {
        "reconnaissance" => ("TA0043", "Reconnaissance"),
        "resource-development" => ("TA0042", "Resource Development"),
        "initial-access" => ("TA0001", "Initial Access"),
        "execution" => ("TA0002", "Execution"),
        "persistence" => ("TA0003", "Persistence"),
        "privilege-escalation" => ("TA0004", "Privilege Escalation"),
        "defense-evasion" => ("TA0005", "Defense Evasion"),
        "credential-access" => ("TA0006", "Credential Access"),
        "discovery" => ("TA0007", "Discovery"),
        "lateral-movement" => ("TA0008", "Lateral Movement"),
        "collection" => ("TA0009", "Collection"),
        "command-and-control" => ("TA0011", "Command and Control"),
        "exfiltration" => ("TA0010", "Exfiltration"),
        "impact" => ("TA0040", "Impact"),
        _ => return None,
    })
}

/// ATT&CK names of the techniques Vigil's rules and model use.
pub fn technique_name(technique: &str) -> Option<&'static str> {
    Some(match technique {
        "T1070" => "Indicator Removal",
        "T1078" => "Valid Accounts",
        "T1078.004" => "Valid Accounts: Cloud Accounts",
        "T1098" => "Account Manipulation",
        "T1098.001" => "Account Manipulation: Additional Cloud Credentials",
        "T1098.003" => "Account Manipulation: Additional Cloud Roles",
        "T1098.004" => "Account Manipulation: SSH Authorized Keys",
        "T1136.003" => "Create Account: Cloud Account",
        "T1484.002" => "Domain or Tenant Policy Modification: Trust Modification",
        "T1485" => "Data Destruction",
        "T1490" => "Inhibit System Recovery",
        "T1528" => "Steal Application Access Token",
        "T1530" => "Data from Cloud Storage",
        "T1537" => "Transfer Data to Cloud Account",
        "T1555" => "Credentials from Password Stores",
        "T1556.006" => "Modify Authentication Process: Multi-Factor Authentication",
        "T1556.009" => "Modify Authentication Process: Conditional Access Policies",
        "T1562.001" => "Impair Defenses: Disable or Modify Tools",
        "T1562.008" => "Impair Defenses: Disable or Modify Cloud Logs",
        "T1580" => "Cloud Infrastructure Discovery",
        "T1651" => "Cloud Administration Command",
        "T1666" => "Modify Cloud Resource Hierarchy",
        _ => return None,
    })
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, child| !child.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[cfg(test)]
#[path = "ocsf_finding_tests.rs"]
mod tests;
