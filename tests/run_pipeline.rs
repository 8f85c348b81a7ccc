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
