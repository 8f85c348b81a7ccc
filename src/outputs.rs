//! Where alerts and incidents go besides the lake: signed webhooks (`[webhooks]`) and SIEM forwarding
//! (`[siem]`: Splunk HEC, CEF over syslog). The same in `vigil run` and in `vigil sink`.
//!
//! Webhook messages are spooled on disk before `alerts`/`incidents` return, so a caller that commits
//! its input afterwards loses nothing; SIEM forwarding queues in memory (see `vigil_sink::siem`).

use std::time::{Duration, Instant};

use anyhow::Context;
use prometheus::Registry;
use vigil_schemas::{Alert, Event, Incident};
use vigil_sink::siem::SiemForwarder;
use vigil_sink::webhook::WebhookDelivery;

use crate::config::Config;

/// The configured outputs; none configured is valid and does nothing.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    webhooks: Option<WebhookDelivery>,
    siem: Option<SiemForwarder>,
}

impl Outputs {
    /// Starts the outputs the configuration names, registering their metrics in `registry`.
    pub(crate) fn start(config: &Config, registry: &Registry) -> anyhow::Result<Outputs> {
        let webhooks = match &config.webhooks {
            Some(c) if !c.endpoints.is_empty() => Some(
                WebhookDelivery::start(c.clone(), registry).with_context(|| {
                    format!(
                        "cannot start webhook delivery (spool {})",
                        c.spool_dir.display()
                    )
                })?,
            ),
            _ => None,
        };
        let siem = match &config.siem {
            Some(c) if c.hec.is_some() || c.syslog.is_some() => Some(
                SiemForwarder::start(c.clone(), registry)
                    .context("cannot start SIEM forwarding")?,
            ),
            _ => None,
        };
        Ok(Outputs { webhooks, siem })
    }

    /// Hands alerts to every output; returns once the webhook spool holds them durably.
    pub(crate) fn alerts(&self, alerts: &[Alert]) -> anyhow::Result<()> {
        if alerts.is_empty() {
            return Ok(());
        }
        if let Some(w) = &self.webhooks {
            w.enqueue_alerts(alerts)
                .context("cannot spool alerts for webhook delivery")?;
        }
        if let Some(s) = &self.siem {
            s.send_alerts(alerts);
        }
        Ok(())
    }

    /// Hands incidents to every output; returns once the webhook spool holds them durably.
    pub(crate) fn incidents(&self, incidents: &[Incident]) -> anyhow::Result<()> {
        if incidents.is_empty() {
            return Ok(());
        }
        if let Some(w) = &self.webhooks {
            w.enqueue_incidents(incidents)
                .context("cannot spool incidents for webhook delivery")?;
        }
        if let Some(s) = &self.siem {
            s.send_incidents(incidents);
        }
        Ok(())
    }

    /// Hands normalized events to the SIEM outputs that forward events (`siem.hec.send_events`).
    pub(crate) fn events(&self, events: &[Event]) {
        if let Some(s) = &self.siem
            && !events.is_empty()
        {
            s.send_events(events);
        }
    }

    /// Waits up to `wait` for the webhook spool to empty, then stops: a batch run that exited at once
    /// would leave every message to the next start. What is still undelivered stays spooled.
    pub(crate) fn drain_and_shutdown(self, wait: Duration) {
        if let Some(w) = &self.webhooks {
            let deadline = Instant::now() + wait;
            while w.pending() > 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let left = w.pending();
            if left > 0 {
                tracing::warn!(
                    messages = left,
                    "webhook messages still undelivered; they stay spooled for the next start"
                );
            }
        }
        self.shutdown();
    }

    /// Stops the outputs: SIEM queues get a bounded time to drain; undelivered webhooks stay spooled.
    pub(crate) fn shutdown(self) {
        if let Some(s) = self.siem {
            s.shutdown();
        }
        if let Some(w) = self.webhooks {
            w.shutdown();
        }
    }
}
