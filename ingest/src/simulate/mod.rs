//! A synthetic source: the activity of a simulated multi-cloud estate, in the providers' native wire
//! formats, with attack scenarios injected and labelled. Pure and deterministic: the same
//! [`SimulationConfig`] always yields the same records, hour by hour, so a run of any length needs
//! only one hour of records in memory.
//!
//! `vigil simulate` writes what this produces to files, stdout, HTTP or Kafka; `vigil eval` scores
//! alerts against its [`Labels`].

mod activity;
mod attacks;
mod aws;
mod azure;
mod estate;
mod gcp;
mod output;
mod render;
mod rng;
#[cfg(test)]
mod tests;
mod vocab;

use chrono::{DateTime, Duration, Timelike, Utc};
use rand::Rng;
use vigil_schemas::{LABELS_VERSION, Labels, Provider, ScenarioLabel};

pub use estate::{Archetype, Estate, SimIdentity};
pub use output::{Channel, GcpLog, SimRecord};

use activity::Act;
use attacks::Technique;
use rng::purpose;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    pub seed: u64,
    /// Start of the first simulated day (UTC midnight is used).
    pub start: DateTime<Utc>,
    pub days: u32,
    pub identities: usize,
    /// Techniques to inject, by id; each once per round. Empty: none.
    pub techniques: Vec<String>,
    /// How many times each technique is injected (on different identities where there are enough).
    pub rounds: u32,
}

/// Fewest identities a simulation accepts: enough for every archetype on every cloud.
pub const MIN_IDENTITIES: usize = 24;

/// Why a configuration cannot be simulated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulationError {
    #[error("unknown attack technique `{0}`; `vigil simulate --list-techniques` lists them")]
    UnknownTechnique(String),
    #[error(
        "{0} identities are too few; simulate at least {MIN_IDENTITIES} so every archetype exists on every cloud"
    )]
    TooFewIdentities(usize),
    #[error("--days must be at least 1")]
    NoDays,
}

/// Every technique the simulator can inject: `(id, MITRE technique, tactic, provider)`.
pub fn techniques() -> Vec<(&'static str, &'static str, &'static str, Provider)> {
    attacks::CATALOG
        .iter()
        .map(|t| (t.id, t.mitre, t.tactic, t.provider))
        .collect()
}

/// One injected attack: its acts, not yet rendered.
#[derive(Debug)]
struct Planned {
    label: ScenarioLabel,
    acts: Vec<Act>,
}

/// The running simulation: an iterator over hours, each a time-ordered batch of records.
#[derive(Debug)]
pub struct Simulation {
    config: SimulationConfig,
    start: DateTime<Utc>,
    estate: Estate,
    hour: u32,
    scenarios: Vec<Planned>,
    /// Benign acts planned ahead (break-glass use), by time.
    planned_benign: Vec<Act>,
    /// Per identity, one bit per day with benign activity.
    benign_days: Vec<Vec<u64>>,
    events: u64,
}

impl Simulation {
    pub fn new(config: SimulationConfig) -> Result<Simulation, SimulationError> {
        if config.days == 0 {
            return Err(SimulationError::NoDays);
        }
        if config.identities < MIN_IDENTITIES {
            return Err(SimulationError::TooFewIdentities(config.identities));
        }
        let techniques: Vec<&'static Technique> = config
            .techniques
            .iter()
            .map(|id| {
                attacks::technique(id).ok_or_else(|| SimulationError::UnknownTechnique(id.clone()))
            })
            .collect::<Result<_, _>>()?;
        let start = config
            .start
            .with_hour(0)
            .and_then(|t| t.with_minute(0))
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(config.start);
        let estate = estate::build(config.seed, config.identities, config.days);
        let scenarios = plan_attacks(&config, start, &estate, &techniques);
        let planned_benign = plan_break_glass(&config, start, &estate);
        let words = (config.days as usize).div_ceil(64);
        Ok(Simulation {
            benign_days: vec![vec![0; words]; estate.identities.len()],
            config,
            start,
            estate,
            hour: 0,
            scenarios,
            planned_benign,
            events: 0,
        })
    }

    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// The ground truth so far; complete once the iterator is exhausted.
    pub fn labels(&self) -> Labels {
        let benign_identity_days = self
            .benign_days
            .iter()
            .flatten()
            .map(|w| u64::from(w.count_ones()))
            .sum();
        Labels {
            version: LABELS_VERSION,
            seed: self.config.seed,
            start: self.start,
            days: self.config.days,
            identities: self.estate.identities.len() as u64,
            events: self.events,
            benign_identity_days,
            scenarios: self
                .scenarios
                .iter()
                .filter(|s| !s.label.event_ids.is_empty())
                .map(|s| s.label.clone())
                .collect(),
        }
    }

