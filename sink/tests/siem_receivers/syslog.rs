//! CEF over RFC 5424 syslog to rsyslog, on plain TCP and TLS, across a receiver restart.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use vigil_schemas::{Alert, Incident};
use vigil_sink::siem::{SiemConfig, SiemForwarder, SyslogConfig};

use super::rsyslog::{Received, make_ca, make_server_cert, received, start_rsyslog};
use super::{TestResult, alerts, free_port, incident, wait_for};

fn check_messages(got: &[Received], sent: &[Alert], incident: &Incident) {
    let mut by_id: BTreeMap<&str, Vec<&Received>> = BTreeMap::new();
    for r in got {
        by_id
            .entry(r.ext.get("externalId").map_or("", String::as_str))
            .or_default()
            .push(r);
    }
    assert_eq!(got.len(), sent.len() + 1, "{got:#?}");
    for a in sent {
        let rs = by_id.get(a.alert_id.as_str()).cloned().unwrap_or_default();
        assert_eq!(
            rs.len(),
            1,
            "alert {} arrived {} times",
            a.alert_id,
            rs.len()
        );
        let r = rs[0];
        let sev: u32 = match a.severity.as_str() {
            "critical" => 2,
            "high" => 3,
            "medium" => 4,
            _ => 5,
        };
        assert_eq!(r.pri, (13 * 8 + sev).to_string(), "{r:?}");
        assert_eq!(
            (
                r.version.as_str(),
                r.hostname.as_str(),
                r.app.as_str(),
                r.msgid.as_str(),
                r.sd.as_str()
            ),
            ("1", "vigil-test", "vigil", "alert", "-"),
            "{r:?}"
        );
        assert_eq!(r.header[..3], ["CEF:0", "Vigil", "Vigil"], "{r:?}");
        assert_eq!(r.header[4], "aws.cloudtrail.stop-logging");
        assert_eq!(r.header[5], a.reasons[0]);
        let cef_sev = match a.severity.as_str() {
            "critical" => "10",
            "high" => "8",
            "medium" => "5",
            _ => "3",
        };
        assert_eq!(r.header[6], cef_sev);
        assert_eq!(r.ext.get("suser"), Some(&a.identity_key));
        assert_eq!(
            r.ext.get("cs1").map(String::as_str),
            Some("defense-evasion")
        );
        assert_eq!(r.ext.get("cs2").map(String::as_str), Some("T1562.008"));
        assert_eq!(
            r.ext.get("rt"),
            Some(&a.time.timestamp_millis().to_string())
        );
        assert_eq!(r.ext.get("cn1"), Some(&format!("{:.1}", a.score)));
        assert_eq!(r.ext.get("msg"), Some(&a.reasons.join("; ")), "{r:?}");
    }
    let inc = by_id.get("vi-1").cloned().unwrap_or_default();
    assert_eq!(inc.len(), 1, "incident arrived {} times", inc.len());
    assert_eq!(inc[0].msgid, "incident");
    assert_eq!(inc[0].header[5], incident.summary);
    assert_eq!(inc[0].ext.get("cs4").map(String::as_str), Some("a-0,a-1"));
}

fn run_rsyslog_round(tls: bool) -> TestResult {
    let dir = tempfile::tempdir()?;
    let ca = if tls {
        let ca = make_ca(dir.path(), "ca")?;
        make_server_cert(dir.path())?;
        Some(ca)
    } else {
        None
    };
    let port = free_port()?;
    let out = dir.path().join("received.log");
    let server = start_rsyslog(dir.path(), "1", port, tls, &out)?;
    let registry = prometheus::Registry::new_custom(Some("vigil".into()), None)?;
    let forwarder = syslog_forwarder(port, ca, &registry)?;
    let first = alerts(3, "a");
    let inc = incident();
    forwarder.send_alerts(&first);
    forwarder.send_incidents(std::slice::from_ref(&inc));
    wait_for("4 messages at rsyslog", Duration::from_secs(20), || {
        received(&out).len() >= 4
    })?;

    // The receiver restarts: the forwarder notices, reconnects and delivers what came meanwhile.
    drop(server);
    let later = alerts(2, "b");
    forwarder.send_alerts(&later);
    std::thread::sleep(Duration::from_millis(300));
    let _server = start_rsyslog(dir.path(), "2", port, tls, &out)?;
    wait_for("6 messages at rsyslog", Duration::from_secs(20), || {
        received(&out).len() >= 6
    })?;
    forwarder.shutdown();
    std::thread::sleep(Duration::from_millis(300));

    let all: Vec<Alert> = first.into_iter().chain(later).collect();
    check_messages(&received(&out), &all, &inc);
    let metrics = prometheus::TextEncoder::new().encode_to_string(&registry.gather())?;
    assert!(
        metrics.contains("vigil_siem_sent_total{output=\"syslog\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vigil_siem_failed_total{output=\"syslog\"} 0"),
        "{metrics}"
    );
    Ok(())
}

#[test]
fn cef_over_tcp_reaches_rsyslog_once_each_across_a_restart() -> TestResult {
    run_rsyslog_round(false)
}

#[test]
fn cef_over_tls_reaches_rsyslog_once_each_across_a_restart() -> TestResult {
    run_rsyslog_round(true)
}

#[test]
fn tls_refuses_a_receiver_signed_by_another_ca() -> TestResult {
    let dir = tempfile::tempdir()?;
    make_ca(dir.path(), "ca")?;
    make_server_cert(dir.path())?;
    let other = make_ca(dir.path(), "other")?;
    let port = free_port()?;
    let out = dir.path().join("received.log");
    let _server = start_rsyslog(dir.path(), "1", port, true, &out)?;
    let registry = prometheus::Registry::new_custom(Some("vigil".into()), None)?;
    let forwarder = syslog_forwarder(port, Some(other), &registry)?;
    forwarder.send_alerts(&alerts(1, "x"));
    wait_for("a refused handshake", Duration::from_secs(10), || {
        let m = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap_or_default();
        !m.contains("vigil_siem_retries_total{output=\"syslog\"} 0")
            && m.contains("vigil_siem_retries_total{output=\"syslog\"}")
    })?;
    assert_eq!(forwarder.queued(), 1);
    assert!(received(&out).is_empty());
    Ok(())
}

fn syslog_forwarder(
    port: u16,
    tls_ca: Option<PathBuf>,
    registry: &prometheus::Registry,
) -> Result<SiemForwarder, Box<dyn Error>> {
    let syslog = SyslogConfig {
        tls: tls_ca.is_some(),
        server_name: tls_ca.as_ref().map(|_| "localhost".to_string()),
        ca_file: tls_ca,
        hostname: Some("vigil-test".into()),
        timeout_seconds: 2,
        ..SyslogConfig::new(format!("127.0.0.1:{port}"))
    };
    let config = SiemConfig {
        syslog: Some(syslog),
        initial_backoff_ms: 50,
        max_backoff_ms: 300,
        shutdown_timeout_seconds: 10,
        ..SiemConfig::default()
    };
    Ok(SiemForwarder::start(config, registry)?)
}
