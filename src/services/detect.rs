//! `vigil detect` as a Kafka service: consumes the events topic in the detect consumer group, runs one
//! [`Detector`] per assigned partition (events are keyed by identity, so an identity's state lives in
//! exactly one partition), produces alerts, and checkpoints each partition's state with the offset it
//! reflects.
//!
//! Order of durability, per checkpoint: the producer is flushed (every alert derived from the covered
//! events is acknowledged), then the checkpoint file is written (temp file, fsync, rename, directory
//! fsync), and only then is the offset stored for commit. A crash at any point replays from the last
//! committed offset; events the restored checkpoint already reflects are skipped
//! ([`should_apply`]), so state is never double-counted. Alerts between the last checkpoint and a crash
//! may be produced twice (at least once); alert ids are stable so consumers can drop repeats.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use prometheus::{GaugeVec, Histogram, HistogramOpts, IntCounter, IntGaugeVec, Opts, Registry};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use vigil_detect::checkpoint::{Checkpoint, checkpoint_path, should_apply};
use vigil_detect::engine::{Engine, EngineConfig};
use vigil_detect::tally::Tally;
use vigil_detect::{Detector, PassThrough};

use crate::config::Config;
use crate::services::kafka::{
    consumer_config, decode_event, ensure_topics, json_headers, producer_config,
};
use crate::services::ops::{self, Health};

/// Which detector runs on each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DetectorKind {
    /// The detection engine: baselines, the population model, rules, alerts and incidents ([detect]).
    Engine,
    /// Hands events on, keeps no state, raises no alerts.
    Passthrough,
    /// Counts events per identity with first and last event time; raises no alerts. Its state is
    /// checkpointed like any detector's, which makes checkpointing observable.
    Tally,
}

/// Arguments of `vigil detect`.
#[derive(Debug, clap::Args)]
pub(crate) struct DetectArgs {
    /// The detector run per partition.
    #[arg(long, value_enum, default_value = "engine")]
    detector: DetectorKind,
}

/// Messages taken from the consumer before they are applied as one batch.
const MAX_BATCH: usize = 2_000;
/// How long a checkpoint waits for outstanding alerts to be acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// How often consumer lag and checkpoint ages are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(2);

