//! Webhook delivery against a real receiver: `tests/webhook_receiver.py` verifies every request
//! with the Standard Webhooks reference library (PyPI `standardwebhooks`, installed by
//! `deploy/scripts/deps/webhooks.sh`). Loopback targets need `allow_private_targets`.

mod webhook_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use prometheus::Registry;
use vigil_schemas::Alert;
use vigil_sink::webhook::{WebhookDelivery, check_target};
use webhook_support::{
    OLD_SECRET, Receiver, SECRET, TestResult, alert, config, free_port, incident, lines, metric,
    wait_until,
};

#[test]
fn every_alert_arrives_exactly_once_across_an_outage_and_a_restart() -> TestResult {
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    let mut expected = BTreeSet::new();

    // First run: 100 alerts in batches while the receiver is up, then the receiver goes down.
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config(spool.path(), port, &[SECRET]), &registry)?;
    let alerts: Vec<Alert> = (0..200).map(alert).collect();
    for batch in alerts[..100].chunks(10) {
        delivery.enqueue_alerts(batch)?;
        expected.extend(batch.iter().map(|a| a.alert_id.clone()));
        std::thread::sleep(Duration::from_millis(20));
    }
    let incidents = vec![incident(1, 1), incident(1, 2), incident(2, 1)];
    delivery.enqueue_incidents(&incidents)?;
    expected.extend(["incident-1-r1", "incident-1-r2", "incident-2-r1"].map(String::from));
    assert!(wait_until(Duration::from_secs(20), || receiver
        .verified_ids()
        .len()
        >= 30));
    receiver.kill()?;
    // Enqueued during the outage; durable before enqueue returns.
    delivery.enqueue_alerts(&alerts[100..150])?;
    expected.extend(alerts[100..150].iter().map(|a| a.alert_id.clone()));
    assert!(wait_until(Duration::from_secs(10), || metric(
        &registry,
        "vigil_webhook_retries_total",
        &[]
    ) >= 1.0));
    assert!(delivery.pending() >= 50, "pending {}", delivery.pending());
    delivery.shutdown();

    // Second run over the same spool, still in the outage; then the receiver comes back.
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config(spool.path(), port, &[SECRET]), &registry)?;
    delivery.enqueue_alerts(&alerts[150..])?;
    expected.extend(alerts[150..].iter().map(|a| a.alert_id.clone()));
    // An alert enqueued again while still pending is not spooled twice.
    delivery.enqueue_alerts(&alerts[150..160])?;
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        metric(&registry, "vigil_webhook_retries_total", &[]) >= 1.0,
        "the outage must be felt"
    );
    let before = delivery.pending();
    assert!(before >= 100, "pending {before}");
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    assert!(
        wait_until(Duration::from_secs(60), || delivery.pending() == 0),
        "still pending: {}",
        delivery.pending()
    );
    // The worker sets the gauge just after it removes a delivered message's file, so it may trail
    // `pending()` (which counts the files) for a moment.
    let endpoint = format!("127.0.0.1:{port}");
    let depth_of = || {
        metric(
            &registry,
            "vigil_webhook_spool_depth",
            &[("endpoint", endpoint.as_str())],
        )
    };
    wait_until(Duration::from_secs(10), || depth_of() == 0.0);
    let depth = depth_of();
    delivery.shutdown();

    let verified = receiver.verified_ids();
    let unique: BTreeSet<String> = verified.iter().cloned().collect();
    assert_eq!(
        verified.len(),
        unique.len(),
        "the receiver records an id once"
    );
    assert_eq!(
        unique, expected,
        "every alert and incident exactly once by id"
    );
    assert_eq!(unique.len(), 203);
    // The default body: the schemas crate's OCSF Detection Finding of the alert or incident.
    for (id, body) in receiver.verified() {
        if id.starts_with("alert-") {
            assert_eq!(body["class_uid"], 2004, "{id}: {body}");
            assert_eq!(body["finding_info"]["uid"], id.as_str(), "{id}: {body}");
        } else {
            assert_eq!(body["class_uid"], 2004, "{id}: {body}");
            assert_eq!(body["metadata"]["uid"], id.as_str(), "{id}: {body}");
        }
    }
    assert_eq!(
        receiver.lines("bad.txt"),
        Vec::<String>::new(),
        "no bad signature"
    );
    // Redeliveries happen only when the receiver dies between taking a message and answering.
    let duplicates = receiver.lines("duplicates.txt").len();
    assert!(duplicates <= 2, "{duplicates} redeliveries");
    assert_eq!(depth, 0.0);
    assert!(
        metric(&registry, "vigil_webhook_delivered_total", &[])
            >= before as f64 - duplicates as f64
    );
    Ok(())
}

