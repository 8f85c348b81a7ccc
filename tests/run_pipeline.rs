//! `vigil run` end to end on the shipped sample: every record lands in the lake or the dead-letter
//! file, and an independent reader (pyarrow) reads the lake back with the right types.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;

#[test]
fn sample_lands_in_the_lake_and_pyarrow_reads_it() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let lake = tmp.path().join("lake");
    let metrics = tmp.path().join("metrics.prom");
    let sample = repo_root().join("deploy/sample");
    let out = run_pipeline(
        &[&sample],
        &lake,
        &[(
            "VIGIL__RUN__METRICS_FILE",
            metrics.to_str().unwrap_or_default(),
        )],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("s3_file:cloudtrail"),
        "summary names formats:\n{stdout}"
    );
    assert!(
        stdout.contains("pubsub_push:gcp_audit"),
        "summary names formats:\n{stdout}"
    );

    let summary = pyarrow_summary(&lake);
    assert_eq!(summary["rows"], 43, "{summary}");
    assert_eq!(summary["distinct_ids"], 43, "{summary}");
    assert_eq!(summary["providers"]["aws"], 21);
    assert_eq!(summary["providers"]["azure"], 12);
    assert_eq!(summary["providers"]["gcp"], 10);
    assert_eq!(summary["types"]["event_time"], "timestamp[us, tz=UTC]");
    assert_eq!(summary["types"]["raw_byte_offset"], "uint64");
    assert_eq!(summary["types"]["identity_mfa"], "bool");
    assert!(
        summary["types"]["resources"]
            .as_str()
            .unwrap_or("")
            .starts_with("list<item: struct<id: string")
    );
    let keys: Vec<&str> = summary["identity_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str())
        .collect();
    for expected in [
        "arn:aws:iam::111122223333:user/bob",
        "arn:aws:iam::111122223333:role/ci-deployer",
        "arn:aws:iam::111122223333:root",
        "azure:6b1e0000-0000-4000-8000-0000000ca401",
        "gcp:dave@example.com",
        "gcp:etl-runner@acme-prod.iam.gserviceaccount.com",
    ] {
        assert!(
            keys.contains(&expected),
            "identity {expected} missing from {keys:?}"
        );
    }

    let letters = dead_letters(&lake);
    assert_eq!(letters.len(), 1, "{letters:?}");
    let broken = &letters[0];
    assert!(broken.source.ends_with("gcp/audit-export.ndjson"));
    assert_eq!(broken.kind, "truncated");
    let original = String::from_utf8(broken.original().unwrap_or_default()).unwrap_or_default();
    assert!(
        original.starts_with("{\"insertId\": \"sample-broken\""),
        "{original}"
    );
    let file = std::fs::read(sample.join("gcp/audit-export.ndjson")).unwrap_or_default();
    assert_eq!(
        &file[broken.byte_offset as usize..],
        original.as_bytes(),
        "offset points at the original bytes"
    );

    let prom = std::fs::read_to_string(&metrics).unwrap_or_default();
    assert!(
        prom.contains("vigil_dead_letters_total{kind=\"truncated\",provider=\"unknown\"} 1"),
        "{prom}"
    );
    assert!(
        prom.contains(
            "vigil_events_normalized_total{format=\"s3_file:cloudtrail\",provider=\"aws\"} 20"
        ),
        "{prom}"
    );
}

#[test]
fn stdin_gzip_is_read() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let lake = tmp.path().join("lake");
    let gz =
        std::fs::read(repo_root().join(
            "deploy/sample/aws/111122223333_CloudTrail_eu-west-1_20261120T1700Z_sample.json.gz",
        ))
        .unwrap_or_default();
    let mut child = vigil()
        .args(["run", "--no-progress", "--input", "-", "--lake"])
        .arg(&lake)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    child
        .stdin
        .take()
        .map(|mut s| s.write_all(&gz))
        .transpose()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success());
    assert_eq!(pyarrow_summary(&lake)["rows"], 20);
    assert!(dead_letters(&lake).is_empty());
}