pub(crate) fn execute(args: DetectArgs, config: &Config) -> anyhow::Result<()> {
    let kafka = &config.kafka;
    let topic = kafka.events_topic.clone();
    ensure_topics(
        kafka,
        &[
            &kafka.events_topic,
            &kafka.alerts_topic,
            &kafka.incidents_topic,
        ],
    )?;
    // Built once up front so bad settings or an unreadable feedback file stop the service at start.
    let engine_config = crate::detection::engine(&config.detect)?.settings().clone();
    let metrics = DetectMetrics::new()?;
    let health = Arc::new(Health::default());

    let deliveries = Arc::new(Deliveries::default());
    let producer: ThreadedProducer<AlertDelivery> = producer_config(kafka)
        .create_with_context(AlertDelivery {
            deliveries: deliveries.clone(),
            produced: metrics.alerts.clone(),
        })
        .context("cannot create the alert producer")?;

    let core = Arc::new(Mutex::new(Core {
        topic: topic.clone(),
        alerts_topic: kafka.alerts_topic.clone(),
        incidents_topic: kafka.incidents_topic.clone(),
        dir: config.services.checkpoint_dir.clone(),
        kind: args.detector,
        engine_config,
        partitions: BTreeMap::new(),
        producer,
        deliveries,
        metrics: metrics.clone(),
        fatal: None,
        health: health.clone(),
    }));
    let consumer: BaseConsumer<Rebalancing> = consumer_config(kafka, &kafka.detect_group)
        .create_with_context(Rebalancing { core: core.clone() })
        .context("cannot create the events consumer")?;
    consumer
        .subscribe(&[&topic])
        .with_context(|| format!("cannot subscribe to {topic}"))?;
    let runtime = ops::serve(
        &config.services.detect_listen,
        ops::router(metrics.registry.clone(), health.clone(), None),
        health.clone(),
    )?;
    tracing::info!(topic = %topic, group = %kafka.detect_group, detector = ?args.detector, "detect service started");

    let interval = Duration::from_secs(config.services.checkpoint_interval_seconds.max(1));
    let started = Instant::now();
    let result = consume(&consumer, &core, &health, &metrics, &topic, interval);

    // Whatever stopped the loop, a failed service must not checkpoint or commit past what is durable:
    // only a clean stop takes the final checkpoint.
    let result = result.and_then(|()| {
        let tpl = lock(&core).checkpoint_all()?;
        commit(&consumer, &tpl, CommitMode::Sync)
    });
    if result.is_ok() {
        // Leaving the group runs the revoke callback: every partition is already checkpointed, so it
        // only commits again.
        drop(consumer);
        tracing::info!("detect service stopped cleanly");
    } else {
        // Closing would run the revoke callback, which checkpoints: skip it and let the group time out.
        std::mem::forget(consumer);
    }
    let restart = super::restart::after_abandoned_consumer(
        &result,
        config.services.restart_on_failure,
        started,
        &health,
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
    restart?;
    result
}

fn consume(
    consumer: &BaseConsumer<Rebalancing>,
    core: &Arc<Mutex<Core>>,
    health: &Health,
    metrics: &DetectMetrics,
    topic: &str,
    interval: Duration,
) -> anyhow::Result<()> {
    let mut last_checkpoint = Instant::now();
    let mut last_gauges = Instant::now();
    let mut batch: Vec<OwnedMessage> = Vec::with_capacity(MAX_BATCH);
    while !health.stopping() {
        if let Some(problem) = lock(core).fatal.take() {
            anyhow::bail!("{problem}");
        }
        // Polling runs rebalance callbacks, which lock the core: never hold the lock here.
        let mut wait = Duration::from_millis(200);
        while batch.len() < MAX_BATCH {
            match consumer.poll(wait) {
                Some(Ok(m)) => batch.push(m.detach()),
                Some(Err(e)) => tracing::warn!(error = %e, "consumer error"),
                None => break,
            }
            wait = Duration::ZERO;
        }
        if !batch.is_empty() {
            let started = Instant::now();
            lock(core).apply(std::mem::take(&mut batch))?;
            metrics.latency.observe(started.elapsed().as_secs_f64());
        }
        if last_checkpoint.elapsed() >= interval {
            let tpl = lock(core).checkpoint_all()?;
            store(consumer, &tpl);
            last_checkpoint = Instant::now();
        }
        if last_gauges.elapsed() >= GAUGE_INTERVAL {
            lock(core).update_ages();
            update_lag(consumer, topic, &metrics.lag);
            last_gauges = Instant::now();
        }
    }
    tracing::info!("stop requested: checkpointing and committing");
    Ok(())
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    // A panic while holding the lock leaves state of unknown shape; the process is going down anyway,
    // and the checkpoint on disk is the truth.
    core.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stores the checkpointed offsets for the background commit.
fn store(consumer: &BaseConsumer<Rebalancing>, tpl: &TopicPartitionList) {
    if tpl.count() == 0 {
        return;
    }
    if let Err(e) = consumer.store_offsets(tpl) {
        // A partition revoked meanwhile cannot be stored; its checkpoint covers it for the next owner.
        tracing::warn!(error = %e, "cannot store checkpointed offsets");
    }
}

fn commit(
    consumer: &BaseConsumer<Rebalancing>,
    tpl: &TopicPartitionList,
    mode: CommitMode,
) -> anyhow::Result<()> {
    if tpl.count() == 0 {
        return Ok(());
    }
    store(consumer, tpl);
    match consumer.commit(tpl, mode) {
        Ok(()) => Ok(()),
        // Nothing new to commit is not a failure.
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot commit checkpointed offsets: {e}")),
    }
}

/// Consumer lag per assigned partition: the broker's high watermark minus this consumer's position.
fn update_lag<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, lag: &IntGaugeVec) {
    let Ok(positions) = consumer.position() else {
        return;
    };
    for element in positions.elements() {
        let Offset::Offset(position) = element.offset() else {
            continue;
        };
        if let Ok((_, high)) =
            consumer.fetch_watermarks(element.topic(), element.partition(), Duration::from_secs(1))
        {
            lag.with_label_values(&[topic, &element.partition().to_string()])
                .set((high - position).max(0));
        }
    }
}

/// One assigned partition.
struct PartitionState {
    detector: Box<dyn Detector>,
    /// The offset after the last event the state reflects; `None` before the first event when no
    /// checkpoint existed.
    next_offset: Option<i64>,
    /// `next_offset` of the last durable checkpoint.
    checkpointed: Option<i64>,
    /// When that checkpoint was written.
    checkpoint_time: Option<chrono::DateTime<Utc>>,
}

/// Everything the poll loop and the rebalance callbacks share.
struct Core {
    topic: String,
    alerts_topic: String,
    incidents_topic: String,
    dir: PathBuf,
    kind: DetectorKind,
    engine_config: EngineConfig,
    partitions: BTreeMap<i32, PartitionState>,
    producer: ThreadedProducer<AlertDelivery>,
    deliveries: Arc<Deliveries>,
    metrics: DetectMetrics,
    /// A failure inside a rebalance callback, which cannot return one: the loop stops on it.
    fatal: Option<String>,
    health: Arc<Health>,
}

impl Core {
    fn new_detector(&self) -> anyhow::Result<Box<dyn Detector>> {
        Ok(match self.kind {
            DetectorKind::Engine => Box::new(
                Engine::new(self.engine_config.clone())
                    .map_err(|e| anyhow::anyhow!("invalid [detect] settings: {e}"))?,
            ),
            DetectorKind::Passthrough => Box::new(PassThrough),
            DetectorKind::Tally => Box::new(Tally::new()),
        })
    }

    /// Takes over `partition`: state from its checkpoint when there is one.
    fn assign(&mut self, partition: i32) -> anyhow::Result<()> {
        let mut detector = self.new_detector()?;
        let path = checkpoint_path(&self.dir, &self.topic, partition);
        let (next_offset, checkpoint_time) = match std::fs::read(&path) {
            Ok(bytes) => {
                let checkpoint = Checkpoint::decode(&bytes, &self.topic, partition)
                    .with_context(|| format!("checkpoint {}", path.display()))?;
                detector
                    .restore(&checkpoint.state_bytes()?)
                    .with_context(|| {
                        format!("cannot restore the detector from {}", path.display())
                    })?;
                tracing::info!(
                    partition,
                    next_offset = checkpoint.next_offset,
                    "state restored from checkpoint"
                );
                (Some(checkpoint.next_offset), Some(checkpoint.written_at))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(partition, "no checkpoint: starting with empty state");
                (None, None)
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let state = PartitionState {
            detector,
            next_offset,
            checkpointed: next_offset,
            checkpoint_time,
        };
        self.partitions.insert(partition, state);
        Ok(())
    }

    /// Applies a batch of messages in order, partition by partition.
    fn apply(&mut self, batch: Vec<OwnedMessage>) -> anyhow::Result<()> {
        let mut by_partition: HashMap<i32, Vec<OwnedMessage>> = HashMap::new();
        for m in batch {
            by_partition.entry(m.partition()).or_default().push(m);
        }
        for (partition, messages) in by_partition {
            let Some(state) = self.partitions.get_mut(&partition) else {
                // Revoked while these were in hand: the new owner reads them from the committed offset.
                continue;
            };
            let mut events = Vec::with_capacity(messages.len());
            for m in &messages {
                if !should_apply(m.offset(), state.next_offset) {
                    self.metrics.skipped.inc();
                    continue;
                }
                self.metrics.consumed.inc();
                state.next_offset = Some(m.offset() + 1);
                match m.payload().map(decode_event) {
                    Some(Ok(event)) => events.push(event),
                    // The sink dead-letters what it cannot read from this topic; detect only skips it.
                    Some(Err(e)) => {
                        self.metrics.undecodable.inc();
                        tracing::warn!(partition, offset = m.offset(), error = %e, "event message is not an event: skipped");
                    }
                    None => {
                        self.metrics.undecodable.inc();
                        tracing::warn!(
                            partition,
                            offset = m.offset(),
                            "empty event message: skipped"
                        );
                    }
                }
            }
            if events.is_empty() {
                continue;
            }
            state
                .detector
                .on_events(events)
                .with_context(|| format!("detector failed on partition {partition}"))?;
            for alert in state.detector.drain_alerts() {
                let value = serde_json::to_vec(&alert)?;
                send(
                    &self.producer,
                    &self.alerts_topic,
                    &alert.identity_key,
                    &value,
                )?;
            }
            for incident in state.detector.drain_incidents() {
                let value = serde_json::to_vec(&incident)?;
                send(
                    &self.producer,
                    &self.incidents_topic,
                    &incident.identity_key,
                    &value,
                )?;
            }
        }
        Ok(())
    }

    /// Checkpoints every partition whose state moved since its last checkpoint; returns the offsets
    /// the checkpoints (old and new) cover, to store and commit.
    fn checkpoint_all(&mut self) -> anyhow::Result<TopicPartitionList> {
        let partitions: Vec<i32> = self.partitions.keys().copied().collect();
        self.checkpoint(&partitions)
    }

    fn checkpoint(&mut self, partitions: &[i32]) -> anyhow::Result<TopicPartitionList> {
        let dirty = partitions.iter().any(|p| {
            self.partitions
                .get(p)
                .is_some_and(|s| s.next_offset.is_some() && s.next_offset != s.checkpointed)
        });
        if dirty {
            // Alerts first: a checkpoint must never cover events whose alerts could still be lost.
            self.producer
                .flush(FLUSH_TIMEOUT)
                .context("alerts were not acknowledged in time; not checkpointing")?;
            let failed = self.deliveries.failed.load(Ordering::SeqCst);
            if failed > 0 {
                anyhow::bail!(
                    "{failed} alert(s) could not be delivered; stopping without checkpointing"
                );
            }
        }
        let mut tpl = TopicPartitionList::new();
        for partition in partitions {
            let Some(state) = self.partitions.get_mut(partition) else {
                continue;
            };
            if let Some(next) = state.next_offset
                && state.checkpointed != Some(next)
            {
                let now = Utc::now();
                let snapshot = state.detector.snapshot()?;
                let bytes =
                    Checkpoint::new(&self.topic, *partition, next, &snapshot, now).encode()?;
                let path = checkpoint_path(&self.dir, &self.topic, *partition);
                write_atomically(&path, &bytes)?;
                state.checkpointed = Some(next);
                state.checkpoint_time = Some(now);
                self.metrics.checkpoints.inc();
                tracing::debug!(partition, next_offset = next, "checkpoint written");
            }
            if let Some(next) = state.checkpointed {
                tpl.add_partition_offset(&self.topic, *partition, Offset::Offset(next))
                    .context("cannot list a checkpointed offset")?;
            }
        }
        self.update_ages();
        Ok(tpl)
    }

    fn update_ages(&self) {
        let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
        for state in self.partitions.values() {
            for (name, value) in state.detector.counters() {
                *totals.entry(name).or_default() += value;
            }
        }
        let totals: Vec<(&'static str, u64)> = totals.into_iter().collect();
        crate::metrics::set_detector(&self.metrics.detector, &totals);
        let now = Utc::now();
        for (partition, state) in &self.partitions {
            if let Some(at) = state.checkpoint_time {
                let age = (now - at).num_milliseconds() as f64 / 1000.0;
                self.metrics
                    .checkpoint_age
                    .with_label_values(&[&partition.to_string()])
                    .set(age.max(0.0));
            }
        }
    }
}

/// Sends one alert, waiting while the producer's queue is full.
fn send(
    producer: &ThreadedProducer<AlertDelivery>,
    topic: &str,
    key: &str,
    value: &[u8],
) -> anyhow::Result<()> {
    let mut record = BaseRecord::to(topic)
        .key(key)
        .payload(value)
        .headers(json_headers());
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err((e, _)) => anyhow::bail!("cannot produce an alert: {e}"),
        }
    }
}

/// Writes `bytes` to `path` so that a reader (or a restart after a crash) sees the old file or the
/// new one, never a mix: temporary file, fsync, rename, directory fsync.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("checkpoint");
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(file);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} into place", tmp.display()))?;
    // The rename is durable only once the directory is; some filesystems refuse a directory fsync.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The consumer's context: checkpoints on revocation, restores on assignment.
struct Rebalancing {
    core: Arc<Mutex<Core>>,
}

impl ClientContext for Rebalancing {}

impl ConsumerContext for Rebalancing {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let mut core = lock(&self.core);
        let topic = core.topic.clone();
        let revoked: Vec<i32> = tpl
            .elements()
            .iter()
            .filter(|e| e.topic() == topic)
            .map(|e| e.partition())
            .collect();
        tracing::info!(?revoked, "partitions revoked: checkpointing them");
        // Once a failure is recorded the loop is stopping: do not write state it may not cover.
        if core.fatal.is_none() {
            match core.checkpoint(&revoked) {
                Ok(offsets) => {
                    if let Err(e) = commit(consumer, &offsets, CommitMode::Sync) {
                        // The checkpoint is durable; the next owner skips what it covers.
                        tracing::warn!(error = %e, "commit on revocation failed");
                    }
                }
                Err(e) => core.fatal = Some(format!("checkpoint on revocation failed: {e:#}")),
            }
        }
        for p in revoked {
            core.partitions.remove(&p);
            let _ = core
                .metrics
                .checkpoint_age
                .remove_label_values(&[&p.to_string()]);
            let _ = core
                .metrics
                .lag
                .remove_label_values(&[&topic, &p.to_string()]);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let mut core = lock(&self.core);
                let topic = core.topic.clone();
                for e in tpl.elements().iter().filter(|e| e.topic() == topic) {
                    if let Err(err) = core.assign(e.partition()) {
                        core.fatal = Some(format!(
                            "cannot take over partition {}: {err:#}",
                            e.partition()
                        ));
                        return;
                    }
                }
                tracing::info!(partitions = tpl.count(), "partitions assigned");
                core.health.set_ready(true);
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }
}

#[derive(Debug, Default)]
struct Deliveries {
    failed: AtomicU64,
}

/// Counts acknowledged alerts and remembers failed deliveries (which stop checkpointing).
struct AlertDelivery {
    deliveries: Arc<Deliveries>,
    produced: IntCounter,
}

impl ClientContext for AlertDelivery {}

impl ProducerContext for AlertDelivery {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.produced.inc(),
            Err((e, _)) => {
                self.deliveries.failed.fetch_add(1, Ordering::SeqCst);
                tracing::error!(error = %e, "alert delivery failed");
            }
        }
    }
}

