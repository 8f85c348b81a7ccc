//! The producing side shared by the three inputs: events and dead letters go out through one idempotent
//! producer, and every input (a raw message, a push request, a watched file) learns when all the messages
//! derived from it are acknowledged, without waiting on each message's round trip.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::Histogram;
use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use tokio::sync::oneshot;
use vigil_ingest::Normalized;
use vigil_schemas::DeadLetter;

use super::metrics::IngestMetrics;
use crate::config::KafkaSection;
use crate::services::kafka::{encode_event, json_headers, producer_config};

/// Largest message value Vigil produces. librdkafka's default `message.max.bytes` (and Kafka's default
/// broker limit) is 1,000,000 bytes; staying under it with room for key and headers keeps one oversized
/// record from becoming a message the broker refuses forever (which would stop the raw partition).
const MAX_VALUE_BYTES: usize = 900_000;

/// What an input became once its messages are settled: `Err` names the first failure.
pub(super) type Settled = Result<(), String>;

/// The deliveries still outstanding for one input. Starts with one extra count (the "seal") so it
/// cannot complete while its messages are still being handed to the producer.
#[derive(Debug)]
pub(super) struct Pending {
    remaining: AtomicUsize,
    error: Mutex<Option<String>>,
    started: Instant,
    latency: Histogram,
    notify: Mutex<Option<oneshot::Sender<Settled>>>,
}

impl Pending {
    /// `started` is when the input was received; `notify` (if any) learns the outcome once.
    pub(super) fn new(
        started: Instant,
        latency: Histogram,
        notify: Option<oneshot::Sender<Settled>>,
    ) -> Arc<Pending> {
        Arc::new(Pending {
            remaining: AtomicUsize::new(1),
            error: Mutex::new(None),
            started,
            latency,
            notify: Mutex::new(notify),
        })
    }

    fn add(&self) {
        self.remaining.fetch_add(1, Ordering::AcqRel);
    }

    /// Records a failure; the first one is kept.
    fn fail(&self, reason: String) {
        let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if error.is_none() {
            *error = Some(reason);
        }
    }

    fn complete_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let outcome = match self.error() {
                Some(reason) => Err(reason),
                None => {
                    self.latency.observe(self.started.elapsed().as_secs_f64());
                    Ok(())
                }
            };
            let notify = self.notify.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(tx) = notify {
                // The receiver may have given up (an HTTP client that timed out): nothing to tell.
                let _ = tx.send(outcome);
            }
        }
    }

    /// True once every message is acknowledged or failed (and the input was sealed).
    pub(super) fn is_done(&self) -> bool {
        self.remaining.load(Ordering::Acquire) == 0
    }

    pub(super) fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What one produced message belongs to, handed back in its delivery report.
#[derive(Debug)]
pub(super) struct Tag {
    pending: Arc<Pending>,
    /// `None` for an event, the reason kind for a dead letter.
    dead_letter_kind: Option<String>,
}

/// Counts acknowledged messages and settles their inputs; forwards librdkafka's logs to `tracing`.
#[derive(Debug)]
pub(super) struct DeliveryContext {
    metrics: IngestMetrics,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        forward_log("producer", level, fac, message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, reason, "Kafka producer error");
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<Tag>;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: Box<Tag>) {
        match result {
            Ok(_) => match &tag.dead_letter_kind {
                None => self.metrics.events.inc(),
                Some(kind) => self.metrics.dead_letters.with_label_values(&[kind]).inc(),
            },
            Err((error, message)) => {
                self.metrics.produce_failures.inc();
                let topic = rdkafka::Message::topic(message);
                tracing::error!(%error, topic, "the broker did not acknowledge a message");
                tag.pending.fail(format!(
                    "the broker did not acknowledge a message to {topic}: {error}"
                ));
            }
        }
        tag.pending.complete_one();
    }
}

/// librdkafka's own log lines, at a matching `tracing` level.
pub(super) fn forward_log(client: &str, level: RDKafkaLogLevel, fac: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!(client, fac, "{message}"),
        RDKafkaLogLevel::Warning => tracing::warn!(client, fac, "{message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(client, fac, "{message}"),
        RDKafkaLogLevel::Debug => tracing::debug!(client, fac, "{message}"),
    }
}

/// The events and dead-letter topics behind one idempotent producer.
#[allow(missing_debug_implementations)]
pub(super) struct Output {
    producer: ThreadedProducer<DeliveryContext>,
    events_topic: String,
    deadletter_topic: String,
    metrics: IngestMetrics,
}

/// How many of each kind one input produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) events: usize,
    pub(super) dead_letters: usize,
}

impl Output {
    pub(super) fn new(kafka: &KafkaSection, metrics: IngestMetrics) -> Result<Output, KafkaError> {
        let producer = producer_config(kafka).create_with_context(DeliveryContext {
            metrics: metrics.clone(),
        })?;
        Ok(Output {
            producer,
            events_topic: kafka.events_topic.clone(),
            deadletter_topic: kafka.deadletter_topic.clone(),
            metrics,
        })
    }

