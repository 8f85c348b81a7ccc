//! Kafka mode end to end against a real broker (Tansu): the shipped sample and the public corpus, one
//! message per file on its provider's raw topic, through the real `vigil ingest`, `vigil detect` and
//! `vigil sink` processes, give the same events and the same dead letters as `vigil run` over the same
//! files. The lake is read by pyarrow, the topics by a plain rdkafka consumer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod kafka_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Broker, dead_letters, repo_root, run_pipeline};
use kafka_support::{
    Deployment, Kind, group_caught_up, lake_counts, lake_ids, poll, produce, read_topic,
    topic_messages,
};
use vigil_schemas::{DeadLetter, Event};

const RAW_TOPICS: [&str; 3] = ["vigil.raw.aws", "vigil.raw.azure", "vigil.raw.gcp"];
const EVENTS_TOPIC: &str = "vigil.events";
const DEADLETTER_TOPIC: &str = "vigil.deadletter";
const DRAIN: Duration = Duration::from_secs(300);
const READY: Duration = Duration::from_secs(90);

/// Every file `vigil run` reads under the sample's and the corpus's provider folders, with the raw
/// topic of the provider folder it is in.
fn inputs() -> Vec<(PathBuf, &'static str)> {
    let root = repo_root();
    let mut out = Vec::new();
    for base in [root.join("deploy/sample"), root.join("../shared/corpus")] {
        for (provider, topic) in ["aws", "azure", "gcp"].into_iter().zip(RAW_TOPICS) {
            let dir = base.join(provider);
            let files = vigil_ingest::source::expand(std::slice::from_ref(&dir))
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            for input in files {
                if let vigil_ingest::source::Input::File(path) = input {
                    out.push((path, topic));
                }
            }
        }
    }
    out
}

/// (identity key, provider) per event id of a lake, read by pyarrow.
fn lake_rows(lake: &Path) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let script = r#"
import sys, os, json
import pyarrow.dataset as ds
table = ds.dataset(os.path.join(sys.argv[1], "table=events"), format="parquet", partitioning="hive").to_table(
    columns=["event_id", "identity_key", "provider"])
rows = {}
for i, k, p in zip(*(table.column(c).to_pylist() for c in ["event_id", "identity_key", "provider"])):
    rows.setdefault(i, []).append([k, p])
print(json.dumps(rows))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "pyarrow could not read {}: {}",
        lake.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter()
        .map(|(id, rows)| (id, rows.into_iter().collect()))
        .collect()
}

/// What identifies a dead letter independently of where it was read from (a file path for `vigil run`,
/// a topic and partition in Kafka mode): why, where in the input, and the refused bytes.
fn signature(dl: &DeadLetter) -> (String, u64, Option<u64>, String) {
    (
        dl.kind.clone(),
        dl.byte_offset,
        dl.record_index,
        dl.original_base64.clone(),
    )
}

fn sorted_signatures(dls: &[DeadLetter]) -> Vec<(String, u64, Option<u64>, String)> {
    let mut out: Vec<_> = dls.iter().map(signature).collect();
    out.sort();
    out
}

