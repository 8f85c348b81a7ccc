//! The detection engine: per-identity baselines, a population model per provider, a rule layer,
//! alerts and incidents. [`Engine`] is a [`Detector`], so `vigil run` and the Kafka `vigil detect`
//! service run the same code on the same events.
//!
//! Per event, in arrival order (the pipeline keeps an identity's events in order; sources deliver
//! them in event-time order): the identity's window is closed if the event falls past it (its
//! features train the provider's model and calibrate its scores), the event is compared with the
//! baseline (novelty backs off to peers, account and provider while the baseline is young), recorded,
//! checked against the rule catalog, and — once the identity has learned — the window is scored.

mod alerts;
mod baseline;
pub mod config;
mod identity;
pub mod model;
#[cfg(test)]
mod model_tests;
mod observe;
mod population;
pub mod rules;
mod rules_catalog;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;
mod window;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use vigil_schemas::{Alert, Event, Incident, Provider};

use crate::{DetectError, Detector};
pub use config::{EngineConfig, Suppression};
use identity::IdentityState;
use population::{Member, Population};
use rules::RuleBook;

/// Counters the engine keeps; the services export them as metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    pub events: u64,
    pub rule_alerts: u64,
    pub model_alerts: u64,
    /// Alerts not raised: duplicates within the suppression window.
    pub duplicates_suppressed: u64,
    /// Alerts not raised: matched a suppression entry or analyst feedback.
    pub suppressed_by_config: u64,
    pub incidents: u64,
    /// Identities moved out of memory to the spill store, and brought back.
    pub evicted: u64,
    pub restored: u64,
    pub refits: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Boxed: the map's empty buckets then cost a pointer each, not a whole state.
    identities: FxHashMap<String, Box<IdentityState>>,
    /// Evicted identities, compact (MessagePack); part of the checkpoint.
    spill: FxHashMap<String, Vec<u8>>,
    populations: [Population; 3],
    stats: EngineStats,
}

/// The detection engine.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    rules: RuleBook,
    state: State,
    alerts: Vec<Alert>,
    incidents: Vec<Incident>,
}

