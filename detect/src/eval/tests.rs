//! Unit tests of `eval`: hand-made labels and alerts with answers worked out by hand.

use chrono::{DateTime, Utc};
use vigil_schemas::{LABELS_VERSION, Labels, ScenarioLabel};

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test time {s}: {e}"))
        .with_timezone(&Utc)
}

fn scenario(
    id: &str,
    technique: &str,
    tactic: &str,
    identity: &str,
    first: &str,
    last: &str,
    events: &[&str],
) -> ScenarioLabel {
    ScenarioLabel {
        scenario_id: id.to_string(),
        technique: technique.to_string(),
        mitre_technique: format!("T-{technique}"),
        tactic: tactic.to_string(),
        provider: "aws".to_string(),
        identity_key: identity.to_string(),
        first_event_time: t(first),
        last_event_time: t(last),
        event_ids: events.iter().map(|e| e.to_string()).collect(),
    }
}

fn labels(scenarios: Vec<ScenarioLabel>, benign_identity_days: u64) -> Labels {
    Labels {
        version: LABELS_VERSION,
        seed: 7,
        start: t("2026-11-20T00:00:00Z"),
        days: 1,
        identities: 100,
        events: 10_000,
        benign_identity_days,
        scenarios,
    }
}

fn parse(text: &str) -> Vec<Alert> {
    let mut out = Vec::new();
    parse_alerts(text.as_bytes(), "test.jsonl", &mut out)
        .unwrap_or_else(|e| panic!("alerts refused: {e}"));
    out
}

