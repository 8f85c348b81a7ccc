//! `vigil ingest` as a Kafka service: three inputs (the raw topics, a watched folder, an HTTP push
//! endpoint), one normalizer, one idempotent producer writing events (keyed by identity) and dead
//! letters (keyed by source). Nothing is acknowledged upstream before the broker acknowledged
//! downstream: a raw message's offset is stored, a watched file remembered, a push request answered
//! 200 only once every message derived from it is acknowledged.
//!
//! Threads: the raw-topic consumer loop runs on the calling thread, the folder watcher on its own,
//! and the tokio runtime of `ops::serve` runs the HTTP side (ops routes and push).
//!
//! A message that cannot be produced for good (the broker refuses it, or keeps failing until
//! `message.timeout.ms`) is not skipped: its offset is never stored, the service stops consuming,
//! stores and commits everything before it, and starts itself again (or, with
//! `services.restart_on_failure = false`, exits non-zero), so the next run reads it again.

mod consume;
mod http;
mod metrics;
mod output;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::Config;
use crate::services::{kafka, ops};

const AFTER_HELP: &str = "\
Reads:
  - the raw topics kafka.raw_aws_topic, raw_azure_topic, raw_gcp_topic (consumer group
    kafka.ingest_group). A message value is native records in any wire format `vigil run`
    reads (CloudTrail S3 files, gzip or not, NDJSON, EventBridge events, Azure exports,
    Entra ID records, GCP LogEntry, Pub/Sub push envelopes...), detected per message.
  - the watched folder services.watch_dir (or --watch): new regular files, recursively,
    except hidden ones and *.tmp (write to a temporary name, then rename). Each file is
    read once; finished files are remembered in
    services.ingest_state_dir/watched-files.jsonl.
  - HTTP: POST /ingest (or /ingest/aws|azure|gcp, a hint kept in the source name) on
    services.ingest_listen (or --listen). Answers 200 {\"events\": n, \"dead_letters\": m}
    once the broker acknowledged everything, 503 if it did not within
    --ack-timeout-seconds, 413 above ingest.max_input_bytes, 400 for an empty body.

Writes:
  - events to kafka.events_topic (JSON, key = identity key) and dead letters to
    kafka.deadletter_topic (JSON, key = source), with headers vigil-schema-version and
    content-type.
  - /metrics (vigil_ingest_*), /healthz, /readyz on the push endpoint's address.

At least once: an offset is stored, a file remembered, a request answered only after the
broker acknowledged all its output. SIGTERM drains, commits and exits 0.

Example:
  VIGIL__KAFKA__BROKERS=127.0.0.1:9092 vigil ingest --watch /data/trail --listen 0.0.0.0:9800
  curl --data-binary @deploy/sample/gcp/pubsub-push.json http://127.0.0.1:9800/ingest/gcp";

/// Arguments of `vigil ingest`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct IngestArgs {
    /// Folder to watch for new files (overrides `services.watch_dir`; none by default).
    #[arg(long, value_name = "DIR")]
    watch: Option<PathBuf>,
    /// Address of the push endpoint, /metrics, /healthz and /readyz (overrides
    /// `services.ingest_listen`, default 127.0.0.1:9800).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// How long a push request waits for the broker to acknowledge its messages before answering 503.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    ack_timeout_seconds: u64,
}

pub(crate) fn execute(args: IngestArgs, config: &Config) -> anyhow::Result<()> {
    let kafka_cfg = &config.kafka;
    let listen = args
        .listen
        .unwrap_or_else(|| config.services.ingest_listen.clone());
    let watch_dir = args.watch.or_else(|| config.services.watch_dir.clone());

    kafka::ensure_topics(
        kafka_cfg,
        &[
            &kafka_cfg.raw_aws_topic,
            &kafka_cfg.raw_azure_topic,
            &kafka_cfg.raw_gcp_topic,
            &kafka_cfg.events_topic,
            &kafka_cfg.deadletter_topic,
        ],
    )?;
    let metrics = metrics::IngestMetrics::new().context("cannot register the metrics")?;
    let health = Arc::new(ops::Health::default());
    let output = Arc::new(
        output::Output::new(kafka_cfg, metrics.clone())
            .context("cannot create the Kafka producer")?,
    );
    // Opened before anything is consumed so a bad state folder fails the start, not later.
    let watch = match watch_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the watched folder {}", dir.display()))?;
            let dir = dir
                .canonicalize()
                .with_context(|| format!("cannot resolve the watched folder {}", dir.display()))?;
            let state = watch::State::open(&config.services.ingest_state_dir)?;
            Some((dir, state))
        }
        None => None,
    };
    let consumer = consume::RawConsumer::new(
        kafka_cfg,
        Arc::clone(&output),
        Arc::clone(&health),
        metrics.clone(),
    )?;

    let push = http::Push::new(
        Arc::clone(&output),
        config.ingest.clone(),
        Arc::clone(&health),
        metrics.clone(),
        Duration::from_secs(args.ack_timeout_seconds.max(1)),
    );
    let router = ops::router(
        metrics.registry.clone(),
        Arc::clone(&health),
        Some(http::routes(Arc::clone(&push))),
    );
    let runtime = ops::serve(&listen, router, Arc::clone(&health))?;
    tracing::info!(%listen, brokers = kafka_cfg.brokers, "vigil ingest started");

    let watcher = match watch {
        Some((dir, state)) => Some(watch::spawn(
            dir,
            Duration::from_secs(config.services.watch_interval_seconds.max(1)),
            state,
            Arc::clone(&output),
            config.ingest.clone(),
            Arc::clone(&health),
            metrics.clone(),
        )?),
        None => None,
    };
    let started = Instant::now();
    let consumed = consumer.run(&output, &config.ingest, &health, &metrics);
    // The other inputs keep running through the wait: a push answered now is still answered truly.
    let restart = match &consumed {
        Ok(()) => Ok(()),
        Err(reason) => super::restart::after_failure(
            reason,
            config.services.restart_on_failure,
            started,
            // The raw consumer leaves its group when dropped, before the restart.
            Duration::ZERO,
            &health,
        ),
    };
    // Whatever ended consuming, the other inputs stop too.
    health.stop();
    health.set_ready(false);
    if let Some(handle) = watcher
        && handle.join().is_err()
    {
        tracing::error!("the folder watcher panicked");
    }
    // Push requests still waiting get their acknowledgements from this flush, then their answers.
    if let Err(e) = output.flush(consume::DRAIN_TIMEOUT) {
        tracing::warn!(error = %e, "not everything in flight was acknowledged before shutdown");
    }
    let waiting_since = Instant::now();
    while push.active.load(Ordering::SeqCst) > 0
        && waiting_since.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    restart?;
    match consumed {
        Ok(()) => {
            tracing::info!("vigil ingest stopped cleanly");
            Ok(())
        }
        Err(reason) => anyhow::bail!(
            "stopped consuming: {reason}. Offsets before it are committed; a restart reads it again"
        ),
    }
}
