//! What the Kafka-mode scenario tests share: the three services as real child processes against a real
//! broker, and independent views of what they produced (the lake read by pyarrow, the topics read by a
//! plain rdkafka consumer, the detect checkpoints read as JSON).
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, vigil};

/// The three services of Kafka mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ingest,
    Detect,
    Sink,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ingest => "ingest",
            Kind::Detect => "detect",
            Kind::Sink => "sink",
        }
    }
}

/// One deployment: a broker address and a folder holding the lake, the services' state and their logs.
/// Every service started from it shares the same configuration (environment overrides).
pub struct Deployment {
    pub brokers: String,
    pub dir: tempfile::TempDir,
    /// Extra `VIGIL__…` overrides for every service.
    pub extra_env: Vec<(String, String)>,
}

impl Deployment {
    pub fn new(brokers: String) -> Deployment {
        Deployment {
            brokers,
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}")),
            extra_env: Vec::new(),
        }
    }

    pub fn lake(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.dir.path().join("checkpoints")
    }

    /// The environment every service gets: this broker, state under this folder, short flush and
    /// checkpoint intervals so a test sees results within seconds.
    fn env(&self) -> Vec<(String, String)> {
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        let mut env = vec![
            ("VIGIL__KAFKA__BROKERS".to_string(), self.brokers.clone()),
            ("VIGIL__LAKE__DIR".to_string(), path(self.lake())),
            (
                "VIGIL__SERVICES__CHECKPOINT_DIR".to_string(),
                path(self.checkpoints()),
            ),
            (
                "VIGIL__SERVICES__INGEST_STATE_DIR".to_string(),
                path(self.dir.path().join("ingest-state")),
            ),
            (
                "VIGIL__SERVICES__CHECKPOINT_INTERVAL_SECONDS".to_string(),
                "1".to_string(),
            ),
            (
                "VIGIL__SERVICES__SINK_FLUSH_SECONDS".to_string(),
                "1".to_string(),
            ),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// Starts `vigil <kind> [args]` with its own free listen port; its stdout and stderr go to
    /// `logs/<kind>-<n>.log` in the deployment folder.
    pub fn start(&self, kind: Kind, args: &[&str]) -> Service {
        let listen = format!("127.0.0.1:{}", free_port());
        let logs = self.dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap_or_else(|e| panic!("logs folder: {e}"));
        let mut n = 0;
        let log = loop {
            let candidate = logs.join(format!("{}-{n}.log", kind.name()));
            if !candidate.exists() {
                break candidate;
            }
            n += 1;
        };
        let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("log file: {e}"));
        let file2 = file.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
        let mut cmd = vigil();
        // The listen address through the configuration, which every service reads.
        let listen_var = format!(
            "VIGIL__SERVICES__{}_LISTEN",
            kind.name().to_ascii_uppercase()
        );
        cmd.arg(kind.name())
            .args(args)
            .envs(self.env())
            .env(listen_var, &listen)
            .env("VIGIL_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start vigil {}: {e}", kind.name()));
        Service {
            kind,
            child: Some(child),
            listen,
            log,
        }
    }

    /// Every service's log so far, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("logs")) else {
            return out;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            // The tail is what explains a failure; whole logs of a 100k-event run are too long.
            let tail: String = tail_lines(&text, 40);
            out.push_str(&format!("--- {} ---\n{tail}\n", path.display()));
        }
        out
    }
}

impl Drop for Deployment {
    /// A failing test shows the end of every service's log, and leaves the deployment folder (lake,
    /// checkpoints, logs) in place for a closer look.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "service logs (folder kept: {}):\n{}",
                self.dir.path().display(),
                self.logs()
            );
            let dir = std::mem::replace(
                &mut self.dir,
                tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}")),
            );
            let _ = dir.keep();
        }
    }
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A running service; killed (SIGKILL) when dropped if still running.
pub struct Service {
    pub kind: Kind,
    child: Option<Child>,
    pub listen: String,
    pub log: PathBuf,
}

