//! Webhook delivery of alerts and incidents, following Standard Webhooks
//! (<https://www.standardwebhooks.com>).
//!
//! [`WebhookDelivery::start`] opens the spool and starts one worker thread per endpoint.
//! [`WebhookDelivery::enqueue_alerts`] and [`WebhookDelivery::enqueue_incidents`] render each
//! message for each endpoint and return once it is durable in the spool (one file per message and endpoint under
//! `spool_dir`); the worker then POSTs it, signed (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), until a 2xx answer, a 410 Gone (endpoint disabled) or the end of the retry
//! period. Redirects are not followed, and targets are checked by an SSRF guard after DNS
//! resolution ([`check_target`]).

mod body;
mod config;
mod deliver;
mod guard;
mod metrics;
mod sign;
mod spool;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use reqwest::Url;
use vigil_schemas::{Alert, Incident};

pub use config::{EndpointConfig, MessageKind, WebhooksConfig};
pub use guard::check_target;

use crate::SinkError;
use body::Message;
use deliver::{Backoff, Command, Worker, now_ms};
use metrics::Metrics;
use sign::Signer;
use spool::{EndpointSpool, SpoolEntry};

/// What an endpoint's worker and the enqueuing side share.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) config: EndpointConfig,
    pub(crate) url: Url,
    /// The metrics label: host, and port when the URL names one.
    pub(crate) label: String,
    pub(crate) signer: Signer,
    pub(crate) spool: EndpointSpool,
    /// Set by a 410 Gone (and at start when the spool says so).
    pub(crate) disabled: AtomicBool,
    pub(crate) metrics: Metrics,
}

#[derive(Debug)]
struct Running {
    endpoint: Arc<Endpoint>,
    tx: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

/// Running webhook delivery: the spool and one worker per endpoint. Dropping it stops the workers
/// like [`WebhookDelivery::shutdown`]; what is not delivered stays in the spool for the next start.
#[derive(Debug)]
pub struct WebhookDelivery {
    endpoints: Vec<Running>,
    stop: Arc<AtomicBool>,
}

impl WebhookDelivery {
    /// Validates `config`, registers the metrics in `registry`, opens the spool (resuming what a
    /// previous run left there) and starts the workers.
    pub fn start(
        config: WebhooksConfig,
        registry: &prometheus::Registry,
    ) -> Result<WebhookDelivery, SinkError> {
        config.validate()?;
        std::fs::create_dir_all(&config.spool_dir)
            .map_err(|e| SinkError::io(&config.spool_dir, e))?;
        let metrics = Metrics::register(registry)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut delivery = WebhookDelivery {
            endpoints: Vec::new(),
            stop: Arc::clone(&stop),
        };
        let mut labels = HashSet::new();
        for (i, cfg) in config.endpoints.into_iter().enumerate() {
            let url = guard::parse_url(&cfg.url).map_err(SinkError::WebhookConfig)?;
            let signer = Signer::new(&cfg.secrets).map_err(SinkError::WebhookConfig)?;
            let mut label = match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_string(),
            };
            if !labels.insert(label.clone()) {
                label = format!("{label}#{i}");
                labels.insert(label.clone());
            }
            let spool = EndpointSpool::open(&config.spool_dir, &cfg.url)?;
            let disabled = spool.disabled();
            if let Some(reason) = &disabled {
                tracing::warn!(endpoint = %label, url = %cfg.url, reason = reason.trim(), "webhook endpoint is disabled (it answered 410 Gone); delete the DISABLED file in its spool directory to enable it again");
            }
            metrics
                .disabled
                .with_label_values(&[label.as_str()])
                .set(i64::from(disabled.is_some()));
            let endpoint = Arc::new(Endpoint {
                config: cfg,
                url,
                label: label.clone(),
                signer,
                spool,
                disabled: AtomicBool::new(disabled.is_some()),
                metrics: metrics.clone(),
            });
            let (tx, rx) = crossbeam_channel::unbounded();
            let worker = Worker {
                endpoint: Arc::clone(&endpoint),
                rx,
                stop: Arc::clone(&stop),
                backoff: Backoff::new(config.initial_backoff_ms, config.max_backoff_ms, i as u64),
                pending: Default::default(),
                client: None,
                streak: 0,
                paused_until_ms: 0,
            };
            let thread = std::thread::Builder::new()
                .name(format!("webhook-{i}"))
                .spawn(move || worker.run())
                .map_err(|e| SinkError::io(&config.spool_dir, e))?;
            delivery.endpoints.push(Running {
                endpoint,
                tx,
                thread: Some(thread),
            });
        }
        Ok(delivery)
    }

