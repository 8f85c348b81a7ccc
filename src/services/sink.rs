//! `vigil sink` as a Kafka service: consumes the events, alerts, incidents and dead-letter topics in the sink
//! consumer group, buffers, and makes the buffer durable every `services.sink_flush_seconds` or
//! `services.sink_flush_events`: events into the Parquet lake (new files per flush, each visible
//! atomically), alerts and incidents as JSON lines under `<lake>/alerts/` and `<lake>/incidents/`, dead letters under `<lake>/deadletter/`
//! (fsynced). Only then are the offsets of every message in the flushed buffer stored and committed.
//!
//! At-least-once input becomes exactly one copy per event in the lake: event ids already in the lake
//! (loaded at start from the `event_id` column) or already in the buffer are dropped
//! ([`vigil_sink::dedupe`]). A message that cannot be read is not lost: it becomes a dead letter.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use vigil_schemas::{Alert, DeadLetter, Incident};
use vigil_sink::dedupe::Dedupe;
use vigil_sink::lake::Table;
use vigil_sink::{AlertWriter, DeadLetterWriter, JsonLinesWriter, LakeConfig, LakeWriter};

use crate::config::Config;
use crate::outputs::Outputs;
use crate::services::kafka::{
    CONTENT_TYPE_HEADER, JSON, consumer_config, decode_event, ensure_topics, header,
};
use crate::services::ops::{self, Health};

/// Arguments of `vigil sink`.
#[derive(Debug, clap::Args)]
pub(crate) struct SinkArgs {
    /// Lake folder (overrides `lake.dir`).
    #[arg(long)]
    lake: Option<PathBuf>,
}

/// How often consumer lag is refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(2);

pub(crate) fn execute(args: SinkArgs, config: &Config) -> anyhow::Result<()> {
    let kafka = &config.kafka;
    let lake = args.lake.unwrap_or_else(|| config.lake.dir.clone());
    let topics = [
        kafka.events_topic.clone(),
        kafka.alerts_topic.clone(),
        kafka.deadletter_topic.clone(),
        kafka.incidents_topic.clone(),
    ];
    ensure_topics(kafka, &[&topics[0], &topics[1], &topics[2], &topics[3]])?;
    let metrics = SinkMetrics::new()?;
    let health = Arc::new(Health::default());
    let runtime = ops::serve(
        &config.services.sink_listen,
        ops::router(metrics.registry.clone(), health.clone(), None),
        health.clone(),
    )?;

    // Ready only once the set is loaded: until then a duplicate could not be recognised.
    let started = Instant::now();
    let dedupe = Dedupe::load(&lake)
        .with_context(|| format!("cannot read event ids from the lake at {}", lake.display()))?;
    tracing::info!(
        ids = dedupe.durable_len(),
        seconds = started.elapsed().as_secs_f64(),
        "dedupe set loaded"
    );

    let core = Arc::new(Mutex::new(Core {
        lake: lake.clone(),
        lake_config: config.lake.writer_config(),
        run_id: format!(
            "{}-{}",
            Utc::now().format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        ),
        flushes: 0,
        dedupe,
        alert_dedupe: Dedupe::load_alerts(&lake).with_context(|| {
            format!("cannot read alert ids from the lake at {}", lake.display())
        })?,
        buffer: Buffer::default(),
        events_topic: topics[0].clone(),
        alerts_topic: topics[1].clone(),
        incidents_topic: topics[3].clone(),
        dead_letter_max: config.ingest.dead_letter_max_bytes,
        metrics: metrics.clone(),
        fatal: None,
        health: health.clone(),
        outputs: Outputs::start(config, &metrics.registry)?,
    }));
    let consumer: BaseConsumer<Rebalancing> = consumer_config(kafka, &kafka.sink_group)
        .create_with_context(Rebalancing { core: core.clone() })
        .context("cannot create the sink consumer")?;
    consumer
        .subscribe(&[&topics[0], &topics[1], &topics[2], &topics[3]])
        .context("cannot subscribe to the events, alerts, dead-letter and incident topics")?;
    tracing::info!(lake = %lake.display(), group = %kafka.sink_group, "sink service started");

    let flush_every = Duration::from_secs(config.services.sink_flush_seconds.max(1));
    let flush_events = config.services.sink_flush_events.max(1);
    let started = Instant::now();
    let result = consume(
        &consumer,
        &core,
        &health,
        &metrics,
        flush_every,
        flush_events,
    );
    let result = result.and_then(|()| {
        let tpl = lock(&core).flush()?;
        commit(&consumer, &tpl, CommitMode::Sync)
    });
    if result.is_ok() {
        // Leaving the group runs the revoke callback, which finds the buffer empty.
        drop(consumer);
        tracing::info!("sink service stopped cleanly");
    } else {
        // Closing would run the revoke callback, which flushes: after a failure, write nothing more.
        std::mem::forget(consumer);
    }
    let outputs = std::mem::take(&mut lock(&core).outputs);
    outputs.shutdown();
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
    metrics: &SinkMetrics,
    flush_every: Duration,
    flush_events: usize,
) -> anyhow::Result<()> {
    let mut last_gauges = Instant::now();
    while !health.stopping() {
        // Polling runs rebalance callbacks, which lock the core: never hold the lock across a poll.
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => lock(core).add(&m),
            Some(Err(e)) => tracing::warn!(error = %e, "consumer error"),
            None => {}
        }
        let tpl = {
            let mut core = lock(core);
            if let Some(problem) = core.fatal.take() {
                anyhow::bail!("{problem}");
            }
            let due = core.buffer.messages >= flush_events
                || core
                    .buffer
                    .since
                    .is_some_and(|t| t.elapsed() >= flush_every);
            if due { Some(core.flush()?) } else { None }
        };
        if let Some(tpl) = tpl {
            commit(consumer, &tpl, CommitMode::Async)?;
        }
        if last_gauges.elapsed() >= GAUGE_INTERVAL {
            update_lag(consumer, &metrics.lag);
            last_gauges = Instant::now();
        }
    }
    tracing::info!("stop requested: flushing and committing");
    Ok(())
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stores and commits the offsets of a flushed buffer.
fn commit(
    consumer: &BaseConsumer<Rebalancing>,
    tpl: &TopicPartitionList,
    mode: CommitMode,
) -> anyhow::Result<()> {
    if tpl.count() == 0 {
        return Ok(());
    }
    if let Err(e) = consumer.store_offsets(tpl) {
        // Only a partition revoked meanwhile refuses a store; its data is durable and deduplicated.
        tracing::warn!(error = %e, "cannot store flushed offsets");
    }
    match consumer.commit(tpl, mode) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot commit flushed offsets: {e}")),
    }
}