#[test]
fn sample_and_corpus_through_kafka_match_vigil_run() {
    let files = inputs();
    assert!(files.len() > 400, "only {} input files", files.len());

    // The reference: `vigil run` over the same files.
    let reference = tempfile::tempdir().unwrap();
    let reference_lake = reference.path().join("lake");
    let paths: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    run_pipeline(&paths, &reference_lake, &[]);
    let want_rows = lake_rows(&reference_lake);
    let want_dead = sorted_signatures(&dead_letters(&reference_lake));
    assert!(
        want_rows.len() > 500,
        "{} reference events",
        want_rows.len()
    );
    assert!(
        !want_dead.is_empty(),
        "the corpus holds records that are dead-lettered"
    );

    let broker = Broker::start();
    let brokers = broker.bootstrap();
    let d = Deployment::new(brokers.clone());
    let mut ingest = d.start(Kind::Ingest, &[]);
    let mut detect = d.start(Kind::Detect, &[]);
    let mut sink = d.start(Kind::Sink, &[]);
    ingest.wait_ready(READY);
    detect.wait_ready(READY);
    sink.wait_ready(READY);

    let messages: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(path, topic)| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (topic.to_string(), bytes)
        })
        .collect();
    produce(&brokers, &messages);

    poll(DRAIN, Duration::from_secs(2), "pipeline drained", || {
        group_caught_up(&brokers, "vigil-ingest", &RAW_TOPICS)
            .map_err(|e| format!("ingest: {e}"))?;
        group_caught_up(&brokers, "vigil-sink", &[EVENTS_TOPIC])
            .map_err(|e| format!("sink: {e}"))?;
        let (_, distinct) = lake_counts(&d.lake())?;
        let dead = dead_letters(&d.lake()).len();
        if distinct >= want_rows.len() as u64 && dead >= want_dead.len() {
            Ok(())
        } else {
            Err(format!(
                "{distinct} of {} events, {dead} of {} dead letters",
                want_rows.len(),
                want_dead.len()
            ))
        }
    });
    for mut s in [ingest, detect, sink] {
        let status = s.terminate(Duration::from_secs(120));
        assert!(
            status.success(),
            "vigil {} exited with {status}:\n{}",
            s.kind.name(),
            d.logs()
        );
    }

    // Every event `vigil run` made is in the lake, once, with the same identity and provider. (The
    // corpus repeats a few records across files: `vigil run` stores each copy, the sink one per id.)
    let got_rows = lake_rows(&d.lake());
    let missing: Vec<&String> = want_rows
        .keys()
        .filter(|id| !got_rows.contains_key(*id))
        .take(5)
        .collect();
    let extra: Vec<&String> = got_rows
        .keys()
        .filter(|id| !want_rows.contains_key(*id))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "Kafka lake {} ids, reference {}; missing {missing:?}, extra {extra:?}",
        got_rows.len(),
        want_rows.len()
    );
    let counts = lake_ids(&d.lake());
    assert!(
        counts.values().all(|n| *n == 1),
        "the Kafka lake stores an event id more than once"
    );
    for (id, got) in &got_rows {
        assert!(
            got.is_subset(&want_rows[id]),
            "event {id}: Kafka lake {got:?}, reference {:?}",
            want_rows[id]
        );
    }

    // The same dead letters, in the sink's files and on the dead-letter topic.
    assert_eq!(
        sorted_signatures(&dead_letters(&d.lake())),
        want_dead,
        "dead letters the sink wrote"
    );
    let on_topic = read_topic(&brokers, DEADLETTER_TOPIC, want_dead.len(), DRAIN);
    let from_topic: Vec<DeadLetter> = on_topic
        .iter()
        .map(|(_, _, v)| serde_json::from_slice(v).unwrap_or_else(|e| panic!("dead letter: {e}")))
        .collect();
    assert_eq!(
        sorted_signatures(&from_topic),
        want_dead,
        "dead letters on {DEADLETTER_TOPIC}"
    );

    // The events topic: JSON events with Vigil's headers, keyed by identity key.
    let total = topic_messages(&brokers, EVENTS_TOPIC).unwrap() as usize;
    let events = read_topic(&brokers, EVENTS_TOPIC, total, DRAIN);
    assert_eq!(events.len(), total, "read back the whole events topic");
    for (key, headers, value) in &events {
        let event: Event = serde_json::from_slice(value)
            .unwrap_or_else(|e| panic!("an events message is not an event: {e}"));
        assert_eq!(
            key.as_deref(),
            Some(event.identity.key.as_bytes()),
            "event {} is not keyed by its identity key",
            event.event_id
        );
        let has = |k: &str, v: &str| headers.iter().any(|(hk, hv)| hk == k && hv == v.as_bytes());
        assert!(
            has("content-type", "application/json"),
            "headers {headers:?}"
        );
        assert!(
            has("vigil-schema-version", vigil_schemas::SCHEMA_VERSION),
            "headers {headers:?}"
        );
    }
}
