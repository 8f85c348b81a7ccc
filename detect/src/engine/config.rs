//! The engine's settings: the `[detect]` section of Vigil's TOML file, every field documented.

use serde::{Deserialize, Serialize};

/// Settings of the detection engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Length of a behaviour window in seconds: an identity's events are scored together within one.
    pub window_secs: u32,
    /// Statistical (model) alerts for an identity start once it has this many days of history…
    pub learning_days: f32,
    /// …and at least this many events. Rule alerts do not wait.
    pub learning_events: u32,
    /// Calibrated score (0–100) at which the model alerts. The score is −20·log10 of the share of the
    /// population's recent windows at least as odd: 80 means 1 window in 10,000.
    pub threshold: f32,
    /// "First use" rules (a first bucket policy, a first role assignment) need this many days of the
    /// identity's history: before that, everything is a first.
    pub first_use_history_days: f32,
    /// A permission unused for this many days is dormant: its next use scores higher.
    pub dormant_days: u16,
    /// Half-life, in days, of the frequencies a baseline keeps.
    pub half_life_days: u16,
    /// Hours of event time between refits of the population model, peer groups and prevalence.
    pub refit_hours: u32,
    /// Alerts of one identity for the same reason within this many seconds are one alert.
    pub suppress_secs: u32,
    /// Alerts of one identity spanning two or more ATT&CK tactics within this many seconds become an
    /// incident with raised severity.
    pub incident_secs: u32,
    /// Identities kept in memory; beyond it the least recently active are evicted to the spill store
    /// and restored when they act again.
    pub max_identities: usize,
    /// Actions remembered per identity (the weakest is forgotten when full).
    pub action_slots: u16,
    /// Services, networks, addresses, clients, regions and resource types remembered per identity.
    pub context_slots: u16,
    /// Alerts never raised: each entry names an identity key (`*` as wildcard at either end) and a
    /// reason (a rule id such as `aws.cloudtrail.stop-logging`, `model:<feature>` or `*`).
    pub suppress: Vec<Suppression>,
    /// Analyst feedback: a JSON-lines file of alerts judged benign (copy the alert's line from
    /// `alerts/*.jsonl`, or write `{"identity": "…", "reason": "…"}`). Each stops that reason alerting
    /// for that identity. Read once when the pipeline starts.
    pub feedback_file: Option<std::path::PathBuf>,
    /// Seed of the model fits, so runs are reproducible.
    pub seed: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            window_secs: 600,
            learning_days: 3.0,
            learning_events: 50,
            threshold: 90.0,
            first_use_history_days: 7.0,
            dormant_days: 90,
            half_life_days: 14,
            refit_hours: 24,
            suppress_secs: 3600,
            incident_secs: 86_400,
            max_identities: 1_000_000,
            action_slots: 32,
            context_slots: 24,
            suppress: Vec::new(),
            feedback_file: None,
            seed: 7,
        }
    }
}

/// An alert pattern not to raise: from config, or an analyst's "benign" verdict on an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Identity key; `*` at the start or end matches any prefix or suffix, `*` alone matches all.
    pub identity: String,
    /// Rule id, `model:<feature>` (e.g. `model:new_networks`), or `*`.
    pub reason: String,
}

impl Suppression {
    pub fn matches(&self, identity: &str, reason: &str) -> bool {
        glob(&self.identity, identity) && (self.reason == "*" || self.reason == reason)
    }
}

fn glob(pattern: &str, value: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        _ if pattern == "*" => true,
        (Some(rest), _) if rest.ends_with('*') => value.contains(&rest[..rest.len() - 1]),
        (Some(suffix), _) => value.ends_with(suffix),
        (None, Some(prefix)) => value.starts_with(prefix),
        (None, None) => pattern == value,
    }
}

impl EngineConfig {
    /// Every problem with the settings, as lines a user can act on.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut need = |ok: bool, what: &str| {
            if !ok {
                out.push(what.to_string());
            }
        };
        need(
            self.window_secs >= 10,
            "detect.window_secs must be at least 10",
        );
        need(
            self.learning_days >= 0.0 && self.learning_days.is_finite(),
            "detect.learning_days must be 0 or more",
        );
        need(
            (0.0..=100.0).contains(&self.threshold),
            "detect.threshold is a score from 0 to 100",
        );
        need(
            self.dormant_days >= 1,
            "detect.dormant_days must be at least 1",
        );
        need(
            self.half_life_days >= 1,
            "detect.half_life_days must be at least 1",
        );
        need(
            self.refit_hours >= 1,
            "detect.refit_hours must be at least 1",
        );
        need(
            self.max_identities >= 1,
            "detect.max_identities must be at least 1",
        );
        need(
            (4..=256).contains(&self.action_slots),
            "detect.action_slots must be between 4 and 256",
        );
        need(
            (4..=256).contains(&self.context_slots),
            "detect.context_slots must be between 4 and 256",
        );
        for s in &self.suppress {
            need(
                !s.identity.is_empty() && !s.reason.is_empty(),
                "detect.suppress entries need an identity and a reason (use \"*\" for any)",
            );
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_match_globs_and_reasons() {
        let s = Suppression {
            identity: "arn:aws:iam::1:role/ci-*".into(),
            reason: "model:volume_z".into(),
        };
        assert!(s.matches("arn:aws:iam::1:role/ci-deploy", "model:volume_z"));
        assert!(!s.matches("arn:aws:iam::1:role/ci-deploy", "model:new_networks"));
        assert!(!s.matches("arn:aws:iam::1:user/bob", "model:volume_z"));
        let any = Suppression {
            identity: "*".into(),
            reason: "*".into(),
        };
        assert!(any.matches("x", "y"));
        let suffix = Suppression {
            identity: "*@example.com".into(),
            reason: "*".into(),
        };
        assert!(suffix.matches("bob@example.com", "r") && !suffix.matches("bob@example.org", "r"));
        let inner = Suppression {
            identity: "*ci*".into(),
            reason: "*".into(),
        };
        assert!(inner.matches("role/ci-x", "r") && !inner.matches("role/web", "r"));
    }

    #[test]
    fn defaults_are_valid_and_problems_are_named() {
        assert!(EngineConfig::default().problems().is_empty());
        let bad = EngineConfig {
            threshold: 120.0,
            window_secs: 1,
            ..EngineConfig::default()
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("threshold")));
    }
}