/// Consumer lag per assigned partition: the broker's high watermark minus this consumer's position.
fn update_lag<C: ConsumerContext>(consumer: &BaseConsumer<C>, lag: &IntGaugeVec) {
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
            lag.with_label_values(&[element.topic(), &element.partition().to_string()])
                .set((high - position).max(0));
        }
    }
}

/// What has been read and not yet made durable.
#[derive(Default)]
struct Buffer {
    events: Vec<vigil_schemas::Event>,
    alerts: Vec<Alert>,
    incidents: Vec<Incident>,
    dead_letters: Vec<DeadLetter>,
    /// Per topic and partition, the offset after the last message taken (written or dropped).
    offsets: HashMap<(String, i32), i64>,
    messages: usize,
    /// When the oldest message of the buffer arrived.
    since: Option<Instant>,
}

struct Core {
    lake: PathBuf,
    lake_config: LakeConfig,
    run_id: String,
    flushes: u64,
    dedupe: Dedupe,
    alert_dedupe: Dedupe,
    buffer: Buffer,
    events_topic: String,
    alerts_topic: String,
    incidents_topic: String,
    dead_letter_max: usize,
    metrics: SinkMetrics,
    fatal: Option<String>,
    health: Arc<Health>,
    /// Webhooks and SIEM forwarding; handed each flush's alerts and incidents before its offsets are
    /// committed.
    outputs: Outputs,
}

