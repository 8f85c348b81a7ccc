//! The raw topics: consume native records, normalize, produce, and store each message's offset only
//! once everything derived from it (and from every earlier message of its partition) is acknowledged.
//!
//! Many messages are in flight at once: per partition, a queue of (offset, outstanding deliveries) in
//! arrival order; after every poll the settled head of each queue is released and the last released
//! offset stored. The background auto-commit then commits stored offsets only.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Message};
use vigil_ingest::{Limits, normalize_bytes};

use super::metrics::IngestMetrics;
use super::output::{Output, Pending, forward_log};
use crate::services::ops::Health;

/// Raw messages received but not yet settled beyond which polling pauses: bounds memory when the
/// broker acknowledges slower than the raw topics deliver.
const MAX_IN_FLIGHT: usize = 20_000;
/// How long a drain (shutdown, revocation) waits for the broker to acknowledge what is in flight;
/// longer than the producer's `message.timeout.ms`, so every delivery has reported by then.
pub(super) const DRAIN_TIMEOUT: Duration = Duration::from_secs(130);
/// How long the final commit of a shutdown waits for the broker's answer.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the consumer-lag gauges are refreshed.
const LAG_INTERVAL_MS: &str = "5000";

/// Raw messages of one partition not yet released: offset and outstanding deliveries, in arrival order.
type Queue = VecDeque<(i64, Arc<Pending>)>;

/// Outstanding raw messages per partition.
#[derive(Debug, Default)]
struct Tracker {
    queues: HashMap<(String, i32), Queue>,
    /// Set when a message's output failed for good: its offset (and later ones) must not be stored.
    fatal: Option<String>,
}

impl Tracker {
    fn in_flight(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    /// Pops every settled message at the head of each queue and stores the offset after the last one.
    /// Stops a queue at a failed message, whose offset is never stored.
    fn release<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) {
        let mut fatal = None;
        for ((topic, partition), queue) in &mut self.queues {
            let mut last = None;
            while let Some((offset, pending)) = queue.front() {
                if !pending.is_done() {
                    break;
                }
                if let Some(reason) = pending.error() {
                    fatal.get_or_insert(format!(
                        "message {topic}/{partition}@{offset} could not be fully produced: {reason}"
                    ));
                    break;
                }
                last = Some(*offset);
                queue.pop_front();
            }
            if let Some(offset) = last {
                // rd_kafka_offset_store stores offset + 1, the next message to read.
                if let Err(e) = consumer.store_offset(topic, *partition, offset) {
                    // The partition was revoked meanwhile: its next owner reads these again.
                    tracing::warn!(error = %e, topic, partition, offset, "cannot store offset");
                }
            }
        }
        if self.fatal.is_none() {
            self.fatal = fatal;
        }
    }
}

/// Tracks the assignment: readiness, and a drain of revoked partitions before they move elsewhere.
pub(super) struct IngestConsumerContext {
    tracker: Arc<Mutex<Tracker>>,
    output: Arc<Output>,
    health: Arc<Health>,
    metrics: IngestMetrics,
}

impl ClientContext for IngestConsumerContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        forward_log("consumer", level, fac, message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, reason, "Kafka consumer error");
    }

    /// The lag gauges, from librdkafka's statistics: the high watermark comes with every fetch
    /// response, so no extra requests are needed (separate ListOffsets requests queue behind the
    /// consumer's long-polling fetches on the same connection and are late exactly when lag matters).
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition < 0 || !p.desired || p.hi_offset < 0 {
                    continue;
                }
                // The position: the next message the service will be handed; before the first one,
                // where reading starts (the committed offset).
                let position = if p.app_offset >= 0 {
                    p.app_offset
                } else if p.committed_offset >= 0 {
                    p.committed_offset
                } else {
                    continue;
                };
                self.metrics
                    .lag
                    .with_label_values(&[topic.as_str(), &partition.to_string()])
                    .set((p.hi_offset - position).max(0));
            }
        }
    }
}

impl ConsumerContext for IngestConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(revoked) = rebalance {
            // Settle what was read from the revoked partitions and commit it, so their next owner
            // starts where this one stopped instead of re-emitting everything since the last commit.
            if let Err(e) = self.output.flush(DRAIN_TIMEOUT) {
                tracing::warn!(error = %e, "revocation: not everything in flight was acknowledged");
            }
            let mut tracker = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
            tracker.release(consumer);
            for element in revoked.elements() {
                let key = (element.topic().to_string(), element.partition());
                tracker.queues.remove(&key);
                let _ = self
                    .metrics
                    .lag
                    .remove_label_values(&[element.topic(), &element.partition().to_string()]);
            }
            self.metrics.in_flight.set(tracker.in_flight() as i64);
            drop(tracker);
            // When the service is stopping, its drain has just committed (with a bound on the wait);
            // this revocation is the consumer closing, where a synchronous commit would wait forever
            // on a broker that is gone.
            if !self.health.stopping() {
                commit(consumer);
            }
            tracing::info!(partitions = revoked.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(assigned) => {
                // Ready once in the group, even with no partitions: the push endpoint and the watched
                // folder do not need any, and more instances than partitions is a valid deployment.
                if !self.health.stopping() {
                    self.health.set_ready(true);
                }
                tracing::info!(partitions = assigned.count(), "partitions assigned");
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }
}

/// Commits the stored offsets and waits for the answer (during a rebalance, where the broker is
/// answering: it is the one rebalancing).
fn commit<C: ConsumerContext>(consumer: &BaseConsumer<C>) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => {}
        // Nothing stored since the last commit.
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => tracing::warn!(error = %e, "cannot commit offsets"),
    }
}

