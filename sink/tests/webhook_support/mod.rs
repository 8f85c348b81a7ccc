//! The webhook tests' helpers: the Python receiver (`tests/webhook_receiver.py`), metric reads,
//! sample alerts and incidents, and the loopback endpoint configuration.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use prometheus::Registry;
use vigil_schemas::{Alert, Incident};
use vigil_sink::webhook::{EndpointConfig, WebhooksConfig};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The secret the receiver usually knows.
pub(crate) const SECRET: &str = "whsec_dmlnaWwtd2ViaG9vay10ZXN0LXNlY3JldC0wMDE=";
/// An older secret Vigil still signs with during a rotation.
pub(crate) const OLD_SECRET: &str = "whsec_b2xkLXNlY3JldC1iZWluZy1yb3RhdGVkLW91dA==";

pub(crate) struct Receiver {
    child: Child,
    out: PathBuf,
}

impl Receiver {
    pub(crate) fn start(
        port: u16,
        out: &Path,
        secret: &str,
        mode: &str,
        delay: f64,
    ) -> Result<Receiver, Box<dyn std::error::Error>> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/webhook_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--secret",
                secret,
                "--mode",
                mode,
            ])
            .args(["--delay", &delay.to_string()])
            .arg("--out")
            .arg(out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        if !line.starts_with("READY") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the webhook receiver did not start (is `standardwebhooks` installed? run deploy/scripts/deps/webhooks.sh): {line:?}"
            )
            .into());
        }
        Ok(Receiver {
            child,
            out: out.to_path_buf(),
        })
    }

    /// Takes the receiver down hard, as an outage would.
    pub(crate) fn kill(mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(|_| ())
    }

    /// Verified messages, in order of arrival: (webhook-id, body).
    pub(crate) fn verified(&self) -> Vec<(String, serde_json::Value)> {
        self.lines("verified.jsonl")
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|r| {
                let id = r["id"].as_str().unwrap_or_default().to_string();
                let body = serde_json::from_str(r["body"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                (id, body)
            })
            .collect()
    }

    pub(crate) fn verified_ids(&self) -> Vec<String> {
        self.verified().into_iter().map(|(id, _)| id).collect()
    }

    pub(crate) fn lines(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.out.join(file))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn lines(out: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(out.join(file))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

pub(crate) fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// Sum of a metric family's samples whose labels include `labels`.
pub(crate) fn metric(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut sum = 0.0;
    for family in registry.gather() {
        if family.name() != name {
            continue;
        }
        for m in family.get_metric() {
            let have: HashMap<&str, &str> = m
                .get_label()
                .iter()
                .map(|l| (l.name(), l.value()))
                .collect();
            if labels.iter().all(|(k, v)| have.get(k) == Some(v)) {
                sum += m.get_counter().get_value() + m.get_gauge().get_value();
            }
        }
    }
    sum
}

pub(crate) fn alert(i: usize) -> Alert {
    Alert {
        alert_id: format!("alert-{i:04}"),
        identity_key: format!("arn:aws:iam::111122223333:user/u{}", i % 7),
        time: Utc
            .timestamp_opt(1_795_144_440 + i as i64, 0)
            .single()
            .unwrap_or_default(),
        severity: ["low", "medium", "high", "critical"][i % 4].into(),
        score: (i % 100) as f64,
        tactic: Some("defense-evasion".into()),
        technique: Some("T1562.008".into()),
        reasons: vec![format!("reason {i} with \"quotes\" and ünïcode")],
        evidence_event_ids: vec![format!("ev-{i}")],
        reason_key: "aws.cloudtrail.stop-logging".into(),
        baseline: Default::default(),
    }
}

pub(crate) fn incident(i: usize, revision: u32) -> Incident {
    Incident {
        incident_id: format!("incident-{i}"),
        revision,
        identity_key: "arn:aws:iam::111122223333:user/bob".into(),
        first_time: Utc
            .timestamp_opt(1_795_144_440, 0)
            .single()
            .unwrap_or_default(),
        last_time: Utc
            .timestamp_opt(1_795_144_500, 0)
            .single()
            .unwrap_or_default(),
        severity: "critical".into(),
        score: 90.0,
        tactics: vec!["persistence".into(), "defense-evasion".into()],
        techniques: vec!["T1098.001".into()],
        alert_ids: vec![alert(i).alert_id],
        summary: format!("incident {i}"),
    }
}

pub(crate) fn config(spool: &Path, port: u16, secrets: &[&str]) -> WebhooksConfig {
    let mut endpoint = EndpointConfig::new(
        format!("http://127.0.0.1:{port}/hook"),
        secrets.iter().map(|s| s.to_string()).collect(),
    );
    endpoint.allow_private_targets = true;
    endpoint.timeout_seconds = 2;
    let mut config = WebhooksConfig::new(spool);
    config.endpoints.push(endpoint);
    config.initial_backoff_ms = 50;
    config.max_backoff_ms = 400;
    config
}
