//! Unit tests: the signature against the published Standard Webhooks vector, the SSRF classifier,
//! config validation, the spool's durability contract, backoff and the bodies.

use std::net::IpAddr;

use chrono::{TimeZone, Utc};
use vigil_schemas::{Alert, Incident};

use super::body::Message;
use super::config::{EndpointConfig, MessageKind, WebhooksConfig};
use super::deliver::Backoff;
use super::guard::{forbidden, parse_url, resolve_checked};
use super::sign::{Signer, decode_secret};
use super::spool::{EndpointSpool, SpoolEntry};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn signature_matches_the_standard_webhooks_test_vector() -> Result {
    // The vector of the Standard Webhooks reference libraries' own `sign` tests.
    let signer = Signer::new(&[VECTOR_SECRET.to_string()])?;
    let sig = signer.sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    Ok(())
}

#[test]
fn several_secrets_give_one_signature_each_in_order() -> Result {
    let other = "whsec_c2Vjb25kLXNlY3JldC1rZXktYnl0ZXM="; // "second-secret-key-bytes"
    let both = Signer::new(&[VECTOR_SECRET.to_string(), other.to_string()])?;
    let first = Signer::new(&[VECTOR_SECRET.to_string()])?.sign("id", 7, b"{}");
    let second = Signer::new(&[other.to_string()])?.sign("id", 7, b"{}");
    assert_ne!(first, second);
    assert_eq!(both.sign("id", 7, b"{}"), format!("{first} {second}"));
    Ok(())
}

#[test]
fn secrets_must_be_whsec_base64() {
    assert!(decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
    assert!(decode_secret("whsec_not base64!").is_err());
    assert!(decode_secret("whsec_").is_err());
    // Padding is optional, as in the reference libraries.
    assert_eq!(decode_secret("whsec_YWJj").ok(), Some(b"abc".to_vec()));
    assert_eq!(decode_secret("whsec_YWI").ok(), Some(b"ab".to_vec()));
    assert_eq!(decode_secret("whsec_YWI=").ok(), Some(b"ab".to_vec()));
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([255, 255, 255, 255]))
}

#[test]
fn guard_refuses_internal_addresses() {
    for internal in [
        "127.0.0.1",
        "127.255.0.9",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:100.64.0.1",
        "64:ff9b::a9fe:a9fe",
        "::127.0.0.1",
    ] {
        assert!(
            forbidden(ip(internal)).is_some(),
            "{internal} must be refused"
        );
    }
}

#[test]
fn guard_allows_public_addresses() {
    for public in [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "172.15.255.255",
        "100.63.255.255",
        "100.128.0.1",
        "192.0.2.10",
        "169.255.0.1",
        "2001:4860:4860::8888",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ] {
        assert_eq!(forbidden(ip(public)), None, "{public} must be allowed");
    }
}

#[test]
fn guard_resolves_before_judging() -> Result {
    let url = parse_url("http://localhost:9/hook")?;
    let refused = resolve_checked(&url, false);
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("loopback")),
        "{refused:?}"
    );
    let allowed = resolve_checked(&url, true).map_err(|e| e.to_string())?;
    assert_eq!(allowed.domain.as_deref(), Some("localhost"));
    assert!(allowed.addr.ip().is_loopback());
    assert_eq!(allowed.addr.port(), 9);
    let literal = resolve_checked(&parse_url("http://[::ffff:10.0.0.1]/")?, false);
    assert!(literal.is_err(), "{literal:?}");
    // An IP literal needs no pinning.
    let public =
        resolve_checked(&parse_url("https://192.0.2.10/x")?, false).map_err(|e| e.to_string())?;
    assert_eq!(public.domain, None);
    assert_eq!(public.addr.port(), 443);
    Ok(())
}

fn config_with(endpoint: EndpointConfig) -> WebhooksConfig {
    let mut config = WebhooksConfig::new("/tmp/spool");
    config.endpoints.push(endpoint);
    config
}

