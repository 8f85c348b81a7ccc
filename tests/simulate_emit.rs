//! `vigil simulate --emit`: the same simulated records reach stdout, a real HTTP endpoint (axum on
//! loopback) and a real Kafka-compatible broker (Tansu), each exactly once, paced when asked.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Broker, HttpReceiver, vigil};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::{Event, Labels};

/// The simulation every test emits: small, one day, fixed seed.
const SIM: &[&str] = &["--identities", "24", "--days", "1", "--seed", "7"];

fn simulate(extra: &[&str]) -> Output {
    vigil()
        .arg("simulate")
        .args(SIM)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start vigil: {e}"))
}

fn simulate_ok(extra: &[&str]) -> Output {
    let out = simulate(extra);
    assert!(
        out.status.success(),
        "vigil simulate {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The number of records the same simulation writes as files (`labels.json`'s `events`).
fn expected_event_count() -> u64 {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let out_dir = dir.path().join("estate");
    simulate_ok(&["--out", path_str(&out_dir), "--no-progress"]);
    let text = std::fs::read_to_string(out_dir.join("labels.json"))
        .unwrap_or_else(|e| panic!("labels.json: {e}"));
    let labels: Labels =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("labels.json is not labels: {e}"));
    assert!(
        labels.events > 100,
        "a tiny simulation: {} events",
        labels.events
    );
    labels.events
}

fn path_str(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 temp path {}", p.display()))
}

/// Normalizes NDJSON, asserting nothing was dead-lettered.
fn normalize(what: &str, bytes: &[u8]) -> Vec<Event> {
    let normalized = normalize_bytes(what, bytes, chrono::Utc::now(), &Limits::default());
    assert!(
        normalized.dead_letters.is_empty(),
        "{what}: {} dead letters, first: {:?}",
        normalized.dead_letters.len(),
        normalized.dead_letters.first()
    );
    normalized.events
}

/// Event ids as a multiset (sorted), so duplicates and losses both show.
fn sorted_ids(events: &[Event]) -> Vec<String> {
    let mut ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    ids.sort();
    ids
}

/// The events `--emit -` gives, normalized.
fn stdout_events() -> Vec<Event> {
    let out = simulate_ok(&["--emit", "-"]);
    normalize("stdout", &out.stdout)
}

#[test]
fn stdout_emits_every_record_as_one_ndjson_line() {
    let expected = expected_event_count();
    let out = simulate_ok(&["--emit", "-"]);
    let text = String::from_utf8(out.stdout.clone())
        .unwrap_or_else(|e| panic!("stdout is not UTF-8: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len() as u64,
        expected,
        "one line per simulated record"
    );
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a line is not JSON ({e}): {line}"));
        assert!(value.is_object(), "not a JSON object: {line}");
    }
    let events = normalize("stdout", &out.stdout);
    assert_eq!(
        events.len() as u64,
        expected,
        "every line normalizes to one event"
    );
    // All three clouds are in the one stream.
    let mut providers = BTreeMap::new();
    for e in &events {
        *providers.entry(e.provider.as_str()).or_insert(0u64) += 1;
    }
    assert_eq!(
        providers.keys().copied().collect::<Vec<_>>(),
        ["aws", "azure", "gcp"],
        "{providers:?}"
    );
    // Event-time order.
    assert!(
        events
            .windows(2)
            .all(|w| w[0].event_time <= w[1].event_time),
        "stdout records are not in event-time order"
    );
    // The summary goes to stderr, keeping stdout for records.
    assert!(String::from_utf8_lossy(&out.stderr).contains("events"));
}

#[test]
fn stdout_reader_going_away_ends_quietly() {
    let mut child = vigil()
        .arg("simulate")
        .args(SIM)
        .args(["--emit", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start vigil: {e}"));
    // Read one line and close the pipe, like `| head -1`.
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("no stdout pipe"));
    let mut reader = std::io::BufReader::new(stdout);
    let mut first = String::new();
    std::io::BufRead::read_line(&mut reader, &mut first)
        .unwrap_or_else(|e| panic!("reading the first line: {e}"));
    drop(reader);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for vigil: {e}"));
    assert!(first.starts_with('{'), "first line: {first}");
    assert!(
        out.status.success(),
        "a closed stdout made vigil fail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn http_receives_every_record_exactly_once_in_single_provider_batches() {
    let expected = stdout_events();
    let receiver = HttpReceiver::start();
    let batch = 100;
    simulate_ok(&[
        "--emit",
        &receiver.url("/ingest"),
        "--batch",
        &batch.to_string(),
    ]);
    let requests = receiver.requests();
    assert!(!requests.is_empty(), "nothing was posted");
    let mut events = Vec::new();
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/ingest");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let lines = r
            .body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        assert!(
            (1..=batch).contains(&lines),
            "a batch of {lines} records (batch size {batch})"
        );
        let batch_events = normalize("http batch", &r.body);
        assert_eq!(batch_events.len(), lines);
        let provider = r
            .header("x-vigil-provider")
            .unwrap_or_else(|| panic!("a batch without X-Vigil-Provider"));
        for e in &batch_events {
            assert_eq!(e.provider.as_str(), provider, "a batch mixes providers");
        }
        events.extend(batch_events);
    }
    assert_eq!(
        sorted_ids(&events),
        sorted_ids(&expected),
        "the endpoint did not get every record exactly once"
    );
    // 2 500-odd records in batches of at most 100 over three providers.
    assert!(
        requests.len() >= expected.len() / batch,
        "{} requests",
        requests.len()
    );
}

#[test]
fn http_retries_server_errors_without_losing_or_repeating_records() {
    let expected = stdout_events();
    // The first two POSTs are refused with 503; the emitter retries them.
    let receiver = HttpReceiver::failing_first(2, 503);
    simulate_ok(&["--emit", &receiver.url("/"), "--batch", "500"]);
    let requests = receiver.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 503).count(), 2);
    // The retried body is the refused one.
    assert_eq!(requests[0].body, requests[2].body);
    let mut events = Vec::new();
    for r in requests.iter().filter(|r| r.status == 200) {
        events.extend(normalize("http batch", &r.body));
    }
    assert_eq!(sorted_ids(&events), sorted_ids(&expected));
}

