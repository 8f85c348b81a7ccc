//! Engine scenarios on hand-made events: rules at once, learning, model alerts with reasons, dormant
//! privilege, suppression, incidents, checkpoints and eviction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::DateTime;
use vigil_schemas::*;

use super::*;

const MONDAY: i64 = 1_772_409_600; // 2026-03-02 00:00 UTC

struct Spec<'a> {
    key: &'a str,
    time: i64,
    permission: &'a str,
    category: ActionCategory,
    ip: &'a str,
    agent: &'a str,
    failed: bool,
}

fn event(s: &Spec<'_>) -> Event {
    let time = DateTime::from_timestamp(s.time, 0).unwrap();
    let (service, operation) = s
        .permission
        .split_once(':')
        .unwrap_or(("svc", s.permission));
    Event {
        event_id: format!("{}-{}-{}", s.key, s.time, s.permission),
        event_time: time,
        event_time_estimated: false,
        ingest_time: time,
        provider: Provider::Aws,
        class: EventClass::ApiActivity,
        account_id: Some("111122223333".into()),
        tenant_id: None,
        region: Some("eu-west-1".into()),
        identity: Identity::new(s.key, IdentityKind::HumanUser),
        action: Action {
            service: format!("{service}.amazonaws.com"),
            operation: operation.into(),
            permission: s.permission.into(),
            category: s.category,
        },
        resources: vec![],
        source: SourceEndpoint::from_raw(s.ip),
        user_agent: Some(s.agent.into()),
        outcome: if s.failed {
            Outcome {
                status: OutcomeStatus::Failure,
                error_code: Some("AccessDenied".into()),
                error_message: None,
            }
        } else {
            Outcome::success()
        },
        raw_ref: RawRef {
            source: "test".into(),
            byte_offset: 0,
            record_index: 0,
            format: "cloudtrail".into(),
        },
    }
}

const ROUTINE: [&str; 4] = [
    "ec2:DescribeInstances",
    "s3:ListBuckets",
    "logs:FilterLogEvents",
    "iam:GetRole",
];

/// `identities` people working weekdays 09–17 UTC from the office network, `days` days long.
fn office_history(identities: usize, days: i64) -> Vec<Event> {
    let mut out = Vec::new();
    for day in 0..days {
        if (day % 7) >= 5 {
            continue;
        }
        for hour in 9..17 {
            for minute in [5, 25, 45] {
                for i in 0..identities {
                    let t = MONDAY + day * 86_400 + hour * 3600 + minute * 60 + i as i64;
                    let permission =
                        ROUTINE[(day as usize + hour as usize + i + minute as usize / 20) % 4];
                    out.push(event(&Spec {
                        key: &format!("user{i:02}"),
                        time: t,
                        permission,
                        category: ActionCategory::Read,
                        ip: &format!("198.51.100.{}", 10 + i % 3),
                        agent: "aws-cli/2.15.0 Python/3.11",
                        failed: false,
                    }));
                }
            }
        }
    }
    out
}

fn engine() -> Engine {
    Engine::new(EngineConfig::default()).unwrap()
}

fn run(engine: &mut Engine, events: Vec<Event>) -> Vec<Alert> {
    engine.on_events(events).unwrap();
    engine.drain_alerts()
}

#[test]
fn an_always_rule_alerts_at_once_even_for_a_new_identity() {
    let mut e = engine();
    let alerts = run(
        &mut e,
        vec![event(&Spec {
            key: "newcomer",
            time: MONDAY,
            permission: "cloudtrail:StopLogging",
            category: ActionCategory::Write,
            ip: "203.0.113.5",
            agent: "aws-cli/2",
            failed: false,
        })],
    );
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.tactic.as_deref(), Some("defense-evasion"));
    assert!(
        a.reasons[0].contains("cloudtrail:StopLogging"),
        "{:?}",
        a.reasons
    );
    assert_eq!(a.evidence_event_ids.len(), 1);
    assert!(!a.reason_key.starts_with("model:"));
    assert_eq!(e.stats().rule_alerts, 1);
}

