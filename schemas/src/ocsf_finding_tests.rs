use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn alert() -> Alert {
    Alert {
        alert_id: "va-1".into(),
        identity_key: "arn:aws:iam::111122223333:user/bob".into(),
        time: at("2026-11-20T03:14:00.250Z"),
        severity: "high".into(),
        score: 74.6,
        tactic: Some("defense-evasion".into()),
        technique: Some("T1562.008".into()),
        reasons: vec![
            "CloudTrail logging stopped (cloudtrail:StopLogging)".into(),
            "client python-requests never seen for this identity".into(),
        ],
        evidence_event_ids: vec!["e1".into(), "e2".into()],
        reason_key: "aws.cloudtrail.stop-logging".into(),
        baseline: [("events_seen".to_string(), 12.0)].into_iter().collect(),
    }
}

fn incident(revision: u32) -> Incident {
    Incident {
        incident_id: "vi-1".into(),
        revision,
        identity_key: "arn:aws:iam::111122223333:user/bob".into(),
        first_time: at("2026-11-20T03:12:00Z"),
        last_time: at("2026-11-20T03:14:00Z"),
        severity: "critical".into(),
        score: 75.0,
        tactics: vec!["persistence".into(), "defense-evasion".into()],
        techniques: vec!["T1098.001".into(), "T1562.008".into()],
        alert_ids: vec!["va-0".into(), "va-1".into()],
        summary: "persistence → defense-evasion".into(),
    }
}

#[test]
fn alert_is_a_detection_finding() {
    let o = alert().to_ocsf();
    assert_eq!(o["class_uid"], 2004);
    assert_eq!(o["category_uid"], 2);
    assert_eq!(o["activity_id"], 1);
    assert_eq!(o["type_uid"], 200401);
    assert_eq!(o["severity_id"], 4);
    assert_eq!(o["time"], 1_795_144_440_250_i64);
    assert_eq!(o["metadata"]["version"], "1.3.0");
    assert_eq!(o["metadata"]["product"]["vendor_name"], "Vigil");
    assert_eq!(o["metadata"]["profiles"], json!(["host"]));
    assert_eq!(
        o["actor"]["user"]["uid"],
        "arn:aws:iam::111122223333:user/bob"
    );
    assert_eq!(o["risk_score"], 75);
    assert_eq!(o["risk_level_id"], 3);
    let fi = &o["finding_info"];
    assert_eq!(fi["uid"], "va-1");
    assert_eq!(
        fi["title"],
        "CloudTrail logging stopped (cloudtrail:StopLogging)"
    );
    assert!(
        fi["desc"]
            .as_str()
            .is_some_and(|d| d.contains("python-requests"))
    );
    assert_eq!(fi["types"], json!(["aws.cloudtrail.stop-logging"]));
    assert_eq!(fi["analytic"]["type_id"], 1);
    assert_eq!(fi["first_seen_time"], o["time"]);
    assert_eq!(fi["related_events"], json!([{"uid": "e1"}, {"uid": "e2"}]));
    assert_eq!(
        fi["attacks"],
        json!([{
            "tactic": {"uid": "TA0005", "name": "Defense Evasion"},
            "technique": {"uid": "T1562.008", "name": "Impair Defenses: Disable or Modify Cloud Logs"},
            "version": "v16",
        }])
    );
    assert_eq!(o["unmapped"]["vigil"]["score"], 74.6);
    assert_eq!(o["unmapped"]["vigil"]["baseline"]["events_seen"], 12.0);
}

#[test]
fn behavioural_alert_without_attack_has_no_attacks_and_no_nulls() {
    let mut a = alert();
    a.reason_key = "model:volume".into();
    a.tactic = None;
    a.technique = None;
    a.severity = "weird".into();
    a.score = f64::NAN;
    let o = a.to_ocsf();
    assert_eq!(o["finding_info"]["analytic"]["type_id"], 2);
    assert!(o["finding_info"].get("attacks").is_none());
    assert_eq!(o["severity_id"], 0);
    assert_eq!(o["risk_score"], 0);
    assert!(!o.to_string().contains("null"));
}

#[test]
fn unknown_tactic_keeps_its_name() {
    let mut a = alert();
    a.tactic = Some("something-new".into());
    a.technique = Some("T9999".into());
    let o = a.to_ocsf();
    assert_eq!(
        o["finding_info"]["attacks"][0]["tactic"],
        json!({"name": "something-new"})
    );
    assert_eq!(
        o["finding_info"]["attacks"][0]["technique"],
        json!({"uid": "T9999"})
    );
}

#[test]
fn incident_is_a_detection_finding_with_revisions() {
    let o = incident(1).to_ocsf();
    assert_eq!(o["class_uid"], 2004);
    assert_eq!(o["type_uid"], 200401);
    assert_eq!(o["severity_id"], 5);
    assert_eq!(o["status_id"], 1);
    assert_eq!(o["time"], at("2026-11-20T03:14:00Z").timestamp_millis());
    assert_eq!(o["metadata"]["uid"], "vi-1-r1");
    assert_eq!(o["metadata"]["correlation_uid"], "vi-1");
    assert_eq!(
        o["actor"]["user"]["uid"],
        "arn:aws:iam::111122223333:user/bob"
    );
    let fi = &o["finding_info"];
    assert_eq!(fi["uid"], "vi-1");
    assert_eq!(fi["related_events"][1]["uid"], "va-1");
    assert_eq!(fi["related_events"][1]["type_uid"], 200401);
    assert_eq!(fi["attacks"][0]["tactic"]["uid"], "TA0003");
    assert_eq!(fi["attacks"][1]["technique"]["uid"], "T1562.008");
    assert_eq!(
        fi["first_seen_time"],
        at("2026-11-20T03:12:00Z").timestamp_millis()
    );
    let o2 = incident(2).to_ocsf();
    assert_eq!(o2["activity_id"], 2);
    assert_eq!(o2["type_uid"], 200402);
    assert_eq!(o2["metadata"]["uid"], "vi-1-r2");
}

#[test]
fn every_catalog_tactic_has_an_attack_id() {
    for t in [
        "defense-evasion",
        "persistence",
        "privilege-escalation",
        "credential-access",
        "exfiltration",
        "impact",
        "discovery",
        "execution",
        "initial-access",
        "collection",
        "lateral-movement",
    ] {
        assert!(tactic_id(t).is_some(), "{t}");
    }
}