#[test]
fn http_client_errors_fail_the_run_naming_the_status() {
    let receiver = HttpReceiver::failing_first(usize::MAX, 403);
    let out = simulate(&["--emit", &receiver.url("/ingest")]);
    assert!(!out.status.success(), "a 403 was taken as delivered");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("403"),
        "the error does not name the status: {stderr}"
    );
    // A client error is not retried.
    assert_eq!(receiver.requests().len(), 1);
}

#[test]
fn kafka_receives_every_record_keyed_by_identity_with_headers() {
    use rdkafka::ClientConfig;
    use rdkafka::Message;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Headers;

    let expected = stdout_events();
    let broker = Broker::start();
    let target = format!("kafka://{}/audit.{{provider}}", broker.bootstrap());
    let out = simulate(&["--emit", &target]);
    assert!(
        out.status.success(),
        "vigil simulate to Kafka failed: {}\nbroker log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        broker.log()
    );

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "simulate-emit-test")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap_or_else(|e| panic!("consumer: {e}"));
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("metadata: {e}"));
    let mut assignment = rdkafka::TopicPartitionList::new();
    let mut topics = Vec::new();
    for topic in metadata.topics() {
        if !topic.name().starts_with("audit.") {
            continue;
        }
        topics.push(topic.name().to_string());
        assert_eq!(
            topic.partitions().len(),
            3,
            "topic {} partitions",
            topic.name()
        );
        for p in topic.partitions() {
            assignment
                .add_partition_offset(topic.name(), p.id(), rdkafka::Offset::Beginning)
                .unwrap_or_else(|e| panic!("assignment: {e}"));
        }
    }
    topics.sort();
    assert_eq!(topics, ["audit.aws", "audit.azure", "audit.gcp"]);
    consumer
        .assign(&assignment)
        .unwrap_or_else(|e| panic!("assign: {e}"));

    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while events.len() < expected.len() && Instant::now() < deadline {
        let Some(result) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = result.unwrap_or_else(|e| panic!("consuming: {e}"));
        let payload = message
            .payload()
            .unwrap_or_else(|| panic!("a message without a value"));
        let mut one = normalize("kafka message", payload);
        assert_eq!(one.len(), 1, "a message holds one record");
        let Some(event) = one.pop() else { continue };
        let key = message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_else(|| panic!("a message without a key"));
        assert_eq!(
            key, event.identity.key,
            "message key is not the identity key"
        );
        assert_eq!(
            message.topic(),
            format!("audit.{}", event.provider.as_str()),
            "record on another provider's topic"
        );
        let headers = message
            .headers()
            .unwrap_or_else(|| panic!("a message without headers"));
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
        assert_eq!(
            header("vigil-provider").as_deref(),
            Some(event.provider.as_str())
        );
        events.push(event);
    }
    assert_eq!(
        sorted_ids(&events),
        sorted_ids(&expected),
        "the topics do not hold every record exactly once"
    );
    // Nothing more arrives.
    let extra = consumer.poll(Duration::from_secs(1));
    assert!(
        extra.is_none(),
        "more messages than records: {:?}",
        extra.map(|m| m.is_ok())
    );
}

#[test]
fn kafka_without_a_broker_fails_clearly() {
    let port = common::free_port();
    let out = simulate(&["--emit", &format!("kafka://127.0.0.1:{port}/audit")]);
    assert!(!out.status.success(), "emitting to no broker succeeded");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no Kafka broker answers"),
        "unclear error: {stderr}"
    );
}

#[test]
fn rate_paces_the_emission() {
    let expected = expected_event_count();
    let rate = 1000.0;
    let started = Instant::now();
    let out = simulate_ok(&["--emit", "-", "--rate", "1000"]);
    let elapsed = started.elapsed().as_secs_f64();
    let lines = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    assert_eq!(lines, expected);
    // The first record goes at once, each next one 1/rate later: never faster than that.
    let least = (expected - 1) as f64 / rate;
    assert!(
        elapsed >= least,
        "{expected} records at {rate}/s took {elapsed:.2}s, less than {least:.2}s"
    );
}
