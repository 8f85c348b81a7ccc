//! An identity's current behaviour window: counts as events arrive, the notes that explain them, and
//! the feature vector the model scores.

use serde::{Deserialize, Serialize};

use super::baseline::Baseline;
use super::model::{Features, N_FEATURES};

/// Feature positions, in the order of `model::FEATURE_NAMES`.
pub(crate) const NEW_ACTIONS: usize = 0;
pub(crate) const NEW_SERVICES: usize = 1;
pub(crate) const NEW_NETWORKS: usize = 2;
pub(crate) const NEW_AGENTS: usize = 3;
pub(crate) const VOLUME_Z: usize = 4;
pub(crate) const ERROR_Z: usize = 5;
pub(crate) const ODD_HOUR: usize = 6;
pub(crate) const SENSITIVE: usize = 7;
pub(crate) const DORMANT: usize = 8;
pub(crate) const NEW_REGIONS: usize = 9;

/// Most notes and evidence ids a window keeps: enough to explain and to find the events.
const MAX_NOTES_PER_FEATURE: usize = 2;
const MAX_EVIDENCE: usize = 16;

/// The words and events behind a window's features; allocated only once something notable happens,
/// so a quiet identity carries no heap for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Detail {
    pub(crate) notes: Vec<(u8, String)>,
    pub(crate) evidence: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Window {
    /// Event time the window opened; None before the identity's first event.
    pub(crate) start: Option<i64>,
    pub(crate) events: u16,
    pub(crate) failed: u16,
    pub(crate) deletes: u16,
    /// Novelty, summed over the values new in this window and weighted by how rare they are among peers.
    pub(crate) novelty: [f32; 5],
    pub(crate) odd: u16,
    pub(crate) sensitive: u16,
    pub(crate) dormant: u16,
    pub(crate) model_alerted: bool,
    pub(crate) detail: Option<Box<Detail>>,
}

/// Families of evidence: a model alert needs two of them. Volume is none — a busy window is how every
/// other signal shows up, not a reason of its own.
pub(crate) const FAMILIES: [Option<u8>; N_FEATURES] = [
    Some(0), // new actions: what
    Some(0), // new services: what
    Some(1), // new networks: where from
    Some(1), // new clients from new networks: where from
    None,    // volume
    Some(2), // failures
    Some(3), // odd hour: when
    Some(4), // sensitive: what kind
    Some(4), // dormant privilege: what kind
    Some(0), // new regions: what
];

/// Where each novelty sum goes in [`Window::novelty`].
pub(crate) const NOVEL_ACTION: usize = 0;
pub(crate) const NOVEL_SERVICE: usize = 1;
pub(crate) const NOVEL_NETWORK: usize = 2;
pub(crate) const NOVEL_AGENT: usize = 3;
pub(crate) const NOVEL_REGION: usize = 4;

impl Window {
    /// True when `time` falls past the window's end, so the caller must close it first.
    pub(crate) fn expired(&self, time: i64, length: i64) -> bool {
        self.start.is_some_and(|s| time >= s + length)
    }

    pub(crate) fn open(&mut self, time: i64) {
        *self = Window {
            start: Some(time),
            ..Window::default()
        };
    }

    pub(crate) fn note(&mut self, feature: usize, text: impl FnOnce() -> String) {
        let detail = self.detail.get_or_insert_with(Box::default);
        let count = detail
            .notes
            .iter()
            .filter(|(f, _)| usize::from(*f) == feature)
            .count();
        if count < MAX_NOTES_PER_FEATURE {
            let text = text();
            if !detail.notes.iter().any(|(_, t)| *t == text) {
                detail.notes.push((feature as u8, text));
            }
        }
    }

    pub(crate) fn cite(&mut self, event_id: &str) {
        let detail = self.detail.get_or_insert_with(Box::default);
        if detail.evidence.len() < MAX_EVIDENCE && !detail.evidence.iter().any(|e| e == event_id) {
            detail.evidence.push(event_id.to_string());
        }
    }