#[test]
fn errors_are_one_line_and_say_what_to_do() {
    let out = vigil()
        .args(["run", "--input", "/nonexistent/path"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not exist; pass a file, a folder or - for stdin"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = vigil()
        .args(["run", "--input", "deploy/sample"])
        .env("VIGIL__LAKE__TYPO", "1")
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `typo`"));
}

/// The sample's alerts, as `vigil run` writes them: the engine's rules fire on bob's key for another
/// user and his stopped trail, which chain into one incident. Feedback marking one alert benign stops
/// exactly that reason for that identity on the next run; the metrics file counts the engine's work.
#[test]
fn sample_alerts_incidents_and_analyst_feedback() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sample = repo_root().join("deploy/sample");
    let read_lines = |dir: &std::path::Path| -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
            let text = std::fs::read_to_string(entry.unwrap_or_else(|e| panic!("{e}")).path())
                .unwrap_or_else(|e| panic!("{e}"));
            out.extend(
                text.lines()
                    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))),
            );
        }
        out
    };

    let lake = tmp.path().join("first");
    let metrics = tmp.path().join("metrics.prom");
    run_pipeline(
        &[&sample],
        &lake,
        &[(
            "VIGIL__RUN__METRICS_FILE",
            metrics.to_str().unwrap_or_default(),
        )],
    );
    let alerts = read_lines(&lake.join("alerts"));
    let reasons: Vec<&str> = alerts
        .iter()
        .map(|a| a["reason_key"].as_str().unwrap_or_default())
        .collect();
    for expected in [
        "aws.cloudtrail.stop-logging",
        "aws.iam.access-key-for-other-user",
    ] {
        assert!(
            reasons.contains(&expected),
            "{expected} missing from {reasons:?}"
        );
    }
    let bob_stop = alerts
        .iter()
        .find(|a| a["reason_key"] == "aws.cloudtrail.stop-logging")
        .unwrap_or_else(|| panic!("no stop-logging alert"));
    assert_eq!(bob_stop["tactic"], "defense-evasion");
    assert_eq!(bob_stop["technique"], "T1562.008");
    assert!(
        bob_stop["evidence_event_ids"]
            .as_array()
            .is_some_and(|e| e.len() == 1)
    );
    let incidents = read_lines(&lake.join("incidents"));
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(
        incidents[0]["identity_key"],
        "arn:aws:iam::111122223333:user/bob"
    );
    assert_eq!(incidents[0]["severity"], "critical");
    let prom = std::fs::read_to_string(&metrics).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        prom.contains(&format!(
            "vigil_detector{{counter=\"rule_alerts\"}} {}",
            alerts.len()
        )),
        "{prom}"
    );

    // An analyst marks the stop-logging alert benign by copying its line into the feedback file.
    let feedback = tmp.path().join("feedback.jsonl");
    std::fs::write(&feedback, format!("{bob_stop}\n")).unwrap_or_else(|e| panic!("{e}"));
    let second = tmp.path().join("second");
    run_pipeline(
        &[&sample],
        &second,
        &[(
            "VIGIL__DETECT__FEEDBACK_FILE",
            feedback.to_str().unwrap_or_default(),
        )],
    );
    let again = read_lines(&second.join("alerts"));
    assert_eq!(again.len(), alerts.len() - 1, "{again:#?}");
    assert!(
        again
            .iter()
            .all(|a| a["reason_key"] != "aws.cloudtrail.stop-logging")
    );
    // The other alerts are the same ones, with the same ids.
    let ids = |v: &[serde_json::Value]| -> std::collections::BTreeSet<String> {
        v.iter()
            .filter(|a| a["reason_key"] != "aws.cloudtrail.stop-logging")
            .map(|a| a["alert_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(ids(&alerts), ids(&again));
}