#[test]
fn rotation_signs_with_every_secret() -> TestResult {
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    // The receiver knows only the new secret; Vigil signs with the old and the new.
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery =
        WebhookDelivery::start(config(spool.path(), port, &[OLD_SECRET, SECRET]), &registry)?;
    delivery.enqueue_alerts(&(0..5).map(alert).collect::<Vec<_>>())?;
    assert!(wait_until(Duration::from_secs(20), || delivery.pending() == 0));
    delivery.shutdown();
    assert_eq!(receiver.verified_ids().len(), 5);
    assert!(receiver.lines("bad.txt").is_empty());
    drop(receiver);

    // The receiver is no rubber stamp: signed with the old secret only, nothing verifies.
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config(spool.path(), port, &[OLD_SECRET]), &registry)?;
    delivery.enqueue_alerts(&[alert(1)])?;
    assert!(wait_until(Duration::from_secs(10), || !receiver
        .lines("bad.txt")
        .is_empty()));
    assert_eq!(delivery.pending(), 1, "a 401 is retried");
    delivery.shutdown();
    assert!(receiver.verified_ids().is_empty());
    Ok(())
}

#[test]
fn gone_disables_the_endpoint_and_it_stays_disabled() -> TestResult {
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    let receiver = Receiver::start(port, out.path(), SECRET, "gone", 0.0)?;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config(spool.path(), port, &[SECRET]), &registry)?;
    delivery.enqueue_alerts(&(0..5).map(alert).collect::<Vec<_>>())?;
    assert!(wait_until(Duration::from_secs(10), || !delivery
        .disabled_endpoints()
        .is_empty()));
    assert!(wait_until(Duration::from_secs(5), || delivery.pending() == 0));
    wait_until(Duration::from_secs(5), || {
        metric(
            &registry,
            "vigil_webhook_dropped_total",
            &[("reason", "disabled")],
        ) == 5.0
    });
    assert_eq!(
        metric(
            &registry,
            "vigil_webhook_dropped_total",
            &[("reason", "disabled")]
        ),
        5.0
    );
    assert_eq!(
        metric(&registry, "vigil_webhook_endpoint_disabled", &[]),
        1.0
    );
    assert_eq!(receiver.lines("requests.txt").len(), 1, "one 410 is enough");
    delivery.shutdown();
    receiver.kill()?;

    // After a restart, with the receiver healthy again, the endpoint is still disabled.
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config(spool.path(), port, &[SECRET]), &registry)?;
    assert_eq!(delivery.disabled_endpoints().len(), 1);
    assert_eq!(
        metric(&registry, "vigil_webhook_endpoint_disabled", &[]),
        1.0
    );
    delivery.enqueue_alerts(&(10..13).map(alert).collect::<Vec<_>>())?;
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(delivery.pending(), 0);
    assert_eq!(
        metric(
            &registry,
            "vigil_webhook_dropped_total",
            &[("reason", "disabled")]
        ),
        3.0
    );
    delivery.shutdown();
    assert_eq!(
        receiver.lines("requests.txt").len(),
        1,
        "nothing sent after the 410"
    );
    assert!(receiver.verified_ids().is_empty());
    Ok(())
}

#[test]
fn redirects_are_not_followed() -> TestResult {
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    let receiver = Receiver::start(port, out.path(), SECRET, "redirect", 0.0)?;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config(spool.path(), port, &[SECRET]), &registry)?;
    delivery.enqueue_alerts(&[alert(1)])?;
    assert!(wait_until(Duration::from_secs(10), || metric(
        &registry,
        "vigil_webhook_retries_total",
        &[]
    ) >= 2.0));
    assert_eq!(delivery.pending(), 1, "a 302 is a failure, retried");
    assert_eq!(metric(&registry, "vigil_webhook_delivered_total", &[]), 0.0);
    delivery.shutdown();
    let requests = receiver.lines("requests.txt");
    assert!(requests.len() >= 2);
    assert!(
        requests.iter().all(|r| r.starts_with("/hook ")),
        "the redirect was followed: {requests:?}"
    );
    Ok(())
}

