//! The detection engine end to end, through the real binary: a simulated estate with every attack
//! technique injected is detected by `vigil run` above quality floors scored by `vigil eval`, its
//! alerts are complete and stable, and the Kafka services (ingest watching the same folder → detect →
//! sink, over a real Tansu broker) raise exactly the alerts and incidents `vigil run` raises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod kafka_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::{Broker, run_pipeline, run_vigil};
use kafka_support::{
    Deployment, Kind, checkpoints_caught_up, group_caught_up, high_watermarks, poll,
};
use serde_json::Value;
use vigil_schemas::Labels;

/// Floors on the engine's quality on the estate of `simulated_estate_is_detected_with_floors`: 120
/// identities × 14 days, seed 4, every technique injected in the second half, so that each attack
/// comes after the 7 days of history "first use" rules wait for (`detect.first_use_history_days`).
/// The engine is deterministic, so this estate always scores the same on one build: 0.868 recall
/// (33/38), 1.22 false alerts per 1,000 identity-days (2 in 1,634), p95 time to detect 45 s. A small
/// estate fits its population models on fewer windows, so it scores below issue 4's 2,000 × 30
/// evaluation (`bash bench/detect-quality.sh`: 1.00, 0.09 and 45 s), which README reports; these floors
/// catch regressions with one scenario and one false alert of room.
const MIN_RECALL: f64 = 0.85;
const MAX_FALSE_PER_1000: f64 = 2.0;
const MAX_P95_SECONDS: f64 = 60.0;

const EVENTS_TOPIC: &str = "vigil.events";
const ALERTS_TOPIC: &str = "vigil.alerts";
const INCIDENTS_TOPIC: &str = "vigil.incidents";
const READY: Duration = Duration::from_secs(90);
const DRAIN: Duration = Duration::from_secs(300);

/// `vigil simulate --out dir` with every technique (the default).
fn simulate(dir: &Path, identities: u32, days: u32, seed: u64) -> Labels {
    let out = run_vigil(
        &[
            "simulate".to_string(),
            "--out".to_string(),
            dir.display().to_string(),
            "--identities".to_string(),
            identities.to_string(),
            "--days".to_string(),
            days.to_string(),
            "--seed".to_string(),
            seed.to_string(),
            "--no-progress".to_string(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "vigil simulate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let labels: Labels = serde_json::from_slice(&std::fs::read(dir.join("labels.json")).unwrap())
        .unwrap_or_else(|e| panic!("labels.json: {e}"));
    let techniques: BTreeSet<&str> = labels
        .scenarios
        .iter()
        .map(|s| s.technique.as_str())
        .collect();
    assert!(
        techniques.len() >= 30,
        "every technique is injected by default; only {} were",
        techniques.len()
    );
    labels
}

/// Every JSON line of the finished (not hidden) `*.jsonl` files under `lake/<table>`: `Err` when a line
/// does not parse, with where.
fn json_lines(lake: &Path, table: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(lake.join(table)) else {
        return Ok(out);
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            !name.starts_with('.') && name.ends_with(".jsonl")
        })
        .collect();
    paths.sort();
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value = serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: {e}: {line}", path.display(), n + 1))?;
            out.push(value);
        }
    }
    Ok(out)
}

fn alerts(lake: &Path) -> Vec<Value> {
    json_lines(lake, "alerts").unwrap_or_else(|e| panic!("an alert line is not JSON: {e}"))
}

fn incidents(lake: &Path) -> Vec<Value> {
    json_lines(lake, "incidents").unwrap_or_else(|e| panic!("an incident line is not JSON: {e}"))
}

fn str_field<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_default()
}

/// Alert id → the alert; panics on a repeated id.
fn by_id(alerts: &[Value], what: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for a in alerts {
        let id = str_field(a, "alert_id").to_string();
        assert!(
            out.insert(id.clone(), a.clone()).is_none(),
            "{what}: alert id {id} appears twice"
        );
    }
    out
}

/// (incident id, revision) → the incident; panics on a repeated pair.
fn incidents_by_revision(incidents: &[Value], what: &str) -> BTreeMap<(String, u64), Value> {
    let mut out = BTreeMap::new();
    for i in incidents {
        let key = (
            str_field(i, "incident_id").to_string(),
            i["revision"].as_u64().unwrap_or(u64::MAX),
        );
        assert!(
            !key.0.is_empty() && key.1 != u64::MAX,
            "{what}: incident without id or revision: {i}"
        );
        assert!(
            out.insert(key.clone(), i.clone()).is_none(),
            "{what}: incident {key:?} appears twice"
        );
    }
    out
}

