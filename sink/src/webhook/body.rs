//! What is sent: the `webhook-id` and JSON body of an alert or incident message, either the OCSF
//! finding of `vigil_schemas` (default) or an endpoint's own minijinja template.

use minijinja::Environment;
use serde_json::{Value, json};
use vigil_schemas::{Alert, Incident};

use super::config::MessageKind;

/// One message before it is rendered for an endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// `webhook-id`: the same for every retry, so receivers can deduplicate.
    pub(crate) id: String,
    pub(crate) kind: MessageKind,
    /// The record as JSON (`alert` or `incident` in templates).
    pub(crate) record: Value,
    /// The default body.
    pub(crate) ocsf: Value,
}

impl Message {
    pub(crate) fn alert(alert: &Alert) -> Result<Message, serde_json::Error> {
        Ok(Message {
            id: alert.alert_id.clone(),
            kind: MessageKind::Alerts,
            record: serde_json::to_value(alert)?,
            ocsf: alert_ocsf(alert),
        })
    }

    pub(crate) fn incident(incident: &Incident) -> Result<Message, serde_json::Error> {
        Ok(Message {
            id: format!("{}-r{}", incident.incident_id, incident.revision),
            kind: MessageKind::Incidents,
            record: serde_json::to_value(incident)?,
            ocsf: incident_ocsf(incident),
        })
    }

    /// The body for an endpoint: its template's output (checked to be JSON) or the OCSF JSON.
    pub(crate) fn render(&self, template: Option<&str>) -> Result<String, String> {
        let Some(template) = template else {
            return serde_json::to_string(&self.ocsf).map_err(|e| e.to_string());
        };
        let env = environment();
        let (record_name, kind) = match self.kind {
            MessageKind::Alerts => ("alert", "alert"),
            MessageKind::Incidents => ("incident", "incident"),
        };
        let mut ctx = serde_json::Map::new();
        ctx.insert("kind".into(), json!(kind));
        ctx.insert("webhook_id".into(), json!(self.id));
        ctx.insert(record_name.into(), self.record.clone());
        ctx.insert("ocsf".into(), self.ocsf.clone());
        let body = env
            .render_str(template, Value::Object(ctx))
            .map_err(|e| format!("template: {e}"))?;
        serde_json::from_str::<serde::de::IgnoredAny>(&body)
            .map_err(|e| format!("the template's output is not JSON ({e})"))?;
        Ok(body)
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Missing variables are errors rather than silently empty JSON.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

/// Checks a template compiles (for config validation).
pub(crate) fn check_template(template: &str) -> Result<(), String> {
    environment()
        .template_from_str(template)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

// ---- The default body ---------------------------------------------------------------------------
// The single place that picks the default body: the OCSF 1.3 findings of `vigil_schemas`
// (`schemas/src/ocsf_finding.rs`), one per alert and one per incident revision.

fn alert_ocsf(alert: &Alert) -> Value {
    alert.to_ocsf()
}

fn incident_ocsf(incident: &Incident) -> Value {
    incident.to_ocsf()
}
