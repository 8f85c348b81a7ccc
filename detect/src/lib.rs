//! Vigil's detect stage. Events pass through a [`Detector`] between normalization and the sinks, in
//! `vigil run` and in the Kafka `vigil detect` service alike.
//!
//! The detection engine (baselines, models, rules) plugs in behind this trait; until then the pipeline
//! runs [`PassThrough`], which hands events on unchanged and raises no alerts.

pub mod checkpoint;
pub mod engine;
pub mod eval;
pub mod permissions;
pub mod tally;

use vigil_schemas::{Alert, Event, Incident};

/// Errors of the detect stage.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("detector state: {0}")]
    State(String),
    /// An alert given to [`eval`] cannot be read: which input, which line (1-based) and why.
    #[error("{input}, line {line}: {reason}")]
    Alert {
        input: String,
        line: usize,
        reason: String,
    },
    /// A labels file given to [`eval`] is unreadable or inconsistent.
    #[error("{0}")]
    Labels(String),
    /// A permission catalog file is missing a field or malformed.
    #[error("permission catalog {file}: {reason}")]
    Catalog { file: String, reason: String },
    /// An inventory export (IAM authorization details, role assignments, IAM policies…) is malformed.
    /// (`file`, not `source`: thiserror would take a field named `source` for the error's cause.)
    #[error("inventory {file}: {reason}")]
    Inventory { file: String, reason: String },
}

/// A detect stage: one required method; hooks with defaults for the end of input.
pub trait Detector: Send {
    /// Sees a batch of events in arrival order and returns the events to hand on to the sinks.
    fn on_events(&mut self, events: Vec<Event>) -> Result<Vec<Event>, DetectError>;

    /// Called once when the input is exhausted, before the sinks are finished.
    fn on_finish(&mut self) -> Result<(), DetectError> {
        Ok(())
    }

    /// Hands over the alerts raised since the last call; the pipeline calls it after every batch and
    /// after [`Detector::on_finish`].
    fn drain_alerts(&mut self) -> Vec<Alert> {
        Vec::new()
    }

    /// Hands over the incidents raised or revised since the last call, like [`Detector::drain_alerts`].
    fn drain_incidents(&mut self) -> Vec<Incident> {
        Vec::new()
    }

    /// The detector's own counters (alerts by kind, suppressions, evictions, identities in memory…), as
    /// `(name, value)`, for the pipeline's metrics. Totals since start, not deltas.
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// The detector's state as bytes, for a checkpoint. Stateless detectors keep the default.
    fn snapshot(&self) -> Result<Vec<u8>, DetectError> {
        Ok(Vec::new())
    }

    /// Replaces the state with one taken by [`Detector::snapshot`].
    fn restore(&mut self, _snapshot: &[u8]) -> Result<(), DetectError> {
        Ok(())
    }
}

/// Hands every event on unchanged.
#[derive(Debug, Default)]
pub struct PassThrough;

impl Detector for PassThrough {
    fn on_events(&mut self, events: Vec<Event>) -> Result<Vec<Event>, DetectError> {
        Ok(events)
    }
}
