//! Prometheus metrics of the embedded pipeline.

use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    registry: Registry,
    /// Records normalized into events, by provider and wire format.
    pub(crate) events: IntCounterVec,
    /// Records refused into the dead-letter output, by reason kind and provider.
    pub(crate) dead_letters: IntCounterVec,
    /// Input bytes read, by input kind (file, stdin).
    pub(crate) input_bytes: IntCounterVec,
    /// The detection engine's counters (alerts by kind, suppressions, evictions…), by name.
    pub(crate) detector: IntGaugeVec,
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
        let detector = detector_gauges()?;
        registry.register(Box::new(input_bytes.clone()))?;
        registry.register(Box::new(detector.clone()))?;
        Ok(Metrics {
            registry,
            events,
            dead_letters,
            input_bytes,
            detector,
        })
    }

    /// Copies a detector's counters into [`Metrics::detector`].
    pub(crate) fn record_detector(&self, counters: &[(&'static str, u64)]) {
        set_detector(&self.detector, counters);
    }

    /// The metrics in Prometheus text exposition format.
    /// The registry other components (webhooks, SIEM outputs) add their metrics to.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn render(&self) -> anyhow::Result<String> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}

/// `vigil_detector{counter="…"}`: the detect stage's own counters, shared by `vigil run` and `vigil detect`.
pub(crate) fn detector_gauges() -> anyhow::Result<IntGaugeVec> {
    Ok(IntGaugeVec::new(
        Opts::new(
            "detector",
            "Detection engine counters: events, rule_alerts, model_alerts, duplicates_suppressed, \
             suppressed_by_config, incidents, evicted, restored, refits, identities_in_memory, \
             identities_spilled",
        ),
        &["counter"],
    )?)
}

pub(crate) fn set_detector(gauges: &IntGaugeVec, counters: &[(&'static str, u64)]) {
    for (name, value) in counters {
        gauges
            .with_label_values(&[name])
            .set(i64::try_from(*value).unwrap_or(i64::MAX));
    }
}
