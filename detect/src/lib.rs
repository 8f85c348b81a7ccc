//! Vigil's detect stage. Events pass through a [`Detector`] between normalization and the sinks, in
//! `vigil run` and in the Kafka `vigil detect` service alike.
//!
//! The detection engine (baselines, models, rules) plugs in behind this trait; until then the pipeline
//! runs [`PassThrough`], which hands events on unchanged.

use vigil_schemas::Event;

/// Errors of the detect stage.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("detector state: {0}")]
    State(String),
}

/// A detect stage: one required method; hooks with defaults for the end of input.
pub trait Detector: Send {
    /// Sees a batch of events in arrival order and returns the events to hand on to the sinks.
    fn on_events(&mut self, events: Vec<Event>) -> Result<Vec<Event>, DetectError>;

    /// Called once when the input is exhausted, before the sinks are finished.
    fn on_finish(&mut self) -> Result<(), DetectError> {
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
