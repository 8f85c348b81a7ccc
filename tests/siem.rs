//! SIEM formats, checked by an independent OCSF validator: every event normalized from the public corpus
//! and the sample estate as OCSF (API Activity 6003 / Authentication 3002), and the alerts and incidents
//! the detection engine raises on them as Detection Findings (2004, incidents too), are
//! validated against the official OCSF 1.3.0 schema by `tests/ocsf_validate.py` (PyPI
//! `ocsf-json-schema` + `jsonschema`, installed by `deploy/scripts/deps/siem.sh`).

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use vigil_detect::Detector;
use vigil_detect::engine::{Engine, EngineConfig};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::Event;

type TestResult = Result<(), Box<dyn Error>>;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') || name.ends_with(".md") {
            continue;
        }
        if path.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Every event the normalizers read from the corpus and the sample estate, in event-time order.
fn corpus_events() -> Result<Vec<Event>, Box<dyn Error>> {
    let mut files = Vec::new();
    files_under(&repo().join("../shared/corpus"), &mut files)?;
    files_under(&repo().join("deploy/sample"), &mut files)?;
    files.sort();
    assert!(files.len() > 100, "corpus missing: {} files", files.len());
    let ingest_time = DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")?.with_timezone(&Utc);
    let mut events = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file)?;
        let source = file.display().to_string();
        events.extend(normalize_bytes(&source, &bytes, ingest_time, &Limits::default()).events);
    }
    events.sort_by_key(|e| e.event_time);
    Ok(events)
}

fn validate(lines: &[Value], expect_classes: &str) -> Result<Output, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ocsf.jsonl");
    let mut file = std::fs::File::create(&path)?;
    for line in lines {
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    let out = Command::new("python3")
        .arg(repo().join("tests/ocsf_validate.py"))
        .arg("--version")
        .arg("1.3.0")
        .arg("--expect-classes")
        .arg(expect_classes)
        .arg(&path)
        .output()
        .map_err(|e| format!("cannot run python3 (bash deploy/scripts/deps/siem.sh): {e}"))?;
    Ok(out)
}

fn explain(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn corpus_events_alerts_and_incidents_are_valid_ocsf_1_3() -> TestResult {
    let events = corpus_events()?;
    assert!(events.len() > 1000, "only {} events", events.len());
    let mut engine = Engine::new(EngineConfig::default())?;
    for chunk in events.chunks(512) {
        engine.on_events(chunk.to_vec())?;
    }
    engine.on_finish()?;
    let alerts = engine.drain_alerts();
    let incidents = engine.drain_incidents();
    assert!(alerts.len() >= 5, "only {} alerts", alerts.len());
    assert!(!incidents.is_empty(), "no incident");

    let mut lines: Vec<Value> = events.iter().map(Event::to_ocsf).collect();
    lines.extend(alerts.iter().map(|a| a.to_ocsf()));
    lines.extend(incidents.iter().map(|i| i.to_ocsf()));
    let out = validate(&lines, "6003,3002,2004")?;
    assert!(
        out.status.success(),
        "OCSF validation failed:\n{}",
        explain(&out)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    let expected = format!("{} records", lines.len());
    assert!(summary.starts_with(&expected), "{summary}");

    // What the validator accepted carries what a SOC looks for.
    let stopped = alerts
        .iter()
        .find(|a| {
            a.reason_key == "aws.cloudtrail.stop-logging"
                && a.identity_key == "arn:aws:iam::111122223333:user/bob"
        })
        .ok_or("the sample's stopped trail raised no alert")?;
    let finding = stopped.to_ocsf();
    assert_eq!(finding["finding_info"]["uid"], stopped.alert_id.as_str());
    assert_eq!(
        finding["finding_info"]["attacks"][0]["technique"]["uid"],
        "T1562.008"
    );
    assert_eq!(
        finding["actor"]["user"]["uid"],
        "arn:aws:iam::111122223333:user/bob"
    );
    Ok(())
}

#[test]
fn the_validator_rejects_broken_records() -> TestResult {
    let events = corpus_events()?;
    let event = events.first().ok_or("no events")?.to_ocsf();
    let mut wrong_severity = event.clone();
    wrong_severity["severity_id"] = json!(42);
    let mut no_metadata_product = event.clone();
    if let Some(m) = no_metadata_product["metadata"].as_object_mut() {
        m.remove("product");
    }
    let mut unknown_field = event.clone();
    unknown_field["vigil_extra"] = json!(1);
    for (what, record) in [
        ("severity_id 42", wrong_severity),
        ("no metadata.product", no_metadata_product),
        ("an attribute the class does not have", unknown_field),
    ] {
        let out = validate(&[record], "")?;
        assert!(
            !out.status.success(),
            "the validator accepted {what}:\n{}",
            explain(&out)
        );
    }
    let out = validate(&[event], "2004")?;
    assert!(!out.status.success(), "a missing class went unnoticed");
    Ok(())
}
