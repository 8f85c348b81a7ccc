//! Benign activity: how many events an identity produces in an hour of its own day, and which.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rand::Rng;

use super::estate::{Archetype, Novelty, Rhythm, SimIdentity};
use super::rng::{self, Stream};
use super::vocab::{self, Op, Weighted};
use vigil_schemas::Provider;

/// One thing an identity does, before it is written in its provider's format.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    pub time: DateTime<Utc>,
    pub identity: usize,
    pub op: Op,
    /// A sign-in rather than an API call.
    pub login: bool,
    pub ip: String,
    pub agent: String,
    /// The request was refused (AccessDenied, PERMISSION_DENIED, 403).
    pub denied: bool,
    /// Which of the identity's resources (or the attack's target) it touches.
    pub target: u32,
    pub scenario: Option<usize>,
    /// Values the op's parameter template refers to.
    pub fill: Vec<(&'static str, String)>,
    pub mfa: bool,
}

/// Relative activity of an office worker in each local hour of a weekday.
const OFFICE: [f64; 24] = [
    0.005, 0.003, 0.003, 0.003, 0.005, 0.01, 0.05, 0.2, 0.6, 1.0, 1.0, 1.0, 0.6, 1.0, 1.0, 1.0,
    1.0, 0.6, 0.3, 0.1, 0.08, 0.05, 0.02, 0.01,
];

fn office_sum() -> f64 {
    OFFICE.iter().sum()
}

/// Expected events of `identity` in the hour starting at `hour_start` (UTC), before novelty.
pub(crate) fn expected_events(identity: &SimIdentity, local: DateTime<Utc>, day: u32) -> f64 {
    let h = local.hour() as usize;
    let weekend = local.weekday().number_from_monday() >= 6;
    let mean = identity.daily_mean;
    let storm = identity
        .novelties
        .iter()
        .any(|n| matches!(n, Novelty::DeploymentStorm { day: d } if *d == day));
    let rate = match identity.rhythm {
        Rhythm::Office => {
            let w = OFFICE[h] / office_sum();
            mean * w * if weekend { 0.04 } else { 1.0 }
        }
        Rhythm::OnCall => {
            let w = OFFICE[h] / office_sum();
            mean * (w * if weekend { 0.25 } else { 1.0 } + 0.004)
        }
        Rhythm::Pipeline => {
            let w = OFFICE[h] / office_sum();
            mean * (w * if weekend { 0.08 } else { 1.0 } + 0.002)
        }
        Rhythm::Continuous => {
            let swell = 1.0 + 0.5 * ((h as f64 - 14.0) / 24.0 * std::f64::consts::TAU).cos();
            mean / 24.0 * swell * if weekend { 0.8 } else { 1.0 }
        }
        Rhythm::Nightly(start) => {
            if h as u32 == start {
                mean * 0.65
            } else if h as u32 == (start + 1) % 24 {
                mean * 0.35
            } else {
                0.0
            }
        }
        Rhythm::Dormant => 0.0,
    };
    let paged = (1..=3).contains(&h)
        && identity
            .novelties
            .iter()
            .any(|n| matches!(n, Novelty::NightIncident { day: d } if *d == day));
    let rate = if paged { rate + mean * 0.15 } else { rate };
    if storm { rate * 8.0 } else { rate }
}

/// The local time of `identity` at `utc`, travel included.
pub(crate) fn local_time(identity: &SimIdentity, utc: DateTime<Utc>, day: u32) -> DateTime<Utc> {
    let shift = identity
        .novelties
        .iter()
        .find_map(|n| match n {
            Novelty::Travel {
                day: from,
                days,
                shift_minutes,
                ..
            } if day >= *from && day < from + days => Some(*shift_minutes),
            _ => None,
        })
        .unwrap_or(0);
    utc + Duration::minutes(i64::from(identity.tz_minutes + shift))
}

/// A source address of `identity` on `day`: one of its networks, or the travel network.
pub(crate) fn source_ip(identity: &SimIdentity, day: u32, rng: &mut Stream) -> String {
    let travel = identity.novelties.iter().find_map(|n| match n {
        Novelty::Travel {
            day: from,
            days,
            network,
            ..
        } if day >= *from && day < from + days => Some(*network),
        _ => None,
    });
    let net = travel.unwrap_or_else(|| *rng::pick(rng, &identity.networks));
    // Humans keep a few stable addresses per network; workloads spread over their range.
    let host = if identity.archetype.is_human() {
        10 + rng.random_range(0..3u8) * 17
    } else {
        rng.random_range(2..254)
    };
    format!("{}.{}.{}.{}", net[0], net[1], net[2], host)
}

