//! Prometheus metrics of the embedded pipeline.

use prometheus::{Encoder, IntCounterVec, Opts, Registry, TextEncoder};

#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    registry: Registry,
    /// Records normalized into events, by provider and wire format.
    pub(crate) events: IntCounterVec,
    /// Records refused into the dead-letter output, by reason kind and provider.
    pub(crate) dead_letters: IntCounterVec,
    /// Input bytes read, by input kind (file, stdin).
    pub(crate) input_bytes: IntCounterVec,
}

impl Metrics {
    pub(crate) fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("vigil".into()), None)?;
        let events = IntCounterVec::new(
            Opts::new("events_normalized_total", "Records normalized into events"),
            &["provider", "format"],
        )?;
        let dead_letters = IntCounterVec::new(
            Opts::new(
                "dead_letters_total",
                "Records refused into the dead-letter output",
            ),
            &["kind", "provider"],
        )?;
        let input_bytes = IntCounterVec::new(
            Opts::new("input_bytes_total", "Input bytes read"),
            &["input"],
        )?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(dead_letters.clone()))?;
        registry.register(Box::new(input_bytes.clone()))?;
        Ok(Metrics {
            registry,
            events,
            dead_letters,
            input_bytes,
        })
    }

    /// The metrics in Prometheus text exposition format.
    pub(crate) fn render(&self) -> anyhow::Result<String> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}
