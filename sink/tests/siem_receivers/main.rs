//! The SIEM outputs against real receivers on loopback: rsyslog (Debian `rsyslog`, `rsyslog-gnutls`)
//! for CEF over RFC 5424 syslog on plain TCP and on TLS, and an HTTP server playing Splunk HEC that
//! answers 503 once. Install the receivers with `bash deploy/scripts/deps/siem.sh`.

use std::error::Error;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use vigil_schemas::{Alert, Incident};

type TestResult = Result<(), Box<dyn Error>>;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn alerts(n: usize, prefix: &str) -> Vec<Alert> {
    (0..n)
        .map(|i| Alert {
            alert_id: format!("{prefix}-{i}"),
            identity_key: format!("arn:aws:iam::111122223333:user/u{i}"),
            time: at("2026-11-20T03:14:00.250Z") + chrono::Duration::seconds(i as i64),
            severity: ["low", "medium", "high", "critical"][i % 4].into(),
            score: 40.0 + i as f64,
            tactic: Some("defense-evasion".into()),
            technique: Some("T1562.008".into()),
            reasons: vec![
                format!("CloudTrail logging stopped (cloudtrail:StopLogging) #{i}"),
                "odd chars: a=b | c\\d\nnew line".into(),
            ],
            evidence_event_ids: vec![format!("e{i}")],
            reason_key: "aws.cloudtrail.stop-logging".into(),
            baseline: Default::default(),
        })
        .collect()
}

fn incident() -> Incident {
    Incident {
        incident_id: "vi-1".into(),
        revision: 1,
        identity_key: "arn:aws:iam::111122223333:user/bob".into(),
        first_time: at("2026-11-20T03:12:00Z"),
        last_time: at("2026-11-20T03:14:00Z"),
        severity: "critical".into(),
        score: 75.0,
        tactics: vec!["persistence".into(), "defense-evasion".into()],
        techniques: vec!["T1098.001".into(), "T1562.008".into()],
        alert_ids: vec!["a-0".into(), "a-1".into()],
        summary: "persistence → defense-evasion".into(),
    }
}

fn free_port() -> Result<u16, Box<dyn Error>> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("timed out waiting for {what}"))
}

mod hec;
mod rsyslog;
mod syslog;
