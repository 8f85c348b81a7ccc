//! `vigil sink` and `vigil detect` as services over a real Kafka-compatible broker (Tansu), run as
//! child processes: the sink writes every event exactly once even when the input repeats, across a
//! restart too; detect's checkpointed state counts every event exactly once across a kill -9.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::*;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use vigil_schemas::*;

const PARTITIONS: i32 = 3;
/// Waiting longer than this means the service is stuck, not slow.
const STUCK: Duration = Duration::from_secs(180);

fn unique(name: &str) -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn event(i: usize, identities: usize) -> Event {
    let key = format!("arn:aws:iam::111122223333:user/u{:03}", i % identities);
    let time = DateTime::from_timestamp(1_767_225_600 + i as i64 * 7, 0).unwrap();
    Event {
        event_id: format!("evt-{i:08}"),
        event_time: time,
        event_time_estimated: false,
        ingest_time: time,
        provider: if i.is_multiple_of(3) {
            Provider::Gcp
        } else {
            Provider::Aws
        },
        class: EventClass::ApiActivity,
        account_id: Some("111122223333".into()),
        tenant_id: None,
        region: Some("us-east-1".into()),
        identity: Identity::new(&key, IdentityKind::HumanUser),
        action: Action {
            service: "s3.amazonaws.com".into(),
            operation: "GetObject".into(),
            permission: "s3:GetObject".into(),
            category: ActionCategory::Read,
        },
        resources: vec![],
        source: SourceEndpoint::default(),
        user_agent: Some("test".into()),
        outcome: Outcome::success(),
        raw_ref: RawRef {
            source: "test".into(),
            byte_offset: i as u64,
            record_index: 0,
            format: "cloudtrail".into(),
        },
    }
}

fn create_topics(broker: &Broker, topics: &[&str]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, PARTITIONS, TopicReplication::Fixed(1)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for result in runtime
        .block_on(admin.create_topics(&new, &AdminOptions::new()))
        .unwrap()
    {
        result.unwrap_or_else(|(t, e)| panic!("cannot create {t}: {e}"));
    }
}

fn producer(broker: &Broker) -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .unwrap()
}

