//! Scoring of alerts against the labels of a simulation (`vigil eval`). Pure: the caller reads the
//! bytes, this module parses and scores them.
//!
//! [`parse_alerts`] reads any alert output leniently (see [`alerts`] for the fields it looks up);
//! [`score`] compares the alerts with the [`Labels`] and returns a [`Report`], whose JSON form is the
//! stable output of `vigil eval --format json`.
//!
//! # Scoring rules
//!
//! These are also written into every report ([`Rules`]), word for word.
//!
//! - **Duplicates.** Alerts with the same explicit id are one alert (idempotent delivery re-sends
//!   alerts): the first is kept, the others are counted in `duplicates_ignored`. Alerts without an id
//!   get a generated one (`#<n>`, n counting from 1 over all inputs) and are never duplicates.
//! - **Matching.** An alert with evidence event ids matches scenario S when it shares at least one
//!   of them with S's `event_ids`; its identity and time are then not used. An alert without evidence
//!   ids matches S when its identity key equals S's `identity_key` and its time lies in
//!   `[first_event_time, last_event_time + window]`, both ends included (window 3600 s unless set).
//! - **Detected.** A scenario is detected when at least one alert matches it. Recall = detected /
//!   scenarios, overall, per technique and per tactic; `null` when there are no scenarios.
//! - **Time to detect** of a detected scenario = earliest matching alert time − `first_event_time`
//!   (event-time clock), clamped at 0, in seconds. The median is the middle value (the mean of the
//!   two middle values when their number is even); p95 is the nearest-rank percentile: the value at
//!   rank ⌈0.95 × n⌉ of the n sorted values. Both are over detected scenarios only, `null` when none.
//! - **Precision.** True alerts match at least one scenario; false alerts match none. Precision =
//!   true alerts / alerts, `null` when there are no alerts.
//! - **False alerts per 1,000 identity-days** = false alerts / `benign_identity_days` × 1000,
//!   `null` when the labels count no benign identity-days.

pub mod alerts;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use vigil_schemas::{LABELS_VERSION, Labels};

use crate::DetectError;

pub use alerts::parse_alerts;

/// Default slack after a scenario's last event within which an alert without evidence still matches.
pub const DEFAULT_WINDOW_SECS: u64 = 3600;

/// Options of [`score`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Seconds after a scenario's last event during which an alert without evidence ids, on the
    /// scenario's identity, still matches it.
    pub window_secs: u64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            window_secs: DEFAULT_WINDOW_SECS,
        }
    }
}

/// One alert, as read from any alert output by [`parse_alerts`].
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The alert's id, or `#<n>` when it had none (see `id_generated`).
    pub id: String,
    /// The id was generated: such alerts are never treated as duplicates of one another.
    pub id_generated: bool,
    /// The identity key the alert is about, when it names one.
    pub identity_key: Option<String>,
    /// When the alert was raised, on the event-time clock.
    pub time: DateTime<Utc>,
    /// Ids of the events the alert cites as evidence (may be empty).
    pub evidence_event_ids: Vec<String>,
    /// The technique the alert claims, carried into the report only.
    pub technique: Option<String>,
}

/// Parses and checks a labels file: the layout version, unique scenario ids, ordered times.
pub fn parse_labels(bytes: &[u8]) -> Result<Labels, DetectError> {
    let labels: Labels = serde_json::from_slice(bytes)
        .map_err(|e| DetectError::Labels(format!("not the labels JSON document ({e})")))?;
    if labels.version != LABELS_VERSION {
        return Err(DetectError::Labels(format!(
            "layout version {} (this vigil reads version {LABELS_VERSION})",
            labels.version
        )));
    }
    check_labels(&labels)?;
    Ok(labels)
}

fn check_labels(labels: &Labels) -> Result<(), DetectError> {
    let mut ids = HashSet::new();
    for s in &labels.scenarios {
        if !ids.insert(s.scenario_id.as_str()) {
            return Err(DetectError::Labels(format!(
                "scenario id `{}` appears twice",
                s.scenario_id
            )));
        }
        if s.first_event_time > s.last_event_time {
            return Err(DetectError::Labels(format!(
                "scenario `{}` ends ({}) before it starts ({})",
                s.scenario_id, s.last_event_time, s.first_event_time
            )));
        }
    }
    Ok(())
}

