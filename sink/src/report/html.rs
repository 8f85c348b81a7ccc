//! Reports as one self-contained HTML page: no external asset, styles and script inline and pinned
//! by hash in a Content-Security-Policy, so nothing else can run even if a value slipped through.
//! Values are escaped as HTML text; the chart data is JSON in a `<script type="application/json">`
//! block with `<`, `>`, `&` and the JavaScript line separators written as `\u` escapes, and the
//! script draws it into inline SVG with `createElementNS` and `textContent` only.
//!
//! Charts (ids are stable, for tests): `svg#activity-over-time` (one `rect.bar` per time bucket,
//! `data-count` on each) and `svg#hour-of-week` (168 `rect.cell`, Monday 00:00 UTC first).

use std::fmt::Write;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::identity::Sighting;
use super::{AlertLine, AlertReport, EventLine, IdentityReport, IncidentLine};
use crate::SinkError;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 6px;\
text-align:left;vertical-align:top;font-size:13px}th{background:#f3f3f3}td.n{text-align:right}\
.new{color:#b00020;font-weight:bold}.note{color:#555}svg{border:1px solid #ddd;margin:.5em 0}\
code{font-size:12px;word-break:break-all}";

/// Draws the charts from the JSON data block; pinned by its hash in the page's CSP.
const SCRIPT: &str = include_str!("charts.js");

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside a `<script>` element: it cannot close the element or open a comment.
pub(crate) fn script_json(value: &serde_json::Value) -> Result<String, SinkError> {
    let json = serde_json::to_string(value)
        .map_err(|e| SinkError::Lake(format!("cannot encode the chart data: {e}")))?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}

fn hash(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn page(title: &str, body: &str, script: Option<&str>) -> String {
    let script_src = script.map_or_else(|| "'none'".to_string(), hash);
    let mut out = String::with_capacity(body.len() + 8192);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}",
        hash(STYLE),
        script_src,
        esc(title)
    );
    if let Some(s) = script {
        let _ = writeln!(out, "<script>{s}</script>");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn t(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(esc).unwrap_or_default()
}

/// Cells are already escaped HTML.
fn table(out: &mut String, id: &str, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = write!(out, "<table id=\"{id}\"><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    let mut any = false;
    for row in rows {
        any = true;
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    if !any {
        let _ = write!(
            out,
            "<tr><td colspan=\"{}\" class=\"note\">none</td></tr>",
            header.len()
        );
    }
    out.push_str("</tbody></table>\n");
}

fn events_table(out: &mut String, id: &str, events: &[EventLine]) {
    table(
        out,
        id,
        &[
            "time (UTC)",
            "provider",
            "action",
            "category",
            "outcome",
            "source",
            "user agent",
            "resources",
            "event id",
        ],
        events.iter().map(|e| {
            let outcome = match &e.error_code {
                Some(code) => format!("{} ({})", esc(&e.outcome), esc(code)),
                None => esc(&e.outcome),
            };
            vec![
                t(e.time),
                esc(&e.provider),
                format!("<code>{}</code>", esc(&e.permission)),
                esc(&e.category),
                outcome,
                opt(&e.source),
                opt(&e.user_agent),
                e.resources
                    .iter()
                    .map(|r| format!("<code>{}</code>", esc(r)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
                format!("<code>{}</code>", esc(&e.event_id)),
            ]
        }),
    );
}

fn alerts_table(out: &mut String, alerts: &[AlertLine]) {
    table(
        out,
        "alerts",
        &[
            "time (UTC)",
            "severity",
            "score",
            "rule",
            "tactic",
            "reasons",
            "alert id",
        ],
        alerts.iter().map(|a| {
            vec![
                t(a.time),
                esc(&a.severity),
                format!("{:.1}", a.score),
                format!("<code>{}</code>", esc(&a.reason_key)),
                opt(&a.tactic),
                a.reasons
                    .iter()
                    .map(|r| esc(r))
                    .collect::<Vec<_>>()
                    .join("<br>"),
                format!("<code>{}</code>", esc(&a.alert_id)),
            ]
        }),
    );
}

fn incidents_table(out: &mut String, incidents: &[IncidentLine]) {
    table(
        out,
        "incidents",
        &[
            "first (UTC)",
            "last (UTC)",
            "severity",
            "tactics",
            "summary",
            "incident id",
        ],
        incidents.iter().map(|i| {
            vec![
                t(i.first_time),
                t(i.last_time),
                esc(&i.severity),
                esc(&i.tactics.join(" → ")),
                esc(&i.summary),
                format!("<code>{}</code> (rev {})", esc(&i.incident_id), i.revision),
            ]
        }),
    );
}

fn sightings_table(out: &mut String, id: &str, what: &str, items: &[Sighting]) {
    table(
        out,
        id,
        &[what, "events", "first (UTC)", "last (UTC)", "first seen"],
        items.iter().map(|s| {
            vec![
                format!("<code>{}</code>", esc(&s.value)),
                s.events.to_string(),
                t(s.first_time),
                t(s.last_time),
                if s.first_seen_in_window {
                    "<span class=\"new\">NEW in window</span>".to_string()
                } else {
                    "seen before".to_string()
                },
            ]
        }),
    );
}

fn figures(out: &mut String, id: &str, map: &std::collections::BTreeMap<String, f64>) {
    table(
        out,
        id,
        &["figure", "value"],
        map.iter().map(|(k, v)| vec![esc(k), format!("{v}")]),
    );
}

/// The identity report as an HTML page with its two charts.
pub(crate) fn identity(r: &IdentityReport) -> Result<String, SinkError> {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Identity report: <code>{}</code></h1>\n<ul id=\"summary\">",
        esc(&r.identity_key)
    );
    let _ = write!(b, "<li>Window: {} to {} UTC</li>", t(r.since), t(r.until));
    let _ = write!(b, "<li>Providers: {}</li>", esc(&r.providers.join(", ")));
    let _ = write!(
        b,
        "<li>Events: {} ({} not successful)</li>",
        r.events, r.failures
    );
    let _ = writeln!(
        b,
        "<li>Alerts: {}, incidents: {}</li></ul>",
        r.alerts.len(),
        r.incidents.len()
    );
    b.push_str("<h2>Activity over time</h2>\n<svg id=\"activity-over-time\" width=\"900\" height=\"220\" role=\"img\" aria-label=\"events per time bucket\"></svg>\n");
    b.push_str("<h2>Activity by hour of week (UTC)</h2>\n<svg id=\"hour-of-week\" width=\"764\" height=\"176\" role=\"img\" aria-label=\"events per hour of week\"></svg>\n");
    b.push_str("<h2>Alerts</h2>\n");
    alerts_table(&mut b, &r.alerts);
    b.push_str("<h2>Incidents</h2>\n");
    incidents_table(&mut b, &r.incidents);
    b.push_str("<h2>Baseline</h2>\n");
    match &r.baseline {
        Some(base) => {
            let _ = writeln!(
                b,
                "<p>From alert <code>{}</code> at {} UTC.</p>",
                esc(&base.alert_id),
                t(base.time)
            );
            figures(&mut b, "baseline", &base.figures);
        }
        None => {
            b.push_str("<p class=\"note\">No alert in the window carried baseline figures.</p>\n")
        }
    }
    b.push_str("<h2>Actions by service</h2>\n");
    table(
        &mut b,
        "services",
        &["service", "events", "not successful", "top actions"],
        r.services.iter().map(|s| {
            let top: Vec<String> = s
                .permissions
                .iter()
                .take(5)
                .map(|(p, n)| format!("<code>{}</code> ({n})", esc(p)))
                .collect();
            vec![
                esc(&s.service),
                s.events.to_string(),
                s.failures.to_string(),
                top.join(", "),
            ]
        }),
    );
    b.push_str("<h2>Resources touched</h2>\n");
    table(
        &mut b,
        "resources",
        &["resource", "kind", "events", "first (UTC)", "last (UTC)"],
        r.resources.iter().map(|x| {
            vec![
                format!("<code>{}</code>", esc(&x.id)),
                opt(&x.kind),
                x.events.to_string(),
                t(x.first_time),
                t(x.last_time),
            ]
        }),
    );
    b.push_str("<h2>Source networks</h2>\n");
    sightings_table(&mut b, "networks", "network", &r.networks);
    b.push_str("<h2>User agents</h2>\n");
    sightings_table(&mut b, "user-agents", "user agent", &r.user_agents);
    b.push_str("<h2>Timeline</h2>\n");
    if r.timeline_truncated {
        let _ = writeln!(
            b,
            "<p class=\"note\" id=\"timeline-truncated\">Showing the first {} of {} events (raise <code>--limit</code> for more).</p>",
            r.timeline.len(),
            r.events
        );
    }
    events_table(&mut b, "timeline", &r.timeline);
    let data = serde_json::json!({
        "activity": r.activity,
        "hour_of_week": r.hour_of_week,
    });
    let _ = writeln!(
        b,
        "<script type=\"application/json\" id=\"vigil-chart-data\">{}</script>",
        script_json(&data)?
    );
    Ok(page(
        &format!("Vigil identity report: {}", r.identity_key),
        &b,
        Some(SCRIPT),
    ))
}

/// The alert report as an HTML page.
pub(crate) fn alert(r: &AlertReport) -> Result<String, SinkError> {
    let a = &r.alert;
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Alert <code>{}</code></h1>\n<ul id=\"summary\">",
        esc(&a.alert_id)
    );
    let _ = write!(
        b,
        "<li>Identity: <code>{}</code></li>",
        esc(&a.identity_key)
    );
    let _ = write!(b, "<li>Time: {} UTC</li>", t(a.time));
    let _ = write!(
        b,
        "<li>Severity: {} (score {:.1})</li>",
        esc(&a.severity),
        a.score
    );
    let _ = write!(b, "<li>Rule: <code>{}</code></li>", esc(&a.reason_key));
    let _ = writeln!(
        b,
        "<li>ATT&amp;CK: {} {}</li></ul>",
        opt(&a.tactic),
        opt(&a.technique)
    );
    b.push_str("<h2>Reasons</h2>\n<ul id=\"reasons\">");
    for reason in &a.reasons {
        let _ = write!(b, "<li>{}</li>", esc(reason));
    }
    b.push_str("</ul>\n<h2>Baseline</h2>\n");
    figures(&mut b, "baseline", &a.baseline);
    let _ = writeln!(
        b,
        "<h2>Evidence ({} of {} events found)</h2>",
        r.evidence.len(),
        a.evidence_event_ids.len()
    );
    events_table(&mut b, "evidence", &r.evidence);
    if !r.missing_evidence.is_empty() {
        b.push_str("<p>Not in the lake:</p><ul id=\"missing-evidence\">");
        for id in &r.missing_evidence {
            let _ = write!(b, "<li><code>{}</code></li>", esc(id));
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<h2>Incidents</h2>\n");
    incidents_table(&mut b, &r.incidents);
    Ok(page(
        &format!("Vigil alert report: {}", a.alert_id),
        &b,
        None,
    ))
}