impl Service {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The process is still running.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// `GET path` on the service's listen address; `None` when it does not answer.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        let response = client
            .get(format!("http://{}{path}", self.listen))
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().unwrap_or_default()))
    }

    /// Waits until `/readyz` answers 200 (the service has its partitions and is consuming).
    pub fn wait_ready(&mut self, within: Duration) {
        let started = Instant::now();
        while started.elapsed() < within {
            assert!(
                self.running(),
                "vigil {} exited before it was ready:\n{}",
                self.kind.name(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            if let Some((200, _)) = self.get("/readyz") {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "vigil {} was not ready within {within:?}:\n{}",
            self.kind.name(),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// The service's Prometheus metrics as (name with labels, value) pairs; empty when it does not
    /// answer.
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let Some((200, text)) = self.get("/metrics") else {
            return BTreeMap::new();
        };
        parse_metrics(&text)
    }

    /// Sum of every series of metric `name` (all label values).
    pub fn metric_sum(&self, name: &str) -> f64 {
        metric_sum(&self.metrics(), name)
    }

    /// SIGKILL: no draining, no flushing, no commit.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits (up to `within`) for the exit status.
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        let Some(mut child) = self.child.take() else {
            panic!("vigil {} was already stopped", self.kind.name());
        };
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(sent.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if started.elapsed() < within => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "vigil {} did not exit within {within:?} of SIGTERM:\n{}",
                        self.kind.name(),
                        std::fs::read_to_string(&self.log).unwrap_or_default()
                    );
                }
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Parses the Prometheus text format into (series, value).
pub fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some((series, value)) = line.rsplit_once(' ')
            && let Ok(v) = value.parse::<f64>()
        {
            out.insert(series.to_string(), v);
        }
    }
    out
}

pub fn metric_sum(metrics: &BTreeMap<String, f64>, name: &str) -> f64 {
    metrics
        .iter()
        .filter(|(series, _)| series.as_str() == name || series.starts_with(&format!("{name}{{")))
        .map(|(_, v)| v)
        .sum()
}

/// Calls `probe` every `every` until it gives `Some`, or panics after `within` with `what` and the
/// last probe's description.
pub fn poll<T>(
    within: Duration,
    every: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let started = Instant::now();
    let mut last = String::from("never probed");
    while started.elapsed() < within {
        match probe() {
            Ok(v) => return v,
            Err(why) => last = why,
        }
        std::thread::sleep(every);
    }
    panic!("{what}: not reached within {within:?}; last: {last}");
}

/// Row count and distinct event ids of the lake's `events` table, read by pyarrow; `Err` while the lake
/// does not exist yet or cannot be read (a file being written).
pub fn lake_counts(lake: &Path) -> Result<(u64, u64), String> {
    let script = r#"
import sys, os
import pyarrow.dataset as ds
root = os.path.join(sys.argv[1], "table=events")
if not os.path.isdir(root):
    print("0 0"); sys.exit(0)
table = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=["event_id"])
ids = table.column("event_id")
print(table.num_rows, len(set(ids.to_pylist())))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pyarrow: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(rows)), Some(Ok(distinct))) => Ok((rows, distinct)),
        _ => Err(format!("unexpected pyarrow output {text:?}")),
    }
}

/// Every event id in the lake, with its number of rows.
pub fn lake_ids(lake: &Path) -> BTreeMap<String, u64> {
    let script = r#"
import sys, os, json
import pyarrow.dataset as ds
root = os.path.join(sys.argv[1], "table=events")
counts = {}
if os.path.isdir(root):
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=["event_id"])
    for i in table.column("event_id").to_pylist():
        counts[i] = counts.get(i, 0) + 1
print(json.dumps(counts))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the independent Parquet reader: {e}"));
    assert!(
        out.status.success(),
        "pyarrow could not read the lake at {} (tests/run.sh installs pyarrow): {}",
        lake.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("pyarrow output: {e}"))
}

/// The distinct event ids of a lake.
pub fn lake_id_set(lake: &Path) -> BTreeSet<String> {
    lake_ids(lake).into_keys().collect()
}

/// A simulation's records, one NDJSON line each (`vigil simulate --emit -`), with the raw topic of
/// their provider (`vigil.raw.<provider>`), and the event ids they normalize to (normalized here by
/// the library `vigil run` uses), each once.
pub struct Simulated {
    pub messages: Vec<(String, Vec<u8>)>,
    pub ids: BTreeSet<String>,
}

