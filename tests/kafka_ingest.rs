//! `vigil ingest` against a real Kafka-compatible broker (Tansu): raw topics, HTTP push and a watched
//! folder in, events and dead letters out, at least once across SIGTERM and restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{Broker, free_port, repo_root, vigil};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::{DeadLetter, Event, SCHEMA_VERSION};

/// How long a wait may take before the test gives up (a hang guard, not a speed requirement).
const PATIENCE: Duration = Duration::from_secs(180);

/// Topic and group names of one test, unique so no test sees another's data.
#[derive(Debug, Clone)]
struct Names {
    aws: String,
    azure: String,
    gcp: String,
    events: String,
    dead: String,
    group: String,
}

impl Names {
    fn new(test: &str) -> Names {
        let n = |what: &str| format!("t-{test}-{what}");
        Names {
            aws: n("raw-aws"),
            azure: n("raw-azure"),
            gcp: n("raw-gcp"),
            events: n("events"),
            dead: n("dead"),
            group: n("ingest"),
        }
    }
}

/// A running `vigil ingest`, killed when dropped.
struct Service {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

struct Setup<'a> {
    broker: &'a Broker,
    names: &'a Names,
    work: &'a Path,
    env: Vec<(&'static str, String)>,
    args: Vec<String>,
}

impl Setup<'_> {
    fn start(&self) -> Service {
        let port = free_port();
        let log = self.work.join(format!("ingest-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = vigil();
        cmd.arg("--log")
            .arg("info,librdkafka=warn")
            .arg("ingest")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(&self.args)
            .env("VIGIL__KAFKA__BROKERS", self.broker.bootstrap())
            .env("VIGIL__KAFKA__RAW_AWS_TOPIC", &self.names.aws)
            .env("VIGIL__KAFKA__RAW_AZURE_TOPIC", &self.names.azure)
            .env("VIGIL__KAFKA__RAW_GCP_TOPIC", &self.names.gcp)
            .env("VIGIL__KAFKA__EVENTS_TOPIC", &self.names.events)
            .env("VIGIL__KAFKA__DEADLETTER_TOPIC", &self.names.dead)
            .env("VIGIL__KAFKA__INGEST_GROUP", &self.names.group)
            .env("VIGIL__KAFKA__PARTITIONS", "3")
            .env(
                "VIGIL__SERVICES__INGEST_STATE_DIR",
                format!("\"{}\"", self.work.join("state").display()),
            );
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let mut service = Service {
            child: Some(child),
            port,
            log,
        };
        service.wait_ready();
        service
    }
}

impl Service {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "vigil ingest exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if get(&self.url("/readyz")).0 == 200 {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "vigil ingest not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > PATIENCE {
                let _ = child.kill();
                panic!("vigil ingest did not stop after SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The value of one metric sample (`name{labels}` as rendered), if present.
    fn metric_opt(&self, sample: &str) -> Option<f64> {
        let (status, text) = get(&self.url("/metrics"));
        assert_eq!(status, 200, "/metrics: {text}");
        text.lines()
            .find_map(|l| {
                l.strip_prefix(sample)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .map(|v| v.trim().parse().unwrap())
    }

    /// The value of one metric sample, 0 when absent (a counter never incremented).
    fn metric(&self, sample: &str) -> f64 {
        self.metric_opt(sample).unwrap_or(0.0)
    }

    /// Waits until the sample is present with value `want`.
    fn wait_metric_present(&self, sample: &str, want: f64) {
        let started = Instant::now();
        while self.metric_opt(sample) != Some(want) {
            assert!(
                started.elapsed() < PATIENCE,
                "{sample} is {:?} instead of {want}:\n{}",
                self.metric_opt(sample),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_metric(&self, sample: &str, want: f64) {
        let started = Instant::now();
        while self.metric(sample) != want {
            assert!(
                started.elapsed() < PATIENCE,
                "{sample} is {} instead of {want}:\n{}",
                self.metric(sample),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(PATIENCE)
        .build()
        .unwrap()
}

fn get(url: &str) -> (u16, String) {
    match http().get(url).send() {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().unwrap_or_default())
        }
        Err(_) => (0, String::new()),
    }
}

fn post(url: &str, body: Vec<u8>) -> (u16, String) {
    let r = http().post(url).body(body).send().unwrap();
    let status = r.status().as_u16();
    (status, r.text().unwrap())
}

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("deploy/sample").join(rel)).unwrap()
}

/// Writes `values` to partition 0 of `topic`, in order, and waits for the broker's acknowledgements.
fn produce(broker: &Broker, topic: &str, values: &[Vec<u8>]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    for value in values {
        producer
            .send(BaseRecord::<(), _>::to(topic).partition(0).payload(value))
            .unwrap();
    }
    producer.flush(Duration::from_secs(60)).unwrap();
}

fn reader(broker: &Broker) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap()
}

/// Messages in `topic` according to the broker (sum of high minus low watermarks).
fn count(broker: &Broker, topic: &str) -> i64 {
    let consumer = reader(broker);
    partitions(&consumer, topic)
        .into_iter()
        .map(|p| {
            let (low, high) = consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap();
            high - low
        })
        .sum()
}

fn partitions(consumer: &BaseConsumer, topic: &str) -> Vec<i32> {
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    md.topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect()
}

fn wait_count(broker: &Broker, topic: &str, at_least: i64, service: &Service) {
    let started = Instant::now();
    while count(broker, topic) < at_least {
        assert!(
            started.elapsed() < PATIENCE,
            "{topic} has {} messages, expected at least {at_least}:\n{}",
            count(broker, topic),
            service.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[derive(Debug)]
struct Read {
    key: String,
    value: Vec<u8>,
    headers: BTreeMap<String, String>,
}

/// Every message in `topic`.
fn read_all(broker: &Broker, topic: &str) -> Vec<Read> {
    let consumer = reader(broker);
    let mut tpl = TopicPartitionList::new();
    let mut want = 0;
    for p in partitions(&consumer, topic) {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .unwrap();
        want += high - low;
        tpl.add_partition_offset(topic, p, Offset::Offset(low))
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    while (out.len() as i64) < want {
        assert!(
            started.elapsed() < PATIENCE,
            "read {} of {want} messages of {topic}",
            out.len()
        );
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m.unwrap();
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_string(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Read {
            key: String::from_utf8(m.key().unwrap_or_default().to_vec()).unwrap(),
            value: m.payload().unwrap_or_default().to_vec(),
            headers,
        });
    }
    out
}

/// The events on the events topic, each checked for its key (identity key) and headers.
fn read_events(broker: &Broker, topic: &str) -> Vec<Event> {
    read_all(broker, topic)
        .into_iter()
        .map(|m| {
            assert_json_headers(&m);
            let event: Event = serde_json::from_slice(&m.value).unwrap();
            assert_eq!(m.key, event.identity.key, "events are keyed by identity");
            event
        })
        .collect()
}

fn read_dead_letters(broker: &Broker, topic: &str) -> Vec<DeadLetter> {
    read_all(broker, topic)
        .into_iter()
        .map(|m| {
            assert_json_headers(&m);
            let letter: DeadLetter = serde_json::from_slice(&m.value).unwrap();
            assert_eq!(m.key, letter.source, "dead letters are keyed by source");
            letter
        })
        .collect()
}

fn assert_json_headers(m: &Read) {
    assert_eq!(
        m.headers.get("vigil-schema-version").map(String::as_str),
        Some(SCHEMA_VERSION)
    );
    assert_eq!(
        m.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
}

/// What normalizing each input on its own gives: event ids (with multiplicity) and dead-letter kinds.
fn expected(inputs: &[&[u8]]) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let mut ids = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for input in inputs {
        let out = normalize_bytes("expected", input, Utc::now(), &Limits::default());
        for e in out.events {
            *ids.entry(e.event_id).or_insert(0) += 1;
        }
        for d in out.dead_letters {
            *kinds.entry(d.kind).or_insert(0) += 1;
        }
    }
    (ids, kinds)
}

fn multiset<I: IntoIterator<Item = String>>(items: I) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for i in items {
        *out.entry(i).or_insert(0) += 1;
    }
    out
}

fn total(m: &BTreeMap<String, usize>) -> i64 {
    m.values().sum::<usize>() as i64
}

#[test]
fn raw_topics_become_events_and_dead_letters_exactly_once() {
    let broker = Broker::start();
    let names = Names::new("raw");
    let work = tempfile::tempdir().unwrap();
    let setup = Setup {
        broker: &broker,
        names: &names,
        work: work.path(),
        env: vec![],
        args: vec![],
    };
    let service = setup.start();

    let gz = sample("aws/111122223333_CloudTrail_eu-west-1_20261120T1700Z_sample.json.gz");
    let invalid = b"{\"Records\": [{\"eventVersion\": \"1.08\", oops".to_vec();
    let truncated_gzip = gz[..gz.len() / 2].to_vec();
    // The broken messages come first in their partition: what follows them must still arrive.
    let aws = vec![
        invalid.clone(),
        truncated_gzip.clone(),
        gz,
        sample("aws/eventbridge-console-login.json"),
    ];
    let azure = vec![
        sample("azure/activity-log-export.json"),
        sample("azure/entra-signins.ndjson"),
    ];
    let gcp = vec![
        sample("gcp/audit-export.ndjson"),
        sample("gcp/pubsub-push.json"),
    ];
    produce(&broker, &names.aws, &aws);
    produce(&broker, &names.azure, &azure);
    produce(&broker, &names.gcp, &gcp);

    let all: Vec<&[u8]> = aws
        .iter()
        .chain(&azure)
        .chain(&gcp)
        .map(Vec::as_slice)
        .collect();
    let (ids, kinds) = expected(&all);
    assert!(total(&ids) >= 20, "the samples hold events: {ids:?}");
    assert!(
        kinds.contains_key("invalid_json") && kinds.contains_key("bad_gzip"),
        "{kinds:?}"
    );

    wait_count(&broker, &names.events, total(&ids), &service);
    wait_count(&broker, &names.dead, total(&kinds), &service);
    service.wait_metric(
        &format!(
            "vigil_ingest_consumed_messages_total{{topic=\"{}\"}}",
            names.aws
        ),
        4.0,
    );
    service.wait_metric("vigil_ingest_events_produced_total", total(&ids) as f64);
    service.wait_metric(
        "vigil_ingest_dead_letters_produced_total{kind=\"bad_gzip\"}",
        kinds["bad_gzip"] as f64,
    );
    // Lag comes from the consumer's statistics (every 5 s): caught up on the partition written to.
    service.wait_metric_present(
        &format!(
            "vigil_ingest_consumer_lag_messages{{partition=\"0\",topic=\"{}\"}}",
            names.aws
        ),
        0.0,
    );
    assert_eq!(get(&service.url("/healthz")).0, 200);
    assert_eq!(get(&service.url("/readyz")).0, 200);
    // Every raw message is timed from receipt to its last acknowledgement.
    service.wait_metric(
        "vigil_ingest_processing_seconds_count{origin=\"kafka\"}",
        8.0,
    );
    let status = service.terminate();
    assert!(status.success(), "SIGTERM must end in exit 0, got {status}");

    // Nothing more can arrive now: the counts are final.
    let events = read_events(&broker, &names.events);
    assert_eq!(multiset(events.iter().map(|e| e.event_id.clone())), ids);
    let letters = read_dead_letters(&broker, &names.dead);
    assert_eq!(multiset(letters.iter().map(|d| d.kind.clone())), kinds);
    for letter in &letters {
        assert!(!letter.reason.is_empty());
        assert!(
            [&names.aws, &names.azure, &names.gcp]
                .iter()
                .any(|t| letter.source.starts_with(&format!("kafka:{t}/0@"))),
            "{}",
            letter.source
        );
    }
    let invalid_letter = letters
        .iter()
        .find(|d| d.kind == "invalid_json")
        .expect("the invalid JSON message is dead-lettered");
    assert_eq!(invalid_letter.source, format!("kafka:{}/0@0", names.aws));
    assert_eq!(
        invalid_letter.original().as_deref(),
        Some(invalid.as_slice())
    );
    assert!(
        letters
            .iter()
            .any(|d| d.kind == "bad_gzip" && d.source == format!("kafka:{}/0@1", names.aws))
    );
}

#[test]
fn sigterm_commits_offsets_and_a_restart_does_not_re_emit() {
    let broker = Broker::start();
    let names = Names::new("restart");
    let work = tempfile::tempdir().unwrap();
    let setup = Setup {
        broker: &broker,
        names: &names,
        work: work.path(),
        env: vec![],
        args: vec![],
    };
    let first = vec![
        sample("gcp/audit-export.ndjson"),
        sample("gcp/pubsub-push.json"),
    ];
    let (ids_first, _) = expected(&[&first[0], &first[1]]);
    let service = setup.start();
    produce(&broker, &names.gcp, &first);
    wait_count(&broker, &names.events, total(&ids_first), &service);
    let status = service.terminate();
    assert!(status.success(), "SIGTERM must end in exit 0, got {status}");
    assert_eq!(count(&broker, &names.events), total(&ids_first));

    // The group's committed offset is past both messages.
    let group: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", &names.group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&names.gcp, 0);
    let committed = group
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    let offset = committed.find_partition(&names.gcp, 0).map(|e| e.offset());
    assert_eq!(offset, Some(Offset::Offset(2)));
    drop(group);

    // A restarted service starts after them: a new message behind them in the same partition is the
    // only thing emitted (a re-read would re-emit the first two before it).
    let service = setup.start();
    let second = sample("gcp/pubsub-push.json");
    let mut ids_second = expected(&[&second]).0;
    produce(&broker, &names.gcp, &[second]);
    wait_count(
        &broker,
        &names.events,
        total(&ids_first) + total(&ids_second),
        &service,
    );
    let status = service.terminate();
    assert!(status.success(), "SIGTERM must end in exit 0, got {status}");
    let events = read_events(&broker, &names.events);
    let mut want = ids_first;
    for (id, n) in ids_second.iter_mut() {
        *want.entry(id.clone()).or_insert(0) += *n;
    }
    assert_eq!(multiset(events.into_iter().map(|e| e.event_id)), want);
}

#[test]
fn http_push_answers_after_the_broker_acknowledged() {
    let broker = Broker::start();
    let names = Names::new("push");
    let work = tempfile::tempdir().unwrap();
    let setup = Setup {
        broker: &broker,
        names: &names,
        work: work.path(),
        env: vec![("VIGIL__INGEST__MAX_INPUT_BYTES", "20000".into())],
        args: vec![],
    };
    let service = setup.start();

    let mut seen_events = 0;
    for (path, body) in [
        ("/ingest/gcp", sample("gcp/pubsub-push.json")),
        ("/ingest", sample("azure/entra-signins.ndjson")),
        ("/ingest/aws", sample("aws/eventbridge-console-login.json")),
        ("/ingest/AZURE", sample("azure/activity-log-export.json")),
    ] {
        let (want, _) = expected(&[&body]);
        let (status, text) = post(&service.url(path), body);
        assert_eq!(status, 200, "{path}: {text}");
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            answer["events"].as_i64(),
            Some(total(&want)),
            "{path}: {text}"
        );
        assert_eq!(answer["dead_letters"].as_i64(), Some(0), "{path}: {text}");
        seen_events += total(&want);
        // No waiting: a 200 means the events are already in the topic.
        assert_eq!(count(&broker, &names.events), seen_events, "after {path}");
    }
    let events = read_events(&broker, &names.events);
    assert_eq!(events.len() as i64, seen_events);

    let (status, text) = post(&service.url("/ingest"), b"this is not JSON\n".to_vec());
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["events"].as_i64(), Some(0));
    let letters = answer["dead_letters"].as_i64().unwrap();
    assert!(letters >= 1, "{text}");
    assert_eq!(count(&broker, &names.dead), letters);
    let stored = read_dead_letters(&broker, &names.dead);
    assert!(
        stored.iter().all(|d| d.source.starts_with("http:auto#")),
        "{stored:?}"
    );

    let (status, text) = post(&service.url("/ingest"), Vec::new());
    assert_eq!(status, 400, "{text}");
    let (status, text) = post(&service.url("/ingest/gcp"), vec![b' '; 20_001]);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("max_input_bytes"), "{text}");
    let (status, text) = post(&service.url("/ingest/oracle"), b"{}".to_vec());
    assert_eq!(status, 404, "{text}");
    // Refused requests produced nothing.
    assert_eq!(count(&broker, &names.events), seen_events);
    assert_eq!(count(&broker, &names.dead), letters);

    assert_eq!(
        service.metric("vigil_ingest_http_requests_total{status=\"200\"}"),
        5.0
    );
    assert_eq!(
        service.metric("vigil_ingest_http_requests_total{status=\"400\"}"),
        1.0
    );
    assert_eq!(
        service.metric("vigil_ingest_http_requests_total{status=\"413\"}"),
        1.0
    );
    assert_eq!(
        service.metric("vigil_ingest_events_produced_total"),
        seen_events as f64
    );
    assert_eq!(
        service.metric("vigil_ingest_processing_seconds_count{origin=\"http\"}"),
        5.0
    );
    assert_eq!(get(&service.url("/healthz")).0, 200);
    assert_eq!(get(&service.url("/readyz")).0, 200);
    let status = service.terminate();
    assert!(status.success(), "SIGTERM must end in exit 0, got {status}");
}

#[test]
fn push_answers_503_when_the_broker_does_not_acknowledge() {
    let broker = Broker::start();
    let names = Names::new("nobroker");
    let work = tempfile::tempdir().unwrap();
    let setup = Setup {
        broker: &broker,
        names: &names,
        work: work.path(),
        env: vec![],
        args: vec!["--ack-timeout-seconds".into(), "2".into()],
    };
    let service = setup.start();
    drop(setup);
    drop(broker);
    let (status, text) = post(&service.url("/ingest/gcp"), sample("gcp/pubsub-push.json"));
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("did not acknowledge"), "{text}");
    assert_eq!(
        service.metric("vigil_ingest_http_requests_total{status=\"503\"}"),
        1.0
    );
}

/// Writes `bytes` to `dir/name` the way a sync tool does: a temporary name, then a rename.
fn drop_file(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[test]
fn watched_folder_files_are_ingested_once_across_restarts() {
    let broker = Broker::start();
    let names = Names::new("watch");
    let work = tempfile::tempdir().unwrap();
    let watched = work.path().join("watched");
    std::fs::create_dir_all(watched.join("sub/2026")).unwrap();
    // Never to be read: hidden, and still being written under a temporary name.
    std::fs::write(
        watched.join(".partial.ndjson"),
        sample("azure/entra-signins.ndjson"),
    )
    .unwrap();
    std::fs::write(
        watched.join("activity.json.tmp"),
        sample("azure/activity-log-export.json"),
    )
    .unwrap();
    let setup = Setup {
        broker: &broker,
        names: &names,
        work: work.path(),
        env: vec![("VIGIL__SERVICES__WATCH_INTERVAL_SECONDS", "1".into())],
        args: vec!["--watch".into(), watched.display().to_string()],
    };
    let service = setup.start();

    let first = sample("gcp/audit-export.ndjson");
    let (ids_first, kinds_first) = expected(&[&first]);
    drop_file(&watched.join("sub/2026"), "audit.ndjson", &first);
    wait_count(&broker, &names.events, total(&ids_first), &service);
    service.wait_metric("vigil_ingest_files_ingested_total", 1.0);
    let status = service.terminate();
    assert!(status.success(), "SIGTERM must end in exit 0, got {status}");
    let events = read_events(&broker, &names.events);
    assert_eq!(multiset(events.into_iter().map(|e| e.event_id)), ids_first);

    // After a restart only the new file is read: the old one is remembered. The new file sorts after
    // the old one, and a file is only taken on its second sighting, so had the old file been
    // forgotten it would have been read again before the new one's events could arrive.
    let service = setup.start();
    let second = sample("aws/eventbridge-console-login.json");
    let (ids_second, kinds_second) = expected(&[&second]);
    drop_file(&watched, "zz-console.json", &second);
    wait_count(
        &broker,
        &names.events,
        total(&ids_first) + total(&ids_second),
        &service,
    );
    service.wait_metric("vigil_ingest_files_ingested_total", 1.0);
    let status = service.terminate();
    assert!(status.success(), "SIGTERM must end in exit 0, got {status}");
    let events = read_events(&broker, &names.events);
    let mut want = ids_first;
    for (id, n) in ids_second {
        *want.entry(id).or_insert(0) += n;
    }
    assert_eq!(multiset(events.into_iter().map(|e| e.event_id)), want);
    assert_eq!(
        count(&broker, &names.dead),
        total(&kinds_first) + total(&kinds_second)
    );
    let state = std::fs::read_to_string(work.path().join("state/watched-files.jsonl")).unwrap();
    assert_eq!(state.lines().count(), 2, "{state}");
}

#[test]
fn help_teaches_inputs_outputs_and_an_example() {
    let out = common::run_vigil(&["ingest", "--help"], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "kafka.raw_aws_topic",
        "POST /ingest",
        "kafka.events_topic",
        "kafka.deadletter_topic",
        "--watch",
        "VIGIL__KAFKA__BROKERS=",
    ] {
        assert!(text.contains(needle), "help lacks {needle}:\n{text}");
    }
}