#[test]
fn config_defaults_and_unknown_fields() -> Result {
    let config: WebhooksConfig = toml::from_str(
        r#"
        spool_dir = "/var/lib/vigil/webhooks"
        [[endpoints]]
        url = "https://siem.example.com/hook"
        secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
        "#,
    )?;
    config.validate()?;
    let ep = &config.endpoints[0];
    assert_eq!(ep.timeout_seconds, 10);
    assert_eq!(ep.retry_for_seconds, 259_200);
    assert!(!ep.allow_private_targets);
    assert_eq!(ep.kinds, vec![MessageKind::Alerts, MessageKind::Incidents]);
    assert_eq!(config.initial_backoff_ms, 5_000);
    let unknown = toml::from_str::<WebhooksConfig>(
        "spool_dir = \"/x\"\n[[endpoints]]\nurl = \"https://a/\"\nsecrets = []\nsecret = \"x\"\n",
    );
    assert!(unknown.is_err());
    Ok(())
}

#[test]
fn validation_names_the_bad_field() {
    let good = EndpointConfig::new("https://a.example/h", vec![VECTOR_SECRET.into()]);
    let cases: Vec<(EndpointConfig, &str)> = vec![
        (
            EndpointConfig {
                url: "ftp://a.example/".into(),
                ..good.clone()
            },
            "webhooks.endpoints[0].url",
        ),
        (
            EndpointConfig {
                secrets: vec![],
                ..good.clone()
            },
            "webhooks.endpoints[0].secrets",
        ),
        (
            EndpointConfig {
                secrets: vec![VECTOR_SECRET.into(), "hunter2".into()],
                ..good.clone()
            },
            "webhooks.endpoints[0].secrets[1]",
        ),
        (
            EndpointConfig {
                template: Some("{{ alert.alert_id ".into()),
                ..good.clone()
            },
            "webhooks.endpoints[0].template",
        ),
        (
            EndpointConfig {
                timeout_seconds: 0,
                ..good.clone()
            },
            "webhooks.endpoints[0].timeout_seconds",
        ),
        (
            EndpointConfig {
                kinds: vec![],
                ..good.clone()
            },
            "webhooks.endpoints[0].kinds",
        ),
    ];
    for (endpoint, field) in cases {
        let err = config_with(endpoint)
            .validate()
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.starts_with(field), "{field}: got {err:?}");
        assert!(!err.contains('\n'));
    }
    let mut twice = config_with(good.clone());
    twice.endpoints.push(good);
    assert!(twice.validate().is_err());
}

fn alert(id: &str) -> Alert {
    Alert {
        alert_id: id.into(),
        identity_key: "arn:aws:iam::111122223333:user/bob".into(),
        time: Utc
            .with_ymd_and_hms(2026, 11, 20, 3, 14, 0)
            .single()
            .unwrap_or_default(),
        severity: "high".into(),
        score: 81.5,
        tactic: Some("defense-evasion".into()),
        technique: Some("T1562.008".into()),
        reasons: vec!["CloudTrail logging stopped".into()],
        evidence_event_ids: vec!["ev-1".into()],
        reason_key: "aws.cloudtrail.stop-logging".into(),
        baseline: Default::default(),
    }
}

