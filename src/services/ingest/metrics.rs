//! Prometheus metrics of `vigil ingest` (all named `vigil_ingest_*`).

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

#[derive(Debug, Clone)]
pub(super) struct IngestMetrics {
    pub(super) registry: Registry,
    /// Raw-topic messages received, by topic.
    pub(super) consumed: IntCounterVec,
    /// Events acknowledged by the broker on the events topic.
    pub(super) events: IntCounter,
    /// Dead letters acknowledged by the broker on the dead-letter topic, by reason kind.
    pub(super) dead_letters: IntCounterVec,
    /// Push requests answered, by HTTP status.
    pub(super) http_requests: IntCounterVec,
    /// From receiving an input (message, request, file) until every message derived from it is
    /// acknowledged, by origin (`kafka`, `http`, `file`).
    latency: HistogramVec,
    /// High watermark minus the consumer's position, per assigned raw partition.
    pub(super) lag: IntGaugeVec,
    /// Watched files finished (all their output acknowledged and remembered).
    pub(super) files: IntCounter,
    /// Messages the broker refused or that could not be handed to the producer.
    pub(super) produce_failures: IntCounter,
    /// Raw-topic messages received whose output is not acknowledged yet (their offsets are not stored).
    pub(super) in_flight: IntGauge,
}

impl IngestMetrics {
    pub(super) fn new() -> Result<IngestMetrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("vigil".into()), None)?;
        let consumed = IntCounterVec::new(
            Opts::new(
                "ingest_consumed_messages_total",
                "Raw-topic messages received",
            ),
            &["topic"],
        )?;
        let events = IntCounter::new(
            "ingest_events_produced_total",
            "Events acknowledged by the broker on the events topic",
        )?;
        let dead_letters = IntCounterVec::new(
            Opts::new(
                "ingest_dead_letters_produced_total",
                "Dead letters acknowledged by the broker on the dead-letter topic",
            ),
            &["kind"],
        )?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "ingest_http_requests_total",
                "Push requests answered, by status",
            ),
            &["status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "ingest_processing_seconds",
                "From receiving an input until every message derived from it is acknowledged",
            )
            .buckets(prometheus::exponential_buckets(0.001, 2.0, 17)?),
            &["origin"],
        )?;
        let lag = IntGaugeVec::new(
            Opts::new(
                "ingest_consumer_lag_messages",
                "High watermark minus the consumer position, per assigned raw partition",
            ),
            &["topic", "partition"],
        )?;
        let files = IntCounter::new(
            "ingest_files_ingested_total",
            "Watched files finished: all their output acknowledged and remembered",
        )?;
        let produce_failures = IntCounter::new(
            "ingest_produce_failures_total",
            "Messages the broker refused or the producer could not take",
        )?;
        let in_flight = IntGauge::new(
            "ingest_in_flight_messages",
            "Raw-topic messages whose output is not acknowledged yet",
        )?;
        registry.register(Box::new(consumed.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(dead_letters.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(lag.clone()))?;
        registry.register(Box::new(files.clone()))?;
        registry.register(Box::new(produce_failures.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        Ok(IngestMetrics {
            registry,
            consumed,
            events,
            dead_letters,
            http_requests,
            latency,
            lag,
            files,
            produce_failures,
            in_flight,
        })
    }

    pub(super) fn latency(&self, origin: &str) -> Histogram {
        self.latency.with_label_values(&[origin])
    }
}
