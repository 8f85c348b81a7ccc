//! The worker of one endpoint: sends due messages, signs each attempt afresh, and keeps the spool
//! in step with what happened (delivered: removed; failed: rescheduled with backoff and jitter, or
//! dropped once the retry period is over; 410 Gone: endpoint disabled, everything dropped).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{CONTENT_TYPE, LOCATION};

use super::Endpoint;
use super::guard::{self, Target};
use super::spool::SpoolEntry;

/// What the worker is told.
#[derive(Debug)]
pub(crate) enum Command {
    /// New messages, already durable in the spool.
    Added(Vec<(String, SpoolEntry)>),
    Stop,
}

/// Exponential backoff with jitter: attempt `n` waits between half and all of
/// `min(initial * 2^(n-1), max)`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    pub(crate) initial_ms: u64,
    pub(crate) max_ms: u64,
    state: u64,
}

impl Backoff {
    pub(crate) fn new(initial_ms: u64, max_ms: u64, seed: u64) -> Backoff {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Backoff {
            initial_ms,
            max_ms,
            state: seed ^ nanos,
        }
    }

    /// The delay before attempt `failures + 1`, in milliseconds.
    pub(crate) fn delay_ms(&mut self, failures: u32) -> u64 {
        let exp = failures.saturating_sub(1).min(62);
        let base = self
            .initial_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_ms)
            .max(1);
        let half = base / 2;
        half + self.next_random() % (base - half + 1)
    }

    /// splitmix64: jitter needs spread, not cryptographic quality.
    fn next_random(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

enum Outcome {
    Delivered,
    Gone(String),
    Failed(String),
}

pub(crate) struct Worker {
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) rx: Receiver<Command>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) backoff: Backoff,
    pub(crate) pending: HashMap<String, SpoolEntry>,
    pub(crate) client: Option<(Target, Client)>,
    /// Failed attempts in a row at this endpoint; pauses the whole endpoint, not one message.
    pub(crate) streak: u32,
    pub(crate) paused_until_ms: i64,
}

impl Worker {
    pub(crate) fn run(mut self) {
        match self.endpoint.spool.load() {
            Ok(entries) => self.pending.extend(entries),
            Err(e) => {
                tracing::error!(endpoint = %self.endpoint.label, error = %e, "cannot read the webhook spool")
            }
        }
        if !self.pending.is_empty() {
            tracing::info!(endpoint = %self.endpoint.label, pending = self.pending.len(), "resuming webhook delivery from the spool");
        }
        if self.endpoint.disabled.load(Ordering::SeqCst) {
            self.drop_all("disabled");
        }
        self.update_depth();
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            match self.rx.recv_timeout(self.wait()) {
                Ok(cmd) => {
                    if !self.handle(cmd) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while let Ok(cmd) = self.rx.try_recv() {
                if !self.handle(cmd) {
                    return;
                }
            }
            self.attempt_due();
        }
    }

    /// How long to sleep before something is due.
    fn wait(&self) -> Duration {
        let next = self.pending.values().map(|e| e.next_attempt_ms).min();
        match next {
            Some(next) if !self.endpoint.disabled.load(Ordering::SeqCst) => {
                let at = next.max(self.paused_until_ms);
                Duration::from_millis((at - now_ms()).clamp(0, 3_600_000) as u64)
            }
            _ => Duration::from_secs(3600),
        }
    }

    /// Takes in a command; false when the worker must stop.
    fn handle(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Stop => false,
            Command::Added(entries) => {
                for (name, entry) in entries {
                    self.pending.entry(name).or_insert(entry);
                }
                if self.endpoint.disabled.load(Ordering::SeqCst) {
                    self.drop_all("disabled");
                }
                self.update_depth();
                true
            }
        }
    }

    fn attempt_due(&mut self) {
        let now = now_ms();
        let mut due: Vec<(i64, String)> = self
            .pending
            .iter()
            .filter(|(_, e)| e.next_attempt_ms <= now)
            .map(|(name, e)| (e.next_attempt_ms, name.clone()))
            .collect();
        due.sort();
        for (_, name) in due {
            if self.stop.load(Ordering::SeqCst)
                || self.endpoint.disabled.load(Ordering::SeqCst)
                || now_ms() < self.paused_until_ms
            {
                return;
            }
            self.attempt(&name);
        }
    }

