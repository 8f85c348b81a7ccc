//! Prometheus metrics of webhook delivery, labelled by endpoint (the URL's host and port).

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::SinkError;

/// The metric families; each endpoint reads its own children out of them.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    pub(crate) delivered: IntCounterVec,
    pub(crate) retried: IntCounterVec,
    pub(crate) dropped: IntCounterVec,
    pub(crate) disabled: IntGaugeVec,
    pub(crate) spool_depth: IntGaugeVec,
    pub(crate) latency: HistogramVec,
}

impl Metrics {
    pub(crate) fn register(registry: &Registry) -> Result<Metrics, SinkError> {
        let m = Metrics {
            delivered: IntCounterVec::new(
                Opts::new(
                    "webhook_delivered_total",
                    "Webhook messages delivered (2xx answer).",
                ),
                &["endpoint"],
            )?,
            retried: IntCounterVec::new(
                Opts::new(
                    "webhook_retries_total",
                    "Failed webhook attempts that will be retried (network error, timeout, non-2xx answer, redirect, refused target).",
                ),
                &["endpoint"],
            )?,
            dropped: IntCounterVec::new(
                Opts::new(
                    "webhook_dropped_total",
                    "Webhook messages given up on, by reason: expired (retry period over), disabled (410 Gone), render (template failed).",
                ),
                &["endpoint", "reason"],
            )?,
            disabled: IntGaugeVec::new(
                Opts::new(
                    "webhook_endpoint_disabled",
                    "1 when the endpoint answered 410 Gone and is disabled.",
                ),
                &["endpoint"],
            )?,
            spool_depth: IntGaugeVec::new(
                Opts::new(
                    "webhook_spool_depth",
                    "Webhook messages waiting in the spool.",
                ),
                &["endpoint"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "webhook_request_seconds",
                    "Duration of one webhook request, whatever its outcome.",
                )
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]),
                &["endpoint"],
            )?,
        };
        registry.register(Box::new(m.delivered.clone()))?;
        registry.register(Box::new(m.retried.clone()))?;
        registry.register(Box::new(m.dropped.clone()))?;
        registry.register(Box::new(m.disabled.clone()))?;
        registry.register(Box::new(m.spool_depth.clone()))?;
        registry.register(Box::new(m.latency.clone()))?;
        Ok(m)
    }
}
