//! `vigil eval` end to end: the real binary scores hand-made alerts against hand-made labels, prints
//! the figures worked out by hand as a table and as JSON, and exits non-zero only when a floor is
//! missed or an input is unreadable.

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::process::Output;

use common::*;

const LABELS: &str = r#"{
  "version": 1, "seed": 42, "start": "2026-11-20T00:00:00Z", "days": 2, "identities": 50,
  "events": 5000, "benign_identity_days": 200,
  "scenarios": [
    {"scenario_id": "s1-cloudtrail-stop", "technique": "aws.defense-evasion.cloudtrail-stop",
     "mitre_technique": "T1562.008", "tactic": "defense-evasion", "provider": "aws",
     "identity_key": "arn:aws:iam::111122223333:user/bob",
     "first_event_time": "2026-11-20T03:12:00Z", "last_event_time": "2026-11-20T03:14:00Z",
     "event_ids": ["ev-1", "ev-2"]},
    {"scenario_id": "s2-get-password-data", "technique": "aws.credential-access.ec2-get-password-data",
     "mitre_technique": "T1552", "tactic": "credential-access", "provider": "aws",
     "identity_key": "arn:aws:iam::111122223333:user/alice",
     "first_event_time": "2026-11-20T06:00:00Z", "last_event_time": "2026-11-20T06:05:00Z",
     "event_ids": ["ev-3"]},
    {"scenario_id": "s3-sa-key", "technique": "gcp.persistence.create-service-account-key",
     "mitre_technique": "T1098.001", "tactic": "persistence", "provider": "gcp",
     "identity_key": "gcp:etl@acme-prod.iam.gserviceaccount.com",
     "first_event_time": "2026-11-20T10:00:00Z", "last_event_time": "2026-11-20T10:02:00Z",
     "event_ids": ["ev-4", "ev-5"]}
  ]
}"#;

/// s1 detected after 120 s (sent twice), one false alert.
const ALERTS_JSONL: &str = r#"{"alert_id":"a-1","identity_key":"arn:aws:iam::111122223333:user/bob","time":"2026-11-20T03:14:00Z","evidence_event_ids":["ev-2"],"technique":"T1562.008"}
{"alert_id":"a-1","identity_key":"arn:aws:iam::111122223333:user/bob","time":"2026-11-20T03:14:00Z","evidence_event_ids":["ev-2"],"technique":"T1562.008"}
{"alert_id":"f-1","identity_key":"erin","time":"2026-11-20T04:00:00Z","technique":"T1078"}
"#;

/// s3 detected after 600 s, by an OCSF Detection Finding in a JSON array (time in epoch ms).
const ALERTS_ARRAY: &str = r#"[
  {"class_uid": 2004, "time": 1795169400000,
   "finding_info": {"uid": "ocsf-1", "attacks": [{"technique": {"uid": "T1098.001"}}]},
   "actor": {"user": {"uid": "gcp:etl@acme-prod.iam.gserviceaccount.com"}},
   "evidences": [{"uid": "ev-5"}]}
]"#;

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
}

/// A tempdir with `labels.json` and an `alerts` folder: the two alert files, plus files `vigil eval`
/// must not read (another extension, a hidden file).
fn estate() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(&dir.join("labels.json"), LABELS);
    write(&dir.join("alerts/a.jsonl"), ALERTS_JSONL);
    write(&dir.join("alerts/sub/b.json"), ALERTS_ARRAY);
    write(&dir.join("alerts/notes.txt"), "not alerts");
    write(&dir.join("alerts/.partial.json"), "{\"alert_id\": ");
    tmp
}

/// Runs `vigil eval --labels DIR/labels.json --alerts DIR/alerts EXTRA...`, or `--alerts EXTRA...`
/// when `extra` starts with `-` (stdin).
fn eval(dir: &Path, extra: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut args: Vec<OsString> = vec![
        "eval".into(),
        "--labels".into(),
        dir.join("labels.json").into(),
        "--alerts".into(),
    ];
    if extra.first() != Some(&"-") {
        args.push(dir.join("alerts").into());
    }
    args.extend(extra.iter().map(OsString::from));
    run_vigil(&args, stdin)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "vigil eval failed: {}\n{}",
        stdout(out),
        stderr(out)
    );
}

