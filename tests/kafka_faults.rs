//! Kafka mode under faults, against a real broker (Tansu) and the real `vigil ingest`, `vigil detect`
//! and `vigil sink` processes: a service killed with SIGKILL mid-stream and restarted, the broker
//! restarted mid-stream, malformed records on a raw topic. After each, once everything has drained,
//! every simulated event is in the lake exactly once (the sink deduplicates by event id), and the tally
//! detector's checkpoints count every message of the events topic exactly once (its state and its
//! offsets are checkpointed together, so a restart neither loses nor double-counts).
//!
//! Completion is detected by polling the broker's committed offsets, the detect checkpoints and the
//! lake (read by pyarrow), with timeouts of minutes; nothing asserts on elapsed time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod kafka_support;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Broker, dead_letters};
use kafka_support::{
    Deployment, Kind, Service, checkpoints_caught_up, group_caught_up, lake_counts, lake_ids, poll,
    produce, produce_in_background, read_topic, simulate_records, tally_total, topic_messages,
};
use vigil_schemas::DeadLetter;

/// At least 100k events (checked): 600 identities over 2 days.
const IDENTITIES: u32 = 600;
const DAYS: u32 = 2;
const RAW_TOPICS: [&str; 3] = ["vigil.raw.aws", "vigil.raw.azure", "vigil.raw.gcp"];
const EVENTS_TOPIC: &str = "vigil.events";
const DEADLETTER_TOPIC: &str = "vigil.deadletter";
/// Generous: 100k events cross the broker three times at ~18k msg/s consumed, on 2 shared cores,
/// with consumer-group rebalances after a kill.
const DRAIN: Duration = Duration::from_secs(420);
const READY: Duration = Duration::from_secs(90);
/// How long the killed service stays down: longer than the consumer session (10 s).
const SUPERVISOR_BACKOFF: Duration = Duration::from_secs(12);

/// The issue's scale: at least 100,000 events.
fn simulate_at_least_100k(seed: u64) -> kafka_support::Simulated {
    let simulated = simulate_records(IDENTITIES, DAYS, seed);
    assert!(
        simulated.ids.len() >= 100_000,
        "the simulation gave {} events",
        simulated.ids.len()
    );
    simulated
}

/// The three services, started and ready (each has joined its group and has its partitions).
fn start_pipeline(d: &Deployment) -> (Service, Service, Service) {
    let mut ingest = d.start(Kind::Ingest, &[]);
    // A supervisor restarts after a back-off; this one outlasts the dead member's session (10 s):
    // Tansu 0.6 gives a member that joins while a dead one is still in the group no partitions, and
    // does not rebalance when the dead one expires later.
    std::thread::sleep(SUPERVISOR_BACKOFF);
    let mut detect = d.start(Kind::Detect, &["--detector", "tally"]);
    let mut sink = d.start(Kind::Sink, &[]);
    ingest.wait_ready(READY);
    detect.wait_ready(READY);
    sink.wait_ready(READY);
    (ingest, detect, sink)
}

/// Waits until every stage has consumed everything upstream of it: ingest's group has committed the
/// end of every raw topic, the detect checkpoints reflect the end of every events partition, and
/// sink's group has committed the end of the events topic. Checked upstream first, so a stage is
/// only looked at once its input is complete.
fn wait_drained(brokers: &str, d: &Deployment) {
    poll(DRAIN, Duration::from_secs(2), "pipeline drained", || {
        group_caught_up(brokers, "vigil-ingest", &RAW_TOPICS)
            .map_err(|e| format!("ingest: {e}"))?;
        checkpoints_caught_up(brokers, &d.checkpoints(), EVENTS_TOPIC)
            .map_err(|e| format!("detect: {e}"))?;
        group_caught_up(brokers, "vigil-sink", &[EVENTS_TOPIC]).map_err(|e| format!("sink: {e}"))
    });
}

/// SIGTERM to each service; each must drain and exit 0.
fn stop_all(d: &Deployment, services: Vec<Service>) {
    for mut s in services {
        let status = s.terminate(Duration::from_secs(120));
        assert!(
            status.success(),
            "vigil {} exited with {status} on SIGTERM:\n{}",
            s.kind.name(),
            d.logs()
        );
    }
}

/// The lake holds exactly the simulated events, each once; the tally counted every message of the
/// events topic once. Returns the number of messages on the events topic.
fn assert_complete(brokers: &str, d: &Deployment, expected: &BTreeSet<String>) -> u64 {
    let ids = lake_ids(&d.lake());
    let doubled: Vec<(&String, &u64)> = ids.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        doubled.is_empty(),
        "event ids stored more than once (first few): {doubled:?}"
    );
    let stored: BTreeSet<String> = ids.into_keys().collect();
    let missing: Vec<&String> = expected.difference(&stored).take(5).collect();
    let foreign: Vec<&String> = stored.difference(expected).take(5).collect();
    assert!(
        missing.is_empty() && foreign.is_empty(),
        "lake has {} of {} simulated events; missing (first few) {missing:?}, not simulated {foreign:?}\n{}",
        stored.len(),
        expected.len(),
        d.logs()
    );
    let on_topic = topic_messages(brokers, EVENTS_TOPIC).unwrap() as u64;
    assert_eq!(
        tally_total(&d.checkpoints()),
        on_topic,
        "the tally checkpoints do not count each message of the events topic exactly once"
    );
    on_topic
}

