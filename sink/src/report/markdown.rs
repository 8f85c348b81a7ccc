//! Reports as Markdown. Every value is escaped for a table cell or a line of text: Markdown
//! punctuation is backslash-escaped, `<`, `>` and `&` become entities (so no HTML passes through a
//! renderer), and line breaks become spaces.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::identity::Sighting;
use super::{AlertLine, AlertReport, EventLine, IdentityReport, IncidentLine};

/// Escapes text for Markdown.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' | '\n' | '\t' => out.push(' '),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' | '(' | ')' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn t(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(md).unwrap_or_default()
}

fn table(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    let mut any = false;
    for row in rows {
        any = true;
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    if !any {
        let _ = writeln!(out, "| (none) |{}", " |".repeat(header.len() - 1));
    }
    out.push('\n');
}

fn events_table(out: &mut String, events: &[EventLine]) {
    table(
        out,
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
                Some(code) => format!("{} ({})", md(&e.outcome), md(code)),
                None => md(&e.outcome),
            };
            vec![
                t(e.time),
                md(&e.provider),
                md(&e.permission),
                md(&e.category),
                outcome,
                opt(&e.source),
                opt(&e.user_agent),
                md(&e.resources.join(", ")),
                md(&e.event_id),
            ]
        }),
    );
}

fn alerts_table(out: &mut String, alerts: &[AlertLine]) {
    table(
        out,
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
                md(&a.severity),
                format!("{:.1}", a.score),
                md(&a.reason_key),
                opt(&a.tactic),
                md(&a.reasons.join("; ")),
                md(&a.alert_id),
            ]
        }),
    );
}

fn incidents_table(out: &mut String, incidents: &[IncidentLine]) {
    table(
        out,
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
                md(&i.severity),
                md(&i.tactics.join(" → ")),
                md(&i.summary),
                format!("{} (rev {})", md(&i.incident_id), i.revision),
            ]
        }),
    );
}

fn sightings_table(out: &mut String, what: &str, items: &[Sighting]) {
    table(
        out,
        &[what, "events", "first (UTC)", "last (UTC)", "first seen"],
        items.iter().map(|s| {
            vec![
                md(&s.value),
                s.events.to_string(),
                t(s.first_time),
                t(s.last_time),
                if s.first_seen_in_window {
                    "**NEW** in window"
                } else {
                    "seen before"
                }
                .to_string(),
            ]
        }),
    );
}

/// The identity report as Markdown.
pub(crate) fn identity(r: &IdentityReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Identity report: {}\n", md(&r.identity_key));
    let _ = writeln!(out, "- Window: {} to {} (UTC)", t(r.since), t(r.until));
    let _ = writeln!(out, "- Providers: {}", md(&r.providers.join(", ")));
    let _ = writeln!(
        out,
        "- Events: {} ({} not successful)",
        r.events, r.failures
    );
    if let (Some(f), Some(l)) = (r.first_event, r.last_event) {
        let _ = writeln!(out, "- First event: {}, last event: {}", t(f), t(l));
    }
    let _ = writeln!(
        out,
        "- Alerts: {}, incidents: {}\n",
        r.alerts.len(),
        r.incidents.len()
    );

    let _ = writeln!(out, "## Alerts\n");
    alerts_table(&mut out, &r.alerts);
    let _ = writeln!(out, "## Incidents\n");
    incidents_table(&mut out, &r.incidents);
    let _ = writeln!(out, "## Baseline\n");
    match &r.baseline {
        Some(b) => {
            let _ = writeln!(out, "From alert {} at {}:\n", md(&b.alert_id), t(b.time));
            table(
                &mut out,
                &["figure", "value"],
                b.figures.iter().map(|(k, v)| vec![md(k), format!("{v}")]),
            );
        }
        None => out.push_str("No alert in the window carried baseline figures.\n\n"),
    }
    let _ = writeln!(out, "## Actions by service\n");
    table(
        &mut out,
        &["service", "events", "not successful", "top actions"],
        r.services.iter().map(|s| {
            let top: Vec<String> = s
                .permissions
                .iter()
                .take(5)
                .map(|(p, n)| format!("{} ({n})", md(p)))
                .collect();
            vec![
                md(&s.service),
                s.events.to_string(),
                s.failures.to_string(),
                top.join(", "),
            ]
        }),
    );
    let _ = writeln!(out, "## Resources touched\n");
    table(
        &mut out,
        &["resource", "kind", "events", "first (UTC)", "last (UTC)"],
        r.resources.iter().map(|x| {
            vec![
                md(&x.id),
                opt(&x.kind),
                x.events.to_string(),
                t(x.first_time),
                t(x.last_time),
            ]
        }),
    );
    let _ = writeln!(out, "## Source networks\n");
    sightings_table(&mut out, "network", &r.networks);
    let _ = writeln!(out, "## User agents\n");
    sightings_table(&mut out, "user agent", &r.user_agents);
    let _ = writeln!(out, "## Timeline\n");
    if r.timeline_truncated {
        let _ = writeln!(
            out,
            "Showing the first {} of {} events (raise `--limit` for more).\n",
            r.timeline.len(),
            r.events
        );
    }
    events_table(&mut out, &r.timeline);
    out
}

/// The alert report as Markdown.
pub(crate) fn alert(r: &AlertReport) -> String {
    let a = &r.alert;
    let mut out = String::new();
    let _ = writeln!(out, "# Alert {}\n", md(&a.alert_id));
    let _ = writeln!(out, "- Identity: {}", md(&a.identity_key));
    let _ = writeln!(out, "- Time: {} UTC", t(a.time));
    let _ = writeln!(
        out,
        "- Severity: {} (score {:.1})",
        md(&a.severity),
        a.score
    );
    let _ = writeln!(out, "- Rule: {}", md(&a.reason_key));
    let _ = writeln!(out, "- ATT&CK: {} {}\n", opt(&a.tactic), opt(&a.technique));
    let _ = writeln!(out, "## Reasons\n");
    for reason in &a.reasons {
        let _ = writeln!(out, "- {}", md(reason));
    }
    out.push('\n');
    let _ = writeln!(out, "## Baseline\n");
    table(
        &mut out,
        &["figure", "value"],
        a.baseline.iter().map(|(k, v)| vec![md(k), format!("{v}")]),
    );
    let _ = writeln!(
        out,
        "## Evidence ({} of {} events found)\n",
        r.evidence.len(),
        a.evidence_event_ids.len()
    );
    events_table(&mut out, &r.evidence);
    if !r.missing_evidence.is_empty() {
        let _ = writeln!(out, "Not in the lake:\n");
        for id in &r.missing_evidence {
            let _ = writeln!(out, "- {}", md(id));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Incidents\n");
    incidents_table(&mut out, &r.incidents);
    out
}