pub fn simulate_records(identities: u32, days: u32, seed: u64) -> Simulated {
    let out = vigil()
        .arg("simulate")
        .arg("--emit")
        .arg("-")
        .arg("--identities")
        .arg(identities.to_string())
        .arg("--days")
        .arg(days.to_string())
        .arg("--seed")
        .arg(seed.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start vigil simulate: {e}"));
    assert!(
        out.status.success(),
        "vigil simulate --emit - failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let limits = vigil_ingest::Limits::default();
    let now = chrono::Utc::now();
    let mut messages = Vec::new();
    let mut ids = BTreeSet::new();
    for line in out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let normalized = vigil_ingest::normalize_bytes("simulated", line, now, &limits);
        assert!(
            normalized.dead_letters.is_empty() && normalized.events.len() == 1,
            "a simulated record did not normalize to one event: {:?}",
            normalized.dead_letters.first()
        );
        let event = &normalized.events[0];
        assert!(
            ids.insert(event.event_id.clone()),
            "the simulation repeats event id {}; counts could not show losses",
            event.event_id
        );
        messages.push((
            format!("vigil.raw.{}", event.provider.as_str()),
            line.to_vec(),
        ));
    }
    Simulated { messages, ids }
}

/// Produces `messages` on a thread (see [`produce_paced`]), so the services see them arrive while
/// running.
pub fn produce_in_background(
    brokers: &str,
    messages: Vec<(String, Vec<u8>)>,
) -> std::thread::JoinHandle<()> {
    let brokers = brokers.to_string();
    std::thread::spawn(move || produce_paced(&brokers, &messages))
}

/// Produces `(topic, value)` messages with an idempotent producer that never expires a message
/// (`message.timeout.ms=0`) and holds at most 10,000 unacknowledged: when the broker is slow the
/// producer waits instead of timing messages out. (A timed-out message makes librdkafka bump the
/// idempotent producer's epoch, which Tansu 0.6 does not support: its storage panics.)
pub fn produce_paced(brokers: &str, messages: &[(String, Vec<u8>)]) {
    produce_with(
        brokers,
        messages,
        false,
        &[
            ("message.timeout.ms", "0"),
            ("queue.buffering.max.messages", "10000"),
        ],
    );
}

/// Sum of the high watermarks of every partition of `topic` (messages ever written to it); 0 while the
/// topic does not exist.
pub fn topic_messages(brokers: &str, topic: &str) -> Result<i64, String> {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("log_level", "3")
        .create()
        .map_err(|e| e.to_string())?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let mut total = 0;
    for t in metadata.topics() {
        if t.error().is_some() {
            return Ok(0);
        }
        for p in t.partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .map_err(|e| e.to_string())?;
            total += high;
        }
    }
    Ok(total)
}

/// Every message of `topic` from the beginning, read by a plain consumer until `expected` messages
/// have arrived or `within` has passed: (key, headers, value).
pub type RawMessage = (Option<Vec<u8>>, Vec<(String, Vec<u8>)>, Vec<u8>);

pub fn read_topic(
    brokers: &str,
    topic: &str,
    expected: usize,
    within: Duration,
) -> Vec<RawMessage> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Headers;
    use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("test-reader-{}", free_port()))
        .set("enable.auto.commit", "false")
        .set("log_level", "3")
        .create()
        .unwrap_or_else(|e| panic!("consumer: {e}"));
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("metadata of {topic}: {e}"));
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment
                .add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap_or_else(|e| panic!("assignment: {e}"));
        }
    }
    consumer
        .assign(&assignment)
        .unwrap_or_else(|e| panic!("assign: {e}"));
    let mut out = Vec::new();
    let started = Instant::now();
    while out.len() < expected && started.elapsed() < within {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push((
                    m.key().map(<[u8]>::to_vec),
                    headers,
                    m.payload().unwrap_or_default().to_vec(),
                ));
            }
            Some(Err(e)) => eprintln!("reading {topic}: {e}"),
            None => {}
        }
    }
    out
}

/// Counts failed deliveries of [`produce`].
struct DeliveryCheck {
    failed: std::sync::Mutex<Vec<String>>,
}

impl rdkafka::ClientContext for DeliveryCheck {}

impl rdkafka::producer::ProducerContext for DeliveryCheck {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &rdkafka::producer::DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e.to_string());
        }
    }
}

/// Produces `(topic, value)` messages, all to partition 0 so their order is kept, with an idempotent
/// producer, and waits until the broker has acknowledged every one.
pub fn produce(brokers: &str, messages: &[(String, Vec<u8>)]) {
    produce_with(brokers, messages, true, &[]);
}