impl Engine {
    /// An engine with `config`, which must be valid ([`EngineConfig::problems`] empty).
    pub fn new(config: EngineConfig) -> Result<Engine, DetectError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(DetectError::State(problems.join("; ")));
        }
        Ok(Engine {
            config,
            rules: RuleBook::builtin(),
            state: State::default(),
            alerts: Vec::new(),
            incidents: Vec::new(),
        })
    }

    /// The settings the engine runs with (suppressions from feedback included).
    pub fn settings(&self) -> &EngineConfig {
        &self.config
    }

    pub fn stats(&self) -> &EngineStats {
        &self.state.stats
    }

    /// Identities in memory (not counting evicted ones).
    pub fn identities_in_memory(&self) -> usize {
        self.state.identities.len()
    }

    /// Bytes of state per identity in memory: the table entry, its key and everything it owns.
    pub fn bytes_per_identity(&self) -> f64 {
        let n = self.state.identities.len();
        if n == 0 {
            return 0.0;
        }
        // hashbrown keeps 1/8 of its buckets free and a control byte per bucket.
        let buckets = (self.state.identities.capacity() * 8 / 7).max(n);
        let table = buckets * (std::mem::size_of::<(String, Box<IdentityState>)>() + 1);
        let owned: usize = self
            .state
            .identities
            .iter()
            .map(|(k, s)| k.capacity() + std::mem::size_of::<IdentityState>() + s.heap_bytes())
            .sum();
        (table + owned) as f64 / n as f64
    }

    fn process(&mut self, event: &Event) {
        let cfg = &self.config;
        let p = provider_index(event.provider);
        let refit_secs = i64::from(cfg.refit_hours) * 3600;
        let time = event.event_time.timestamp();
        self.state.stats.events += 1;
        if self.state.populations[p].advance(time, refit_secs) {
            self.refit(p);
        }
        let key = event.identity.key.as_str();
        if !self.state.identities.contains_key(key) {
            let restored = self.state.spill.remove(key).and_then(|bytes| {
                rmp_serde::from_slice::<IdentityState>(&bytes)
                    .inspect_err(|e| {
                        // Not fatal: the identity starts over, which costs its history, not the stream.
                        tracing::warn!(identity = key, error = %e, "spilled state unreadable: starting afresh");
                    })
                    .ok()
            });
            let state = match restored {
                Some(s) => {
                    self.state.stats.restored += 1;
                    Box::new(s)
                }
                None => Box::new(IdentityState::new(event, p as u8)),
            };
            self.state.identities.insert(key.to_string(), state);
            if self.state.identities.len() > self.config.max_identities {
                self.evict();
            }
        }
        let State {
            identities,
            populations,
            stats,
            ..
        } = &mut self.state;
        let Some(identity) = identities.get_mut(key) else {
            return;
        };
        let population = &mut populations[p];
        let outcome = identity.observe(event, &self.config, &self.rules, population);
        for draft in outcome {
            let reason = draft.reason_key.clone();
            let memory = identity.alerts.get_or_insert_with(Box::default);
            if self.config.suppress.iter().any(|s| s.matches(key, &reason)) {
                stats.suppressed_by_config += 1;
                continue;
            }
            if memory.duplicate(
                alerts::dedupe_key(&reason),
                draft.time,
                i64::from(self.config.suppress_secs),
            ) {
                stats.duplicates_suppressed += 1;
                continue;
            }
            if reason.starts_with("model:") {
                stats.model_alerts += 1;
            } else {
                stats.rule_alerts += 1;
            }
            let time = draft.time;
            let alert = draft.into_alert();
            if let Some(incident) =
                memory.raised(&alert, time, i64::from(self.config.incident_secs))
            {
                stats.incidents += 1;
                self.incidents.push(incident);
            }
            self.alerts.push(alert);
        }
    }

    fn refit(&mut self, p: usize) {
        let seed =
            self.config.seed ^ (p as u64) << 32 ^ u64::from(self.state.populations[p].refits);
        let refit_secs = i64::from(self.config.refit_hours) * 3600;
        let State {
            identities,
            populations,
            stats,
            ..
        } = &mut self.state;
        // Iterate in key order so a refit does not depend on the hash map's layout.
        let mut keys: Vec<&String> = identities
            .iter()
            .filter(|(_, s)| usize::from(s.provider) == p)
            .map(|(k, _)| k)
            .collect();
        keys.sort_unstable();
        let members = keys
            .iter()
            .filter_map(|k| identities.get(*k))
            .map(|s| Member {
                baseline: &s.baseline,
                account: s.account,
            });
        let peers = populations[p].refit(members, refit_secs, seed);
        let keys: Vec<String> = keys.into_iter().cloned().collect();
        for (key, peer) in keys.iter().zip(peers) {
            if let Some(s) = identities.get_mut(key) {
                s.baseline.peer = peer;
            }
        }
        stats.refits += 1;
    }

    /// Moves the least recently active eighth of the identities to the spill store.
    fn evict(&mut self) {
        let mut by_age: Vec<(i64, String)> = self
            .state
            .identities
            .iter()
            .map(|(k, s)| (s.baseline.last_time, k.clone()))
            .collect();
        let n = (by_age.len() / 8).max(1);
        by_age.select_nth_unstable(n - 1);
        for (_, key) in by_age.into_iter().take(n) {
            if let Some(mut state) = self.state.identities.remove(&key) {
                let p = usize::from(state.provider).min(2);
                if let Some(features) = state.close_window() {
                    self.state.populations[p].observe_window(features);
                }
                match rmp_serde::to_vec(&state) {
                    Ok(bytes) => {
                        self.state.spill.insert(key, bytes);
                        self.state.stats.evicted += 1;
                    }
                    Err(e) => {
                        tracing::warn!(identity = %key, error = %e, "cannot spill an identity: its history is dropped");
                    }
                }
            }
        }
        self.state.identities.shrink_to_fit();
    }
}

fn provider_index(p: Provider) -> usize {
    match p {
        Provider::Aws => 0,
        Provider::Azure => 1,
        Provider::Gcp => 2,
    }
}

impl Detector for Engine {
    fn on_events(&mut self, events: Vec<Event>) -> Result<Vec<Event>, DetectError> {
        for event in &events {
            self.process(event);
        }
        Ok(events)
    }

    fn drain_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }

    fn drain_incidents(&mut self) -> Vec<Incident> {
        std::mem::take(&mut self.incidents)
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = &self.state.stats;
        vec![
            ("events", s.events),
            ("rule_alerts", s.rule_alerts),
            ("model_alerts", s.model_alerts),
            ("duplicates_suppressed", s.duplicates_suppressed),
            ("suppressed_by_config", s.suppressed_by_config),
            ("incidents", s.incidents),
            ("evicted", s.evicted),
            ("restored", s.restored),
            ("refits", s.refits),
            ("identities_in_memory", self.state.identities.len() as u64),
            ("identities_spilled", self.state.spill.len() as u64),
        ]
    }

    fn snapshot(&self) -> Result<Vec<u8>, DetectError> {
        rmp_serde::to_vec_named(&self.state)
            .map_err(|e| DetectError::State(format!("cannot snapshot the engine: {e}")))
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), DetectError> {
        self.state = rmp_serde::from_slice(snapshot)
            .map_err(|e| DetectError::State(format!("engine snapshot is unreadable: {e}")))?;
        Ok(())
    }
}