    fn render(&self, act: &Act, rng: &mut rng::Stream) -> SimRecord {
        let who = &self.estate.identities[act.identity];
        match who.provider {
            Provider::Aws => {
                let mut record = aws::render(act, who, &self.estate, rng);
                record.time = render::whole_seconds(record.time);
                record
            }
            Provider::Azure => azure::render(act, who, &self.estate, rng),
            Provider::Gcp => gcp::render(act, who, &self.estate, rng),
        }
    }

    fn generate_hour(&mut self, hour: u32) -> Vec<SimRecord> {
        let hour_start = self.start + Duration::hours(i64::from(hour));
        let hour_end = hour_start + Duration::hours(1);
        let day = hour / 24;
        let seed = self.config.seed;
        let mut records = Vec::new();
        for identity in &self.estate.identities {
            let mut rng = rng::stream(seed, purpose::HOUR, identity.index as u64, u64::from(hour));
            let acts = activity::hour_acts(identity, hour_start, day, &mut rng);
            if !acts.is_empty() {
                mark_day(&mut self.benign_days[identity.index], day);
            }
            for act in &acts {
                records.push(self.render(act, &mut rng));
            }
        }
        let due: Vec<Act> = self
            .planned_benign
            .iter()
            .filter(|a| a.time >= hour_start && a.time < hour_end)
            .cloned()
            .collect();
        for (i, act) in due.iter().enumerate() {
            mark_day(&mut self.benign_days[act.identity], day);
            let mut rng = rng::stream(
                seed,
                purpose::HOUR,
                u64::MAX - act.identity as u64,
                (u64::from(hour) << 16) + i as u64,
            );
            records.push(self.render(act, &mut rng));
        }
        for (i, scenario) in self.scenarios.iter().enumerate() {
            for (j, act) in scenario.acts.iter().enumerate() {
                if act.time >= hour_start && act.time < hour_end {
                    let mut rng = rng::stream(seed, purpose::ATTACK, i as u64, j as u64 + 1);
                    records.push(self.render(act, &mut rng));
                }
            }
        }
        records.sort_by(|a, b| {
            a.time
                .cmp(&b.time)
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        for record in &records {
            if let Some(s) = record.scenario {
                let label = &mut self.scenarios[s].label;
                if label.event_ids.is_empty() {
                    label.first_event_time = record.time;
                }
                label.last_event_time = record.time;
                label.event_ids.push(record.event_id.clone());
            }
        }
        self.events += records.len() as u64;
        records
    }
}

impl Iterator for Simulation {
    /// The records of one hour, in event-time order.
    type Item = Vec<SimRecord>;

    fn next(&mut self) -> Option<Vec<SimRecord>> {
        if self.hour >= self.config.days * 24 {
            return None;
        }
        let hour = self.hour;
        self.hour += 1;
        Some(self.generate_hour(hour))
    }
}

fn mark_day(bits: &mut [u64], day: u32) {
    if let Some(word) = bits.get_mut(day as usize / 64) {
        *word |= 1 << (day % 64);
    }
}

/// When and on whom each technique is injected: on an identity of a fitting archetype, in the second
/// half of the run so the identity has a history, at night for techniques that are done then.
fn plan_attacks(
    config: &SimulationConfig,
    start: DateTime<Utc>,
    estate: &Estate,
    techniques: &[&'static Technique],
) -> Vec<Planned> {
    let mut used = vec![false; estate.identities.len()];
    let mut planned = Vec::new();
    for round in 0..config.rounds.max(1) {
        for technique in techniques {
            let index = planned.len();
            let mut rng = rng::stream(
                config.seed,
                purpose::ATTACK,
                u64::from(round),
                index as u64 + 1_000_000,
            );
            let day = if config.days >= 2 {
                rng.random_range(config.days / 2..config.days)
            } else {
                0
            };
            let eligible: Vec<usize> = estate
                .identities
                .iter()
                .filter(|i| {
                    i.provider == technique.provider
                        && technique.actors.contains(&i.archetype)
                        && i.is_active(day)
                })
                .map(|i| i.index)
                .collect();
            if eligible.is_empty() {
                continue;
            }
            let fresh: Vec<usize> = eligible.iter().copied().filter(|i| !used[*i]).collect();
            let actor = *rng::pick(&mut rng, if fresh.is_empty() { &eligible } else { &fresh });
            used[actor] = true;
            let who = &estate.identities[actor];
            let local_hour: i64 = if technique.odd_hour {
                rng.random_range(1..5)
            } else {
                rng.random_range(10..17)
            };
            let mut time = start + Duration::days(i64::from(day)) + Duration::hours(local_hour)
                - Duration::minutes(i64::from(who.tz_minutes))
                + Duration::seconds(rng.random_range(0..3000));
            let end = start + Duration::days(i64::from(config.days)) - Duration::hours(1);
            if time < start {
                time += Duration::days(1);
            }
            if time > end {
                time -= Duration::days(1);
            }
            let acts = attack_acts(technique, who, estate, time, index, &mut rng);
            planned.push(Planned {
                label: ScenarioLabel {
                    scenario_id: format!("s{:03}-{}", index + 1, technique.id),
                    technique: technique.id.to_string(),
                    mitre_technique: technique.mitre.to_string(),
                    tactic: technique.tactic.to_string(),
                    provider: technique.provider.as_str().to_string(),
                    identity_key: who.key.clone(),
                    first_event_time: time,
                    last_event_time: time,
                    event_ids: Vec::new(),
                },
                acts,
            });
        }
    }
    planned
}

fn attack_acts(
    technique: &Technique,
    who: &SimIdentity,
    estate: &Estate,
    start: DateTime<Utc>,
    scenario: usize,
    rng: &mut rng::Stream,
) -> Vec<Act> {
    let day = 0;
    let (ip, agent) = if technique.foreign {
        let octet = *rng::pick(rng, &estate::HOSTILE_OCTETS);
        let ip = format!(
            "{octet}.{}.{}.{}",
            rng.random::<u8>(),
            rng.random::<u8>(),
            rng.random_range(2..254u8)
        );
        let agent = match technique.provider {
            Provider::Aws => {
                "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.51"
            }
            Provider::Azure => "python-requests/2.31.0",
            Provider::Gcp => {
                "google-api-python-client/2.118.0 gdcl/2.118.0 gl-python/3.11.8,gzip(gfe)"
            }
        };
        (ip, agent.to_string())
    } else {
        (
            activity::source_ip(who, day, rng),
            rng::pick(rng, &who.agents).clone(),
        )
    };
    let external_account = format!(
        "{:012}",
        rng.random_range(100_000_000_000u64..999_999_999_999)
    );
    let member = match who.provider {
        Provider::Gcp if who.archetype.is_human() => {
            format!("user:{}", who.key.trim_start_matches("gcp:"))
        }
        _ => format!("serviceAccount:{}", who.key.trim_start_matches("gcp:")),
    };
    let fill: Vec<(&'static str, String)> = vec![
        ("external_account", external_account),
        (
            "external_email",
            format!(
                "ext.{}@protonmail.com",
                rng::token(rng, rng::LOWER_ALNUM, 6)
            ),
        ),
        (
            "backdoor_user",
            format!("svc-backup-{}", rng::token(rng, rng::LOWER_ALNUM, 4)),
        ),
        ("guest_id", rng::uuid(rng)),
        ("assignment", rng::uuid(rng)),
        (
            "principal",
            who.key.trim_start_matches("azure:").to_string(),
        ),
        (
            "subscription",
            estate
                .azure_subscriptions
                .get(who.scope)
                .cloned()
                .unwrap_or_default(),
        ),
        ("member", member),
    ];
    let mut acts = Vec::new();
    let mut t = start;
    let login = technique.sign_in && who.archetype.is_human() && who.provider != Provider::Gcp;
    let base = Act {
        time: t,
        identity: who.index,
        op: technique.steps[0].op,
        login: false,
        ip,
        agent,
        denied: false,
        target: 0,
        scenario: Some(scenario),
        fill,
        mfa: !technique.foreign,
    };
    if login {
        acts.push(Act {
            login: true,
            ..base.clone()
        });
        t += Duration::seconds(45);
    }
    for step in technique.steps {
        for n in 0..step.repeat {
            acts.push(Act {
                time: t,
                op: step.op,
                denied: step.denied > 0.0 && rng.random_bool(step.denied.min(1.0)),
                target: 10 + n,
                ..base.clone()
            });
            t += Duration::seconds(i64::from(step.gap_seconds))
                + Duration::milliseconds(rng.random_range(0..900));
        }
    }
    acts
}

/// The rare benign use of break-glass identities: about half of them sign in once during the run.
fn plan_break_glass(config: &SimulationConfig, start: DateTime<Utc>, estate: &Estate) -> Vec<Act> {
    let mut acts = Vec::new();
    for who in estate
        .identities
        .iter()
        .filter(|i| i.archetype == Archetype::BreakGlass)
    {
        let mut rng = rng::stream(config.seed, purpose::ESTATE, 7, who.index as u64);
        if !rng.random_bool(0.5) {
            continue;
        }
        let day = rng.random_range(0..config.days);
        let at = start + Duration::days(i64::from(day)) + Duration::hours(rng.random_range(10..16))
            - Duration::minutes(i64::from(who.tz_minutes))
            + Duration::seconds(rng.random_range(0..3000));
        let at = at.max(start);
        acts.extend(activity::break_glass_acts(who, at, &mut rng));
    }
    acts
}
