//! One identity's state and the per-event decision: compare with the baseline, record, check the
//! rules, score the window.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigil_schemas::{ActionCategory, Event, IdentityKind};

use super::alerts::{AlertMemory, Draft};
use super::baseline::{Baseline, Seen, day_of, hour_of_week};
use super::config::EngineConfig;
use super::model::{FEATURE_NAMES, Features};
use super::observe::{ContextKind, Observation, fingerprint};
use super::population::Population;
use super::rules::{Gate, RuleBook, Severity};
use super::window::{self as w, Window};

/// Below this share of the identity's activity (a quarter of an even spread over the week's hours),
/// an hour is odd for it.
const ODD_HOUR_SHARE: f32 = 0.25 / 168.0;
/// Events of history before the hour-of-week profile is trusted.
const RHYTHM_MIN_EVENTS: u32 = 100;
/// Share of an identity's peers using a permission above which its first use is routine, not news.
const ROUTINE_AMONG_PEERS: f32 = 0.5;
/// A model alert needs two families of evidence ([`w::FAMILIES`]) at least this many spreads above
/// what the population does: one odd signal alone (a trip abroad, a deployment storm) is the benign
/// novelty every estate has.
const CORROBORATION_SPREADS: f32 = 1.0;
/// One family alone alerts only this far out: twenty secret reads by someone who reads none.
const SINGLE_FAMILY_SPREADS: f32 = 4.0;
/// EWMA weight of each closed window.
const ALPHA: f32 = 0.05;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdentityState {
    pub(crate) baseline: Baseline,
    pub(crate) window: Window,
    pub(crate) provider: u8,
    /// Fingerprint of the account, subscription/tenant or project.
    pub(crate) account: u32,
    pub(crate) alerts: Option<Box<AlertMemory>>,
}