/// The result of scoring: the JSON output of `vigil eval --format json`, field for field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Scenarios in the labels.
    pub scenarios: u64,
    /// Scenarios matched by at least one alert.
    pub detected: u64,
    /// detected / scenarios; `null` without scenarios.
    pub recall: Option<f64>,
    /// true_alerts / alerts; `null` without alerts.
    pub precision: Option<f64>,
    /// Alerts scored (duplicates not included).
    pub alerts: u64,
    /// Alerts matching at least one scenario.
    pub true_alerts: u64,
    /// Alerts matching no scenario.
    pub false_alerts: u64,
    /// The exposure false alerts are counted against, from the labels.
    pub benign_identity_days: u64,
    /// false_alerts / benign_identity_days × 1000; `null` when benign_identity_days is 0.
    pub false_per_1000_identity_days: Option<f64>,
    /// Over detected scenarios.
    pub time_to_detect_seconds: TimeToDetect,
    /// One row per technique, sorted by technique.
    pub by_technique: Vec<TechniqueRow>,
    /// One row per tactic, sorted by tactic.
    pub by_tactic: Vec<TacticRow>,
    /// One row per scenario, in the labels' order.
    pub by_scenario: Vec<ScenarioRow>,
    /// False alerts per technique the alerts claim (`null` for alerts claiming none), most first.
    pub false_alerts_by_alert_technique: Vec<AlertTechniqueRow>,
    /// Alerts left out because an earlier alert had the same id.
    pub duplicates_ignored: u64,
    /// How the figures above were computed.
    pub rules: Rules,
}

/// Median and p95 of the time to detect, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeToDetect {
    pub median: Option<f64>,
    pub p95: Option<f64>,
}

/// Recall of one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueRow {
    pub technique: String,
    /// The MITRE ATT&CK technique of the first scenario with this technique.
    pub mitre_technique: String,
    pub scenarios: u64,
    pub detected: u64,
    pub recall: f64,
    pub time_to_detect_seconds: TimeToDetect,
}

/// Recall of one tactic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TacticRow {
    pub tactic: String,
    pub scenarios: u64,
    pub detected: u64,
    pub recall: f64,
    pub time_to_detect_seconds: TimeToDetect,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioRow {
    pub scenario_id: String,
    pub technique: String,
    pub mitre_technique: String,
    pub tactic: String,
    pub provider: String,
    pub identity_key: String,
    pub first_event_time: DateTime<Utc>,
    pub detected: bool,
    /// `null` when not detected.
    pub time_to_detect_seconds: Option<f64>,
    /// Alerts matching this scenario.
    pub matching_alerts: u64,
    /// Their ids, in input order.
    pub alert_ids: Vec<String>,
}

/// False alerts claiming one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertTechniqueRow {
    pub technique: Option<String>,
    pub false_alerts: u64,
}

/// The scoring rules, as text, with the window used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    pub window_seconds: u64,
    pub duplicates: &'static str,
    pub matching: &'static str,
    pub detected: &'static str,
    pub time_to_detect: &'static str,
    pub median: &'static str,
    pub p95: &'static str,
    pub precision: &'static str,
    pub false_per_1000_identity_days: &'static str,
}

impl Rules {
    fn new(window_secs: u64) -> Self {
        Self {
            window_seconds: window_secs,
            duplicates: "alerts with the same explicit id count once (the first is kept); alerts \
                without an id get `#<n>` and are never duplicates",
            matching: "an alert with evidence event ids matches a scenario sharing at least one of \
                them (identity and time then unused); an alert without evidence ids matches a \
                scenario with the same identity key when its time lies in [first_event_time, \
                last_event_time + window_seconds], ends included",
            detected: "a scenario is detected when at least one alert matches it; recall = \
                detected / scenarios (null without scenarios)",
            time_to_detect: "earliest matching alert time minus the scenario's first_event_time \
                (event-time clock), clamped at 0, in seconds, over detected scenarios",
            median: "middle value; mean of the two middle values when their number is even",
            p95: "nearest rank: the value at rank ceil(0.95 * n) of the n sorted values",
            precision: "true alerts (matching at least one scenario) / alerts; null without alerts",
            false_per_1000_identity_days: "false alerts (matching no scenario) / \
                benign_identity_days * 1000; null when benign_identity_days is 0",
        }
    }
}