/// Sends `(key, value)` pairs to `topic` and waits until the broker has them all.
fn produce(
    p: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    records: &[(String, Vec<u8>)],
) {
    for (key, value) in records {
        let mut record = BaseRecord::to(topic).key(key).payload(value);
        loop {
            match p.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    p.flush(Duration::from_secs(60)).unwrap();
}

fn event_records(events: &[Event]) -> Vec<(String, Vec<u8>)> {
    events
        .iter()
        .map(|e| (e.identity.key.clone(), serde_json::to_vec(e).unwrap()))
        .collect()
}

/// High watermark per partition of `topic`.
fn high_watermarks(broker: &Broker, topic: &str) -> BTreeMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    (0..PARTITIONS)
        .map(|p| {
            let (_, high) = consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap();
            (p, high)
        })
        .collect()
}

/// A `vigil` service child process, killed if still running when dropped.
struct Service {
    child: Child,
    log: PathBuf,
    port: u16,
}

impl Service {
    fn start(args: &[&str], env: &[(String, String)], log: PathBuf, port: u16) -> Service {
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = vigil();
        cmd.args(args)
            .env("VIGIL_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let mut service = Service { child, log, port };
        service.wait_for("/readyz 200", |s| s.get("/readyz").0 == 200);
        service
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn get(&self, path: &str) -> (u16, String) {
        match reqwest::blocking::get(format!("http://127.0.0.1:{}{path}", self.port)) {
            Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }

    /// Sum of the samples of metric `name` whose labels contain `labels`.
    fn metric(&self, name: &str, labels: &str) -> f64 {
        metric_value(&self.get("/metrics").1, name, labels)
    }

    fn wait_for(&mut self, what: &str, mut done: impl FnMut(&Service) -> bool) {
        let started = Instant::now();
        loop {
            if done(self) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "service exited ({status}) while waiting for {what}:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < STUCK,
                "stuck waiting for {what}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM, then the exit status must be success.
    fn terminate(mut self) {
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "SIGTERM must end the service cleanly, got {status}:\n{}",
                    self.log()
                );
                return;
            }
            assert!(
                started.elapsed() < STUCK,
                "did not stop on SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no chance to checkpoint, flush or commit.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn metric_value(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
                && l.contains(labels)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn assert_metrics_named(service: &Service, names: &[&str]) {
    let (status, text) = service.get("/metrics");
    assert_eq!(status, 200);
    for name in names {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "/metrics lacks {name}:\n{text}"
        );
    }
    assert_eq!(service.get("/healthz").0, 200);
    assert_eq!(service.get("/readyz").0, 200);
}

struct Topics {
    events: String,
    alerts: String,
    deadletter: String,
}

impl Topics {
    fn new(broker: &Broker, name: &str) -> Topics {
        let t = Topics {
            events: unique(&format!("{name}-events")),
            alerts: unique(&format!("{name}-alerts")),
            deadletter: unique(&format!("{name}-dl")),
        };
        create_topics(broker, &[&t.events, &t.alerts, &t.deadletter]);
        t
    }

    fn env(&self, broker: &Broker) -> Vec<(String, String)> {
        [
            ("VIGIL__KAFKA__BROKERS", broker.bootstrap()),
            ("VIGIL__KAFKA__EVENTS_TOPIC", self.events.clone()),
            ("VIGIL__KAFKA__ALERTS_TOPIC", self.alerts.clone()),
            ("VIGIL__KAFKA__DEADLETTER_TOPIC", self.deadletter.clone()),
            ("VIGIL__KAFKA__PARTITIONS", PARTITIONS.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// The `alert_id`s of the lake's alerts table, sorted, as pyarrow reads them.
fn parquet_alert_ids(lake: &Path) -> Vec<String> {
    let script = r#"
import json, sys, os
import pyarrow.dataset as ds
table = ds.dataset(os.path.join(sys.argv[1], "table=alerts"), format="parquet", partitioning="hive")
print(json.dumps(sorted(table.to_table(columns=["alert_id"]).column("alert_id").to_pylist())))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyarrow: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn jsonl_lines(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        out.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
    }
    out
}

#[test]
fn sink_writes_each_event_exactly_once_across_redelivery_and_restart() {
    const N: usize = 3_000;
    let broker = Broker::start();
    let topics = Topics::new(&broker, "sink");
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let mut env = topics.env(&broker);
    env.push(("VIGIL__KAFKA__SINK_GROUP".into(), unique("sink-group")));
    env.push(("VIGIL__SERVICES__SINK_FLUSH_SECONDS".into(), "1".into()));
    // Smaller than N, so several flushes (and several files per partition) happen.
    env.push(("VIGIL__SERVICES__SINK_FLUSH_EVENTS".into(), "700".into()));
    // The sink hands alerts to the same outputs as `vigil run`: a signed webhook here.
    let receiver = WebhookReceiver::start(&tmp.path().join("received"));
    env.push((
        "VIGIL__WEBHOOKS__SPOOL_DIR".into(),
        format!("{:?}", tmp.path().join("spool").display().to_string()),
    ));
    env.push((
        "VIGIL__WEBHOOKS__ENDPOINTS".into(),
        format!(
            "[{{ url = \"http://127.0.0.1:{}/hook\", secrets = [\"{WEBHOOK_SECRET}\"], allow_private_targets = true }}]",
            receiver.port
        ),
    ));
    let events: Vec<Event> = (0..N).map(|i| event(i, 40)).collect();
    let records = event_records(&events);
    let p = producer(&broker);
    produce(&p, &topics.events, &records);

    let start = |log: &str| {
        let port = free_port();
        let mut env = env.clone();
        env.push((
            "VIGIL__SERVICES__SINK_LISTEN".into(),
            format!("127.0.0.1:{port}"),
        ));
        let lake = lake.to_str().unwrap().to_string();
        Service::start(&["sink", "--lake", &lake], &env, tmp.path().join(log), port)
    };

    let mut sink = start("sink-1.log");
    sink.wait_for("all events written and lag measured", |s| {
        s.get("/metrics").1.contains("vigil_sink_consumer_lag{")
            && s.metric("vigil_sink_events_written_total", "") >= N as f64
    });
    assert_eq!(sink.metric("vigil_sink_events_written_total", ""), N as f64);

    // At least once allows the same events again; plus an unreadable message, alerts and a dead letter.
    produce(&p, &topics.events, &records);
    produce(
        &p,
        &topics.events,
        &[("k".into(), b"{not an event".to_vec())],
    );
    // A message that says it is not JSON is kept as a dead letter, not parsed.
    let avro = rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header {
        key: "content-type",
        value: Some("application/avro"),
    });
    p.send(
        BaseRecord::to(&topics.events)
            .key("k")
            .payload(&records[0].1)
            .headers(avro),
    )
    .map_err(|(e, _)| e)
    .unwrap();
    p.flush(Duration::from_secs(60)).unwrap();
    let alert = Alert {
        alert_id: "a-1".into(),
        identity_key: "u001".into(),
        time: events[1].event_time,
        severity: "high".into(),
        score: 90.0,
        tactic: None,
        technique: None,
        reasons: vec!["test".into()],
        evidence_event_ids: vec![events[1].event_id.clone()],
        reason_key: "test".into(),
        baseline: Default::default(),
    };
    let mut alert2 = alert.clone();
    alert2.alert_id = "a-2".into();
    produce(
        &p,
        &topics.alerts,
        &[
            ("u001".into(), serde_json::to_vec(&alert).unwrap()),
            ("u001".into(), serde_json::to_vec(&alert2).unwrap()),
            // Redelivered: written once, to the lake and the feed, and delivered once.
            ("u001".into(), serde_json::to_vec(&alert).unwrap()),
        ],
    );
    let letter = DeadLetter::new("invalid_json", "bad", "upstream", 0, b"{x", 1024);
    produce(
        &p,
        &topics.deadletter,
        &[("dl".into(), serde_json::to_vec(&letter).unwrap())],
    );
    let events_label = format!("topic=\"{}\"", topics.events);
    sink.wait_for("redelivered events, alerts and dead letters flushed", |s| {
        s.metric("vigil_sink_messages_consumed_total", &events_label) >= (2 * N + 2) as f64
            && s.metric("vigil_sink_duplicates_dropped_total", "") >= N as f64
            && s.metric("vigil_sink_alerts_written_total", "") >= 2.0
            && s.metric("vigil_sink_alert_duplicates_dropped_total", "") >= 1.0
            && s.metric("vigil_sink_dead_letters_written_total", "") >= 3.0
    });
    assert_eq!(sink.metric("vigil_sink_alerts_written_total", ""), 2.0);
    assert_eq!(sink.metric("vigil_sink_events_written_total", ""), N as f64);
    assert_eq!(
        sink.metric("vigil_sink_duplicates_dropped_total", ""),
        N as f64
    );
    assert!(sink.metric("vigil_sink_flushes_total", "") >= 2.0);
    assert_metrics_named(
        &sink,
        &[
            "vigil_sink_messages_consumed_total",
            "vigil_sink_events_written_total",
            "vigil_sink_duplicates_dropped_total",
            "vigil_sink_flushes_total",
            "vigil_sink_flush_seconds_bucket",
            "vigil_sink_consumer_lag",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.verified_ids().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    sink.terminate();

    let summary = pyarrow_summary(&lake);
    assert_eq!(summary["rows"], N, "one copy of each event: {summary}");
    assert_eq!(summary["distinct_ids"], N);
    let alerts = jsonl_lines(&lake.join("alerts"));
    let mut ids: Vec<&str> = alerts
        .iter()
        .filter_map(|a| a["alert_id"].as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["a-1", "a-2"]);
    assert_eq!(
        parquet_alert_ids(&lake),
        vec!["a-1", "a-2"],
        "the alerts table"
    );
    let mut delivered = receiver.verified_ids();
    delivered.sort();
    assert_eq!(
        delivered,
        vec!["a-1", "a-2"],
        "each alert delivered once, signed"
    );
    assert!(receiver.bad_signatures().is_empty());
    let mut kinds: Vec<String> = dead_letters(&lake).into_iter().map(|d| d.kind).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec!["invalid_event", "invalid_json", "unsupported_content_type"]
    );

    // A new process knows the lake's ids from the lake itself, and resumes after what was committed.
    let mut sink = start("sink-2.log");
    produce(&p, &topics.events, &records);
    sink.wait_for("third copy dropped", |s| {
        s.metric("vigil_sink_duplicates_dropped_total", "") >= N as f64
    });
    assert_eq!(
        sink.metric("vigil_sink_messages_consumed_total", &events_label),
        N as f64,
        "a clean stop committed everything: nothing is read twice"
    );
    assert_eq!(sink.metric("vigil_sink_events_written_total", ""), 0.0);
    sink.terminate();
    let summary = pyarrow_summary(&lake);
    assert_eq!(summary["rows"], N, "{summary}");
    assert_eq!(summary["distinct_ids"], N);
}

/// Per identity key: (count, first, last) as the checkpoints hold them.
type Tallies = BTreeMap<String, (u64, String, String)>;

/// Per identity, (count, first, last) from every checkpoint file of `topic`; also the offsets.
fn read_tallies(dir: &Path, topic: &str) -> (Tallies, BTreeMap<i32, i64>) {
    let mut tallies = BTreeMap::new();
    let mut offsets = BTreeMap::new();
    for p in 0..PARTITIONS {
        let path = dir.join(topic).join(format!("{p}.json"));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let c: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(c["partition"], p);
        assert_eq!(c["state_encoding"], "json");
        offsets.insert(p, c["next_offset"].as_i64().unwrap());
        for (key, t) in c["state"]["identities"].as_object().unwrap() {
            let previous = tallies.insert(
                key.clone(),
                (
                    t["count"].as_u64().unwrap(),
                    t["first"].as_str().unwrap().to_string(),
                    t["last"].as_str().unwrap().to_string(),
                ),
            );
            assert!(previous.is_none(), "{key} has state in two partitions");
        }
    }
    (tallies, offsets)
}

#[test]
fn detect_tally_checkpoints_count_every_event_once_across_kill_9() {
    const N: usize = 6_000;
    const IDENTITIES: usize = 50;
    let broker = Broker::start();
    let topics = Topics::new(&broker, "detect");
    let tmp = tempfile::tempdir().unwrap();
    let checkpoints = tmp.path().join("checkpoints");
    let mut env = topics.env(&broker);
    env.push(("VIGIL__KAFKA__DETECT_GROUP".into(), unique("detect-group")));
    env.push((
        "VIGIL__SERVICES__CHECKPOINT_DIR".into(),
        checkpoints.to_str().unwrap().into(),
    ));
    env.push((
        "VIGIL__SERVICES__CHECKPOINT_INTERVAL_SECONDS".into(),
        "1".into(),
    ));
    let events: Vec<Event> = (0..N).map(|i| event(i, IDENTITIES)).collect();
    let mut expected: Tallies = BTreeMap::new();
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    for e in &events {
        let entry = expected.entry(e.identity.key.clone()).or_insert((
            0,
            stamp(e.event_time),
            stamp(e.event_time),
        ));
        entry.0 += 1;
        entry.2 = stamp(e.event_time);
    }
    let records = event_records(&events);
    let p = producer(&broker);
    produce(&p, &topics.events, &records[..N / 2]);

    let start = |log: &str| {
        let port = free_port();
        let mut env = env.clone();
        env.push((
            "VIGIL__SERVICES__DETECT_LISTEN".into(),
            format!("127.0.0.1:{port}"),
        ));
        Service::start(
            &["detect", "--detector", "tally"],
            &env,
            tmp.path().join(log),
            port,
        )
    };

    let detect = start("detect-1.log");
    // The second half arrives while the first process runs and is killed.
    let rest = records[N / 2..].to_vec();
    let events_topic = topics.events.clone();
    let late = std::thread::spawn(move || {
        for chunk in rest.chunks(100) {
            produce(&p, &events_topic, chunk);
            std::thread::sleep(Duration::from_millis(40));
        }
        p
    });
    // Killed as soon as the first checkpoint exists: its offsets were only stored, for a background
    // commit once a second, so the group's committed offsets most likely lag the checkpoint, the case
    // the replay rule is for.
    let started = Instant::now();
    while read_tallies(&checkpoints, &topics.events)
        .0
        .values()
        .map(|t| t.0)
        .sum::<u64>()
        == 0
    {
        assert!(
            started.elapsed() < STUCK,
            "no checkpoint with state:\n{}",
            detect.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    detect.kill_9();
    let (at_kill, _) = read_tallies(&checkpoints, &topics.events);
    eprintln!(
        "killed with {} events checkpointed",
        at_kill.values().map(|t| t.0).sum::<u64>()
    );
    let _producer = late.join().unwrap();

    // A supervisor restarts after a back-off; this one outlasts the dead member's session
    // (session.timeout.ms = 10 s). Tansu 0.6 gives a member joining while a dead one is still in the
    // group no partitions, and does not rebalance when the dead one expires later.
    std::thread::sleep(Duration::from_secs(12));
    let mut detect = start("detect-2.log");
    let highs = high_watermarks(&broker, &topics.events);
    assert_eq!(
        highs.values().sum::<i64>(),
        N as i64,
        "all events are on the broker"
    );
    detect.wait_for("checkpoints at the end of every partition", |_| {
        read_tallies(&checkpoints, &topics.events).1 == highs
    });
    // Lag is measured every few seconds; wait for a first measurement before checking the names.
    detect.wait_for("consumer lag measured", |s| {
        s.get("/metrics").1.contains("vigil_detect_consumer_lag{")
    });
    assert_metrics_named(
        &detect,
        &[
            "vigil_detect_events_consumed_total",
            "vigil_detect_alerts_produced_total",
            "vigil_detect_checkpoint_age_seconds",
            "vigil_detect_consumer_lag",
            "vigil_detect_processing_seconds_bucket",
        ],
    );
    // Informational: how many redelivered events the restored checkpoints already covered.
    eprintln!(
        "restart skipped {} redelivered events",
        detect.metric("vigil_detect_events_skipped_total", "")
    );
    detect.terminate();

    let (tallies, offsets) = read_tallies(&checkpoints, &topics.events);
    assert_eq!(offsets, highs);
    assert_eq!(tallies.len(), IDENTITIES);
    assert_eq!(
        tallies.values().map(|t| t.0).sum::<u64>(),
        N as u64,
        "no event lost or counted twice"
    );
    assert_eq!(
        tallies, expected,
        "per identity: count, first and last event time"
    );
}