#[test]
fn detect_killed_mid_stream_resumes_from_its_checkpoints() {
    let seed = 101;
    let simulated = simulate_at_least_100k(seed);
    let expected = simulated.ids;
    let broker = Broker::start();
    let brokers = broker.bootstrap();
    let d = Deployment::new(brokers.clone());
    let (ingest, mut detect, sink) = start_pipeline(&d);
    let emitter = produce_in_background(&brokers, simulated.messages);

    // Kill once a checkpoint shows a tenth of the stream tallied: the state on disk is then partial,
    // and the restarted detect must replay exactly what follows it.
    let tenth = expected.len() as u64 / 10;
    let at_kill = poll(
        DRAIN,
        Duration::from_millis(50),
        "detect checkpointed a tenth",
        || {
            let t = tally_total(&d.checkpoints());
            if t >= tenth {
                Ok(t)
            } else {
                Err(format!("tally {t}"))
            }
        },
    );
    detect.kill9();
    assert!(
        at_kill < expected.len() as u64,
        "detect had tallied everything before it was killed ({at_kill}); the test would prove nothing"
    );
    // A supervisor restarts after a back-off; this one outlasts the dead member's session (10 s):
    // Tansu 0.6 gives a member that joins while a dead one is still in the group no partitions, and
    // does not rebalance when the dead one expires later.
    std::thread::sleep(SUPERVISOR_BACKOFF);
    let mut detect = d.start(Kind::Detect, &["--detector", "tally"]);
    emitter.join().unwrap();
    detect.wait_ready(READY);
    wait_drained(&brokers, &d);
    stop_all(&d, vec![ingest, detect, sink]);
    let on_topic = assert_complete(&brokers, &d, &expected);
    // Nothing upstream of detect was restarted, so each event crossed the events topic once.
    assert_eq!(on_topic, expected.len() as u64, "events topic messages");
}

#[test]
fn ingest_killed_mid_stream_loses_nothing_and_the_lake_keeps_one_copy() {
    let seed = 202;
    let simulated = simulate_at_least_100k(seed);
    let expected = simulated.ids;
    let broker = Broker::start();
    let brokers = broker.bootstrap();
    let d = Deployment::new(brokers.clone());
    let (mut ingest, detect, sink) = start_pipeline(&d);
    let emitter = produce_in_background(&brokers, simulated.messages);

    let tenth = expected.len() as i64 / 10;
    let at_kill = poll(
        DRAIN,
        Duration::from_millis(50),
        "ingest produced a tenth",
        || {
            let n = topic_messages(&brokers, EVENTS_TOPIC)?;
            if n >= tenth {
                Ok(n)
            } else {
                Err(format!("{n} events produced"))
            }
        },
    );
    ingest.kill9();
    assert!(
        at_kill < expected.len() as i64,
        "ingest had produced everything before it was killed ({at_kill}); the test would prove nothing"
    );
    std::thread::sleep(SUPERVISOR_BACKOFF);
    let mut ingest = d.start(Kind::Ingest, &[]);
    emitter.join().unwrap();
    ingest.wait_ready(READY);
    wait_drained(&brokers, &d);
    stop_all(&d, vec![ingest, detect, sink]);
    // Records ingest had read but not committed are read again (at least once): the events topic
    // may hold some twice, the lake must not.
    let on_topic = assert_complete(&brokers, &d, &expected);
    assert!(
        on_topic >= expected.len() as u64,
        "{on_topic} events on the topic"
    );
}

#[test]
fn broker_restart_mid_stream_is_survived() {
    let seed = 303;
    let simulated = simulate_at_least_100k(seed);
    let expected = simulated.ids;
    let mut broker = Broker::start();
    let brokers = broker.bootstrap();
    let d = Deployment::new(brokers.clone());
    let (ingest, detect, sink) = start_pipeline(&d);
    // The records are only the load here: all are on the broker before it goes away, so what is
    // tested is the services' recovery.
    produce_in_background(&brokers, simulated.messages)
        .join()
        .unwrap();
    let before = lake_counts(&d.lake()).map_or(0, |(_, distinct)| distinct);
    assert!(
        before < expected.len() as u64,
        "the sink had stored everything before the broker restart; the test would prove nothing"
    );
    broker.restart(Duration::from_secs(3));
    wait_drained(&brokers, &d);
    let mut services = vec![ingest, detect, sink];
    for s in &mut services {
        assert!(
            s.running(),
            "vigil {} exited after the broker restart:\n{}",
            s.kind.name(),
            d.logs()
        );
    }
    // Whether a service had to start itself again depends on what it was sending when the broker
    // went away; shown for whoever reads the output.
    let logs = d.logs();
    eprintln!(
        "self-restarts after the broker restart: {}",
        logs.matches("restarting").count()
    );
    stop_all(&d, services);
    assert_complete(&brokers, &d, &expected);
}

