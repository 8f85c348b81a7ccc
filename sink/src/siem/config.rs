//! The `[siem]` configuration: a Splunk HEC output and a CEF-over-syslog output, each optional.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::SinkError;

/// SIEM forwarding. Each output present is started; an empty section forwards nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiemConfig {
    /// Splunk HTTP Event Collector output (OCSF objects wrapped in HEC event JSON); absent: off.
    #[serde(default)]
    pub hec: Option<HecConfig>,
    /// CEF over syslog output (RFC 5424, octet-counted over TCP, optionally TLS); absent: off.
    #[serde(default)]
    pub syslog: Option<SyslogConfig>,
    /// Records each output holds in memory while its receiver is unreachable. When full, the oldest
    /// record is dropped and counted as failed: this queue is in memory only (see the module docs).
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// How long `shutdown` keeps trying to deliver what is still queued before giving up, in seconds.
    #[serde(default = "default_shutdown_timeout_seconds")]
    pub shutdown_timeout_seconds: u64,
    /// First retry delay after a failed delivery, in milliseconds; doubled on each further failure.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest retry delay, in milliseconds.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

/// The Splunk HEC output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HecConfig {
    /// Base URL of the collector, e.g. `https://splunk.example.com:8088`; events are POSTed to
    /// `<url>/services/collector/event`.
    pub url: String,
    /// The HEC token, sent as `Authorization: Splunk <token>`.
    pub token: String,
    /// Splunk index to write to; absent: the token's default index.
    #[serde(default)]
    pub index: Option<String>,
    /// The `host` field of every event; absent: this machine's host name.
    #[serde(default)]
    pub host: Option<String>,
    /// Records per POST (HEC takes several event objects in one body).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Timeout of one POST (connect and response), in seconds.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Allow a plain `http://` URL (the token then travels in clear text); off: `https://` only.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Also forward normalized events (`sourcetype` `vigil:event`), not only alerts and incidents.
    #[serde(default)]
    pub send_events: bool,
}

/// The CEF-over-syslog output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// The receiver, `host:port` (TCP).
    pub address: String,
    /// Speak TLS (RFC 5425 style: TLS around the same octet-counted frames).
    #[serde(default)]
    pub tls: bool,
    /// PEM file of the CA certificates to trust for TLS; absent: the Mozilla roots bundled with Vigil.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name to verify the receiver's certificate against; absent: the host part of `address`.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Syslog facility number, 0–23 (default 13, "log audit"); PRI = facility × 8 + severity.
    #[serde(default = "default_facility")]
    pub facility: u8,
    /// HOSTNAME field of every message; absent: this machine's host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Timeout of a connect, the TLS handshake and each write, in seconds.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_queue_capacity() -> usize {
    10_000
}
fn default_shutdown_timeout_seconds() -> u64 {
    10
}
fn default_initial_backoff_ms() -> u64 {
    500
}
fn default_max_backoff_ms() -> u64 {
    30_000
}
fn default_batch_size() -> usize {
    100
}
fn default_timeout_seconds() -> u64 {
    10
}
fn default_facility() -> u8 {
    13
}

impl Default for SiemConfig {
    fn default() -> SiemConfig {
        SiemConfig {
            hec: None,
            syslog: None,
            queue_capacity: default_queue_capacity(),
            shutdown_timeout_seconds: default_shutdown_timeout_seconds(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }
}

impl HecConfig {
    /// A HEC output with defaults for everything but the URL and token.
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> HecConfig {
        HecConfig {
            url: url.into(),
            token: token.into(),
            index: None,
            host: None,
            batch_size: default_batch_size(),
            timeout_seconds: default_timeout_seconds(),
            allow_insecure_http: false,
            send_events: false,
        }
    }
}

impl SyslogConfig {
    /// A syslog output to `address` (`host:port`), plain TCP, with defaults.
    pub fn new(address: impl Into<String>) -> SyslogConfig {
        SyslogConfig {
            address: address.into(),
            tls: false,
            ca_file: None,
            server_name: None,
            facility: default_facility(),
            hostname: None,
            timeout_seconds: default_timeout_seconds(),
        }
    }

    /// The host part of `address` (brackets of an IPv6 literal removed).
    pub fn host(&self) -> &str {
        let host = self
            .address
            .rsplit_once(':')
            .map_or(self.address.as_str(), |(h, _)| h);
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

impl SiemConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SinkError> {
        let bad = |what: String| Err(SinkError::SiemConfig(what));
        if self.queue_capacity == 0 {
            return bad("siem.queue_capacity must be at least 1".into());
        }
        if self.initial_backoff_ms == 0 || self.max_backoff_ms < self.initial_backoff_ms {
            return bad("siem: need 0 < initial_backoff_ms <= max_backoff_ms".into());
        }
        if let Some(hec) = &self.hec {
            let url = hec.url.trim_end_matches('/');
            let https = url.starts_with("https://");
            let http = url.starts_with("http://");
            if !https && !http {
                return bad(format!("siem.hec.url `{}` is not an http(s) URL", hec.url));
            }
            if http && !hec.allow_insecure_http {
                return bad(format!(
                    "siem.hec.url `{}` is plain http: use https or set allow_insecure_http",
                    hec.url
                ));
            }
            if reqwest::Url::parse(url).is_err() {
                return bad(format!("siem.hec.url `{}` is not a valid URL", hec.url));
            }
            if hec.token.trim().is_empty() {
                return bad("siem.hec.token is empty".into());
            }
            if hec.batch_size == 0 || hec.timeout_seconds == 0 {
                return bad("siem.hec: batch_size and timeout_seconds must be at least 1".into());
            }
        }
        if let Some(syslog) = &self.syslog {
            let port_ok = syslog
                .address
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !port_ok {
                return bad(format!(
                    "siem.syslog.address `{}` is not host:port",
                    syslog.address
                ));
            }
            if syslog.facility > 23 {
                return bad(format!(
                    "siem.syslog.facility {} is not 0-23",
                    syslog.facility
                ));
            }
            if syslog.timeout_seconds == 0 {
                return bad("siem.syslog.timeout_seconds must be at least 1".into());
            }
            if !syslog.tls && (syslog.ca_file.is_some() || syslog.server_name.is_some()) {
                return bad("siem.syslog: ca_file and server_name need tls = true".into());
            }
            if let Some(ca) = &syslog.ca_file
                && !ca.is_file()
            {
                return bad(format!(
                    "siem.syslog.ca_file {} is not a file",
                    ca.display()
                ));
            }
        }
        Ok(())
    }
}