    fn attempt(&mut self, name: &str) {
        let Some(entry) = self.pending.get(name).cloned() else {
            return;
        };
        let started = Instant::now();
        let outcome = self.send(&entry);
        let ep = Arc::clone(&self.endpoint);
        ep.metrics
            .latency
            .with_label_values(&[ep.label.as_str()])
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            Outcome::Delivered => {
                // Counted before the file goes, so an empty spool means final counts.
                ep.metrics
                    .delivered
                    .with_label_values(&[ep.label.as_str()])
                    .inc();
                if let Err(e) = ep.spool.remove(name) {
                    tracing::error!(endpoint = %ep.label, error = %e, "cannot remove a delivered message from the spool");
                }
                self.pending.remove(name);
                if self.streak > 0 {
                    tracing::info!(endpoint = %ep.label, after_failures = self.streak, "webhook endpoint delivering again");
                }
                self.streak = 0;
                self.paused_until_ms = 0;
                tracing::debug!(endpoint = %ep.label, webhook_id = %entry.id, "webhook delivered");
            }
            Outcome::Gone(reason) => self.disable(&reason),
            Outcome::Failed(reason) => self.failed(name, entry, reason),
        }
        self.update_depth();
    }

    fn send(&mut self, entry: &SpoolEntry) -> Outcome {
        let ep = Arc::clone(&self.endpoint);
        let target = match guard::resolve_checked(&ep.url, ep.config.allow_private_targets) {
            Ok(t) => t,
            Err(e) => return Outcome::Failed(e),
        };
        let client = match self.client_for(target) {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(e),
        };
        let timestamp = chrono::Utc::now().timestamp();
        let signature = ep.signer.sign(&entry.id, timestamp, entry.body.as_bytes());
        let response = client
            .post(ep.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &entry.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(entry.body.clone())
            .send();
        match response {
            Ok(r) if r.status().is_success() => Outcome::Delivered,
            Ok(r) if r.status() == StatusCode::GONE => {
                Outcome::Gone(format!("{} answered 410 Gone", ep.url))
            }
            Ok(r) if r.status().is_redirection() => {
                let to = r
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                Outcome::Failed(format!(
                    "HTTP {}: redirects are not followed (Location: {to})",
                    r.status()
                ))
            }
            Ok(r) => Outcome::Failed(format!("HTTP {}", r.status())),
            Err(e) => Outcome::Failed(error_chain(&e)),
        }
    }

    /// The client pinned to `target`, built again only when the address changes.
    fn client_for(&mut self, target: Target) -> Result<Client, String> {
        if let Some((cached, client)) = &self.client
            && *cached == target
        {
            return Ok(client.clone());
        }
        let timeout = Duration::from_secs(self.endpoint.config.timeout_seconds);
        let mut builder = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .user_agent(concat!("vigil-webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(domain) = &target.domain {
            builder = builder.resolve(domain, target.addr);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))?;
        self.client = Some((target, client.clone()));
        Ok(client)
    }

    fn failed(&mut self, name: &str, mut entry: SpoolEntry, reason: String) {
        let ep = Arc::clone(&self.endpoint);
        let now = now_ms();
        entry.attempts += 1;
        let delay = self.backoff.delay_ms(entry.attempts) as i64;
        let deadline = entry
            .first_enqueued_ms
            .saturating_add(ep.config.retry_for_seconds.saturating_mul(1000) as i64);
        self.streak += 1;
        self.paused_until_ms = now + self.backoff.delay_ms(self.streak) as i64;
        if now + delay > deadline {
            tracing::error!(endpoint = %ep.label, webhook_id = %entry.id, attempts = entry.attempts, error = %reason,
                "webhook message dropped: its retry period is over");
            ep.metrics
                .dropped
                .with_label_values(&[ep.label.as_str(), "expired"])
                .inc();
            if let Err(e) = ep.spool.remove(name) {
                tracing::error!(endpoint = %ep.label, error = %e, "cannot remove a dropped message from the spool");
            }
            self.pending.remove(name);
            return;
        }
        if self.streak == 1 {
            tracing::warn!(endpoint = %ep.label, webhook_id = %entry.id, error = %reason, "webhook delivery failed; retrying with backoff");
        } else {
            tracing::debug!(endpoint = %ep.label, webhook_id = %entry.id, attempts = entry.attempts, error = %reason, "webhook delivery failed again");
        }
        entry.next_attempt_ms = now + delay;
        entry.last_error = Some(reason);
        if let Err(e) = ep.spool.update(name, &entry) {
            tracing::error!(endpoint = %ep.label, error = %e, "cannot persist a webhook retry schedule");
        }
        self.pending.insert(name.to_string(), entry);
        ep.metrics
            .retried
            .with_label_values(&[ep.label.as_str()])
            .inc();
    }

    fn disable(&mut self, reason: &str) {
        let ep = Arc::clone(&self.endpoint);
        tracing::error!(endpoint = %ep.label, url = %ep.url, reason, dropped = self.pending.len(),
            "webhook endpoint disabled (410 Gone); its pending messages are dropped; delete the DISABLED file in its spool directory to enable it again");
        if let Err(e) = ep.spool.mark_disabled(reason) {
            tracing::error!(endpoint = %ep.label, error = %e, "cannot persist that the endpoint is disabled");
        }
        ep.disabled.store(true, Ordering::SeqCst);
        ep.metrics
            .disabled
            .with_label_values(&[ep.label.as_str()])
            .set(1);
        self.drop_all("disabled");
    }

    fn drop_all(&mut self, reason: &str) {
        let ep = Arc::clone(&self.endpoint);
        if !self.pending.is_empty() {
            tracing::warn!(endpoint = %ep.label, count = self.pending.len(), reason, "dropping pending webhook messages");
        }
        for (name, _) in self.pending.drain() {
            ep.metrics
                .dropped
                .with_label_values(&[ep.label.as_str(), reason])
                .inc();
            if let Err(e) = ep.spool.remove(&name) {
                tracing::error!(endpoint = %ep.label, error = %e, "cannot remove a dropped message from the spool");
            }
        }
    }

    fn update_depth(&self) {
        self.endpoint
            .metrics
            .spool_depth
            .with_label_values(&[self.endpoint.label.as_str()])
            .set(self.pending.len() as i64);
    }
}

/// An error with its causes: reqwest's own message hides whether it was a refusal or a timeout.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