fn parse_err(text: &str) -> (usize, String) {
    let mut out = Vec::new();
    match parse_alerts(text.as_bytes(), "test.jsonl", &mut out) {
        Ok(()) => panic!("alerts accepted: {out:?}"),
        Err(DetectError::Alert {
            input,
            line,
            reason,
        }) => {
            assert_eq!(input, "test.jsonl");
            (line, reason)
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

fn run(labels: &Labels, text: &str) -> Report {
    score(labels, &parse(text), &EvalOptions::default())
        .unwrap_or_else(|e| panic!("score failed: {e}"))
}

const BOB: &str = "arn:aws:iam::111122223333:user/bob";

/// Four scenarios on four identities; the worked answers are in `four_scenarios_three_detected`.
fn four() -> Labels {
    labels(
        vec![
            scenario(
                "s1",
                "aws.defense-evasion.cloudtrail-stop",
                "defense-evasion",
                BOB,
                "2026-11-20T03:12:00Z",
                "2026-11-20T03:14:00Z",
                &["e1a", "e1b"],
            ),
            scenario(
                "s2",
                "aws.persistence.iam-create-admin-user",
                "persistence",
                "alice",
                "2026-11-20T05:00:00Z",
                "2026-11-20T05:10:00Z",
                &["e2a", "e2b", "e2c"],
            ),
            scenario(
                "s3",
                "azure.credential-access.keyvault-dump",
                "credential-access",
                "carol",
                "2026-11-20T08:00:00Z",
                "2026-11-20T08:30:00Z",
                &["e3a"],
            ),
            scenario(
                "s4",
                "gcp.persistence.create-service-account-key",
                "persistence",
                "dave",
                "2026-11-20T12:00:00Z",
                "2026-11-20T12:05:00Z",
                &["e4a", "e4b"],
            ),
        ],
        400,
    )
}

const FOUR_ALERTS: &str = r#"
{"alert_id":"a1","evidence_event_ids":["e1b"],"time":"2026-11-20T03:13:00Z","technique":"T1562.008"}
{"alert_id":"a2","event_ids":["x-benign","e2c"],"time":"2026-11-20T05:05:00Z"}
{"alert_id":"a2-late","evidence":[{"event_id":"e2a"}],"time":"2026-11-20T05:30:00Z"}
{"alert_id":"a3","identity_key":"carol","time":"2026-11-20T08:20:00Z"}
{"alert_id":"f1","identity_key":"erin","evidence_event_ids":["benign-1"],"time":"2026-11-20T09:00:00Z","technique":"T1078"}
{"alert_id":"f2","identity_key":"dave","time":"2026-11-20T11:00:00Z"}
"#;

#[test]
fn four_scenarios_three_detected() {
    let r = run(&four(), FOUR_ALERTS);
    assert_eq!((r.scenarios, r.detected), (4, 3));
    assert_eq!(r.recall, Some(0.75));
    assert_eq!((r.alerts, r.true_alerts, r.false_alerts), (6, 4, 2));
    assert_eq!(r.precision, Some(4.0 / 6.0));
    // 2 false alerts over 400 identity-days.
    assert_eq!(r.benign_identity_days, 400);
    assert_eq!(r.false_per_1000_identity_days, Some(5.0));
    // Delays 60 s, 300 s (earliest of the two alerts on s2), 1200 s: median 300, p95 = rank 3 = 1200.
    assert_eq!(r.time_to_detect_seconds.median, Some(300.0));
    assert_eq!(r.time_to_detect_seconds.p95, Some(1200.0));
    assert_eq!(r.duplicates_ignored, 0);

    let rows: Vec<(&str, bool, Option<f64>, u64)> = r
        .by_scenario
        .iter()
        .map(|s| {
            (
                s.scenario_id.as_str(),
                s.detected,
                s.time_to_detect_seconds,
                s.matching_alerts,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("s1", true, Some(60.0), 1),
            ("s2", true, Some(300.0), 2),
            ("s3", true, Some(1200.0), 1),
            ("s4", false, None, 0),
        ]
    );
    assert_eq!(r.by_scenario[1].alert_ids, vec!["a2", "a2-late"]);
    assert_eq!(r.by_scenario[0].identity_key, BOB);

    let tactics: Vec<(&str, u64, u64, f64)> = r
        .by_tactic
        .iter()
        .map(|row| (row.tactic.as_str(), row.scenarios, row.detected, row.recall))
        .collect();
    assert_eq!(
        tactics,
        vec![
            ("credential-access", 1, 1, 1.0),
            ("defense-evasion", 1, 1, 1.0),
            ("persistence", 2, 1, 0.5),
        ]
    );
    let persistence = &r.by_tactic[2];
    assert_eq!(persistence.time_to_detect_seconds.median, Some(300.0));

    let techniques: Vec<(&str, f64)> = r
        .by_technique
        .iter()
        .map(|row| (row.technique.as_str(), row.recall))
        .collect();
    assert_eq!(
        techniques,
        vec![
            ("aws.defense-evasion.cloudtrail-stop", 1.0),
            ("aws.persistence.iam-create-admin-user", 1.0),
            ("azure.credential-access.keyvault-dump", 1.0),
            ("gcp.persistence.create-service-account-key", 0.0),
        ]
    );
    assert_eq!(
        r.by_technique[0].mitre_technique,
        "T-aws.defense-evasion.cloudtrail-stop"
    );

    let false_rows: Vec<(Option<&str>, u64)> = r
        .false_alerts_by_alert_technique
        .iter()
        .map(|row| (row.technique.as_deref(), row.false_alerts))
        .collect();
    assert_eq!(false_rows, vec![(None, 1), (Some("T1078"), 1)]);
}

#[test]
fn median_averages_the_middle_pair_and_p95_is_nearest_rank() {
    // 20 scenarios detected after 1..=20 s (given out of order): median (10 + 11) / 2, p95 the 19th
    // value (rank ceil(0.95 * 20) = 19), not the interpolated 19.05.
    let mut scenarios = Vec::new();
    let mut alerts = String::new();
    for k in [
        7, 3, 20, 1, 12, 5, 18, 9, 2, 15, 11, 4, 19, 6, 14, 10, 8, 17, 13, 16,
    ] {
        let id = format!("s{k:02}");
        scenarios.push(scenario(
            &id,
            "tech",
            "tactic",
            "bob",
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00Z",
            &[&format!("{id}-e")],
        ));
        alerts.push_str(&format!(
            "{{\"evidence_event_ids\":[\"{id}-e\"],\"time\":\"2026-11-20T10:00:{k:02}Z\"}}\n"
        ));
    }
    let r = run(&labels(scenarios, 10), &alerts);
    assert_eq!(r.detected, 20);
    assert_eq!(r.time_to_detect_seconds.median, Some(10.5));
    assert_eq!(r.time_to_detect_seconds.p95, Some(19.0));

    // One value: it is both.
    assert_eq!(median(&[4.0]), Some(4.0));
    assert_eq!(nearest_rank(&[4.0], 95), Some(4.0));
    // Three values: rank ceil(2.85) = 3.
    assert_eq!(nearest_rank(&[1.0, 2.0, 3.0], 95), Some(3.0));
    assert_eq!(median(&[]), None);
    assert_eq!(nearest_rank(&[], 95), None);
}

#[test]
fn alert_without_evidence_matches_identity_within_the_window() {
    let l = labels(
        vec![scenario(
            "s1",
            "tech",
            "tactic",
            BOB,
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:10:00Z",
            &["e1"],
        )],
        100,
    );
    let one = |identity: &str, time: &str, window_secs: u64| {
        let text = format!(r#"{{"identity":{{"key":"{identity}"}},"time":"{time}"}}"#);
        let r = score(&l, &parse(&text), &EvalOptions { window_secs })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.rules.window_seconds, window_secs);
        r.detected == 1
    };
    assert!(one(BOB, "2026-11-20T10:00:00Z", 3600), "at the first event");
    assert!(
        one(BOB, "2026-11-20T11:10:00Z", 3600),
        "at last event + window"
    );
    assert!(!one(BOB, "2026-11-20T11:10:01Z", 3600), "after the window");
    assert!(
        !one(BOB, "2026-11-20T09:59:59Z", 3600),
        "before the first event"
    );
    assert!(
        !one("alice", "2026-11-20T10:05:00Z", 3600),
        "another identity"
    );
    assert!(one(BOB, "2026-11-20T10:40:00Z", 1800), "--window 1800");
    assert!(!one(BOB, "2026-11-20T10:10:01Z", 0), "--window 0");
}

#[test]
fn alert_with_evidence_is_matched_by_evidence_only() {
    let l = labels(
        vec![scenario(
            "s1",
            "tech",
            "tactic",
            BOB,
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:10:00Z",
            &["e1", "e2"],
        )],
        100,
    );
    // Right identity, right time, but its evidence is other events: a false alert.
    let r = run(
        &l,
        &format!(
            r#"{{"identity_key":"{BOB}","time":"2026-11-20T10:05:00Z","evidence_event_ids":["benign"]}}"#
        ),
    );
    assert_eq!((r.detected, r.true_alerts, r.false_alerts), (0, 0, 1));
    // Another identity and far outside the window, but citing a malicious event: detected.
    let r = run(
        &l,
        r#"{"identity_key":"someone","time":"2026-11-21T10:00:00Z","evidence_event_ids":["e2"]}"#,
    );
    assert_eq!((r.detected, r.true_alerts, r.false_alerts), (1, 1, 0));
    assert_eq!(r.time_to_detect_seconds.median, Some(86_400.0));
}

#[test]
fn alert_before_the_first_event_is_clamped_to_zero() {
    let r = run(
        &four(),
        r#"{"alert_id":"early","evidence_event_ids":["e1a"],"time":"2026-11-20T03:00:00Z"}"#,
    );
    assert_eq!(r.detected, 1);
    assert_eq!(r.by_scenario[0].time_to_detect_seconds, Some(0.0));
    assert_eq!(r.time_to_detect_seconds.p95, Some(0.0));
}

#[test]
fn duplicate_alert_ids_count_once() {
    let text = r#"
{"alert_id":"a1","evidence_event_ids":["e1a"],"time":"2026-11-20T03:20:00Z"}
{"alert_id":"f1","identity_key":"erin","time":"2026-11-20T03:20:00Z"}
{"alert_id":"a1","evidence_event_ids":["e1a"],"time":"2026-11-20T03:20:00Z"}
{"alert_id":"f1","identity_key":"erin","time":"2026-11-20T03:20:00Z"}
{"alert_id":"f1","identity_key":"erin","time":"2026-11-20T03:20:00Z"}
{"identity_key":"erin","time":"2026-11-20T03:20:00Z"}
{"identity_key":"erin","time":"2026-11-20T03:20:00Z"}
"#;
    let r = run(&four(), text);
    assert_eq!(r.duplicates_ignored, 3);
    // a1, f1 and the two alerts without ids (never duplicates of each other).
    assert_eq!((r.alerts, r.true_alerts, r.false_alerts), (4, 1, 3));
    assert_eq!(r.by_scenario[0].matching_alerts, 1);
    assert_eq!(r.false_per_1000_identity_days, Some(7.5));
}

#[test]
fn generated_ids_are_unique_across_inputs() {
    let mut out = Vec::new();
    for input in ["one.jsonl", "two.jsonl"] {
        parse_alerts(
            br#"{"identity_key":"erin","time":"2026-11-20T03:20:00Z"}"#,
            input,
            &mut out,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let ids: Vec<(&str, bool)> = out
        .iter()
        .map(|a| (a.id.as_str(), a.id_generated))
        .collect();
    assert_eq!(ids, vec![("#1", true), ("#2", true)]);
}

#[test]
fn ocsf_detection_finding_is_read() {
    // An OCSF 1.x Detection Finding (class 2004) as a detection engine might emit it.
    let text = r#"{
  "class_uid": 2004,
  "activity_id": 1,
  "time": 1795145580000,
  "metadata": {"uid": "meta-1", "version": "1.3.0"},
  "finding_info": {
    "uid": "finding-1",
    "title": "CloudTrail logging stopped",
    "last_seen_time": 1795145700000,
    "attacks": [{"tactic": {"uid": "TA0005"}, "technique": {"uid": "T1562.008", "name": "Disable Cloud Logs"}}]
  },
  "actor": {"user": {"uid": "arn:aws:iam::111122223333:user/bob", "name": "bob"}},
  "evidences": [{"process": {"name": "aws-cli"}}, {"uid": "e1b"}]
}"#;
    let alerts = parse(text);
    assert_eq!(
        alerts,
        vec![Alert {
            id: "finding-1".to_string(),
            id_generated: false,
            identity_key: Some(BOB.to_string()),
            time: t("2026-11-20T03:33:00Z"),
            evidence_event_ids: vec!["e1b".to_string()],
            technique: Some("T1562.008".to_string()),
        }]
    );
    let r = run(&four(), text);
    assert_eq!(r.by_scenario[0].time_to_detect_seconds, Some(1260.0));
    assert_eq!(r.by_scenario[0].alert_ids, vec!["finding-1"]);
}

#[test]
fn times_in_epoch_milliseconds_and_rfc3339_with_offsets() {
    let alerts = parse(
        r#"{"identity_key":"bob","time":1795145580000}
{"identity_key":"bob","alert_time":1795145580123.4}
{"identity_key":"bob","event_time":"2026-11-20T05:33:00+02:00"}
{"identity_key":"bob","finding_info":{"last_seen_time":0}}
{"identity_key":"bob","time":null,"alert_time":"2026-11-20T03:33:00.5Z"}"#,
    );
    let times: Vec<DateTime<Utc>> = alerts.iter().map(|a| a.time).collect();
    assert_eq!(
        times,
        vec![
            t("2026-11-20T03:33:00Z"),
            t("2026-11-20T03:33:00.123Z"),
            t("2026-11-20T03:33:00Z"),
            t("1970-01-01T00:00:00Z"),
            t("2026-11-20T03:33:00.5Z"),
        ]
    );
}

#[test]
fn field_lookup_order_first_match_wins() {
    let alerts = parse(
        r#"{"alert_id":"x","id":"y","identity_key":"k1","actor":{"user":{"uid":"k2"}},"time":"2026-11-20T03:00:00Z","alert_time":"2000-01-01T00:00:00Z","evidence_event_ids":[],"event_ids":["ignored"],"technique":"T1","mitre_technique":"T2"}
{"id":42,"actor":{"user":{"name":"bob"}},"time":"2026-11-20T03:00:00Z","evidence":["e1",{"event_id":"e2"},{"uid":"e3"}],"mitre_technique":"T2"}"#,
    );
    assert_eq!(alerts[0].id, "x");
    assert_eq!(alerts[0].identity_key.as_deref(), Some("k1"));
    assert_eq!(alerts[0].time, t("2026-11-20T03:00:00Z"));
    // `evidence_event_ids` is present (empty), so `event_ids` is not looked at.
    assert!(alerts[0].evidence_event_ids.is_empty());
    assert_eq!(alerts[0].technique.as_deref(), Some("T1"));
    assert_eq!(alerts[1].id, "42");
    assert_eq!(alerts[1].identity_key.as_deref(), Some("bob"));
    assert_eq!(alerts[1].evidence_event_ids, vec!["e1", "e2", "e3"]);
    assert_eq!(alerts[1].technique.as_deref(), Some("T2"));
}

#[test]
fn json_array_single_object_and_mixed_inputs() {
    let array = r#"[
  {"alert_id":"a","identity_key":"bob","time":"2026-11-20T03:00:00Z"},
  {"alert_id":"b","identity_key":"bob","time":"2026-11-20T03:00:00Z"}
]"#;
    assert_eq!(parse(array).len(), 2);
    let single = "\u{feff}{\n  \"alert_id\": \"c\",\n  \"identity_key\": \"bob\",\n  \"time\": \"2026-11-20T03:00:00Z\"\n}\n";
    assert_eq!(parse(single)[0].id, "c");
    // A byte-order mark is skipped at the start of the input only.
    let mixed = format!("{array}\n{}", single.trim_start_matches('\u{feff}'));
    let ids: Vec<String> = parse(&mixed).into_iter().map(|a| a.id).collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
}

#[test]
fn bad_alerts_are_errors_naming_the_line() {
    let good = r#"{"identity_key":"bob","time":"2026-11-20T03:00:00Z"}"#;

    let (line, reason) = parse_err(&format!(
        "{good}\n{good}\n{{\"identity_key\": oops}}\n{good}\n"
    ));
    assert_eq!(line, 3);
    assert!(reason.contains("not valid JSON"), "{reason}");

    let (line, reason) = parse_err(&format!("{good}\n{{\"identity_key\":\"bob\"}}\n"));
    assert_eq!(line, 2);
    assert!(reason.contains("no time"), "{reason}");

    let (line, reason) = parse_err(&format!(
        "{good}\n\n{good}\n{{\"alert_id\":\"z\",\"time\":\"2026-11-20T03:00:00Z\"}}\n"
    ));
    assert_eq!(line, 4);
    assert!(
        reason.contains("neither an identity key") && reason.contains("evidence event ids"),
        "{reason}"
    );

    let (line, reason) = parse_err(&format!(
        "{good}\n{{\"identity_key\":\"bob\",\"time\":\"yesterday\"}}\n"
    ));
    assert_eq!(line, 2);
    assert!(
        reason.contains("`time`") && reason.contains("RFC 3339"),
        "{reason}"
    );

    let (line, reason) = parse_err(&format!("{good}\n42\n"));
    assert_eq!(line, 2);
    assert!(reason.contains("must be a JSON object"), "{reason}");

    let (line, reason) = parse_err(&format!(
        "{good}\n{{\"identity_key\":\"bob\",\"time\":\"2026-11-20T03:00:00Z\",\"evidence_event_ids\":\"e1\"}}\n"
    ));
    assert_eq!(line, 2);
    assert!(
        reason.contains("`evidence_event_ids` must be an array"),
        "{reason}"
    );

    let (line, reason) = parse_err(&format!("[\n  {good},\n  {{\"time\":1}},\n  {good}\n]\n"));
    assert_eq!(line, 3);
    assert!(reason.contains("array element 2 of 3"), "{reason}");

    let (line, reason) = parse_err(&format!("{good}\n{good}\n{{\"identity_key\":\"bob\","));
    assert_eq!(line, 3);
    assert!(reason.contains("not valid JSON"), "{reason}");

    let message = DetectError::Alert {
        input: "alerts.jsonl".to_string(),
        line: 7,
        reason: "the alert has no time".to_string(),
    }
    .to_string();
    assert_eq!(message, "alerts.jsonl, line 7: the alert has no time");
}

#[test]
fn no_alerts() {
    for text in ["", "\n\n  \n"] {
        let r = run(&four(), text);
        assert_eq!(
            (r.alerts, r.detected, r.true_alerts, r.false_alerts),
            (0, 0, 0, 0)
        );
        assert_eq!(r.recall, Some(0.0));
        assert_eq!(r.precision, None);
        assert_eq!(r.false_per_1000_identity_days, Some(0.0));
        assert_eq!(
            r.time_to_detect_seconds,
            TimeToDetect {
                median: None,
                p95: None
            }
        );
        assert!(r.by_scenario.iter().all(|s| !s.detected));
    }
}

#[test]
fn no_scenarios_and_no_benign_days_give_nulls() {
    let r = run(
        &labels(Vec::new(), 0),
        r#"{"identity_key":"bob","time":"2026-11-20T03:00:00Z"}"#,
    );
    assert_eq!(r.recall, None);
    assert_eq!(r.precision, Some(0.0));
    assert_eq!(r.false_alerts, 1);
    assert_eq!(r.false_per_1000_identity_days, None);
}

#[test]
fn floors_are_checked() {
    let r = run(&four(), FOUR_ALERTS);
    assert!(r.check(&Floors::default()).is_empty());
    let met = Floors {
        min_recall: Some(0.75),
        max_false_per_1000: Some(5.0),
        max_p95_seconds: Some(1200.0),
    };
    assert!(r.check(&met).is_empty(), "{:?}", r.check(&met));
    let missed = r.check(&Floors {
        min_recall: Some(0.8),
        max_false_per_1000: Some(4.9),
        max_p95_seconds: Some(1199.0),
    });
    assert_eq!(missed.len(), 3, "{missed:?}");
    assert!(missed[0].contains("recall 0.750 (3/4)"), "{missed:?}");
    assert!(
        missed[1].contains("5.000 false alerts per 1,000"),
        "{missed:?}"
    );
    assert!(
        missed[2].contains("p95 time to detect 1200 s"),
        "{missed:?}"
    );

    // Nothing detected: no p95, so a p95 ceiling is not met.
    let none = run(&four(), "");
    let missed = none.check(&Floors {
        max_p95_seconds: Some(1e9),
        ..Floors::default()
    });
    assert_eq!(missed.len(), 1);
}

#[test]
fn report_json_is_the_documented_object() {
    let r = run(&four(), FOUR_ALERTS);
    let v = serde_json::to_value(&r).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut expected = vec![
        "scenarios",
        "detected",
        "recall",
        "precision",
        "alerts",
        "true_alerts",
        "false_alerts",
        "benign_identity_days",
        "false_per_1000_identity_days",
        "time_to_detect_seconds",
        "by_technique",
        "by_tactic",
        "by_scenario",
        "false_alerts_by_alert_technique",
        "duplicates_ignored",
        "rules",
    ];
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(v["recall"], 0.75);
    assert_eq!(v["time_to_detect_seconds"]["p95"], 1200.0);
    assert_eq!(
        v["by_scenario"][3]["time_to_detect_seconds"],
        serde_json::Value::Null
    );
    assert_eq!(
        v["by_scenario"][0]["first_event_time"],
        "2026-11-20T03:12:00Z"
    );
    assert_eq!(v["rules"]["window_seconds"], 3600);
    assert!(
        v["rules"]["p95"]
            .as_str()
            .is_some_and(|s| s.contains("nearest rank"))
    );
    let none = serde_json::to_value(run(&four(), "")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(none["precision"], serde_json::Value::Null);
    assert_eq!(
        none["time_to_detect_seconds"]["median"],
        serde_json::Value::Null
    );
}

#[test]
fn labels_are_checked() {
    let good = serde_json::to_vec(&four()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parse_labels(&good).ok(), Some(four()));

    let mut old = four();
    old.version = LABELS_VERSION + 1;
    let bytes = serde_json::to_vec(&old).unwrap_or_else(|e| panic!("{e}"));
    let err = parse_labels(&bytes).err().map(|e| e.to_string());
    assert!(
        err.as_deref().is_some_and(|e| e.contains("layout version")),
        "{err:?}"
    );

    let err = parse_labels(br#"{"alerts":[]}"#)
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("not the labels JSON document")),
        "{err:?}"
    );

    let mut twice = four();
    twice.scenarios[1].scenario_id = "s1".to_string();
    let err = score(&twice, &[], &EvalOptions::default())
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("`s1` appears twice")),
        "{err:?}"
    );

    let mut backwards = four();
    backwards.scenarios[0].last_event_time = t("2026-11-20T03:00:00Z");
    let bytes = serde_json::to_vec(&backwards).unwrap_or_else(|e| panic!("{e}"));
    let err = parse_labels(&bytes).err().map(|e| e.to_string());
    assert!(
        err.as_deref().is_some_and(|e| e.contains("ends")),
        "{err:?}"
    );
}