/// The fields every alert must carry to be actionable and scorable.
fn assert_complete(alert: &Value, lake_events: &BTreeSet<String>) {
    for field in ["alert_id", "identity_key", "reason_key", "time"] {
        assert!(
            !str_field(alert, field).is_empty(),
            "alert without {field}: {alert}"
        );
    }
    let reasons = alert["reasons"].as_array().cloned().unwrap_or_default();
    assert!(
        !reasons.is_empty()
            && reasons
                .iter()
                .all(|r| r.as_str().is_some_and(|s| !s.trim().is_empty())),
        "alert without reasons: {alert}"
    );
    let evidence = alert["evidence_event_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!evidence.is_empty(), "alert without evidence: {alert}");
    for id in &evidence {
        let id = id.as_str().unwrap_or_default();
        assert!(
            lake_events.contains(id),
            "alert {} names evidence event {id:?}, which is not in the lake",
            str_field(alert, "alert_id")
        );
    }
    assert!(
        alert["baseline"].is_object(),
        "alert without a baseline object: {alert}"
    );
}

fn eval(labels: &Path, alerts: &Path) -> Value {
    let out = run_vigil(
        &[
            "eval".to_string(),
            "--labels".to_string(),
            labels.display().to_string(),
            "--alerts".to_string(),
            alerts.display().to_string(),
            "--format".to_string(),
            "json".to_string(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "vigil eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("eval report: {e}"))
}

#[test]
fn simulated_estate_is_detected_with_floors() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    let labels = simulate(&estate, 120, 14, 4);
    let logs = estate.join("logs");
    let lake = tmp.path().join("lake");
    run_pipeline(&[&logs], &lake, &[]);

    let report = eval(&estate.join("labels.json"), &lake.join("alerts"));
    let recall = report["recall"].as_f64().unwrap();
    let false_per_1000 = report["false_per_1000_identity_days"].as_f64().unwrap();
    let p95 = report["time_to_detect_seconds"]["p95"]
        .as_f64()
        .unwrap_or(f64::INFINITY);
    let missed: Vec<&str> = report["by_scenario"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["detected"] == false)
        .map(|s| s["technique"].as_str().unwrap_or("?"))
        .collect();
    let measured = format!(
        "recall {recall:.3} ({}/{}), {false_per_1000:.2} false alerts per 1,000 identity-days ({} of \
         {} alerts), p95 time to detect {p95} s; missed {missed:?}; false alerts by technique {}",
        report["detected"],
        report["scenarios"],
        report["false_alerts"],
        report["alerts"],
        report["false_alerts_by_alert_technique"]
    );
    eprintln!("engine quality on 120 identities x 14 days, seed 4: {measured}");
    assert_eq!(
        report["scenarios"].as_u64(),
        Some(labels.scenarios.len() as u64)
    );
    assert!(
        recall >= MIN_RECALL,
        "recall below {MIN_RECALL}: {measured}"
    );
    assert!(
        false_per_1000 <= MAX_FALSE_PER_1000,
        "more than {MAX_FALSE_PER_1000} false alerts per 1,000 identity-days: {measured}"
    );
    assert!(
        p95 <= MAX_P95_SECONDS,
        "p95 time to detect above {MAX_P95_SECONDS} s: {measured}"
    );

    // Every alert is complete, once, and points at events that are in the lake.
    let first = alerts(&lake);
    let first_ids = by_id(&first, "vigil run");
    let lake_events = kafka_support::lake_id_set(&lake);
    assert_eq!(
        lake_events.len() as u64,
        labels.events,
        "events in the lake"
    );
    for alert in &first {
        assert_complete(alert, &lake_events);
    }
    // Incidents chain alerts that were raised.
    let first_incidents = incidents(&lake);
    assert!(
        !first_incidents.is_empty(),
        "no incident on an estate where every technique is injected"
    );
    for incident in &first_incidents {
        let ids = incident["alert_ids"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(ids.len() >= 2, "an incident chains alerts: {incident}");
        for id in ids {
            let id = id.as_str().unwrap_or_default();
            assert!(
                first_ids.contains_key(id),
                "incident {} names alert {id}, which was not raised",
                str_field(incident, "incident_id")
            );
        }
    }

    // The same input again: the same alerts, ids and contents, and the same incidents.
    let lake2 = tmp.path().join("lake2");
    run_pipeline(&[&logs], &lake2, &[]);
    let second_ids = by_id(&alerts(&lake2), "second vigil run");
    assert_eq!(
        first_ids.keys().collect::<Vec<_>>(),
        second_ids.keys().collect::<Vec<_>>(),
        "alert ids of two runs over the same input"
    );
    assert_eq!(
        first_ids, second_ids,
        "alerts of two runs over the same input"
    );
    assert_eq!(
        incidents_by_revision(&first_incidents, "vigil run"),
        incidents_by_revision(&incidents(&lake2), "second vigil run"),
        "incidents of two runs over the same input"
    );
}

#[test]
fn kafka_detect_gives_the_same_alerts_as_vigil_run() {
    let tmp = tempfile::tempdir().unwrap();
    let estate = tmp.path().join("estate");
    // Small enough for the broker of a test (about 12k events in 1,000 files); one-minute windows so
    // that even this small a population fits the model and the comparison covers model alerts, not
    // only rule alerts. Both pipelines read the same setting.
    let labels = simulate(&estate, 30, 6, 2);
    let logs = estate.join("logs");
    let engine_env = [("VIGIL__DETECT__WINDOW_SECS", "60")];

    // The reference: `vigil run` over the folder.
    let reference = tmp.path().join("reference");
    run_pipeline(&[&logs], &reference, &engine_env);
    let want = by_id(&alerts(&reference), "vigil run");
    let want_incidents = incidents_by_revision(&incidents(&reference), "vigil run");
    assert!(want.len() >= 10, "only {} reference alerts", want.len());
    assert!(
        want.values()
            .any(|a| str_field(a, "reason_key").starts_with("model:")),
        "the reference raised no model alert, so the comparison would not cover the population \
         model: enlarge the estate"
    );
    assert!(
        !want_incidents.is_empty(),
        "the reference raised no incident; the comparison would not cover incidents"
    );

    // The services over a real broker. One partition: the engine's population model is per detector
    // instance, i.e. per partition, so only one detector seeing every identity can match `vigil run`.
    // The ingest service watches the same folder, which it reads in `vigil run`'s order.
    let broker = Broker::start();
    let brokers = broker.bootstrap();
    let mut d = Deployment::new(brokers.clone());
    d.extra_env.extend([
        ("VIGIL__KAFKA__PARTITIONS".to_string(), "1".to_string()),
        (
            "VIGIL__SERVICES__WATCH_INTERVAL_SECONDS".to_string(),
            "1".to_string(),
        ),
    ]);
    d.extra_env.extend(
        engine_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut detect = d.start(Kind::Detect, &["--detector", "engine"]);
    let mut sink = d.start(Kind::Sink, &[]);
    detect.wait_ready(READY);
    sink.wait_ready(READY);
    let logs_arg = logs.display().to_string();
    let mut ingest = d.start(Kind::Ingest, &["--watch", &logs_arg]);
    ingest.wait_ready(READY);

    let sink_topics = [EVENTS_TOPIC, ALERTS_TOPIC, INCIDENTS_TOPIC];
    poll(DRAIN, Duration::from_secs(3), "pipeline drained", || {
        let events: i64 = high_watermarks(&brokers, EVENTS_TOPIC)?.values().sum();
        if events < labels.events as i64 {
            return Err(format!("{events} of {} events ingested", labels.events));
        }
        checkpoints_caught_up(&brokers, &d.checkpoints(), EVENTS_TOPIC)
            .map_err(|e| format!("detect: {e}"))?;
        // Detect flushes its alerts and incidents to the broker before a checkpoint covers their
        // events, so once the checkpoint is at the end the sink's topics are complete too.
        group_caught_up(&brokers, "vigil-sink", &sink_topics).map_err(|e| format!("sink: {e}"))
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

    let partitions = high_watermarks(&brokers, EVENTS_TOPIC).unwrap();
    assert_eq!(
        partitions.len(),
        1,
        "events topic partitions: {partitions:?}"
    );
    assert_eq!(
        partitions.values().sum::<i64>(),
        labels.events as i64,
        "each event on the events topic once"
    );
    let alerts_on_topic: i64 = high_watermarks(&brokers, ALERTS_TOPIC)
        .unwrap()
        .values()
        .sum();
    assert_eq!(
        alerts_on_topic,
        want.len() as i64,
        "alerts the detect service produced"
    );

    let got = by_id(&alerts(&d.lake()), "Kafka sink");
    let missing: Vec<&Value> = want
        .iter()
        .filter(|(id, _)| !got.contains_key(*id))
        .map(|(_, a)| a)
        .take(5)
        .collect();
    let extra: Vec<&Value> = got
        .iter()
        .filter(|(id, _)| !want.contains_key(*id))
        .map(|(_, a)| a)
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "Kafka raised {} alerts, vigil run {}; only vigil run's (first 5): {missing:#?}\nonly \
         Kafka's (first 5): {extra:#?}",
        got.len(),
        want.len()
    );
    assert_eq!(got, want, "alert contents, Kafka sink against vigil run");

    let got_incidents = incidents_by_revision(&incidents(&d.lake()), "Kafka sink");
    assert_eq!(
        got_incidents.keys().collect::<Vec<_>>(),
        want_incidents.keys().collect::<Vec<_>>(),
        "incidents (id, revision) in the sink's lake against vigil run's"
    );
    assert_eq!(got_incidents, want_incidents, "incident contents");
}
