//! What one provider's population knows: the window model and its calibration, peer groups, and how
//! common each action and context value is among peers, accounts and the whole provider — the levels
//! a young identity's novelty backs off to.
//!
//! Everything here is rebuilt on an event-time schedule (every `refit_hours` of the provider's event
//! clock), never on wall-clock time, so a replay and a live run of the same events agree.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::baseline::Baseline;
use super::model::{Calibrator, Features, N_FEATURES, PeerGroups, Profile, WindowModel};
use super::observe::ContextKind;

/// Smallest spread per feature: features are log counts or log z-scores, so one new value or one
/// event at an odd hour (ln 2 ≈ 0.69) counts as about 1.4 spreads where the population shows none.
const SCALE_FLOORS: Features = [0.5; N_FEATURES];

/// Fewest identities at a level before its prevalence is trusted.
const MIN_MEMBERS: u32 = 5;
/// Windows kept for fitting the model.
const TRAINING_WINDOWS: usize = 20_000;
/// Peer groups per provider.
const PEER_GROUPS: usize = 6;
/// Windows the model needs before it is fitted at all.
pub(crate) const MIN_TRAINING_WINDOWS: usize = 2_000;

/// How many identities of a level use each fingerprint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Prevalence {
    members: u32,
    users: FxHashMap<u32, u32>,
}

impl Prevalence {
    fn add(&mut self, baseline: &Baseline) {
        self.members += 1;
        // Addresses and resource types are left out: an address is its identity's own, so counting it
        // would only grow the table by one entry per identity and never excuse anyone.
        let shared = |s: &&super::baseline::Slot| {
            s.kind != ContextKind::Address as u8 && s.kind != ContextKind::ResourceType as u8
        };
        for slot in baseline
            .actions
            .slots
            .iter()
            .chain(&baseline.context.slots)
            .filter(shared)
        {
            *self.users.entry(slot.fp).or_default() += 1;
        }
    }

    /// Share of members using `fp`, or None when the level is too small to say.
    fn share(&self, fp: u32) -> Option<f32> {
        (self.members >= MIN_MEMBERS)
            .then(|| self.users.get(&fp).copied().unwrap_or(0) as f32 / self.members as f32)
    }
}

/// The provider's population state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Population {
    pub(crate) model: Option<WindowModel>,
    pub(crate) calibrator: Calibrator,
    training: VecDeque<Features>,
    peers: Option<PeerGroups>,
    by_peer: Vec<Prevalence>,
    by_account: FxHashMap<u32, Prevalence>,
    all: Prevalence,
    /// The provider's event clock: the latest event time seen.
    pub(crate) clock: i64,
    next_refit: Option<i64>,
    pub(crate) refits: u32,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            model: None,
            calibrator: Calibrator::new(TRAINING_WINDOWS, MIN_TRAINING_WINDOWS),
            training: VecDeque::new(),
            peers: None,
            by_peer: Vec::new(),
            by_account: FxHashMap::default(),
            all: Prevalence::default(),
            clock: i64::MIN,
            next_refit: None,
            refits: 0,
        }
    }
}

/// The identities of one provider, as the population rebuild sees them.
pub(crate) struct Member<'a> {
    pub(crate) baseline: &'a Baseline,
    pub(crate) account: u32,
}

impl Population {
    /// A closed window: kept for the next fit, and its score (under the current model) for calibration.
    pub(crate) fn observe_window(&mut self, features: Features) {
        if let Some(model) = &self.model {
            self.calibrator.observe(model.score(&features).raw);
        }
        if self.training.len() == TRAINING_WINDOWS {
            self.training.pop_front();
        }
        self.training.push_back(features);
    }

    /// Moves the provider's clock; true when a refit is due.
    pub(crate) fn advance(&mut self, time: i64, refit_secs: i64) -> bool {
        self.clock = self.clock.max(time);
        match self.next_refit {
            None => {
                self.next_refit = Some(self.clock + refit_secs);
                false
            }
            Some(at) => self.clock >= at,
        }
    }

    /// Refits the model and peer groups and rebuilds prevalence; returns each member's new peer group.
    pub(crate) fn refit<'a>(
        &mut self,
        members: impl Iterator<Item = Member<'a>> + Clone,
        refit_secs: i64,
        seed: u64,
    ) -> Vec<Option<u8>> {
        self.next_refit = Some(self.clock + refit_secs);
        self.refits += 1;
        let samples: Vec<Features> = self.training.iter().copied().collect();
        if samples.len() >= MIN_TRAINING_WINDOWS
            && let Ok(model) = WindowModel::fit_with_floor(&samples, 8, seed, &SCALE_FLOORS)
        {
            // Recalibrate against the new model on the same recent windows, so scores stay comparable.
            let mut calibrator = Calibrator::new(TRAINING_WINDOWS, MIN_TRAINING_WINDOWS);
            for s in &samples {
                calibrator.observe(model.score(s).raw);
            }
            calibrator.refresh();
            self.calibrator = calibrator;
            self.model = Some(model);
        } else {
            self.calibrator.refresh();
        }

        let profiles: Vec<Profile> = members
            .clone()
            .filter(|m| m.baseline.events >= 20)
            .map(|m| profile(m.baseline))
            .collect();
        self.peers = PeerGroups::fit(&profiles, PEER_GROUPS, seed).ok();
        let groups = self.peers.as_ref().map_or(0, PeerGroups::groups);
        self.by_peer = vec![Prevalence::default(); groups];
        self.by_account.clear();
        self.all = Prevalence::default();
        let mut assigned = Vec::new();
        for m in members {
            let peer = self
                .peers
                .as_ref()
                .filter(|_| m.baseline.events >= 20)
                .map(|p| p.assign(&profile(m.baseline)));
            if let Some(g) = peer
                && let Some(level) = self.by_peer.get_mut(g)
            {
                level.add(m.baseline);
            }
            self.by_account
                .entry(m.account)
                .or_default()
                .add(m.baseline);
            self.all.add(m.baseline);
            assigned.push(peer.and_then(|g| u8::try_from(g).ok()));
        }
        assigned
    }

    /// How common `fp` is among those like the identity: its peer group, else its account, else the
    /// provider; 0 when no level is large enough.
    pub(crate) fn prevalence(&self, peer: Option<u8>, account: u32, fp: u32) -> f32 {
        peer.and_then(|g| self.by_peer.get(usize::from(g)))
            .and_then(|p| p.share(fp))
            .or_else(|| self.by_account.get(&account).and_then(|p| p.share(fp)))
            .or_else(|| self.all.share(fp))
            .unwrap_or(0.0)
    }
}

/// The behaviour profile peer groups are fitted on.
pub(crate) fn profile(b: &Baseline) -> Profile {
    let shares = b.mix.shares();
    let days = b.days_of_history().max(1.0);
    let night: f32 = (0..7)
        .flat_map(|d| (0..6).map(move |h| d * 24 + h))
        .map(|h| f32::from(b.rhythm.count(h)))
        .sum::<f32>()
        / (b.rhythm.total.max(1) as f32);
    [
        shares[0],
        shares[1],
        shares[2],
        shares[3],
        shares[4],
        (b.events as f32 / days).ln_1p() / 5.0,
        night,
        if b.workload { 1.0 } else { 0.0 },
    ]
}