#[test]
fn a_quiet_office_raises_nothing_and_a_night_burst_from_elsewhere_is_explained() {
    let mut e = engine();
    let history = office_history(12, 21);
    let quiet = run(&mut e, history);
    assert!(quiet.is_empty(), "routine work alerted: {quiet:#?}");
    assert!(e.stats().refits > 0);

    // Saturday 03:10 UTC, a network and client never seen, secrets read in a burst.
    let start = MONDAY + 26 * 86_400 + 3 * 3600 + 600;
    let mut burst = vec![event(&Spec {
        key: "user03",
        time: start,
        permission: "secretsmanager:ListSecrets",
        category: ActionCategory::List,
        ip: "45.133.1.20",
        agent: "python-requests/2.31",
        failed: false,
    })];
    for i in 0..20 {
        burst.push(event(&Spec {
            key: "user03",
            time: start + 1 + i,
            permission: "secretsmanager:GetSecretValue",
            category: ActionCategory::Read,
            ip: "45.133.1.20",
            agent: "python-requests/2.31",
            failed: false,
        }));
    }
    let alerts = run(&mut e, burst);
    let model: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.reason_key.starts_with("model:"))
        .collect();
    assert_eq!(model.len(), 1, "one model alert per window: {alerts:#?}");
    let a = model[0];
    assert!(a.score >= 85.0, "{}", a.score);
    assert!(a.time.timestamp() - start <= 60, "detected within a minute");
    let text = a.reasons.join(" | ");
    assert!(
        text.contains("never seen") || text.contains("of its activity"),
        "reasons name the novelty: {text}"
    );
    assert!(a.baseline.get("events_seen").copied().unwrap_or(0.0) > 100.0);
    assert!(
        a.evidence_event_ids
            .iter()
            .any(|id| id.contains("secretsmanager"))
    );
}

#[test]
fn first_use_rules_wait_for_history_and_dormant_use_scores_higher() {
    let mut e = engine();
    // On day one nobody knows what is normal: a FirstUseIn90Days rule stays quiet.
    let young = run(
        &mut e,
        vec![event(&Spec {
            key: "user00",
            time: MONDAY + 9 * 3600,
            permission: "iam:AttachUserPolicy",
            category: ActionCategory::PermissionChange,
            ip: "198.51.100.10",
            agent: "aws-cli/2",
            failed: false,
        })],
    );
    assert!(young.is_empty(), "{young:?}");
    let mut e = engine();
    run(&mut e, office_history(6, 14));
    let mature = run(
        &mut e,
        vec![event(&Spec {
            key: "user01",
            time: MONDAY + 15 * 86_400 + 10 * 3600,
            permission: "iam:AttachUserPolicy",
            category: ActionCategory::PermissionChange,
            ip: "198.51.100.11",
            agent: "aws-cli/2.15.0 Python/3.11",
            failed: false,
        })],
    );
    let rule: Vec<&Alert> = mature
        .iter()
        .filter(|a| !a.reason_key.starts_with("model:"))
        .collect();
    assert_eq!(rule.len(), 1, "{mature:#?}");
    assert!(
        rule[0]
            .reasons
            .iter()
            .any(|r| r.contains("first use of high-risk"))
    );

    // The same rule on an always-alert operation: dormant use outranks plain use.
    let mut fresh = engine();
    let plain = run(
        &mut fresh,
        vec![event(&Spec {
            key: "someone",
            time: MONDAY,
            permission: "cloudtrail:StopLogging",
            category: ActionCategory::Write,
            ip: "198.51.100.10",
            agent: "aws-cli/2",
            failed: false,
        })],
    );
    let dormant = run(
        &mut e,
        vec![event(&Spec {
            key: "user02",
            time: MONDAY + 15 * 86_400 + 11 * 3600,
            permission: "cloudtrail:StopLogging",
            category: ActionCategory::Write,
            ip: "198.51.100.12",
            agent: "aws-cli/2.15.0 Python/3.11",
            failed: false,
        })],
    );
    let dormant: Vec<&Alert> = dormant
        .iter()
        .filter(|a| !a.reason_key.starts_with("model:"))
        .collect();
    assert!(
        dormant[0].score > plain[0].score,
        "{} vs {}",
        dormant[0].score,
        plain[0].score
    );
}

