//! Splunk HTTP Event Collector: event JSON and the transport that POSTs batches of it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::worker::{Failure, Transport};

/// The HEC event JSON around an OCSF object: `time` in epoch seconds with milliseconds, `host`,
/// `source` `vigil`, `sourcetype` (`vigil:alert`, `vigil:incident`, `vigil:event`), `index` when set.
pub fn hec_event(
    ocsf: Value,
    time: DateTime<Utc>,
    sourcetype: &str,
    host: &str,
    index: Option<&str>,
) -> Value {
    let mut out = json!({
        "time": time.timestamp_millis() as f64 / 1000.0,
        "host": host,
        "source": "vigil",
        "sourcetype": sourcetype,
        "event": ocsf,
    });
    if let Some(index) = index {
        out["index"] = json!(index);
    }
    out
}

/// POSTs batches to `<url>/services/collector/event` with `Authorization: Splunk <token>`.
#[derive(Debug)]
pub(crate) struct HecTransport {
    endpoint: String,
    authorization: String,
    timeout: Duration,
    /// Built on the worker thread at first use: a blocking client must not be made or dropped inside
    /// an async runtime, and the caller of `start` may be in one.
    client: Option<reqwest::blocking::Client>,
}

impl HecTransport {
    pub(crate) fn new(url: &str, token: &str, timeout: Duration) -> HecTransport {
        HecTransport {
            endpoint: format!("{}/services/collector/event", url.trim_end_matches('/')),
            authorization: format!("Splunk {token}"),
            timeout,
            client: None,
        }
    }

    fn client(&mut self) -> Result<&reqwest::blocking::Client, Failure> {
        if self.client.is_none() {
            let client = reqwest::blocking::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Failure::Retry(format!("HTTP client: {e}")))?;
            self.client = Some(client);
        }
        self.client
            .as_ref()
            .ok_or_else(|| Failure::Retry("HTTP client missing".into()))
    }
}

impl Transport for HecTransport {
    fn deliver(&mut self, batch: &[Vec<u8>]) -> Result<(), Failure> {
        let body: Vec<u8> = batch.join(&b"\n"[..]);
        let endpoint = self.endpoint.clone();
        let authorization = self.authorization.clone();
        let response = self
            .client()?
            .post(&endpoint)
            .header("Authorization", authorization)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .map_err(|e| Failure::Retry(format!("POST {endpoint}: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text: String = response
            .text()
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let reason = format!("POST {endpoint}: HTTP {status}: {text}");
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(Failure::Retry(reason))
        } else {
            Err(Failure::Reject(reason))
        }
    }
}