/// The raw-topic consumer, built and subscribed.
pub(super) struct RawConsumer {
    /// Shared with the final commit's helper thread.
    consumer: Arc<BaseConsumer<IngestConsumerContext>>,
    tracker: Arc<Mutex<Tracker>>,
}

impl RawConsumer {
    pub(super) fn new(
        kafka: &crate::config::KafkaSection,
        output: Arc<Output>,
        health: Arc<Health>,
        metrics: IngestMetrics,
    ) -> anyhow::Result<RawConsumer> {
        let tracker = Arc::new(Mutex::new(Tracker::default()));
        let context = IngestConsumerContext {
            tracker: Arc::clone(&tracker),
            output,
            health,
            metrics,
        };
        let consumer: BaseConsumer<IngestConsumerContext> =
            crate::services::kafka::consumer_config(kafka, &kafka.ingest_group)
                .set("statistics.interval.ms", LAG_INTERVAL_MS)
                .create_with_context(context)?;
        consumer.subscribe(&[
            kafka.raw_aws_topic.as_str(),
            kafka.raw_azure_topic.as_str(),
            kafka.raw_gcp_topic.as_str(),
        ])?;
        Ok(RawConsumer {
            consumer: Arc::new(consumer),
            tracker,
        })
    }

    /// Consumes until a stop is requested (Ok) or a message cannot be produced (Err, after storing and
    /// committing everything before it). Either way it drains first: waits for what is in flight,
    /// stores the offsets of settled messages and commits, waiting for the broker's answer.
    pub(super) fn run(
        &self,
        output: &Output,
        limits: &Limits,
        health: &Health,
        metrics: &IngestMetrics,
    ) -> Result<(), String> {
        let latency = metrics.latency("kafka");
        let consumer = &*self.consumer;
        while !health.stopping() {
            let in_flight = {
                let mut tracker = self.lock();
                tracker.release(consumer);
                if tracker.fatal.is_some() {
                    break;
                }
                tracker.in_flight()
            };
            metrics.in_flight.set(in_flight as i64);
            if in_flight >= MAX_IN_FLIGHT {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let message = match consumer.poll(Duration::from_millis(100)) {
                None => continue,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "consumer error");
                    continue;
                }
                Some(Ok(m)) => m,
            };
            let received = Instant::now();
            let topic = message.topic().to_string();
            let (partition, offset) = (message.partition(), message.offset());
            metrics.consumed.with_label_values(&[&topic]).inc();
            let source = format!("kafka:{topic}/{partition}@{offset}");
            let normalized = normalize_bytes(
                &source,
                message.payload().unwrap_or_default(),
                Utc::now(),
                limits,
            );
            drop(message);
            let pending = Pending::new(received, latency.clone(), None);
            let counts = output.produce(normalized, &pending);
            tracing::debug!(
                source,
                events = counts.events,
                dead_letters = counts.dead_letters,
                "raw message"
            );
            self.lock()
                .queues
                .entry((topic, partition))
                .or_default()
                .push_back((offset, pending));
        }
        health.set_ready(false);
        tracing::info!("raw topics: draining");
        if let Err(e) = output.flush(DRAIN_TIMEOUT) {
            tracing::warn!(error = %e, "not everything in flight was acknowledged before shutdown");
        }
        let fatal = {
            let mut tracker = self.lock();
            tracker.release(consumer);
            metrics.in_flight.set(tracker.in_flight() as i64);
            tracker.fatal.clone()
        };
        self.commit_within(COMMIT_TIMEOUT);
        match fatal {
            None => Ok(()),
            Some(reason) => Err(reason),
        }
    }

    /// Commits the stored offsets and waits at most `within` for the broker's answer.
    /// `rd_kafka_commit` in synchronous mode never gives up while the coordinator is unreachable, which
    /// would turn a SIGTERM during a broker outage into a hang, so it runs on a helper thread that is
    /// abandoned (and ends with the process) when the broker does not answer; what is not committed is
    /// read again by the next owner (at least once).
    fn commit_within(&self, within: Duration) {
        let consumer = Arc::clone(&self.consumer);
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("ingest-commit".into())
            .spawn(move || {
                commit(&consumer);
                let _ = tx.send(());
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the commit thread; committing here");
            commit(&self.consumer);
            return;
        }
        match rx.recv_timeout(within) {
            Ok(()) => tracing::info!("raw topics: offsets committed"),
            Err(_) => tracing::warn!(
                seconds = within.as_secs(),
                "the broker did not answer the final commit; some raw messages will be read again"
            ),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }
}
