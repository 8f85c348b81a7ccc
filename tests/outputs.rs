//! `vigil run` hands its alerts and incidents to the configured outputs: every one arrives at a real
//! Standard Webhooks receiver (signatures verified by the `standardwebhooks` PyPI library) and at a
//! Splunk HEC endpoint on loopback, once by id.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{WEBHOOK_SECRET, WebhookReceiver, repo_root, vigil};

/// A HEC endpoint: records (authorization, body) of every POST and answers success.
/// (authorization header, body) of every POST the HEC endpoint received.
type HecPosts = Arc<Mutex<Vec<(String, String)>>>;

fn hec_server() -> (u16, HecPosts) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let (mut length, mut auth, mut request_line) = (0usize, String::new(), String::new());
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    auth = line["authorization:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            if request_line.starts_with("POST /services/collector/event")
                && let Ok(mut seen) = record.lock()
            {
                seen.push((auth, String::from_utf8_lossy(&body).into_owned()));
            }
            let reply = "{\"text\":\"Success\",\"code\":0}";
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (port, seen)
}

fn json_lines(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        out.extend(
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))),
        );
    }
    out
}

#[test]
fn vigil_run_delivers_every_alert_and_incident_to_webhooks_and_hec() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let receiver = WebhookReceiver::start(&tmp.path().join("received"));
    let port = receiver.port;
    let (hec_port, hec) = hec_server();

    let config = tmp.path().join("vigil.toml");
    let spool = tmp.path().join("spool");
    std::fs::write(
        &config,
        format!(
            r#"
[webhooks]
spool_dir = "{spool}"

[[webhooks.endpoints]]
url = "http://127.0.0.1:{port}/vigil"
secrets = ["{WEBHOOK_SECRET}"]
allow_private_targets = true

[siem.hec]
url = "http://127.0.0.1:{hec_port}"
token = "hec-token"
allow_insecure_http = true
"#,
            spool = spool.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let lake = tmp.path().join("lake");
    let out = vigil()
        .arg("--config")
        .arg(&config)
        .args(["run", "--no-progress", "--input"])
        .arg(repo_root().join("deploy/sample"))
        .arg("--lake")
        .arg(&lake)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "vigil run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let alerts = json_lines(&lake.join("alerts"));
    let incidents = json_lines(&lake.join("incidents"));
    assert!(alerts.len() >= 2 && !incidents.is_empty());
    let mut expected: BTreeSet<String> = alerts
        .iter()
        .filter_map(|a| a["alert_id"].as_str().map(str::to_string))
        .collect();
    for i in &incidents {
        expected.insert(format!(
            "{}-r{}",
            i["incident_id"].as_str().unwrap_or_default(),
            i["revision"]
        ));
    }

    let verified = receiver.verified_ids();
    let bad = receiver.bad_signatures();
    assert!(bad.trim().is_empty(), "signatures failed: {bad}");
    assert_eq!(
        verified.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every alert and incident revision, verified"
    );
    assert_eq!(verified.len(), expected.len(), "each once");

    let posts = hec.lock().map(|p| p.clone()).unwrap_or_default();
    assert!(posts.iter().all(|(auth, _)| auth == "Splunk hec-token"));
    let mut sourcetypes = Vec::new();
    for (_, body) in &posts {
        // HEC bodies are concatenated JSON objects.
        for event in serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>() {
            let event = event.unwrap_or_else(|e| panic!("HEC body is not JSON objects: {e}"));
            sourcetypes.push(event["sourcetype"].as_str().unwrap_or_default().to_string());
        }
    }
    let count = |t: &str| sourcetypes.iter().filter(|s| s.as_str() == t).count();
    assert_eq!(count("vigil:alert"), alerts.len(), "{sourcetypes:?}");
    assert_eq!(count("vigil:incident"), incidents.len(), "{sourcetypes:?}");
}