fn produce_with(
    brokers: &str,
    messages: &[(String, Vec<u8>)],
    partition_zero: bool,
    settings: &[(&str, &str)],
) {
    use rdkafka::ClientConfig;
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("message.max.bytes", "10000000")
        .set("log_level", "3");
    for (k, v) in settings {
        config.set(*k, *v);
    }
    let producer: ThreadedProducer<DeliveryCheck> = config
        .create_with_context(DeliveryCheck {
            failed: std::sync::Mutex::new(Vec::new()),
        })
        .unwrap_or_else(|e| panic!("producer: {e}"));
    for (topic, value) in messages {
        let mut record: BaseRecord<'_, (), Vec<u8>> = BaseRecord::to(topic).payload(value);
        if partition_zero {
            record = record.partition(0);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    back,
                )) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err((e, _)) => panic!("cannot produce to {topic}: {e}"),
            }
        }
    }
    producer
        .flush(Duration::from_secs(600))
        .unwrap_or_else(|e| panic!("messages not delivered within 600 s: {e}"));
    let failed = producer
        .context()
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    assert!(failed.is_empty(), "deliveries failed: {failed:?}");
}

/// The detect checkpoints: per `<topic>/<partition>.json` file, its parsed JSON.
pub fn checkpoints(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    let Ok(topics) = std::fs::read_dir(dir) else {
        return out;
    };
    for topic in topics.flatten() {
        let Ok(files) = std::fs::read_dir(topic.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            // A checkpoint is replaced atomically (written aside, renamed), so a complete file is
            // always there; one that does not parse is a real failure, reported as such.
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let value: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("checkpoint {} is not JSON: {e}", path.display()));
            let name = format!(
                "{}/{}",
                topic.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            out.insert(name, value);
        }
    }
    out
}

/// Per partition of `topic`: the high watermark (messages ever written).
pub fn high_watermarks(brokers: &str, topic: &str) -> Result<BTreeMap<i32, i64>, String> {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("log_level", "3")
        .create()
        .map_err(|e| e.to_string())?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for t in metadata.topics() {
        if let Some(e) = t.error() {
            return Err(format!("topic {topic}: {e:?}"));
        }
        for p in t.partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .map_err(|e| e.to_string())?;
            out.insert(p.id(), high);
        }
    }
    Ok(out)
}

/// Consumer group `group` has committed, on every partition of every topic in `topics`, the offset
/// the partition ends at: it has consumed (and made durable) everything written so far.
pub fn group_caught_up(brokers: &str, group: &str, topics: &[&str]) -> Result<(), String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("log_level", "3")
        .create()
        .map_err(|e| e.to_string())?;
    let mut wanted = TopicPartitionList::new();
    let mut highs = BTreeMap::new();
    for topic in topics {
        for (partition, high) in high_watermarks(brokers, topic)? {
            wanted.add_partition(topic, partition);
            highs.insert((topic.to_string(), partition), high);
        }
    }
    let committed = consumer
        .committed_offsets(wanted, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    for element in committed.elements() {
        let high = highs
            .get(&(element.topic().to_string(), element.partition()))
            .copied()
            .unwrap_or_default();
        let at = match element.offset() {
            Offset::Offset(o) => o,
            // Nothing committed: caught up only if nothing was ever written there.
            _ => 0,
        };
        if at != high {
            return Err(format!(
                "group {group} at {at} of {high} on {}/{}",
                element.topic(),
                element.partition()
            ));
        }
    }
    Ok(())
}

/// Total of the tally detector's per-identity counts over every detect checkpoint.
pub fn tally_total(dir: &Path) -> u64 {
    checkpoints(dir)
        .values()
        .map(|c| {
            c["state"]["identities"]
                .as_object()
                .map(|ids| {
                    ids.values()
                        .filter_map(|t| t["count"].as_u64())
                        .sum::<u64>()
                })
                .unwrap_or(0)
        })
        .sum()
}

/// The detect checkpoints reflect every message of `topic`: per partition, `next_offset` equals the
/// high watermark.
pub fn checkpoints_caught_up(brokers: &str, dir: &Path, topic: &str) -> Result<(), String> {
    let checkpoints = checkpoints(dir);
    for (partition, high) in high_watermarks(brokers, topic)? {
        let name = format!("{topic}/{partition}.json");
        let at = checkpoints
            .get(&name)
            .and_then(|c| c["next_offset"].as_i64())
            .unwrap_or(0);
        if at != high {
            return Err(format!("checkpoint {name} at {at} of {high}"));
        }
    }
    Ok(())
}
