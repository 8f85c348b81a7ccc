//! Alerts and incidents: stable ids, duplicate suppression per identity and reason, and the chaining of
//! one identity's alerts across ATT&CK tactics into an incident.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_schemas::{Alert, Incident};

use super::rules::Severity;

/// A decision to alert, before suppression.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) identity_key: String,
    pub(crate) time: i64,
    pub(crate) severity: Severity,
    pub(crate) score: f32,
    pub(crate) tactic: &'static str,
    pub(crate) technique: &'static str,
    pub(crate) reason_key: String,
    pub(crate) reasons: Vec<String>,
    /// The event that completed the evidence comes first: the id is derived from it.
    pub(crate) evidence: Vec<String>,
    pub(crate) baseline: BTreeMap<String, f64>,
}

/// Same identity, reason and triggering event → same id, so re-processing re-delivers, not duplicates.
pub(crate) fn alert_id(identity: &str, reason_key: &str, trigger: &str) -> String {
    let mut h = Sha256::new();
    for part in [identity, reason_key, trigger] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("va-{hex}")
}

/// The key duplicates are suppressed under: the rule id, or one key for every behavioural alert
/// (the same odd hour seen through its network, then its volume, is one finding).
pub(crate) fn dedupe_key(reason_key: &str) -> &str {
    if reason_key.starts_with("model:") {
        "model:*"
    } else {
        reason_key
    }
}