#[test]
fn duplicates_and_configured_suppressions_are_not_raised() {
    let stop = |key: &str, t: i64| {
        event(&Spec {
            key,
            time: t,
            permission: "cloudtrail:StopLogging",
            category: ActionCategory::Write,
            ip: "198.51.100.10",
            agent: "aws-cli/2",
            failed: false,
        })
    };
    let mut e = Engine::new(EngineConfig {
        suppress: vec![Suppression {
            identity: "lab-*".into(),
            reason: "*".into(),
        }],
        ..EngineConfig::default()
    })
    .unwrap();
    let alerts = run(
        &mut e,
        vec![
            stop("ops", MONDAY),
            stop("ops", MONDAY + 60),
            stop("lab-1", MONDAY),
            stop("ops", MONDAY + 7200),
        ],
    );
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert_ne!(alerts[0].alert_id, alerts[1].alert_id);
    assert_eq!(e.stats().duplicates_suppressed, 1);
    assert_eq!(e.stats().suppressed_by_config, 1);
}

#[test]
fn tactics_chained_by_one_identity_become_an_incident() {
    let mut e = engine();
    let mk = |permission: &str, t: i64| {
        event(&Spec {
            key: "ops",
            time: MONDAY + t,
            permission,
            category: ActionCategory::Write,
            ip: "198.51.100.10",
            agent: "aws-cli/2",
            failed: false,
        })
    };
    let alerts = run(
        &mut e,
        vec![
            mk("cloudtrail:StopLogging", 0),
            mk("ec2:ModifySnapshotAttribute", 120),
        ],
    );
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let incidents = e.drain_incidents();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0].alert_ids.len(), 2);
    assert!(
        incidents[0]
            .tactics
            .contains(&"defense-evasion".to_string())
    );
}

#[test]
fn a_restored_snapshot_continues_exactly_like_the_original() {
    let history = office_history(8, 21);
    let (first, second) = history.split_at(history.len() / 2);
    let mut whole = engine();
    let mut all = run(&mut whole, first.to_vec());
    all.extend(run(&mut whole, second.to_vec()));

    let mut before = engine();
    let mut split = run(&mut before, first.to_vec());
    let bytes = before.snapshot().unwrap();
    let mut after = engine();
    after.restore(&bytes).unwrap();
    split.extend(run(&mut after, second.to_vec()));
    assert_eq!(all, split);
    assert_eq!(whole.stats(), after.stats());
    assert!(engine().restore(b"not a snapshot").is_err());
}

#[test]
fn identities_beyond_the_cap_are_evicted_and_come_back_with_their_history() {
    let mut e = Engine::new(EngineConfig {
        max_identities: 8,
        ..EngineConfig::default()
    })
    .unwrap();
    run(&mut e, office_history(12, 3));
    assert!(e.identities_in_memory() <= 8);
    assert!(
        e.stats().evicted > 0 && e.stats().restored > 0,
        "{:?}",
        e.stats()
    );
    let bytes = e.bytes_per_identity();
    assert!(
        bytes > 100.0 && bytes < 1024.0,
        "{bytes} bytes per identity"
    );
}

#[test]
fn invalid_settings_are_refused() {
    let err = Engine::new(EngineConfig {
        threshold: -1.0,
        ..EngineConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("threshold"));
}

#[test]
fn a_storm_larger_than_a_window_counter_neither_panics_nor_stops() {
    let mut e = engine();
    let storm: Vec<Event> = (0..70_000)
        .map(|i| {
            event(&Spec {
                key: "broken-ci",
                time: MONDAY + i / 1_000,
                permission: "s3:DeleteObject",
                category: ActionCategory::Delete,
                ip: "198.51.100.10",
                agent: "aws-cli/2",
                failed: true,
            })
        })
        .collect();
    run(&mut e, storm);
    assert_eq!(e.stats().events, 70_000);
    assert_eq!(e.identities_in_memory(), 1);
}
