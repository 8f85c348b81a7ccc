//! `vigil simulate --out` end to end: the files it writes are read back by `vigil run` without a dead
//! letter, the labels name events that are in the lake, the same seed writes the same bytes, and
//! `vigil eval` scores the (alert-less) run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{dead_letters, pyarrow_summary, run_pipeline, run_vigil};
use sha2::{Digest, Sha256};
use vigil_schemas::Labels;

fn simulate(out: &Path, seed: &str) {
    let o = run_vigil(
        &[
            "simulate",
            "--out",
            out.to_str().unwrap(),
            "--identities",
            "48",
            "--days",
            "3",
            "--seed",
            seed,
            "--no-progress",
        ],
        None,
    );
    assert!(
        o.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir` with the SHA-256 of its bytes.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, format!("{:x}", Sha256::digest(&bytes)));
            }
        }
    }
    out
}

#[test]
fn simulated_files_read_back_without_dead_letters_and_labels_point_at_lake_events() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("estate");
    simulate(&out, "5");
    let labels: Labels =
        serde_json::from_slice(&std::fs::read(out.join("labels.json")).unwrap()).unwrap();
    assert!(
        labels.scenarios.len() >= 18,
        "{} scenarios",
        labels.scenarios.len()
    );

    // The providers' delivery layouts.
    let files = tree(&out.join("logs"));
    for shape in [
        "aws/AWSLogs/",
        "_CloudTrail_",
        ".json.gz",
        "azure/insights-activity-logs/resourceId=/SUBSCRIPTIONS/",
        "azure/activity-log-rest/",
        "azure/insights-logs-signinlogs/",
        "azure/insights-logs-auditevent/",
        "gcp/pubsub-push/",
        "cloudaudit.googleapis.com/activity/",
        "cloudaudit.googleapis.com/data_access/",
    ] {
        assert!(
            files.keys().any(|f| f.contains(shape)),
            "no file like {shape}"
        );
    }

    let lake = dir.path().join("lake");
    let run = run_pipeline(&[&out.join("logs")], &lake, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        dead_letters(&lake).is_empty(),
        "dead letters: {:?}",
        dead_letters(&lake)
    );
    let summary = pyarrow_summary(&lake);
    assert_eq!(summary["rows"].as_u64().unwrap(), labels.events, "{stdout}");
    assert_eq!(summary["distinct_ids"].as_u64().unwrap(), labels.events);
    let keys: Vec<&str> = summary["identity_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    for s in &labels.scenarios {
        assert!(
            keys.contains(&s.identity_key.as_str()),
            "{} not in the lake",
            s.identity_key
        );
    }
    for provider in ["aws", "azure", "gcp"] {
        assert!(
            summary["providers"][provider].as_u64().unwrap_or(0) > 100,
            "{provider}: {summary}"
        );
    }

    // Eval reads the run's alerts against the labels (the engine's quality is tests/detect_engine.rs).
    let o = run_vigil(
        &[
            "eval",
            "--labels",
            out.join("labels.json").to_str().unwrap(),
            "--alerts",
            lake.join("alerts").to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["scenarios"].as_u64().unwrap(),
        labels.scenarios.len() as u64
    );
    let detected = report["detected"].as_u64().unwrap();
    assert!(detected <= labels.scenarios.len() as u64);
    assert_eq!(
        report["alerts"].as_u64().unwrap(),
        report["true_alerts"].as_u64().unwrap() + report["false_alerts"].as_u64().unwrap()
    );
    assert_eq!(
        report["benign_identity_days"].as_u64().unwrap(),
        labels.benign_identity_days
    );
}

#[test]
fn same_seed_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    simulate(&dir.path().join("a"), "9");
    simulate(&dir.path().join("b"), "9");
    simulate(&dir.path().join("c"), "10");
    let (a, b, c) = (
        tree(&dir.path().join("a")),
        tree(&dir.path().join("b")),
        tree(&dir.path().join("c")),
    );
    assert!(a.len() > 50);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn lists_techniques_and_refuses_bad_parameters_in_one_line() {
    let o = run_vigil(&["simulate", "--list-techniques"], None);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for (cloud, at_least) in [("aws", 8), ("azure", 5), ("gcp", 5)] {
        let n = text
            .lines()
            .filter(|l| l.contains(&format!(" {cloud} ")))
            .count();
        assert!(n >= at_least, "{cloud}: {n} techniques\n{text}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    for (args, says) in [
        (vec!["--identities", "3"], "too few"),
        (
            vec!["--attacks", "aws.no-such-thing"],
            "unknown attack technique",
        ),
        (vec!["--start", "yesterday"], "--start"),
    ] {
        let mut all = vec!["simulate", "--out", out.to_str().unwrap()];
        all.extend(args);
        let o = run_vigil(&all, None);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