/// The operations `identity` may use on `day`.
fn vocabulary_of(identity: &SimIdentity, day: u32) -> Vec<Weighted> {
    let mut ops: Vec<Weighted> = identity.vocabulary.to_vec();
    ops.extend_from_slice(identity.extra_vocabulary);
    let novel: &[Weighted] = match identity.provider {
        Provider::Aws => vocab::AWS_NOVEL,
        Provider::Azure => vocab::AZURE_NOVEL,
        Provider::Gcp => vocab::GCP_NOVEL,
    };
    for n in &identity.novelties {
        if let Novelty::NewService { day: from, op } = n
            && day >= *from
            && let Some((o, _)) = novel.get(*op)
        {
            ops.push((*o, 3.0));
        }
    }
    ops
}

/// The benign acts of `identity` in the hour starting at `hour_start`, day `day` of the run.
pub(crate) fn hour_acts(
    identity: &SimIdentity,
    hour_start: DateTime<Utc>,
    day: u32,
    rng: &mut Stream,
) -> Vec<Act> {
    if !identity.is_active(day) {
        return Vec::new();
    }
    let local = local_time(identity, hour_start, day);
    let mut acts = Vec::new();
    let mut count = rng::poisson(rng, expected_events(identity, local, day));
    // The break-glass identity is used on one day of the run, if at all (decided by the estate seed).
    if identity.archetype == Archetype::BreakGlass {
        count = 0;
    }
    if count == 0 {
        return acts;
    }
    // People sign in when their day starts (AWS console, Entra ID; Google sign-ins are not in Cloud
    // Audit Logs); Azure workloads get tokens from Entra ID as they run.
    let login_due = match (identity.provider, identity.archetype.is_human()) {
        (Provider::Gcp, _) => false,
        (_, true) => (6..=10).contains(&local.hour()) && rng.random_bool(0.5),
        (Provider::Azure, false) => rng.random_bool(0.3),
        (_, false) => false,
    };
    let vocabulary = vocabulary_of(identity, day);
    let weights: Vec<f64> = vocabulary.iter().map(|(_, w)| *w).collect();
    let ip = source_ip(identity, day, rng);
    let agent = rng::pick(rng, &identity.agents).clone();
    let mut offsets: Vec<u32> = (0..count).map(|_| rng.random_range(0..3_600_000)).collect();
    offsets.sort_unstable();
    if login_due {
        acts.push(Act {
            time: hour_start + Duration::milliseconds(i64::from(offsets[0].saturating_sub(60_000))),
            identity: identity.index,
            op: vocabulary[0].0,
            login: true,
            ip: ip.clone(),
            agent: agent.clone(),
            denied: false,
            target: 0,
            scenario: None,
            fill: Vec::new(),
            mfa: true,
        });
    }
    for offset in offsets {
        let op = vocabulary[rng::weighted(rng, &weights)].0;
        acts.push(Act {
            time: hour_start + Duration::milliseconds(i64::from(offset)),
            identity: identity.index,
            op,
            login: false,
            ip: ip.clone(),
            agent: agent.clone(),
            denied: rng.random_bool(identity.error_rate),
            target: rng.random_range(0..4),
            scenario: None,
            fill: Vec::new(),
            mfa: true,
        });
    }
    acts
}

/// The one benign use of a break-glass identity, when the run has one: a sign-in and a few checks.
pub(crate) fn break_glass_acts(
    identity: &SimIdentity,
    at: DateTime<Utc>,
    rng: &mut Stream,
) -> Vec<Act> {
    let day = 0;
    let ip = source_ip(identity, day, rng);
    let agent = identity.agents[0].clone();
    let mut acts = vec![Act {
        time: at,
        identity: identity.index,
        op: identity.vocabulary[0].0,
        login: true,
        ip: ip.clone(),
        agent: agent.clone(),
        denied: false,
        target: 0,
        scenario: None,
        fill: Vec::new(),
        mfa: true,
    }];
    for (i, (op, _)) in identity.vocabulary.iter().take(3).enumerate() {
        acts.push(Act {
            time: at + Duration::seconds(40 * (i as i64 + 1)),
            identity: identity.index,
            op: *op,
            login: false,
            ip: ip.clone(),
            agent: agent.clone(),
            denied: false,
            target: 0,
            scenario: None,
            fill: Vec::new(),
            mfa: true,
        });
    }
    acts
}