#[test]
fn malformed_raw_records_are_dead_lettered_and_the_stream_goes_on() {
    let broker = Broker::start();
    let brokers = broker.bootstrap();
    let d = Deployment::new(brokers.clone());
    let (ingest, detect, sink) = start_pipeline(&d);
    let root = common::repo_root();
    let login =
        std::fs::read(root.join("deploy/sample/aws/eventbridge-console-login.json")).unwrap();
    let trail =
        std::fs::read(root.join(
            "deploy/sample/aws/111122223333_CloudTrail_eu-west-1_20261120T1700Z_sample.json.gz",
        ))
        .unwrap();
    let malformed: Vec<Vec<u8>> = vec![
        b"this is not JSON {".to_vec(),
        br#"{"hello": "a JSON object that is no audit record"}"#.to_vec(),
        // A gzip header followed by garbage: a broken compressed delivery.
        [&[0x1f, 0x8b, 0x08, 0x00][..], b"garbage"].concat(),
        vec![0xff, 0xfe, 0x00, 0x01],
    ];
    // Good records before and after the bad ones, on one partition: the later ones arriving shows the
    // stream went on past the bad ones.
    let mut messages = vec![("vigil.raw.aws".to_string(), login.clone())];
    messages.extend(
        malformed
            .iter()
            .map(|m| ("vigil.raw.aws".to_string(), m.clone())),
    );
    messages.push(("vigil.raw.aws".to_string(), trail.clone()));

    // What the library `vigil run` uses makes of the same bytes.
    let limits = vigil_ingest::Limits::default();
    let mut expected_ids = BTreeSet::new();
    let mut expected_dead = Vec::new();
    for (_, bytes) in &messages {
        let n = vigil_ingest::normalize_bytes("test", bytes, chrono::Utc::now(), &limits);
        expected_ids.extend(n.events.into_iter().map(|e| e.event_id));
        expected_dead.extend(n.dead_letters);
    }
    assert!(expected_ids.len() > 2, "the good records give events");
    assert!(
        expected_dead.len() >= malformed.len(),
        "each bad message is refused"
    );

    produce(&brokers, &messages);
    poll(
        DRAIN,
        Duration::from_secs(1),
        "good records after the bad ones stored",
        || {
            let (_, distinct) = lake_counts(&d.lake())?;
            if distinct >= expected_ids.len() as u64 {
                Ok(())
            } else {
                Err(format!("{distinct} of {} events", expected_ids.len()))
            }
        },
    );
    let on_topic = read_topic(&brokers, DEADLETTER_TOPIC, expected_dead.len(), DRAIN);
    wait_drained(&brokers, &d);
    stop_all(&d, vec![ingest, detect, sink]);

    assert_eq!(
        lake_ids(&d.lake()).into_keys().collect::<BTreeSet<_>>(),
        expected_ids,
        "the lake's events"
    );
    // The dead-letter topic: Vigil's JSON layout with its headers, the refused bytes kept.
    let signature = |dl: &DeadLetter| (dl.kind.clone(), dl.byte_offset, dl.original_base64.clone());
    let mut from_topic = Vec::new();
    for (_, headers, value) in &on_topic {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(header("content-type").as_deref(), Some("application/json"));
        assert_eq!(
            header("vigil-schema-version").as_deref(),
            Some(vigil_schemas::SCHEMA_VERSION)
        );
        let dl: DeadLetter = serde_json::from_slice(value)
            .unwrap_or_else(|e| panic!("a dead-letter message is not a dead letter: {e}"));
        assert!(
            // `kafka:<topic>/<partition>@<offset>`: where an operator finds the original message.
            dl.source.contains("vigil.raw.aws/0"),
            "dead letter source {:?} does not name the raw topic",
            dl.source
        );
        from_topic.push(signature(&dl));
    }
    let mut wanted: Vec<_> = expected_dead.iter().map(signature).collect();
    wanted.sort();
    from_topic.sort();
    assert_eq!(from_topic, wanted, "dead letters on {DEADLETTER_TOPIC}");
    // The sink keeps them too, as JSON lines beside the lake.
    let mut in_files: Vec<_> = dead_letters(&d.lake()).iter().map(signature).collect();
    in_files.sort();
    assert_eq!(in_files, wanted, "dead letters the sink wrote");
}
