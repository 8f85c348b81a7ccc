//! The `[webhooks]` configuration: where the spool lives and which receivers get what.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{body, guard, sign};
use crate::SinkError;

/// Webhook delivery of alerts and incidents (Standard Webhooks), embedded as `[webhooks]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Directory of the persistent delivery spool: one sub-directory per endpoint, one file per
    /// message not yet delivered. Keep it on a disk that survives restarts.
    pub spool_dir: PathBuf,
    /// The receivers. Each gets every message of the kinds it asks for.
    #[serde(default)]
    pub endpoints: Vec<EndpointConfig>,
    /// Delay before the first retry, in milliseconds; it doubles with each failed attempt, with
    /// jitter. Default 5000. Mainly a test knob: the defaults suit production.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest delay between two attempts, in milliseconds. Default 3_600_000 (one hour). Mainly a
    /// test knob.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

/// One receiver of signed webhook messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// `http://` or `https://` URL the messages are POSTed to. Its host names the endpoint's
    /// metrics; the URL as a whole names its spool directory (changing it starts a new spool).
    pub url: String,
    /// One or more `whsec_<base64>` secrets. Every message is signed with each of them (one `v1,`
    /// signature per secret in `webhook-signature`), so a secret can be rotated without downtime.
    pub secrets: Vec<String>,
    /// A minijinja template rendering the JSON body. Variables: `kind` (`alert` or `incident`),
    /// `webhook_id`, `alert` or `incident` (the record), `ocsf` (the default body). Its output must
    /// be JSON. Default: the OCSF finding JSON of `vigil_schemas` (`Alert::to_ocsf`,
    /// `Incident::to_ocsf`).
    #[serde(default)]
    pub template: Option<String>,
    /// Timeout of one request (connect and response), in seconds. Default 10.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// How long a message is retried after it was first enqueued, in seconds, before it is
    /// dropped with an error. Default 259200 (3 days).
    #[serde(default = "default_retry_for_seconds")]
    pub retry_for_seconds: u64,
    /// Allow targets that resolve to loopback, private, link-local, CGNAT or other internal
    /// addresses. Default false: such targets are refused (SSRF guard).
    #[serde(default)]
    pub allow_private_targets: bool,
    /// What this endpoint receives: `alerts`, `incidents` or both (the default).
    #[serde(default = "default_kinds")]
    pub kinds: Vec<MessageKind>,
}

/// A kind of message an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// One message per alert; `webhook-id` is the alert id.
    Alerts,
    /// One message per incident revision; `webhook-id` is `<incident id>-r<revision>`.
    Incidents,
}

fn default_initial_backoff_ms() -> u64 {
    5_000
}
fn default_max_backoff_ms() -> u64 {
    3_600_000
}
fn default_timeout_seconds() -> u64 {
    10
}
fn default_retry_for_seconds() -> u64 {
    259_200
}
fn default_kinds() -> Vec<MessageKind> {
    vec![MessageKind::Alerts, MessageKind::Incidents]
}

impl WebhooksConfig {
    /// A configuration with no endpoint and default backoff, spooling under `spool_dir`.
    pub fn new(spool_dir: impl Into<PathBuf>) -> WebhooksConfig {
        WebhooksConfig {
            spool_dir: spool_dir.into(),
            endpoints: Vec::new(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }

    /// Checks everything that can be checked without the network; the error is one line naming the
    /// offending field.
    pub fn validate(&self) -> Result<(), SinkError> {
        let bad = |msg: String| Err(SinkError::WebhookConfig(msg));
        if self.spool_dir.as_os_str().is_empty() {
            return bad("webhooks.spool_dir is empty".into());
        }
        if self.initial_backoff_ms == 0 {
            return bad("webhooks.initial_backoff_ms must be at least 1".into());
        }
        if self.max_backoff_ms < self.initial_backoff_ms {
            return bad(format!(
                "webhooks.max_backoff_ms ({}) is below initial_backoff_ms ({})",
                self.max_backoff_ms, self.initial_backoff_ms
            ));
        }
        let mut urls = HashSet::new();
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            let at = format!("webhooks.endpoints[{i}]");
            if let Err(e) = endpoint.validate() {
                return bad(format!("{at}.{e}"));
            }
            if !urls.insert(endpoint.url.as_str()) {
                return bad(format!("{at}.url: {} is listed twice", endpoint.url));
            }
        }
        Ok(())
    }
}

impl EndpointConfig {
    /// An endpoint with the default timeout, retry period and kinds, private targets refused.
    pub fn new(url: impl Into<String>, secrets: Vec<String>) -> EndpointConfig {
        EndpointConfig {
            url: url.into(),
            secrets,
            template: None,
            timeout_seconds: default_timeout_seconds(),
            retry_for_seconds: default_retry_for_seconds(),
            allow_private_targets: false,
            kinds: default_kinds(),
        }
    }

    /// `field: problem`, for [`WebhooksConfig::validate`] to prefix with the endpoint.
    fn validate(&self) -> Result<(), String> {
        guard::parse_url(&self.url).map_err(|e| format!("url: {e}"))?;
        if self.secrets.is_empty() {
            return Err("secrets: at least one `whsec_<base64>` secret is needed".into());
        }
        for (i, secret) in self.secrets.iter().enumerate() {
            sign::decode_secret(secret).map_err(|e| format!("secrets[{i}]: {e}"))?;
        }
        if let Some(template) = &self.template {
            body::check_template(template).map_err(|e| format!("template: {e}"))?;
        }
        if self.timeout_seconds == 0 {
            return Err("timeout_seconds must be at least 1".into());
        }
        if self.retry_for_seconds == 0 {
            return Err("retry_for_seconds must be at least 1".into());
        }
        if self.kinds.is_empty() {
            return Err("kinds: name `alerts`, `incidents` or both".into());
        }
        Ok(())
    }

    /// Whether this endpoint receives messages of `kind`.
    pub fn wants(&self, kind: MessageKind) -> bool {
        self.kinds.contains(&kind)
    }
}
