//! Forensic reports built from the lake: what one identity did over a window (`identity`), and
//! what one alert is made of (`alert`). Each report is a plain serializable value, rendered as
//! Markdown, JSON or a self-contained HTML page with charts.
//!
//! Every text in a report can come from a log record, so from an attacker: the renderers escape
//! all of it for the format they write (Markdown table cells, HTML text and attributes, JSON inside
//! a `<script>` block), and the HTML page forbids any script but its own with a hash-pinned
//! Content-Security-Policy.

mod alert;
mod columns;
mod html;
mod identity;
mod markdown;
mod rows;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use alert::{AlertReport, alert_report};
pub use identity::{
    Activity, Baseline, IdentityQuery, IdentityReport, ResourceTouch, ServiceActions, Sighting,
    identity_report, network_of,
};

use crate::SinkError;

pub(crate) use rows::{alert_lines, event_lines, incident_lines, latest_revisions};

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// Markdown (GitHub flavour: tables).
    #[default]
    Markdown,
    /// One pretty-printed JSON document.
    Json,
    /// One self-contained HTML page (no external assets), charts drawn by inline script.
    Html,
}

impl ReportFormat {
    /// Parses `markdown` (`md`), `json` or `html`.
    pub fn parse(s: &str) -> Option<ReportFormat> {
        match s {
            "markdown" | "md" => Some(ReportFormat::Markdown),
            "json" => Some(ReportFormat::Json),
            "html" => Some(ReportFormat::Html),
            _ => None,
        }
    }
}

impl IdentityReport {
    /// The report in `format`.
    pub fn render(&self, format: ReportFormat) -> Result<String, SinkError> {
        match format {
            ReportFormat::Markdown => Ok(markdown::identity(self)),
            ReportFormat::Json => serde_json::to_string_pretty(self)
                .map(|j| j + "\n")
                .map_err(|e| SinkError::Lake(format!("cannot encode the report: {e}"))),
            ReportFormat::Html => html::identity(self),
        }
    }
}

impl AlertReport {
    /// The report in `format`.
    pub fn render(&self, format: ReportFormat) -> Result<String, SinkError> {
        match format {
            ReportFormat::Markdown => Ok(markdown::alert(self)),
            ReportFormat::Json => serde_json::to_string_pretty(self)
                .map(|j| j + "\n")
                .map_err(|e| SinkError::Lake(format!("cannot encode the report: {e}"))),
            ReportFormat::Html => html::alert(self),
        }
    }
}

/// One event as a report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventLine {
    pub time: DateTime<Utc>,
    pub event_id: String,
    pub provider: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub permission: String,
    pub category: String,
    pub outcome: String,
    pub error_code: Option<String>,
    /// The source IP, or the raw source (`AWS Internal`, a host name) when it is not an address.
    pub source: Option<String>,
    pub user_agent: Option<String>,
    pub resources: Vec<String>,
}

/// One alert as a report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertLine {
    pub alert_id: String,
    pub identity_key: String,
    pub time: DateTime<Utc>,
    pub severity: String,
    pub score: f64,
    pub tactic: Option<String>,
    pub technique: Option<String>,
    pub reason_key: String,
    pub reasons: Vec<String>,
    pub evidence_event_ids: Vec<String>,
    /// The baseline figures the decision used (parsed from `baseline_json`).
    pub baseline: BTreeMap<String, f64>,
}

/// One incident (its latest revision) as a report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentLine {
    pub incident_id: String,
    pub revision: u64,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    pub severity: String,
    pub score: f64,
    pub tactics: Vec<String>,
    pub alert_ids: Vec<String>,
    pub summary: String,
}

/// Columns the reports read from the events table.
const EVENT_COLUMNS: [&str; 13] = [
    "event_time",
    "event_id",
    "provider",
    "account_id",
    "region",
    "action_service",
    "action_permission",
    "action_category",
    "outcome_status",
    "outcome_error_code",
    "src_ip",
    "src_raw",
    "user_agent",
];
