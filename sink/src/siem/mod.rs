//! SIEM forwarding: alerts and incidents (and optionally events) to Splunk HEC as OCSF JSON, and to a
//! syslog receiver as CEF in RFC 5424 messages over TCP or TLS.
//!
//! Each output has its own worker thread and a bounded **in-memory** queue: records wait there while
//! the receiver is down and are retried with exponential backoff; when the queue is full the oldest
//! are dropped (counted in `vigil_siem_failed_total`). The queue is in memory because these outputs
//! are secondary copies: every alert and incident is first written to the lake (and, for guaranteed
//! delivery across restarts, to the webhook spool); a durable spool per SIEM output would duplicate
//! that machinery for a path whose receivers (rsyslog, HEC) buffer on their own side.
//! Syslog over TCP has no application acknowledgement, so a record written just before the peer
//! fails can be lost; closed connections are detected before each batch to keep that window small.
//!
//! ```no_run
//! # fn main() -> Result<(), vigil_sink::SinkError> {
//! use vigil_sink::siem::{SiemConfig, SiemForwarder, SyslogConfig};
//! let config = SiemConfig { syslog: Some(SyslogConfig::new("siem.example.com:6514")), ..SiemConfig::default() };
//! let forwarder = SiemForwarder::start(config, prometheus::default_registry())?;
//! forwarder.send_alerts(&[]);
//! forwarder.shutdown();
//! # Ok(()) }
//! ```

pub mod cef;
pub mod config;
pub mod hec;
mod syslog;
mod worker;

use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use vigil_schemas::{Alert, Event, Incident};

pub use cef::{alert_cef, incident_cef};
pub use config::{HecConfig, SiemConfig, SyslogConfig};
pub use hec::hec_event;

use crate::SinkError;
use worker::{Backoff, Output, OutputMetrics};

/// The running SIEM outputs.
#[derive(Debug)]
pub struct SiemForwarder {
    hec: Option<(Output, HecSettings)>,
    syslog: Option<(Output, SyslogSettings)>,
    shutdown_wait: Duration,
}

#[derive(Debug)]
struct HecSettings {
    host: String,
    index: Option<String>,
    send_events: bool,
}

#[derive(Debug)]
struct SyslogSettings {
    facility: u8,
    hostname: String,
}

struct Metrics {
    sent: IntCounterVec,
    failed: IntCounterVec,
    retries: IntCounterVec,
    depth: IntGaugeVec,
}

impl Metrics {
    fn register(registry: &Registry) -> Result<Metrics, SinkError> {
        let sent = IntCounterVec::new(
            Opts::new("siem_sent_total", "Records delivered to a SIEM output"),
            &["output"],
        )?;
        let failed = IntCounterVec::new(
            Opts::new(
                "siem_failed_total",
                "Records given up: rejected by the receiver, dropped from a full queue or left at shutdown",
            ),
            &["output"],
        )?;
        let retries = IntCounterVec::new(
            Opts::new(
                "siem_retries_total",
                "Failed delivery attempts that will be retried",
            ),
            &["output"],
        )?;
        let depth = IntGaugeVec::new(
            Opts::new(
                "siem_queue_depth",
                "Records waiting in a SIEM output's queue",
            ),
            &["output"],
        )?;
        registry.register(Box::new(sent.clone()))?;
        registry.register(Box::new(failed.clone()))?;
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(depth.clone()))?;
        Ok(Metrics {
            sent,
            failed,
            retries,
            depth,
        })
    }

    fn output(&self, name: &str) -> OutputMetrics {
        OutputMetrics {
            sent: self.sent.with_label_values(&[name]),
            failed: self.failed.with_label_values(&[name]),
            retries: self.retries.with_label_values(&[name]),
            depth: self.depth.with_label_values(&[name]),
        }
    }
}