fn json(out: &Output) -> serde_json::Value {
    assert_ok(out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("vigil eval --format json is not JSON: {e}\n{}", stdout(out)))
}

#[test]
fn json_report_has_the_figures_worked_out_by_hand() {
    let tmp = estate();
    let r = json(&eval(tmp.path(), &["--format", "json"], None));
    assert_eq!(r["scenarios"], 3);
    assert_eq!(r["detected"], 2);
    assert_eq!(r["recall"], 2.0 / 3.0);
    assert_eq!(r["alerts"], 3);
    assert_eq!(r["true_alerts"], 2);
    assert_eq!(r["false_alerts"], 1);
    assert_eq!(r["precision"], 2.0 / 3.0);
    assert_eq!(r["duplicates_ignored"], 1);
    assert_eq!(r["benign_identity_days"], 200);
    // 1 false alert / 200 identity-days * 1000.
    assert_eq!(r["false_per_1000_identity_days"], 5.0);
    // Delays 120 s and 600 s: median their mean, p95 the value of rank ceil(1.9) = 2.
    assert_eq!(r["time_to_detect_seconds"]["median"], 360.0);
    assert_eq!(r["time_to_detect_seconds"]["p95"], 600.0);

    let scenarios = r["by_scenario"].as_array().cloned().unwrap_or_default();
    let rows: Vec<(String, bool, serde_json::Value, u64)> = scenarios
        .iter()
        .map(|s| {
            (
                s["scenario_id"].as_str().unwrap_or_default().to_string(),
                s["detected"].as_bool().unwrap_or_default(),
                s["time_to_detect_seconds"].clone(),
                s["matching_alerts"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("s1-cloudtrail-stop".to_string(), true, 120.0.into(), 1),
            (
                "s2-get-password-data".to_string(),
                false,
                serde_json::Value::Null,
                0
            ),
            ("s3-sa-key".to_string(), true, 600.0.into(), 1),
        ]
    );
    assert_eq!(r["by_scenario"][2]["alert_ids"][0], "ocsf-1");
    assert_eq!(r["by_tactic"][0]["tactic"], "credential-access");
    assert_eq!(r["by_tactic"][0]["recall"], 0.0);
    assert_eq!(
        r["by_technique"][0]["technique"],
        "aws.credential-access.ec2-get-password-data"
    );
    assert_eq!(r["by_technique"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        r["false_alerts_by_alert_technique"][0]["technique"],
        "T1078"
    );
    assert_eq!(r["rules"]["window_seconds"], 3600);
    assert!(r["rules"]["matching"].is_string());
}

#[test]
fn table_shows_the_figures() {
    let tmp = estate();
    let out = eval(tmp.path(), &[], None);
    assert_ok(&out);
    let text = stdout(&out);
    for needle in [
        "recall",
        "0.667",
        "false alerts per 1,000 identity-days",
        "5.000",
        "360 s",
        "600 s",
        "120 s",
        "duplicate alerts ignored",
        "s2-get-password-data",
        "gcp.persistence.create-service-account-key",
        "By technique",
        "By tactic",
        "By scenario",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    let s2 = text
        .lines()
        .find(|l| l.contains("s2-get-password-data"))
        .unwrap_or_default();
    assert!(s2.contains(" no "), "{s2}");
}

#[test]
fn stdin_file_and_window() {
    let tmp = estate();
    // Alice's scenario ends at 06:05; an alert without evidence on her at 06:20 is inside the
    // default window (3600 s) and outside --window 600.
    let late =
        r#"{"identity_key":"arn:aws:iam::111122223333:user/alice","time":"2026-11-20T06:20:00Z"}"#;
    let r = json(&eval(
        tmp.path(),
        &["-", "--format", "json"],
        Some(late.as_bytes()),
    ));
    assert_eq!(
        (r["detected"].as_u64(), r["alerts"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["by_scenario"][1]["time_to_detect_seconds"], 1200.0);
    assert_eq!(r["by_scenario"][1]["alert_ids"][0], "#1");
    let r = json(&eval(
        tmp.path(),
        &["-", "--format", "json", "--window", "600"],
        Some(late.as_bytes()),
    ));
    assert_eq!(
        (r["detected"].as_u64(), r["false_alerts"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(r["rules"]["window_seconds"], 600);

    // A single file.
    let file = tmp.path().join("alerts/sub/b.json");
    let out = run_vigil(
        &[
            OsString::from("eval"),
            "--labels".into(),
            tmp.path().join("labels.json").into(),
            "--alerts".into(),
            file.into(),
            "--format".into(),
            "json".into(),
        ],
        None,
    );
    let r = json(&out);
    assert_eq!(
        (r["detected"].as_u64(), r["alerts"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn floors_decide_the_exit_status() {
    let tmp = estate();
    let met = eval(
        tmp.path(),
        &[
            "--min-recall",
            "0.66",
            "--max-false-per-1000",
            "5",
            "--max-p95-seconds",
            "600",
        ],
        None,
    );
    assert_ok(&met);

    let missed = eval(
        tmp.path(),
        &["--format", "json", "--min-recall", "0.9"],
        None,
    );
    assert!(!missed.status.success(), "a missed floor must fail");
    // The report is still written, and the reason is one line.
    let report: serde_json::Value =
        serde_json::from_slice(&missed.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["detected"], 2);
    let err = stderr(&missed);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("recall 0.667 (2/3) is below --min-recall 0.9"),
        "{err}"
    );

    for floor in [
        ["--max-false-per-1000", "4.99"],
        ["--max-p95-seconds", "599"],
    ] {
        let out = eval(tmp.path(), &floor, None);
        assert!(!out.status.success(), "{floor:?} missed must fail");
        assert!(stderr(&out).contains(floor[0]), "{}", stderr(&out));
    }
}

#[test]
fn unreadable_inputs_are_one_line_errors() {
    let tmp = estate();
    let dir = tmp.path();
    let one_line = |out: &Output, needles: &[&str]| {
        assert!(!out.status.success(), "must fail: {}", stdout(out));
        let err = stderr(out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        for needle in needles {
            assert!(err.contains(needle), "`{needle}` missing from: {err}");
        }
    };

    // Labels that are not labels.
    write(&dir.join("labels.json"), r#"{"alerts": []}"#);
    one_line(
        &eval(dir, &[], None),
        &["is not a Vigil labels file", "vigil simulate --out DIR"],
    );
    std::fs::remove_file(dir.join("labels.json")).unwrap_or_else(|e| panic!("{e}"));
    one_line(
        &eval(dir, &[], None),
        &["cannot read the labels file", "vigil simulate --out DIR"],
    );
    write(&dir.join("labels.json"), LABELS);

    // An alert without a time, on line 2 of a file in the folder.
    write(
        &dir.join("alerts/z.ndjson"),
        "{\"alert_id\":\"ok\",\"identity_key\":\"erin\",\"time\":\"2026-11-20T04:00:00Z\"}\n{\"alert_id\":\"no-time\",\"identity_key\":\"erin\"}\n",
    );
    one_line(&eval(dir, &[], None), &["z.ndjson, line 2", "no time"]);

    // Invalid JSON on stdin.
    one_line(
        &eval(dir, &["-"], Some(b"{\"time\": \n")),
        &["stdin, line 2", "not valid JSON"],
    );

    // No such alerts path.
    let out = run_vigil(
        &[
            OsString::from("eval"),
            "--labels".into(),
            dir.join("labels.json").into(),
            "--alerts".into(),
            dir.join("nowhere").into(),
        ],
        None,
    );
    one_line(&out, &["does not exist", "- for stdin"]);
}