#[derive(Clone)]
struct DetectMetrics {
    registry: Registry,
    consumed: IntCounter,
    skipped: IntCounter,
    undecodable: IntCounter,
    alerts: IntCounter,
    checkpoints: IntCounter,
    checkpoint_age: GaugeVec,
    /// The detectors' own counters, summed over the assigned partitions.
    detector: IntGaugeVec,
    lag: IntGaugeVec,
    latency: Histogram,
}

impl DetectMetrics {
    fn new() -> anyhow::Result<DetectMetrics> {
        let registry = Registry::new_custom(Some("vigil".into()), None)?;
        let consumed = IntCounter::new(
            "detect_events_consumed_total",
            "Event messages applied to detector state",
        )?;
        let skipped = IntCounter::new(
            "detect_events_skipped_total",
            "Redelivered event messages skipped because the restored checkpoint already reflects them",
        )?;
        let undecodable = IntCounter::new(
            "detect_events_undecodable_total",
            "Messages on the events topic that are not events (the sink dead-letters them)",
        )?;
        let alerts = IntCounter::new(
            "detect_alerts_produced_total",
            "Alerts acknowledged by the broker",
        )?;
        let checkpoints = IntCounter::new(
            "detect_checkpoints_written_total",
            "Checkpoint files written",
        )?;
        let checkpoint_age = GaugeVec::new(
            Opts::new(
                "detect_checkpoint_age_seconds",
                "Seconds since the partition's last checkpoint",
            ),
            &["partition"],
        )?;
        let lag = IntGaugeVec::new(
            Opts::new(
                "detect_consumer_lag",
                "Messages on the broker not yet read, per partition",
            ),
            &["topic", "partition"],
        )?;
        let latency = Histogram::with_opts(
            HistogramOpts::new(
                "detect_processing_seconds",
                "Seconds to apply one polled batch of events (decode, detector, alerts handed to the producer)",
            )
            .buckets(prometheus::exponential_buckets(0.0005, 2.0, 16)?),
        )?;
        registry.register(Box::new(consumed.clone()))?;
        registry.register(Box::new(skipped.clone()))?;
        registry.register(Box::new(undecodable.clone()))?;
        registry.register(Box::new(alerts.clone()))?;
        registry.register(Box::new(checkpoints.clone()))?;
        registry.register(Box::new(checkpoint_age.clone()))?;
        let detector = crate::metrics::detector_gauges()?;
        registry.register(Box::new(detector.clone()))?;
        registry.register(Box::new(lag.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(DetectMetrics {
            registry,
            consumed,
            skipped,
            undecodable,
            alerts,
            checkpoints,
            checkpoint_age,
            detector,
            lag,
            latency,
        })
    }
}