impl Core {
    fn add(&mut self, m: &BorrowedMessage<'_>) {
        let topic = m.topic();
        self.metrics.consumed.with_label_values(&[topic]).inc();
        let payload = m.payload().unwrap_or_default();
        let source = format!("{topic}/{}", m.partition());
        // The offset stands in for the byte offset: it is where the record sits in its source.
        let position = u64::try_from(m.offset()).unwrap_or_default();
        let invalid = |kind: &str, reason: String| {
            DeadLetter::new(
                kind,
                reason,
                &source,
                position,
                payload,
                self.dead_letter_max,
            )
        };
        // Vigil's topics carry JSON; a message that says it is something else is kept, not guessed at.
        // (A message without the header is read as JSON: plain producers send none.)
        if let Some(content_type) = header(m.headers(), CONTENT_TYPE_HEADER)
            && content_type != JSON
        {
            let letter = invalid(
                "unsupported_content_type",
                format!("message content type is {content_type}, expected {JSON}"),
            );
            self.buffer.dead_letters.push(letter);
        } else if topic == self.events_topic {
            match decode_event(payload) {
                Ok(event) => {
                    if self.dedupe.admit(&event.event_id) {
                        self.buffer.events.push(event);
                    } else {
                        self.metrics.duplicates.inc();
                    }
                }
                Err(e) => {
                    let letter = invalid(
                        "invalid_event",
                        format!("event message is not a Vigil event: {e}"),
                    );
                    self.buffer.dead_letters.push(letter);
                }
            }
        } else if topic == self.alerts_topic {
            match serde_json::from_slice::<Alert>(payload) {
                Ok(alert) => {
                    if self.alert_dedupe.admit(&alert.alert_id) {
                        self.buffer.alerts.push(alert);
                    } else {
                        self.metrics.alert_duplicates.inc();
                    }
                }
                Err(e) => {
                    let letter = invalid(
                        "invalid_alert",
                        format!("alert message is not a Vigil alert: {e}"),
                    );
                    self.buffer.dead_letters.push(letter);
                }
            }
        } else if topic == self.incidents_topic {
            match serde_json::from_slice::<Incident>(payload) {
                Ok(incident) => self.buffer.incidents.push(incident),
                Err(e) => {
                    let letter = invalid(
                        "invalid_incident",
                        format!("incident message is not a Vigil incident: {e}"),
                    );
                    self.buffer.dead_letters.push(letter);
                }
            }
        } else {
            match serde_json::from_slice::<DeadLetter>(payload) {
                Ok(letter) => self.buffer.dead_letters.push(letter),
                Err(e) => {
                    let letter = invalid(
                        "invalid_dead_letter",
                        format!("dead-letter message is not a Vigil dead letter: {e}"),
                    );
                    self.buffer.dead_letters.push(letter);
                }
            }
        }
        let next = self
            .buffer
            .offsets
            .entry((topic.to_string(), m.partition()))
            .or_insert(0);
        *next = (*next).max(m.offset() + 1);
        self.buffer.messages += 1;
        self.buffer.since.get_or_insert_with(Instant::now);
    }

    /// Makes the buffer durable and returns the offsets it covers, to store and commit.
    fn flush(&mut self) -> anyhow::Result<TopicPartitionList> {
        let mut tpl = TopicPartitionList::new();
        if self.buffer.messages == 0 {
            return Ok(tpl);
        }
        let started = Instant::now();
        let mut buffer = std::mem::take(&mut self.buffer);
        let events = buffer.events.len();
        self.flushes += 1;
        // A fresh writer per flush, with a run id of its own, so each flush adds new files.
        let run_id = format!("{}-{:06}", self.run_id, self.flushes);
        let written = match self.write(&run_id, &mut buffer) {
            Ok(files) => files,
            Err(e) => {
                // The buffer's offsets are not committed: it will be read again, so forget its ids.
                self.dedupe.discard_pending();
                self.alert_dedupe.discard_pending();
                return Err(e);
            }
        };
        self.dedupe.commit_pending(written);
        // Alert files are not refreshed from the lake: only this process writes its alerts' ids.
        self.alert_dedupe.commit_pending(Vec::new());
        self.metrics.events_written.inc_by(events as u64);
        self.metrics
            .alerts_written
            .inc_by(buffer.alerts.len() as u64);
        self.metrics
            .dead_letters_written
            .inc_by(buffer.dead_letters.len() as u64);
        self.metrics.flushes.inc();
        self.metrics
            .flush_latency
            .observe(started.elapsed().as_secs_f64());
        tracing::debug!(
            events,
            alerts = buffer.alerts.len(),
            dead_letters = buffer.dead_letters.len(),
            messages = buffer.messages,
            "buffer flushed"
        );
        for ((topic, partition), next) in &buffer.offsets {
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*next))
                .context("cannot list a flushed offset")?;
        }
        Ok(tpl)
    }

    /// Writes the buffer; returns the lake files written.
    fn write(&self, run_id: &str, buffer: &mut Buffer) -> anyhow::Result<Vec<PathBuf>> {
        let mut writer = LakeWriter::new(&self.lake, run_id, self.lake_config.clone())
            .with_context(|| format!("cannot open the lake at {}", self.lake.display()))?;
        self.outputs.events(&buffer.events);
        writer
            .write(std::mem::take(&mut buffer.events))
            .context("cannot write events to the lake")?;
        writer
            .write_alerts(&buffer.alerts)
            .context("cannot write alerts to the lake")?;
        writer
            .write_incidents(&buffer.incidents)
            .context("cannot write incidents to the lake")?;
        writer
            .write_dead_letters(&buffer.dead_letters, chrono::Utc::now())
            .context("cannot write dead letters to the lake")?;
        let written = writer.finish().context("cannot write the lake")?;
        // Spooled (webhooks) before the caller commits the offsets, so a crash re-reads, not loses.
        self.outputs.alerts(&buffer.alerts)?;
        self.outputs.incidents(&buffer.incidents)?;
        // The event files feed the event-id dedupe; the other tables are written whole each flush.
        let files: Vec<PathBuf> = written
            .into_iter()
            .filter(|f| f.table == Table::Events)
            .map(|f| f.path)
            .collect();
        if !buffer.alerts.is_empty() {
            let path = self
                .lake
                .join("alerts")
                .join(format!("alerts-{run_id}.jsonl"));
            let mut writer = AlertWriter::create(&path)?;
            writer.write(&buffer.alerts)?;
            writer.finish()?;
            sync_dir(&path);
        }
        if !buffer.incidents.is_empty() {
            let path = self
                .lake
                .join("incidents")
                .join(format!("incidents-{run_id}.jsonl"));
            let mut writer = JsonLinesWriter::<Incident>::create(&path)?;
            writer.write(&buffer.incidents)?;
            writer.finish()?;
            sync_dir(&path);
        }
        if !buffer.dead_letters.is_empty() {
            let path = self
                .lake
                .join("deadletter")
                .join(format!("deadletters-{run_id}.jsonl"));
            let mut writer = DeadLetterWriter::create(&path)?;
            writer.write(&buffer.dead_letters)?;
            writer.finish()?;
            sync_dir(&path);
        }
        Ok(files)
    }
}