/// Limits a report must meet; [`Report::check`] lists those it misses.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Floors {
    pub min_recall: Option<f64>,
    pub max_false_per_1000: Option<f64>,
    pub max_p95_seconds: Option<f64>,
}

impl Report {
    /// One sentence per floor missed; empty when all are met. A figure that cannot be computed
    /// (`null`) misses its floor: an evaluation that measured nothing does not pass.
    pub fn check(&self, floors: &Floors) -> Vec<String> {
        let mut missed = Vec::new();
        if let Some(min) = floors.min_recall {
            match self.recall {
                Some(r) if r >= min => {}
                Some(r) => missed.push(format!(
                    "recall {r:.3} ({}/{}) is below --min-recall {min}",
                    self.detected, self.scenarios
                )),
                None => missed.push(format!(
                    "recall cannot be measured (the labels have no scenarios), so --min-recall {min} is not met"
                )),
            }
        }
        if let Some(max) = floors.max_false_per_1000 {
            match self.false_per_1000_identity_days {
                Some(f) if f <= max => {}
                Some(f) => missed.push(format!(
                    "{f:.3} false alerts per 1,000 identity-days ({} false alerts) is above --max-false-per-1000 {max}",
                    self.false_alerts
                )),
                None => missed.push(format!(
                    "false alerts per 1,000 identity-days cannot be measured (the labels count 0 benign identity-days), so --max-false-per-1000 {max} is not met"
                )),
            }
        }
        if let Some(max) = floors.max_p95_seconds {
            match self.time_to_detect_seconds.p95 {
                Some(p) if p <= max => {}
                Some(p) => missed.push(format!(
                    "p95 time to detect {p} s is above --max-p95-seconds {max}"
                )),
                None => missed.push(format!(
                    "no scenario was detected, so there is no time to detect and --max-p95-seconds {max} is not met"
                )),
            }
        }
        missed
    }
}

