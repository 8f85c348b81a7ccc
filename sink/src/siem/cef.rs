//! CEF (ArcSight Common Event Format, revision 0) lines for alerts and incidents, and the RFC 5424
//! syslog message that carries one, framed by octet counting (RFC 6587 §3.4.1).
//!
//! `CEF:0|Vigil|Vigil|<version>|<signature id>|<name>|<severity 0–10>|<extensions>`: in the header `\`
//! and `|` are escaped with a backslash; in extension values `\`, `=` and line breaks (`\n`, `\r`).

use chrono::{DateTime, SecondsFormat, Utc};
use vigil_schemas::{Alert, Incident};

/// Extension values longer than this (in bytes) are cut, on a character boundary.
const MAX_VALUE_BYTES: usize = 4000;

/// The CEF line of an alert. Signature id is the alert's `reason_key`, the name its first reason.
pub fn alert_cef(alert: &Alert) -> String {
    let name = alert
        .reasons
        .first()
        .map_or(alert.reason_key.as_str(), String::as_str);
    let mut ext = Extensions::default();
    ext.push("rt", alert.time.timestamp_millis().to_string());
    ext.push("suser", &alert.identity_key);
    ext.push("act", "alert");
    ext.push("externalId", &alert.alert_id);
    ext.push("cat", "alert");
    if let Some(tactic) = &alert.tactic {
        ext.push("cs1Label", "tactic");
        ext.push("cs1", tactic);
    }
    if let Some(technique) = &alert.technique {
        ext.push("cs2Label", "technique");
        ext.push("cs2", technique);
    }
    ext.push("cs3Label", "evidenceEventIds");
    ext.push("cs3", alert.evidence_event_ids.join(","));
    ext.push("cn1Label", "score");
    ext.push("cn1", format_score(alert.score));
    ext.push("msg", alert.reasons.join("; "));
    header(
        &alert.reason_key,
        name,
        &alert.severity,
        alert.score,
        &ext.0,
    )
}

/// The CEF line of an incident (one per revision). Signature id `vigil.incident`, name its summary.
pub fn incident_cef(incident: &Incident) -> String {
    let mut ext = Extensions::default();
    ext.push("rt", incident.last_time.timestamp_millis().to_string());
    ext.push("start", incident.first_time.timestamp_millis().to_string());
    ext.push("end", incident.last_time.timestamp_millis().to_string());
    ext.push("suser", &incident.identity_key);
    ext.push(
        "act",
        if incident.revision <= 1 {
            "incident-created"
        } else {
            "incident-updated"
        },
    );
    ext.push("externalId", &incident.incident_id);
    ext.push("cat", "incident");
    ext.push("cs1Label", "tactics");
    ext.push("cs1", incident.tactics.join(","));
    ext.push("cs2Label", "techniques");
    ext.push("cs2", incident.techniques.join(","));
    ext.push("cs4Label", "alertIds");
    ext.push("cs4", incident.alert_ids.join(","));
    ext.push("cn1Label", "score");
    ext.push("cn1", format_score(incident.score));
    ext.push("cn2Label", "revision");
    ext.push("cn2", incident.revision.to_string());
    ext.push("msg", &incident.summary);
    header(
        "vigil.incident",
        &incident.summary,
        &incident.severity,
        incident.score,
        &ext.0,
    )
}

/// CEF severity 0–10 from Vigil's severity (low 3, medium 5, high 8, critical 10), else from the score.
pub fn cef_severity(severity: &str, score: f64) -> u8 {
    match severity.to_ascii_lowercase().as_str() {
        "low" => 3,
        "medium" => 5,
        "high" => 8,
        "critical" => 10,
        _ if score.is_finite() => (score / 10.0).round().clamp(0.0, 10.0) as u8,
        _ => 0,
    }
}

/// Syslog severity (RFC 5424 table 2) from Vigil's: critical 2, high 3, medium 4, low 5, else 6.
pub fn syslog_severity(severity: &str) -> u8 {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => 2,
        "high" => 3,
        "medium" => 4,
        "low" => 5,
        _ => 6,
    }
}

/// One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME vigil PROCID MSGID - MSG`.
pub fn syslog_message(
    facility: u8,
    severity: u8,
    time: DateTime<Utc>,
    hostname: &str,
    msgid: &str,
    msg: &str,
) -> String {
    let pri = u16::from(facility.min(23)) * 8 + u16::from(severity.min(7));
    format!(
        "<{pri}>1 {} {} vigil {} {} - {msg}",
        time.to_rfc3339_opts(SecondsFormat::Millis, true),
        header_field(hostname, 255),
        std::process::id(),
        header_field(msgid, 32),
    )
}

/// Octet-counting framing (RFC 6587): `<byte length> <message>`.
pub fn octet_frame(message: &str) -> Vec<u8> {
    let mut out = format!("{} ", message.len()).into_bytes();
    out.extend_from_slice(message.as_bytes());
    out
}

/// A syslog header field: printable US-ASCII without spaces, at most `max` characters, `-` if empty.
fn header_field(value: &str, max: usize) -> String {
    let cleaned: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if cleaned.is_empty() {
        "-".into()
    } else {
        cleaned
    }
}

/// This machine's host name, for HEC `host` and the syslog HOSTNAME; `localhost` if unknown.
pub fn local_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[derive(Default)]
struct Extensions(String);

impl Extensions {
    fn push(&mut self, key: &str, value: impl AsRef<str>) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(key);
        self.0.push('=');
        self.0.push_str(&escape_extension(truncate(value.as_ref())));
    }
}

fn header(signature: &str, name: &str, severity: &str, score: f64, ext: &str) -> String {
    format!(
        "CEF:0|Vigil|Vigil|{}|{}|{}|{}|{ext}",
        escape_header(env!("CARGO_PKG_VERSION")),
        escape_header(truncate(signature)),
        escape_header(truncate(name)),
        cef_severity(severity, score),
    )
}

/// Header fields: `\` → `\\`, `|` → `\|`; line breaks become spaces (a header is one line).
pub fn escape_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Extension values: `\` → `\\`, `=` → `\=`, line feed → `\n`, carriage return → `\r`.
pub fn escape_extension(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn truncate(value: &str) -> &str {
    if value.len() <= MAX_VALUE_BYTES {
        return value;
    }
    let mut end = MAX_VALUE_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

fn format_score(score: f64) -> String {
    if score.is_finite() {
        format!("{score:.1}")
    } else {
        "0".into()
    }
}