impl SiemForwarder {
    /// Validates `config`, registers the metrics (`vigil_siem_sent_total`, `vigil_siem_failed_total`,
    /// `vigil_siem_retries_total`, `vigil_siem_queue_depth`, each by `output` = `hec`|`syslog`) and
    /// starts one worker per configured output. Nothing is connected yet: receivers may be down.
    pub fn start(config: SiemConfig, registry: &Registry) -> Result<SiemForwarder, SinkError> {
        config.validate()?;
        let metrics = Metrics::register(registry)?;
        let backoff = Backoff {
            initial: Duration::from_millis(config.initial_backoff_ms),
            max: Duration::from_millis(config.max_backoff_ms),
        };
        let spawn_err =
            |e: std::io::Error| SinkError::SiemConfig(format!("siem: cannot start a worker: {e}"));
        let hec = match &config.hec {
            Some(h) => {
                let transport = hec::HecTransport::new(
                    &h.url,
                    &h.token,
                    Duration::from_secs(h.timeout_seconds),
                );
                let output = Output::start(
                    "hec",
                    transport,
                    config.queue_capacity,
                    h.batch_size,
                    backoff,
                    metrics.output("hec"),
                )
                .map_err(spawn_err)?;
                let settings = HecSettings {
                    host: h.host.clone().unwrap_or_else(cef::local_hostname),
                    index: h.index.clone(),
                    send_events: h.send_events,
                };
                Some((output, settings))
            }
            None => None,
        };
        let syslog = match &config.syslog {
            Some(s) => {
                let transport = syslog::SyslogTransport::new(s)?;
                let output = Output::start(
                    "syslog",
                    transport,
                    config.queue_capacity,
                    100,
                    backoff,
                    metrics.output("syslog"),
                )
                .map_err(spawn_err)?;
                let settings = SyslogSettings {
                    facility: s.facility,
                    hostname: s.hostname.clone().unwrap_or_else(cef::local_hostname),
                };
                Some((output, settings))
            }
            None => None,
        };
        Ok(SiemForwarder {
            hec,
            syslog,
            shutdown_wait: Duration::from_secs(config.shutdown_timeout_seconds),
        })
    }

    /// Queues alerts on every output (HEC: Detection Finding, sourcetype `vigil:alert`; syslog: CEF,
    /// MSGID `alert`). Never blocks on the network.
    pub fn send_alerts(&self, alerts: &[Alert]) {
        self.send_findings(alerts, "alert", |a| {
            (a.to_ocsf(), a.time, a.severity.as_str(), alert_cef(a))
        });
    }

    /// Queues incidents on every output (HEC: Detection Finding, sourcetype `vigil:incident`; syslog:
    /// CEF, MSGID `incident`).
    pub fn send_incidents(&self, incidents: &[Incident]) {
        self.send_findings(incidents, "incident", |i| {
            (
                i.to_ocsf(),
                i.last_time,
                i.severity.as_str(),
                incident_cef(i),
            )
        });
    }

    /// Queues alerts or incidents (`kind`) on both outputs; `render` gives a record's OCSF object,
    /// time, severity and CEF line. Each output renders a record whole and keeps its part: alerts are
    /// few, and one renderer keeps the two outputs from drifting apart.
    fn send_findings<T>(
        &self,
        items: &[T],
        kind: &str,
        render: impl Fn(&T) -> (serde_json::Value, DateTime<Utc>, &str, String),
    ) {
        if let Some((output, s)) = &self.hec {
            let sourcetype = format!("vigil:{kind}");
            output.push(
                items
                    .iter()
                    .map(|item| {
                        let (ocsf, time, _, _) = render(item);
                        hec_event(ocsf, time, &sourcetype, &s.host, s.index.as_deref())
                            .to_string()
                            .into_bytes()
                    })
                    .collect(),
            );
        }
        if let Some((output, s)) = &self.syslog {
            let now = Utc::now();
            output.push(
                items
                    .iter()
                    .map(|item| {
                        let (_, _, severity, cef) = render(item);
                        let sev = cef::syslog_severity(severity);
                        let msg =
                            cef::syslog_message(s.facility, sev, now, &s.hostname, kind, &cef);
                        cef::octet_frame(&msg)
                    })
                    .collect(),
            );
        }
    }

    /// Queues normalized events on the HEC output when its `send_events` is on (sourcetype
    /// `vigil:event`, OCSF API Activity / Authentication). Syslog carries alerts and incidents only.
    pub fn send_events(&self, events: &[Event]) {
        if let Some((output, s)) = &self.hec
            && s.send_events
        {
            output.push(
                events
                    .iter()
                    .map(|e| {
                        hec_event(
                            e.to_ocsf(),
                            e.event_time,
                            "vigil:event",
                            &s.host,
                            s.index.as_deref(),
                        )
                        .to_string()
                        .into_bytes()
                    })
                    .collect(),
            );
        }
    }

    /// Records waiting, over all outputs.
    pub fn queued(&self) -> usize {
        self.hec.as_ref().map_or(0, |(o, _)| o.depth())
            + self.syslog.as_ref().map_or(0, |(o, _)| o.depth())
    }

    /// Stops the outputs after delivering what is queued, waiting at most `shutdown_timeout_seconds`
    /// (plus one attempt's own timeout); records still undelivered then are counted as failed.
    pub fn shutdown(self) {
        let wait = self.shutdown_wait;
        let outputs: Vec<Output> = self
            .hec
            .map(|(o, _)| o)
            .into_iter()
            .chain(self.syslog.map(|(o, _)| o))
            .collect();
        // Outputs close in parallel, so the wait is bounded once, not once per output.
        std::thread::scope(|scope| {
            for output in outputs {
                scope.spawn(move || output.shutdown(wait));
            }
        });
    }
}

#[cfg(test)]
mod tests;