#[test]
fn the_guard_refuses_loopback_unless_allowed() -> TestResult {
    let port = free_port()?;
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/"),
    ] {
        let refused = check_target(&url, false);
        assert!(refused.is_err(), "{url} must be refused");
        assert!(
            check_target(&url, true).is_ok(),
            "{url} is allowed when private targets are"
        );
    }

    // End to end: a live receiver on loopback gets nothing while private targets are refused.
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    let mut config = config(spool.path(), port, &[SECRET]);
    config.endpoints[0].url = format!("http://localhost:{port}/hook");
    config.endpoints[0].allow_private_targets = false;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config, &registry)?;
    delivery.enqueue_alerts(&[alert(1)])?;
    assert!(wait_until(Duration::from_secs(10), || metric(
        &registry,
        "vigil_webhook_retries_total",
        &[]
    ) >= 2.0));
    assert_eq!(delivery.pending(), 1);
    delivery.shutdown();
    assert!(
        receiver.lines("requests.txt").is_empty(),
        "a refused target must not be contacted"
    );
    Ok(())
}

#[test]
fn a_slow_receiver_times_out_and_the_message_waits() -> TestResult {
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    let _receiver = Receiver::start(port, out.path(), SECRET, "ok", 3.0)?;
    let mut config = config(spool.path(), port, &[SECRET]);
    config.endpoints[0].timeout_seconds = 1;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config, &registry)?;
    let started = Instant::now();
    delivery.enqueue_alerts(&[alert(1)])?;
    assert!(wait_until(Duration::from_secs(10), || metric(
        &registry,
        "vigil_webhook_retries_total",
        &[]
    ) >= 1.0));
    assert!(
        started.elapsed() < Duration::from_millis(2_900),
        "the request was not cut at 1 s"
    );
    assert_eq!(delivery.pending(), 1);
    assert_eq!(metric(&registry, "vigil_webhook_delivered_total", &[]), 0.0);
    delivery.shutdown();
    Ok(())
}

#[test]
fn messages_are_dropped_when_the_retry_period_is_over() -> TestResult {
    let spool = tempfile::tempdir()?;
    // Nobody listens on this port.
    let port = free_port()?;
    let mut config = config(spool.path(), port, &[SECRET]);
    config.endpoints[0].retry_for_seconds = 1;
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config, &registry)?;
    delivery.enqueue_alerts(&(0..3).map(alert).collect::<Vec<_>>())?;
    assert!(wait_until(Duration::from_secs(10), || delivery.pending() == 0));
    assert_eq!(
        metric(
            &registry,
            "vigil_webhook_dropped_total",
            &[("reason", "expired")]
        ),
        3.0
    );
    assert!(metric(&registry, "vigil_webhook_retries_total", &[]) >= 3.0);
    delivery.shutdown();
    Ok(())
}

#[test]
fn kinds_and_templates_choose_what_an_endpoint_gets() -> TestResult {
    let spool = tempfile::tempdir()?;
    let out = tempfile::tempdir()?;
    let port = free_port()?;
    let receiver = Receiver::start(port, out.path(), SECRET, "ok", 0.0)?;
    let mut config = config(spool.path(), port, &[SECRET]);
    config.endpoints[0].kinds = vec![vigil_sink::webhook::MessageKind::Incidents];
    config.endpoints[0].template =
        Some(r#"{"text": {{ incident.summary | tojson }}, "class": {{ ocsf.class_uid }}}"#.into());
    let registry = Registry::new_custom(Some("vigil".into()), None)?;
    let delivery = WebhookDelivery::start(config, &registry)?;
    delivery.enqueue_alerts(&[alert(1)])?;
    delivery.enqueue_incidents(&[incident(7, 3)])?;
    assert!(wait_until(Duration::from_secs(10), || delivery.pending() == 0));
    delivery.shutdown();
    assert_eq!(receiver.verified_ids(), vec!["incident-7-r3".to_string()]);
    let body = receiver.verified().into_iter().map(|(_, b)| b).next();
    assert_eq!(
        body,
        Some(
            serde_json::json!({"text": "incident 7", "class": incident(7, 3).to_ocsf()["class_uid"]})
        )
    );
    assert_eq!(
        lines(out.path(), "requests.txt").len(),
        1,
        "no alert goes to an incidents-only endpoint"
    );
    Ok(())
}