/// Scores `alerts` against `labels` by the rules in the module documentation.
pub fn score(
    labels: &Labels,
    alerts: &[Alert],
    options: &EvalOptions,
) -> Result<Report, DetectError> {
    check_labels(labels)?;
    let window = TimeDelta::try_seconds(i64::try_from(options.window_secs).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::MAX);

    // Duplicates out, first occurrence kept.
    let mut seen = HashSet::new();
    let mut duplicates_ignored = 0u64;
    let mut unique: Vec<&Alert> = Vec::with_capacity(alerts.len());
    for alert in alerts {
        if !alert.id_generated && !seen.insert(alert.id.as_str()) {
            duplicates_ignored += 1;
        } else {
            unique.push(alert);
        }
    }

    let mut by_event: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_identity: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in labels.scenarios.iter().enumerate() {
        for id in &s.event_ids {
            by_event.entry(id.as_str()).or_default().push(i);
        }
        by_identity
            .entry(s.identity_key.as_str())
            .or_default()
            .push(i);
    }

    // Per scenario: matching alert indices (into `unique`), earliest matching alert time.
    let mut matches: Vec<Vec<usize>> = vec![Vec::new(); labels.scenarios.len()];
    let mut earliest: Vec<Option<DateTime<Utc>>> = vec![None; labels.scenarios.len()];
    let mut true_alerts = 0u64;
    let mut false_by_technique: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    let mut hit: Vec<usize> = Vec::new();
    for (a, alert) in unique.iter().enumerate() {
        hit.clear();
        if alert.evidence_event_ids.is_empty() {
            if let Some(candidates) = alert
                .identity_key
                .as_deref()
                .and_then(|k| by_identity.get(k))
            {
                for &i in candidates {
                    let s = &labels.scenarios[i];
                    let end = s
                        .last_event_time
                        .checked_add_signed(window)
                        .unwrap_or(DateTime::<Utc>::MAX_UTC);
                    if s.first_event_time <= alert.time && alert.time <= end {
                        hit.push(i);
                    }
                }
            }
        } else {
            for id in &alert.evidence_event_ids {
                if let Some(scenarios) = by_event.get(id.as_str()) {
                    hit.extend_from_slice(scenarios);
                }
            }
            hit.sort_unstable();
            hit.dedup();
        }
        if hit.is_empty() {
            *false_by_technique
                .entry(alert.technique.as_deref())
                .or_default() += 1;
            continue;
        }
        true_alerts += 1;
        for &i in &hit {
            matches[i].push(a);
            earliest[i] = Some(earliest[i].map_or(alert.time, |t| t.min(alert.time)));
        }
    }

    let mut by_scenario = Vec::with_capacity(labels.scenarios.len());
    for (i, s) in labels.scenarios.iter().enumerate() {
        let ttd = earliest[i].map(|t| seconds(t - s.first_event_time).max(0.0));
        by_scenario.push(ScenarioRow {
            scenario_id: s.scenario_id.clone(),
            technique: s.technique.clone(),
            mitre_technique: s.mitre_technique.clone(),
            tactic: s.tactic.clone(),
            provider: s.provider.clone(),
            identity_key: s.identity_key.clone(),
            first_event_time: s.first_event_time,
            detected: ttd.is_some(),
            time_to_detect_seconds: ttd,
            matching_alerts: matches[i].len() as u64,
            alert_ids: matches[i].iter().map(|&a| unique[a].id.clone()).collect(),
        });
    }

    let mut techniques: BTreeMap<&str, (String, Vec<&ScenarioRow>)> = BTreeMap::new();
    let mut tactics: BTreeMap<&str, Vec<&ScenarioRow>> = BTreeMap::new();
    for row in &by_scenario {
        techniques
            .entry(row.technique.as_str())
            .or_insert_with(|| (row.mitre_technique.clone(), Vec::new()))
            .1
            .push(row);
        tactics.entry(row.tactic.as_str()).or_default().push(row);
    }
    let by_technique = techniques
        .into_iter()
        .map(|(technique, (mitre_technique, rows))| {
            let (scenarios, detected, recall, ttd) = summarize(&rows);
            TechniqueRow {
                technique: technique.to_string(),
                mitre_technique,
                scenarios,
                detected,
                recall,
                time_to_detect_seconds: ttd,
            }
        })
        .collect();
    let by_tactic = tactics
        .into_iter()
        .map(|(tactic, rows)| {
            let (scenarios, detected, recall, ttd) = summarize(&rows);
            TacticRow {
                tactic: tactic.to_string(),
                scenarios,
                detected,
                recall,
                time_to_detect_seconds: ttd,
            }
        })
        .collect();

    let all: Vec<&ScenarioRow> = by_scenario.iter().collect();
    let (scenarios, detected, _, time_to_detect_seconds) = summarize(&all);
    let n_alerts = unique.len() as u64;
    let false_alerts = n_alerts - true_alerts;
    let mut false_alerts_by_alert_technique: Vec<AlertTechniqueRow> = false_by_technique
        .into_iter()
        .map(|(technique, n)| AlertTechniqueRow {
            technique: technique.map(str::to_string),
            false_alerts: n,
        })
        .collect();
    false_alerts_by_alert_technique.sort_by_key(|row| std::cmp::Reverse(row.false_alerts));

    Ok(Report {
        scenarios,
        detected,
        recall: ratio(detected, scenarios),
        precision: ratio(true_alerts, n_alerts),
        alerts: n_alerts,
        true_alerts,
        false_alerts,
        benign_identity_days: labels.benign_identity_days,
        false_per_1000_identity_days: ratio(false_alerts, labels.benign_identity_days)
            .map(|r| r * 1000.0),
        time_to_detect_seconds,
        by_technique,
        by_tactic,
        by_scenario,
        false_alerts_by_alert_technique,
        duplicates_ignored,
        rules: Rules::new(options.window_secs),
    })
}

/// Scenarios, detected, recall (0 for an empty group, which never happens) and time to detect of a
/// group of scenario rows.
fn summarize(rows: &[&ScenarioRow]) -> (u64, u64, f64, TimeToDetect) {
    let mut ttds: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.time_to_detect_seconds)
        .collect();
    ttds.sort_by(f64::total_cmp);
    let scenarios = rows.len() as u64;
    let detected = ttds.len() as u64;
    (
        scenarios,
        detected,
        ratio(detected, scenarios).unwrap_or(0.0),
        TimeToDetect {
            median: median(&ttds),
            p95: nearest_rank(&ttds, 95),
        },
    )
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn seconds(d: TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// Median of sorted values: the middle one, or the mean of the two middle ones.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0)
    }
}

/// Nearest-rank percentile of sorted values: the value at rank ⌈p/100 × n⌉ (1-based).
fn nearest_rank(sorted: &[f64], p: usize) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}
