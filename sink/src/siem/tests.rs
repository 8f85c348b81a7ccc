use chrono::{DateTime, Utc};
use serde_json::json;
use vigil_schemas::{Alert, Incident};

use super::cef::{
    cef_severity, escape_extension, escape_header, octet_frame, syslog_message, syslog_severity,
};
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
        score: 75.0,
        tactic: Some("defense-evasion".into()),
        technique: Some("T1562.008".into()),
        reasons: vec!["a|b=c\\d\nnext".into(), "second".into()],
        evidence_event_ids: vec!["e1".into(), "e2".into()],
        reason_key: "aws.cloudtrail.stop-logging".into(),
        baseline: Default::default(),
    }
}

#[test]
fn cef_escapes_header_and_extension_values() {
    assert_eq!(escape_header(r"a|b\c"), r"a\|b\\c");
    assert_eq!(escape_header("a\nb"), "a b");
    assert_eq!(escape_extension("a=b\\c\nd\re|f"), r"a\=b\\c\nd\re|f");
    let line = alert_cef(&alert());
    assert!(
        line.starts_with(&format!(
            "CEF:0|Vigil|Vigil|{}|aws.cloudtrail.stop-logging|a\\|b=c\\\\d next|8|",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );
    assert!(
        line.contains(" suser=arn:aws:iam::111122223333:user/bob "),
        "{line}"
    );
    assert!(line.contains("rt=1795144440250 "), "{line}");
    assert!(
        line.contains("cs1Label=tactic cs1=defense-evasion cs2Label=technique cs2=T1562.008"),
        "{line}"
    );
    assert!(line.contains("cn1Label=score cn1=75.0"), "{line}");
    assert!(line.contains("externalId=va-1"), "{line}");
    assert!(line.ends_with(r"msg=a|b\=c\\d\nnext; second"), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn cef_of_an_incident() {
    let incident = Incident {
        incident_id: "vi-1".into(),
        revision: 2,
        identity_key: "bob".into(),
        first_time: at("2026-11-20T03:12:00Z"),
        last_time: at("2026-11-20T03:14:00Z"),
        severity: "critical".into(),
        score: 75.0,
        tactics: vec!["persistence".into(), "defense-evasion".into()],
        techniques: vec!["T1098.001".into(), "T1562.008".into()],
        alert_ids: vec!["va-0".into(), "va-1".into()],
        summary: "persistence → defense-evasion".into(),
    };
    let line = incident_cef(&incident);
    assert!(
        line.contains("|vigil.incident|persistence → defense-evasion|10|"),
        "{line}"
    );
    assert!(line.contains("act=incident-updated"), "{line}");
    assert!(line.contains("cs4Label=alertIds cs4=va-0,va-1"), "{line}");
    assert!(line.contains("cn2Label=revision cn2=2"), "{line}");
}

#[test]
fn severities_map_to_cef_and_syslog() {
    assert_eq!(cef_severity("low", 0.0), 3);
    assert_eq!(cef_severity("CRITICAL", 0.0), 10);
    assert_eq!(cef_severity("odd", 64.0), 6);
    assert_eq!(cef_severity("odd", f64::NAN), 0);
    assert_eq!(syslog_severity("critical"), 2);
    assert_eq!(syslog_severity("high"), 3);
    assert_eq!(syslog_severity("other"), 6);
}

#[test]
fn rfc5424_message_and_octet_counting() {
    let msg = syslog_message(
        13,
        3,
        at("2026-11-22T10:00:00.5Z"),
        "host name",
        "alert",
        "CEF:0|x",
    );
    let pid = std::process::id();
    assert_eq!(
        msg,
        format!("<107>1 2026-11-22T10:00:00.500Z hostname vigil {pid} alert - CEF:0|x")
    );
    let framed = octet_frame("héllo");
    assert_eq!(framed, b"6 h\xc3\xa9llo".to_vec());
}

#[test]
fn hec_event_wraps_ocsf() {
    let e = hec_event(
        json!({"class_uid": 2004}),
        at("2026-11-20T03:14:00.250Z"),
        "vigil:alert",
        "h1",
        Some("sec"),
    );
    assert_eq!(
        e,
        json!({"time": 1795144440.25, "host": "h1", "source": "vigil", "sourcetype": "vigil:alert", "index": "sec", "event": {"class_uid": 2004}})
    );
    let e = hec_event(
        json!({}),
        at("2026-11-20T03:14:00Z"),
        "vigil:event",
        "h1",
        None,
    );
    assert!(e.get("index").is_none());
}

#[test]
fn config_is_validated() -> Result<(), Box<dyn std::error::Error>> {
    let text = r#"
queue_capacity = 50
[hec]
url = "https://splunk.example:8088"
token = "t"
index = "security"
[syslog]
address = "siem.example:6514"
tls = true
facility = 4
"#;
    let config: SiemConfig = toml::from_str(text)?;
    config.validate()?;
    assert_eq!(config.hec.as_ref().map(|h| h.batch_size), Some(100));
    assert_eq!(
        config.syslog.as_ref().map(SyslogConfig::host),
        Some("siem.example")
    );

    assert!(
        toml::from_str::<SiemConfig>("[hec]\nurl = \"https://x\"\ntoken = \"t\"\nbogus = 1\n")
            .is_err()
    );
    let bad = |c: SiemConfig| c.validate().is_err();
    let with_hec = |h: HecConfig| SiemConfig {
        hec: Some(h),
        ..SiemConfig::default()
    };
    let with_syslog = |s: SyslogConfig| SiemConfig {
        syslog: Some(s),
        ..SiemConfig::default()
    };
    assert!(bad(with_hec(HecConfig::new("http://x:8088", "t"))));
    assert!(!bad(with_hec(HecConfig {
        allow_insecure_http: true,
        ..HecConfig::new("http://x:8088", "t")
    })));
    assert!(bad(with_hec(HecConfig::new("https://x", " "))));
    assert!(bad(with_hec(HecConfig::new("ftp://x", "t"))));
    assert!(bad(with_syslog(SyslogConfig::new("nohost"))));
    assert!(bad(with_syslog(SyslogConfig::new("h:0"))));
    assert!(bad(with_syslog(SyslogConfig {
        facility: 24,
        ..SyslogConfig::new("h:514")
    })));
    assert!(bad(with_syslog(SyslogConfig {
        ca_file: Some("/nonexistent".into()),
        tls: true,
        ..SyslogConfig::new("h:514")
    })));
    assert!(bad(with_syslog(SyslogConfig {
        ca_file: Some("/etc/hostname".into()),
        ..SyslogConfig::new("h:514")
    })));
    assert!(bad(SiemConfig {
        queue_capacity: 0,
        ..SiemConfig::default()
    }));
    assert_eq!(SyslogConfig::new("[::1]:514").host(), "::1");
    Ok(())
}

#[test]
fn a_full_queue_drops_the_oldest_and_shutdown_is_bounded() -> Result<(), Box<dyn std::error::Error>>
{
    // Nothing listens on port 9 of the loopback (discard is not run): every attempt fails fast.
    let registry = prometheus::Registry::new_custom(Some("vigil".into()), None)?;
    let config = SiemConfig {
        syslog: Some(SyslogConfig {
            timeout_seconds: 1,
            ..SyslogConfig::new("127.0.0.1:9")
        }),
        queue_capacity: 3,
        shutdown_timeout_seconds: 1,
        initial_backoff_ms: 50,
        max_backoff_ms: 100,
        ..SiemConfig::default()
    };
    let forwarder = SiemForwarder::start(config, &registry)?;
    let alerts: Vec<Alert> = (0..5)
        .map(|i| Alert {
            alert_id: format!("a{i}"),
            ..alert()
        })
        .collect();
    forwarder.send_alerts(&alerts);
    assert_eq!(forwarder.queued(), 3);
    let started = std::time::Instant::now();
    forwarder.shutdown();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = prometheus::TextEncoder::new().encode_to_string(&registry.gather())?;
    assert!(
        text.contains("vigil_siem_failed_total{output=\"syslog\"} 5"),
        "{text}"
    );
    assert!(
        text.contains("vigil_siem_queue_depth{output=\"syslog\"} 0"),
        "{text}"
    );
    Ok(())
}