/// Makes a rename in `file`'s folder durable (not every filesystem allows a directory fsync).
fn sync_dir(file: &Path) {
    if let Some(dir) = file.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// The consumer's context: flushes before partitions go, picks up other sinks' files when they come.
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
        if core.fatal.is_some() || tpl.count() == 0 {
            return;
        }
        // The buffer holds messages of the partitions going away: write them and commit now, so the
        // next owner starts after them instead of writing them again.
        match core.flush() {
            Ok(offsets) => {
                if let Err(e) = commit(consumer, &offsets, CommitMode::Sync) {
                    tracing::warn!(error = %e, "commit on revocation failed");
                }
            }
            Err(e) => core.fatal = Some(format!("flush on revocation failed: {e:#}")),
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let mut core = lock(&self.core);
                // Another sink process may have written these partitions' events since our load.
                let lake = core.lake.clone();
                match core.dedupe.refresh(&lake) {
                    Ok(n) if n > 0 => {
                        tracing::info!(files = n, "dedupe set refreshed from the lake")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        core.fatal = Some(format!("cannot refresh the dedupe set: {e}"));
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

#[derive(Clone)]
struct SinkMetrics {
    registry: Registry,
    consumed: IntCounterVec,
    events_written: IntCounter,
    alerts_written: IntCounter,
    dead_letters_written: IntCounter,
    duplicates: IntCounter,
    alert_duplicates: IntCounter,
    flushes: IntCounter,
    flush_latency: Histogram,
    lag: IntGaugeVec,
}

impl SinkMetrics {
    fn new() -> anyhow::Result<SinkMetrics> {
        let registry = Registry::new_custom(Some("vigil".into()), None)?;
        let consumed = IntCounterVec::new(
            Opts::new("sink_messages_consumed_total", "Messages read, by topic"),
            &["topic"],
        )?;
        let events_written = IntCounter::new(
            "sink_events_written_total",
            "Events made durable in the lake",
        )?;
        let alerts_written = IntCounter::new(
            "sink_alerts_written_total",
            "Alerts made durable under <lake>/alerts",
        )?;
        let dead_letters_written = IntCounter::new(
            "sink_dead_letters_written_total",
            "Dead letters made durable under <lake>/deadletter (including unreadable messages)",
        )?;
        let duplicates = IntCounter::new(
            "sink_duplicates_dropped_total",
            "Events dropped because their id is already in the lake or the buffer",
        )?;
        let alert_duplicates = IntCounter::new(
            "sink_alert_duplicates_dropped_total",
            "Alerts dropped because their id is already in the lake or the buffer",
        )?;
        let flushes = IntCounter::new("sink_flushes_total", "Buffers made durable and committed")?;
        let flush_latency = Histogram::with_opts(
            HistogramOpts::new("sink_flush_seconds", "Seconds to make one buffer durable")
                .buckets(prometheus::exponential_buckets(0.001, 2.0, 16)?),
        )?;
        let lag = IntGaugeVec::new(
            Opts::new(
                "sink_consumer_lag",
                "Messages on the broker not yet read, per partition",
            ),
            &["topic", "partition"],
        )?;
        registry.register(Box::new(consumed.clone()))?;
        registry.register(Box::new(events_written.clone()))?;
        registry.register(Box::new(alerts_written.clone()))?;
        registry.register(Box::new(dead_letters_written.clone()))?;
        registry.register(Box::new(duplicates.clone()))?;
        registry.register(Box::new(alert_duplicates.clone()))?;
        registry.register(Box::new(flushes.clone()))?;
        registry.register(Box::new(flush_latency.clone()))?;
        registry.register(Box::new(lag.clone()))?;
        Ok(SinkMetrics {
            registry,
            consumed,
            events_written,
            alerts_written,
            dead_letters_written,
            duplicates,
            alert_duplicates,
            flushes,
            flush_latency,
            lag,
        })
    }
}