/// What an identity's recent alerts were, for suppression and incidents. Allocated on its first alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlertMemory {
    /// Reason key → time of the last alert raised for it.
    last_by_reason: Vec<(String, i64)>,
    recent: Vec<Recent>,
    incident: Option<OpenIncident>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Recent {
    time: i64,
    alert_id: String,
    tactic: String,
    technique: String,
    severity: Severity,
    score: f32,
    summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OpenIncident {
    id: String,
    revision: u32,
    first_time: i64,
}

impl AlertMemory {
    /// True when an alert for the same reason was raised within `window` seconds before `time`.
    pub(crate) fn duplicate(&self, reason_key: &str, time: i64, window: i64) -> bool {
        self.last_by_reason
            .iter()
            .any(|(r, t)| r == reason_key && time - *t < window && time >= *t)
    }

    /// Records a raised alert; returns an incident when this alert makes the identity's recent
    /// alerts span two or more tactics (a new incident, or a new revision of the open one).
    pub(crate) fn raised(
        &mut self,
        alert: &Alert,
        time: i64,
        incident_window: i64,
    ) -> Option<Incident> {
        let key = dedupe_key(&alert.reason_key);
        match self.last_by_reason.iter_mut().find(|(r, _)| r == key) {
            Some(entry) => entry.1 = time,
            None => self.last_by_reason.push((key.to_string(), time)),
        }
        self.last_by_reason
            .retain(|(_, t)| time - *t < incident_window.max(1));
        self.recent.retain(|r| time - r.time < incident_window);
        let severity = severity_named(&alert.severity);
        self.recent.push(Recent {
            time,
            alert_id: alert.alert_id.clone(),
            tactic: alert.tactic.clone().unwrap_or_default(),
            technique: alert.technique.clone().unwrap_or_default(),
            severity,
            score: alert.score as f32,
            summary: alert.reasons.first().cloned().unwrap_or_default(),
        });
        if self
            .incident
            .as_ref()
            .is_some_and(|i| time - i.first_time >= incident_window)
        {
            self.incident = None;
        }
        let mut tactics: Vec<String> = Vec::new();
        let mut techniques: Vec<String> = Vec::new();
        for r in &self.recent {
            if !r.tactic.is_empty() && !tactics.contains(&r.tactic) {
                tactics.push(r.tactic.clone());
            }
            if !r.technique.is_empty() && !techniques.contains(&r.technique) {
                techniques.push(r.technique.clone());
            }
        }
        if tactics.len() < 2 {
            return None;
        }
        let first = self.recent.first()?;
        let incident = self.incident.get_or_insert_with(|| OpenIncident {
            id: format!("vi-{}", &first.alert_id.trim_start_matches("va-")),
            revision: 0,
            first_time: first.time,
        });
        incident.revision += 1;
        let top = self
            .recent
            .iter()
            .map(|r| r.severity)
            .max()
            .unwrap_or(Severity::Medium);
        let score = self.recent.iter().map(|r| r.score).fold(0.0f32, f32::max);
        let summary = self
            .recent
            .iter()
            .map(|r| format!("{}: {}", r.tactic, r.summary))
            .collect::<Vec<_>>()
            .join(" → ");
        Some(Incident {
            incident_id: incident.id.clone(),
            revision: incident.revision,
            identity_key: alert.identity_key.clone(),
            first_time: DateTime::from_timestamp(incident.first_time, 0).unwrap_or_default(),
            last_time: DateTime::from_timestamp(time, 0).unwrap_or_default(),
            // A chain of tactics is worse than any of its links.
            severity: top.raised().as_str().to_string(),
            score: f64::from((score + 5.0).min(100.0)),
            tactics,
            techniques,
            alert_ids: self.recent.iter().map(|r| r.alert_id.clone()).collect(),
            summary,
        })
    }
}

fn severity_named(name: &str) -> Severity {
    [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
    .unwrap_or(Severity::Medium)
}

impl Draft {
    pub(crate) fn into_alert(self) -> Alert {
        let trigger = self.evidence.first().cloned().unwrap_or_default();
        Alert {
            alert_id: alert_id(&self.identity_key, &self.reason_key, &trigger),
            identity_key: self.identity_key,
            time: DateTime::from_timestamp(self.time, 0).unwrap_or_default(),
            severity: self.severity.as_str().to_string(),
            score: f64::from((self.score * 10.0).round() / 10.0),
            tactic: Some(self.tactic.to_string()),
            technique: Some(self.technique.to_string()),
            reasons: self.reasons,
            evidence_event_ids: self.evidence,
            reason_key: self.reason_key,
            baseline: self.baseline,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn draft(reason: &str, tactic: &'static str, time: i64, trigger: &str) -> Draft {
        Draft {
            identity_key: "id".into(),
            time,
            severity: Severity::Medium,
            score: 70.0,
            tactic,
            technique: "T1000",
            reason_key: reason.into(),
            reasons: vec![format!("{reason} happened")],
            evidence: vec![trigger.into()],
            baseline: BTreeMap::new(),
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = draft("r", "discovery", 10, "e1").into_alert();
        let b = draft("r", "discovery", 10, "e1").into_alert();
        let c = draft("r", "discovery", 10, "e2").into_alert();
        assert_eq!(a.alert_id, b.alert_id);
        assert_ne!(a.alert_id, c.alert_id);
        assert!(a.alert_id.starts_with("va-") && a.alert_id.len() == 35);
    }

    #[test]
    fn duplicates_are_per_reason_within_the_window() {
        let mut m = AlertMemory::default();
        let a = draft("r1", "discovery", 100, "e1").into_alert();
        assert!(
            m.raised(&a, 100, 86_400).is_none(),
            "one tactic is no incident"
        );
        assert!(m.duplicate("r1", 200, 3600));
        assert!(!m.duplicate("r1", 3800, 3600));
        assert!(!m.duplicate("r2", 200, 3600));
    }

    #[test]
    fn two_tactics_make_an_incident_and_a_third_revises_it() {
        let mut m = AlertMemory::default();
        m.raised(
            &draft("r1", "discovery", 100, "e1").into_alert(),
            100,
            86_400,
        );
        let first = m
            .raised(
                &draft("r2", "credential-access", 160, "e2").into_alert(),
                160,
                86_400,
            )
            .expect("an incident");
        assert_eq!(first.revision, 1);
        assert_eq!(first.tactics, ["discovery", "credential-access"]);
        assert_eq!(
            first.severity, "high",
            "medium alerts chain into a high incident"
        );
        assert_eq!(first.alert_ids.len(), 2);
        let second = m
            .raised(
                &draft("r3", "exfiltration", 220, "e3").into_alert(),
                220,
                86_400,
            )
            .expect("a revision");
        assert_eq!(
            (second.incident_id.as_str(), second.revision),
            (first.incident_id.as_str(), 2)
        );
        // Outside the window the chain starts over.
        assert!(
            m.raised(
                &draft("r4", "impact", 400_000, "e4").into_alert(),
                400_000,
                86_400
            )
            .is_none()
        );
    }
}