    pub(crate) fn notes(&self) -> &[(u8, String)] {
        self.detail.as_deref().map_or(&[], |d| &d.notes)
    }

    pub(crate) fn evidence(&self) -> &[String] {
        self.detail.as_deref().map_or(&[], |d| &d.evidence)
    }

    /// The feature vector of the window so far, against the identity's baseline.
    pub(crate) fn features(&self, baseline: &Baseline) -> Features {
        let mut f = [0.0f32; N_FEATURES];
        f[NEW_ACTIONS] = self.novelty[NOVEL_ACTION].ln_1p();
        f[NEW_SERVICES] = self.novelty[NOVEL_SERVICE].ln_1p();
        f[NEW_NETWORKS] = self.novelty[NOVEL_NETWORK].ln_1p();
        // A new client only counts from a new network: stolen credentials bring both, while a new tool
        // on a known laptop, or a log channel that reports clients another way, brings only one.
        f[NEW_AGENTS] = self.novelty[NOVEL_AGENT]
            .min(self.novelty[NOVEL_NETWORK])
            .ln_1p();
        f[NEW_REGIONS] = self.novelty[NOVEL_REGION].ln_1p();
        // z-scores are compressed: a storm of 30σ is odd, but not 10 times as odd as 3σ.
        let volume_floor = (0.3 * baseline.volume.mean).max(1.0);
        f[VOLUME_Z] = baseline
            .volume
            .z(f32::from(self.events), volume_floor)
            .max(0.0)
            .ln_1p();
        // One failed call is noise; a spread of two keeps it from counting as a signal.
        let error_floor = (0.3 * baseline.errors.mean).max(2.0);
        f[ERROR_Z] = baseline
            .errors
            .z(f32::from(self.failed), error_floor)
            .max(0.0)
            .ln_1p();
        f[ODD_HOUR] = f32::from(self.odd).ln_1p();
        // The share of sensitive calls above the identity's usual share, weighted by how many there
        // were: a function that reads its secrets all day, busier than usual, keeps its share; twenty
        // secret reads by someone who reads none stand out.
        let events = f32::from(self.events.max(1));
        let share = f32::from(self.sensitive) / events;
        let usual = baseline.sensitive_share.mean.clamp(0.0, 1.0);
        f[SENSITIVE] = (share - usual).max(0.0) * f32::from(self.sensitive).ln_1p();
        f[DORMANT] = f32::from(self.dormant);
        f
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_window_expires_and_reopens_empty() {
        let mut w = Window::default();
        assert!(!w.expired(100, 600));
        w.open(100);
        w.events = 3;
        w.note(NEW_ACTIONS, || "first call".into());
        w.cite("e1");
        w.cite("e1");
        assert!(!w.expired(699, 600) && w.expired(700, 600));
        assert_eq!(w.evidence(), ["e1".to_string()]);
        w.open(700);
        assert_eq!((w.events, w.notes().len(), w.start), (0, 0, Some(700)));
    }

    #[test]
    fn notes_are_capped_per_feature() {
        let mut w = Window::default();
        for i in 0..5 {
            w.note(ODD_HOUR, || format!("n{i}"));
        }
        w.note(SENSITIVE, || "s".into());
        assert_eq!(w.notes().len(), MAX_NOTES_PER_FEATURE + 1);
    }

    #[test]
    fn features_grow_with_a_burst_over_the_baseline() {
        let mut b = Baseline::default();
        for _ in 0..20 {
            b.volume.update(3.0, 0.05);
            b.errors.update(0.0, 0.05);
        }
        let mut w = Window::default();
        w.open(0);
        w.events = 3;
        let quiet = w.features(&b);
        w.events = 60;
        w.failed = 40;
        let burst = w.features(&b);
        assert_eq!(quiet[VOLUME_Z], 0.0);
        assert!(burst[VOLUME_Z] > 2.0 && burst[ERROR_Z] > 2.0, "{burst:?}");
    }
}