    /// Spools one message per alert for every endpoint that takes alerts; returns once they are
    /// durable. `webhook-id` is the alert id; an alert still pending is not spooled twice.
    pub fn enqueue_alerts(&self, alerts: &[Alert]) -> Result<(), SinkError> {
        let messages = alerts
            .iter()
            .map(Message::alert)
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue(MessageKind::Alerts, &messages)
    }

    /// Spools one message per incident revision for every endpoint that takes incidents; returns
    /// once they are durable. `webhook-id` is `<incident id>-r<revision>`.
    pub fn enqueue_incidents(&self, incidents: &[Incident]) -> Result<(), SinkError> {
        let messages = incidents
            .iter()
            .map(Message::incident)
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue(MessageKind::Incidents, &messages)
    }

    fn enqueue(&self, kind: MessageKind, messages: &[Message]) -> Result<(), SinkError> {
        if messages.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        for running in &self.endpoints {
            let ep = &running.endpoint;
            if !ep.config.wants(kind) {
                continue;
            }
            if ep.disabled.load(Ordering::SeqCst) {
                tracing::warn!(endpoint = %ep.label, count = messages.len(), "webhook endpoint is disabled (410 Gone): messages dropped");
                ep.metrics
                    .dropped
                    .with_label_values(&[ep.label.as_str(), "disabled"])
                    .inc_by(messages.len() as u64);
                continue;
            }
            let mut entries = Vec::with_capacity(messages.len());
            for message in messages {
                match message.render(ep.config.template.as_deref()) {
                    Ok(body) => entries.push(SpoolEntry {
                        id: message.id.clone(),
                        kind,
                        body,
                        first_enqueued_ms: now,
                        attempts: 0,
                        next_attempt_ms: now,
                        last_error: None,
                    }),
                    Err(e) => {
                        tracing::error!(endpoint = %ep.label, webhook_id = %message.id, error = %e, "webhook message dropped: cannot render its body");
                        ep.metrics
                            .dropped
                            .with_label_values(&[ep.label.as_str(), "render"])
                            .inc();
                    }
                }
            }
            let added = ep.spool.add(entries)?;
            if !added.is_empty() {
                // A worker that is gone finds the files at the next start.
                let _ = running.tx.send(Command::Added(added));
            }
        }
        Ok(())
    }

    /// Messages waiting in the spool, over all endpoints.
    pub fn pending(&self) -> usize {
        self.endpoints
            .iter()
            .map(|r| r.endpoint.spool.count())
            .sum()
    }

    /// URLs of the endpoints disabled by a 410 Gone.
    pub fn disabled_endpoints(&self) -> Vec<String> {
        self.endpoints
            .iter()
            .filter(|r| r.endpoint.disabled.load(Ordering::SeqCst))
            .map(|r| r.endpoint.config.url.clone())
            .collect()
    }

    /// Stops the workers (a request in flight finishes or times out first); undelivered messages
    /// stay in the spool.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for WebhookDelivery {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for running in &self.endpoints {
            let _ = running.tx.send(Command::Stop);
        }
        for running in &mut self.endpoints {
            if let Some(thread) = running.thread.take()
                && thread.join().is_err()
            {
                tracing::error!(endpoint = %running.endpoint.label, "webhook worker panicked");
            }
        }
    }
}