    /// Hands every event and dead letter of `normalized` to the producer, then seals `pending`: it
    /// completes when the broker has acknowledged (or refused) them all. Does not wait for the broker.
    pub(super) fn produce(&self, normalized: Normalized, pending: &Arc<Pending>) -> Counts {
        let mut counts = Counts::default();
        for event in normalized.events {
            let value = match encode_event(&event) {
                Ok(v) if v.len() <= MAX_VALUE_BYTES => v,
                Ok(v) => {
                    // Not seen in practice (events are small); refusing it keeps the partition moving.
                    let letter = DeadLetter::new(
                        "too_large",
                        format!(
                            "normalized event {} is {} bytes as JSON, above the {MAX_VALUE_BYTES}-byte message limit",
                            event.event_id,
                            v.len()
                        ),
                        &event.raw_ref.source,
                        event.raw_ref.byte_offset,
                        &[],
                        0,
                    );
                    if !self.send_dead_letter(letter, pending) {
                        break;
                    }
                    counts.dead_letters += 1;
                    continue;
                }
                Err(e) => {
                    pending.fail(format!("cannot encode event {}: {e}", event.event_id));
                    break;
                }
            };
            if !self.send(
                &self.events_topic,
                &event.identity.key,
                &value,
                pending,
                None,
            ) {
                break;
            }
            counts.events += 1;
        }
        for letter in normalized.dead_letters {
            if pending.error().is_some() {
                break;
            }
            if !self.send_dead_letter(letter, pending) {
                break;
            }
            counts.dead_letters += 1;
        }
        pending.complete_one();
        counts
    }

    fn send_dead_letter(&self, letter: DeadLetter, pending: &Arc<Pending>) -> bool {
        let letter = fit(letter);
        match serde_json::to_vec(&letter) {
            Ok(value) => self.send(
                &self.deadletter_topic,
                &letter.source,
                &value,
                pending,
                Some(letter.kind.clone()),
            ),
            Err(e) => {
                pending.fail(format!("cannot encode a dead letter: {e}"));
                false
            }
        }
    }

    /// Hands one message to the producer, waiting while its queue is full. False (and `pending`
    /// failed) when the producer refuses it for good.
    fn send(
        &self,
        topic: &str,
        key: &str,
        value: &[u8],
        pending: &Arc<Pending>,
        dead_letter_kind: Option<String>,
    ) -> bool {
        pending.add();
        let tag = Box::new(Tag {
            pending: Arc::clone(pending),
            dead_letter_kind,
        });
        let mut record = BaseRecord::with_opaque_to(topic, tag)
            .key(key)
            .payload(value)
            .headers(json_headers());
        loop {
            match self.producer.send(record) {
                Ok(()) => return true,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // The producer's own thread drains the queue as the broker acknowledges; this
                    // is the back-pressure that keeps memory bounded when the broker is slow.
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((error, _)) => {
                    self.metrics.produce_failures.inc();
                    tracing::error!(%error, topic, "the producer refused a message");
                    pending.fail(format!("cannot produce to {topic}: {error}"));
                    pending.complete_one();
                    return false;
                }
            }
        }
    }

    /// Waits until every message handed to the producer is acknowledged or failed.
    pub(super) fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.producer.flush(timeout)
    }
}

/// Shrinks a dead letter's copy of the original bytes so its JSON fits in one message.
fn fit(mut letter: DeadLetter) -> DeadLetter {
    let size = serde_json::to_vec(&letter).map_or(0, |v| v.len());
    if size > MAX_VALUE_BYTES {
        let over = size - MAX_VALUE_BYTES;
        // Base64 in groups of 4 characters so the kept prefix still decodes.
        let keep = letter.original_base64.len().saturating_sub(over + 4) / 4 * 4;
        letter.original_base64.truncate(keep);
        letter.original_truncated = true;
    }
    letter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_dead_letters_keep_a_decodable_prefix() {
        let original = vec![b'x'; 2_000_000];
        let letter = DeadLetter::new("invalid_json", "r", "s", 0, &original, usize::MAX);
        let fitted = fit(letter);
        let size = serde_json::to_vec(&fitted).map_or(usize::MAX, |v| v.len());
        assert!(size <= MAX_VALUE_BYTES, "{size}");
        assert!(fitted.original_truncated);
        let kept = fitted.original().unwrap_or_default();
        assert!(kept.len() > 600_000, "{}", kept.len());
        assert!(kept.iter().all(|b| *b == b'x'));
    }

    #[test]
    fn small_dead_letters_are_untouched() {
        let letter = DeadLetter::new("invalid_json", "r", "s", 0, b"{oops", usize::MAX);
        let fitted = fit(letter.clone());
        assert_eq!(fitted, letter);
    }
}