impl IdentityState {
    pub(crate) fn new(event: &Event, provider: u8) -> IdentityState {
        let account = event
            .account_id
            .as_deref()
            .or(event.tenant_id.as_deref())
            .unwrap_or("");
        let baseline = Baseline {
            workload: matches!(
                event.identity.kind,
                IdentityKind::Role
                    | IdentityKind::RoleSession
                    | IdentityKind::ServicePrincipal
                    | IdentityKind::ManagedIdentity
                    | IdentityKind::ServiceAccount
                    | IdentityKind::ProviderService
            ),
            ..Baseline::default()
        };
        IdentityState {
            baseline,
            window: Window::default(),
            provider,
            account: fingerprint(ContextKind::Region, account.as_bytes()),
            alerts: None,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let window = self.window.detail.as_deref().map_or(0, |d| {
            std::mem::size_of_val(d)
                + d.notes
                    .iter()
                    .map(|(_, s)| s.capacity() + 32)
                    .sum::<usize>()
                + d.evidence.iter().map(|s| s.capacity() + 24).sum::<usize>()
        });
        let alerts = self.alerts.as_deref().map_or(0, |_| 256);
        self.baseline.heap_bytes() + window + alerts
    }

    /// Closes the current window: its features (for the model) and its counts (for the EWMAs).
    pub(crate) fn close_window(&mut self) -> Option<Features> {
        self.window.start?;
        let features = self.window.features(&self.baseline);
        self.baseline
            .volume
            .update(f32::from(self.window.events), ALPHA);
        self.baseline
            .errors
            .update(f32::from(self.window.failed), ALPHA);
        let events = f32::from(self.window.events.max(1));
        self.baseline
            .sensitive_share
            .update(f32::from(self.window.sensitive) / events, ALPHA);
        self.window = Window::default();
        Some(features)
    }

    fn learned(&self, cfg: &EngineConfig) -> bool {
        self.baseline.events >= cfg.learning_events
            && self.baseline.days_of_history() >= cfg.learning_days
    }

    /// Takes one event; returns the alerts it decides to raise (before suppression).
    pub(crate) fn observe(
        &mut self,
        event: &Event,
        cfg: &EngineConfig,
        rules: &RuleBook,
        population: &mut Population,
    ) -> Vec<Draft> {
        let obs = Observation::of(event);
        let length = i64::from(cfg.window_secs);
        if self.window.expired(obs.time, length)
            && let Some(features) = self.close_window()
        {
            population.observe_window(features);
        }
        if self.window.start.is_none() {
            self.window.open(obs.time);
        }
        let learned = self.learned(cfg);
        let day = day_of(obs.time);
        let mut notable = false;

        // The action: new, dormant, or routine?
        let assessment = rules.assess(event);
        let high_risk = assessment.high_risk;
        let prior = self.baseline.actions.record(
            obs.action,
            day,
            usize::from(cfg.action_slots),
            cfg.half_life_days,
            high_risk,
            super::baseline::ACTION_KIND,
        );
        let unused_days = match prior {
            Seen::New => None,
            Seen::Before { last_day, .. } => Some(day.saturating_sub(last_day)),
        };
        let dormant = high_risk && learned && unused_days.is_none_or(|d| d >= cfg.dormant_days);
        if prior == Seen::New && self.baseline.events > 0 {
            let peers = population.prevalence(self.baseline.peer, self.account, obs.action);
            let novelty = novelty(peers);
            self.window.novelty[w::NOVEL_ACTION] += novelty;
            if novelty >= 0.5 {
                notable = true;
                let permission = &event.action.permission;
                self.window.note(w::NEW_ACTIONS, || {
                    format!(
                        "first call of {permission} by this identity ({:.0}% of those like it use it)",
                        peers * 100.0
                    )
                });
            }
        }
        if dormant {
            notable = true;
            self.window.dormant = self.window.dormant.saturating_add(1);
            let permission = &event.action.permission;
            self.window.note(w::DORMANT, || match unused_days {
                Some(d) => format!("high-risk {permission} used after {d} days unused"),
                None => format!(
                    "first use of high-risk {permission} in {:.0} days of history",
                    self.baseline.days_of_history()
                ),
            });
        }

        // The context it acted from.
        for (i, fp) in obs.context.iter().enumerate() {
            let Some(fp) = *fp else { continue };
            let kind = ContextKind::ALL[i];
            let seen = self.baseline.context.record(
                fp,
                day,
                usize::from(cfg.context_slots),
                cfg.half_life_days,
                false,
                kind as u8,
            );
            if seen != Seen::New || self.baseline.events == 0 {
                continue;
            }
            let slot = match kind {
                ContextKind::Service => w::NOVEL_SERVICE,
                ContextKind::Network => w::NOVEL_NETWORK,
                ContextKind::Agent => w::NOVEL_AGENT,
                ContextKind::Region => w::NOVEL_REGION,
                // A new address inside a known network, or a new resource type, is weak evidence.
                ContextKind::Address | ContextKind::ResourceType => continue,
            };
            let peers = population.prevalence(self.baseline.peer, self.account, fp);
            let novelty = novelty(peers);
            self.window.novelty[slot] += novelty;
            if novelty >= 0.5 {
                notable = true;
                let value = describe(kind, event);
                let feature = [
                    w::NEW_ACTIONS,
                    w::NEW_SERVICES,
                    w::NEW_NETWORKS,
                    w::NEW_AGENTS,
                    w::NEW_REGIONS,
                ][slot];
                self.window.note(feature, || {
                    format!("{} {value} never seen for this identity", kind.noun())
                });
            }
        }

        // When it acted, against its own rhythm (checked before this event joins the profile).
        let hour = hour_of_week(obs.time);
        if self.baseline.rhythm.total >= RHYTHM_MIN_EVENTS {
            let share = self.baseline.rhythm.share(hour);
            if share < ODD_HOUR_SHARE {
                notable = true;
                self.window.odd = self.window.odd.saturating_add(1);
                let at = event.event_time.format("%a %H:%M UTC");
                self.window.note(w::ODD_HOUR, || {
                    format!(
                        "{at}: {:.2}% of its activity falls at this hour",
                        share * 100.0
                    )
                });
            }
        }
        self.baseline.rhythm.record(hour);

        // Deleting data is sensitive whatever the service: ransomware and wipers only delete.
        let sensitive = assessment.sensitive || event.action.category == ActionCategory::Delete;
        if sensitive {
            notable = true;
            self.window.sensitive = self.window.sensitive.saturating_add(1);
            let permission = &event.action.permission;
            self.window
                .note(w::SENSITIVE, || format!("sensitive call {permission}"));
        }
        if obs.failed {
            self.window.failed = self.window.failed.saturating_add(1);
            notable |= self.window.failed >= 3;
        }
        if event.action.category == ActionCategory::Delete {
            self.window.deletes = self.window.deletes.saturating_add(1);
        }
        self.window.events = self.window.events.saturating_add(1);
        self.baseline.mix.record(mix_index(event.action.category));
        self.record_history(obs.time, day);
        if notable {
            self.window.cite(&event.event_id);
        }

        let mut drafts = Vec::new();
        if let Some(rule) = assessment.rule {
            let fire = match rule.gate {
                Gate::Always => true,
                // "First use" means something only against enough history, and not for what most of
                // the identity's peers do routinely (an engineer's first container of the month).
                Gate::FirstUseIn90Days => {
                    dormant
                        && self.baseline.days_of_history() >= cfg.first_use_history_days
                        && population.prevalence(self.baseline.peer, self.account, obs.action)
                            < ROUTINE_AMONG_PEERS
                }
            };
            if fire {
                drafts.push(self.rule_draft(event, rule, dormant, population));
            }
        }
        let burst = self.window.events >= 8 && self.window.events.is_power_of_two();
        if learned
            && !self.window.model_alerted
            && (notable || burst)
            && let Some(draft) = self.model_draft(event, cfg, population)
        {
            self.window.model_alerted = true;
            drafts.push(draft);
        }
        drafts
    }

    fn record_history(&mut self, time: i64, day: u16) {
        let b = &mut self.baseline;
        if b.events == 0 {
            b.first_time = time;
            b.last_time = time;
        }
        b.first_time = b.first_time.min(time);
        b.last_time = b.last_time.max(time);
        if b.events == 0 || day != b.last_active_day {
            b.active_days = b.active_days.saturating_add(1);
            b.last_active_day = day;
        }
        b.events = b.events.saturating_add(1);
    }

    fn figures(&self, population: &Population) -> BTreeMap<String, f64> {
        let b = &self.baseline;
        let mut m = BTreeMap::new();
        m.insert("events_seen".into(), f64::from(b.events));
        m.insert("days_of_history".into(), round2(b.days_of_history()));
        m.insert("active_days".into(), f64::from(b.active_days));
        m.insert("actions_known".into(), b.actions.len() as f64);
        m.insert("window_events".into(), f64::from(self.window.events));
        m.insert("usual_window_events".into(), round2(b.volume.mean));
        m.insert("usual_window_events_sd".into(), round2(b.volume.var.sqrt()));
        m.insert("usual_window_failures".into(), round2(b.errors.mean));
        if let Some(peer) = b.peer {
            m.insert("peer_group".into(), f64::from(peer));
        }
        m.insert(
            "population_windows".into(),
            population.calibrator.observed() as f64,
        );
        m
    }

    fn rule_draft(
        &self,
        event: &Event,
        rule: &super::rules::Rule,
        dormant: bool,
        population: &Population,
    ) -> Draft {
        let base: f32 = match rule.severity {
            Severity::Low => 40.0,
            Severity::Medium => 60.0,
            Severity::High => 75.0,
            Severity::Critical => 90.0,
        };
        // What the window looks like to the model counts too, once the model can say.
        let behaviour = population.model.as_ref().and_then(|m| {
            let raw = m.score(&self.window.features(&self.baseline)).raw;
            population.calibrator.calibrate(raw)
        });
        let base = behaviour.map_or(base, |b| base.max(b));
        // Dormant privilege on top of a rule is worth more than either alone.
        let (score, severity) = if dormant {
            (f32::min(base + 10.0, 100.0), rule.severity.raised())
        } else {
            (base, rule.severity)
        };
        let mut reasons = vec![format!("{} ({})", rule.title, event.action.permission)];
        reasons.extend(
            self.window
                .notes()
                .iter()
                .filter(|(f, _)| {
                    matches!(
                        usize::from(*f),
                        w::DORMANT | w::NEW_NETWORKS | w::ODD_HOUR | w::NEW_AGENTS
                    )
                })
                .map(|(_, n)| n.clone())
                .take(3),
        );
        Draft {
            identity_key: event.identity.key.clone(),
            time: event.event_time.timestamp(),
            severity,
            score,
            tactic: rule.tactic,
            technique: rule.technique,
            reason_key: rule.id.to_string(),
            reasons,
            evidence: vec![event.event_id.clone()],
            baseline: self.figures(population),
        }
    }

    fn model_draft(
        &self,
        event: &Event,
        cfg: &EngineConfig,
        population: &Population,
    ) -> Option<Draft> {
        let model = population.model.as_ref()?;
        let features = self.window.features(&self.baseline);
        let scored = model.score(&features);
        let score = population.calibrator.calibrate(scored.raw)?;
        tracing::trace!(
            identity = %event.identity.key,
            event = %event.event_id,
            score,
            raw = scored.raw,
            features = ?features,
            "window scored"
        );
        if score < cfg.threshold {
            return None;
        }
        // contributions are shares of raw, so each feature's excess is raw · share.
        let mut families = [0.0f32; 5];
        for (share, family) in scored.contributions.iter().zip(w::FAMILIES) {
            if let Some(f) = family {
                families[usize::from(f)] += scored.raw * share;
            }
        }
        let corroborated = families
            .iter()
            .filter(|e| **e >= CORROBORATION_SPREADS)
            .count();
        let overwhelming = families.iter().any(|e| *e >= SINGLE_FAMILY_SPREADS);
        if corroborated < 2 && !overwhelming {
            return None;
        }
        let mut order: Vec<usize> = (0..features.len()).collect();
        order.sort_by(|a, b| scored.contributions[*b].total_cmp(&scored.contributions[*a]));
        let top = order[0];
        let mut reasons = Vec::new();
        for &f in order.iter().take(4) {
            if scored.contributions[f] < 0.05 {
                break;
            }
            reasons.extend(self.explain(f, &features, cfg.window_secs));
        }
        let (tactic, technique) = self.tactic_of(top);
        let mut evidence = vec![event.event_id.clone()];
        evidence.extend(
            self.window
                .evidence()
                .iter()
                .filter(|id| **id != event.event_id)
                .cloned(),
        );
        let mut baseline = self.figures(population);
        baseline.insert("model_raw_score".into(), f64::from(scored.raw));
        Some(Draft {
            identity_key: event.identity.key.clone(),
            time: event.event_time.timestamp(),
            severity: if score >= 95.0 {
                Severity::High
            } else {
                Severity::Medium
            },
            score,
            tactic,
            technique,
            reason_key: format!("model:{}", FEATURE_NAMES[top]),
            reasons,
            evidence,
            baseline,
        })
    }

    /// The reasons behind one feature, in words and numbers.
    fn explain(&self, feature: usize, features: &Features, window_secs: u32) -> Vec<String> {
        let notes: Vec<String> = self
            .window
            .notes()
            .iter()
            .filter(|(f, _)| usize::from(*f) == feature)
            .map(|(_, n)| n.clone())
            .collect();
        if !notes.is_empty() {
            return notes;
        }
        let b = &self.baseline;
        let text = match feature {
            w::VOLUME_Z => format!(
                "{} events in this {}-minute window, usually {:.1} ± {:.1}",
                self.window.events,
                window_secs / 60,
                b.volume.mean,
                b.volume.var.sqrt()
            ),
            w::ERROR_Z => format!(
                "{} failed calls in this window, usually {:.1}",
                self.window.failed, b.errors.mean
            ),
            _ => format!("{} = {:.2}", FEATURE_NAMES[feature], features[feature]),
        };
        vec![text]
    }

    fn tactic_of(&self, feature: usize) -> (&'static str, &'static str) {
        let w = &self.window;
        match feature {
            w::NEW_NETWORKS | w::NEW_AGENTS | w::ODD_HOUR | w::NEW_REGIONS => {
                ("initial-access", "T1078.004")
            }
            w::ERROR_Z | w::NEW_ACTIONS | w::NEW_SERVICES => ("discovery", "T1580"),
            w::DORMANT => ("privilege-escalation", "T1078.004"),
            _ if w.deletes * 2 >= w.events => ("impact", "T1485"),
            w::SENSITIVE => ("credential-access", "T1555"),
            _ => ("collection", "T1530"),
        }
    }
}

/// How new a value is for an identity that has not used it: what most of those like it do is no news,
/// however old the identity's own baseline.
fn novelty(peer_share: f32) -> f32 {
    1.0 - peer_share
}

fn mix_index(c: ActionCategory) -> Option<usize> {
    match c {
        ActionCategory::Read => Some(0),
        ActionCategory::List => Some(1),
        ActionCategory::Write => Some(2),
        ActionCategory::Delete => Some(3),
        ActionCategory::PermissionChange => Some(4),
        ActionCategory::Login | ActionCategory::Other => None,
    }
}

fn describe(kind: ContextKind, event: &Event) -> String {
    match kind {
        ContextKind::Service => event.action.service.clone(),
        ContextKind::Network | ContextKind::Address => match event.source.ip {
            Some(std::net::IpAddr::V4(ip)) => {
                let o = ip.octets();
                format!("{}.{}.{}.0/24", o[0], o[1], o[2])
            }
            Some(std::net::IpAddr::V6(ip)) => {
                let s = ip.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
            None => event.source.raw.clone().unwrap_or_default(),
        },
        ContextKind::Agent => event
            .user_agent
            .as_deref()
            .map(super::observe::agent_family)
            .unwrap_or_default()
            .to_string(),
        ContextKind::Region => event.region.clone().unwrap_or_default(),
        ContextKind::ResourceType => String::new(),
    }
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}