#[test]
fn default_body_is_an_ocsf_finding() -> Result {
    let message = Message::alert(&alert("a-1"))?;
    let body: serde_json::Value = serde_json::from_str(&message.render(None)?)?;
    assert_eq!(body["class_uid"], 2004);
    assert_eq!(body["type_uid"], 200401);
    assert_eq!(body["severity_id"], 4);
    assert_eq!(body["finding_info"]["uid"], "a-1");
    assert_eq!(body, alert("a-1").to_ocsf());
    assert_eq!(body["time"], 1_795_144_440_000_i64);
    let incident = Incident {
        incident_id: "inc-1".into(),
        revision: 2,
        identity_key: "bob".into(),
        first_time: Utc::now(),
        last_time: Utc::now(),
        severity: "critical".into(),
        score: 90.0,
        tactics: vec!["persistence".into(), "defense-evasion".into()],
        techniques: vec![],
        alert_ids: vec!["a-1".into(), "a-2".into()],
        summary: "key for another user, then logging stopped".into(),
    };
    let message = Message::incident(&incident)?;
    assert_eq!(message.id, "inc-1-r2");
    let body: serde_json::Value = serde_json::from_str(&message.render(None)?)?;
    // Exactly the schemas crate's OCSF finding (a Detection Finding, Update for revision 2).
    assert_eq!(body, incident.to_ocsf());
    assert_eq!(body["class_uid"], 2004);
    assert_eq!(body["severity_id"], 5);
    Ok(())
}

#[test]
fn template_renders_json_or_fails() -> Result {
    let message = Message::alert(&alert("a-2"))?;
    let body = message.render(Some(
        r#"{"text": {{ (alert.severity ~ ": " ~ alert.reasons[0]) | tojson }}, "id": {{ webhook_id | tojson }}, "class": {{ ocsf.class_uid }}}"#,
    ))?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(v["text"], "high: CloudTrail logging stopped");
    assert_eq!(v["id"], "a-2");
    assert_eq!(v["class"], 2004);
    assert!(message.render(Some("not json {{ kind }}")).is_err());
    assert!(message.render(Some("{{ incident.summary }}")).is_err());
    Ok(())
}

#[test]
fn backoff_doubles_with_jitter_and_caps() {
    let mut b = Backoff::new(100, 1_000, 1);
    for _ in 0..50 {
        let d1 = b.delay_ms(1);
        assert!((50..=100).contains(&d1), "{d1}");
        let d3 = b.delay_ms(3);
        assert!((200..=400).contains(&d3), "{d3}");
        let d20 = b.delay_ms(20);
        assert!((500..=1_000).contains(&d20), "{d20}");
        assert!(b.delay_ms(u32::MAX) <= 1_000);
    }
    let spread: std::collections::HashSet<u64> = (0..20).map(|_| b.delay_ms(5)).collect();
    assert!(spread.len() > 5, "jitter must spread retries: {spread:?}");
}

#[test]
fn spool_is_durable_and_idempotent() -> Result {
    let dir = tempfile::tempdir()?;
    let spool = EndpointSpool::open(dir.path(), "https://a.example/h")?;
    let entry = |id: &str| SpoolEntry {
        id: id.into(),
        kind: MessageKind::Alerts,
        body: "{}".into(),
        first_enqueued_ms: 1,
        attempts: 0,
        next_attempt_ms: 1,
        last_error: None,
    };
    let added = spool.add(vec![entry("a"), entry("b")])?;
    assert_eq!(added.len(), 2);
    // The same message again is not spooled twice.
    assert!(spool.add(vec![entry("a")])?.is_empty());
    let mut updated = entry("a");
    updated.attempts = 3;
    updated.next_attempt_ms = 99;
    spool.update(&EndpointSpool::file_name("a"), &updated)?;
    spool.remove(&EndpointSpool::file_name("b"))?;
    // A reopened spool (a restart) sees the schedule; a corrupt file is set aside.
    std::fs::write(
        dir.path()
            .join(super::spool::endpoint_key("https://a.example/h"))
            .join("zz.msg.json"),
        "{",
    )?;
    let reopened = EndpointSpool::open(dir.path(), "https://a.example/h")?;
    let loaded = reopened.load()?;
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].1, updated);
    assert_eq!(reopened.count(), 1);
    assert_eq!(reopened.disabled(), None);
    reopened.mark_disabled("gone")?;
    assert!(
        EndpointSpool::open(dir.path(), "https://a.example/h")?
            .disabled()
            .is_some()
    );
    Ok(())
}
