//! Reading alerts from any alert output, leniently.
//!
//! The input is JSON lines, a JSON array of alerts, a single alert object, or any concatenation of
//! these (a UTF-8 byte-order mark is skipped). Per alert object, each field is the first of these
//! that is present and not null (dotted names are nested objects, `[]` an array's elements):
//!
//! | field | looked up in | |
//! |---|---|---|
//! | id | `alert_id`, `id`, `finding_info.uid`, `metadata.uid` | string or number; missing: `#<n>` |
//! | identity key | `identity_key`, `identity.key`, `actor.user.uid`, `actor.user.name` | non-empty string |
//! | time | `time`, `alert_time`, `event_time`, `finding_info.last_seen_time` | RFC 3339 string, or number = epoch milliseconds |
//! | evidence | `evidence_event_ids`, `event_ids`, `evidence`, `evidences` | array of strings, or of objects with `event_id` or `uid` |
//! | technique | `technique`, `mitre_technique`, `finding_info.attacks[].technique.uid` | string; carried into the report only |
//!
//! Evidence elements that are objects without `event_id`/`uid` (OCSF evidence artifacts such as a
//! process) are skipped. An alert without a time, or with neither an identity key nor an evidence
//! event id, or with a field of the wrong type, is an error naming its input and line: nothing is
//! dropped silently.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Alert;
use crate::DetectError;

const ID_FIELDS: &[&str] = &["alert_id", "id", "finding_info.uid", "metadata.uid"];
const IDENTITY_FIELDS: &[&str] = &[
    "identity_key",
    "identity.key",
    "actor.user.uid",
    "actor.user.name",
];
const TIME_FIELDS: &[&str] = &[
    "time",
    "alert_time",
    "event_time",
    "finding_info.last_seen_time",
];
const EVIDENCE_FIELDS: &[&str] = &["evidence_event_ids", "event_ids", "evidence", "evidences"];
const TECHNIQUE_FIELDS: &[&str] = &["technique", "mitre_technique"];

/// Parses the alerts in `bytes` and appends them to `out`. `input` names the bytes in errors (a
/// file name, `stdin`). Alerts without an id are named `#<n>`, n being their 1-based position in
/// `out`, so ids stay unique when several inputs are appended to the same vector.
pub fn parse_alerts(bytes: &[u8], input: &str, out: &mut Vec<Alert>) -> Result<(), DetectError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let err = |offset: usize, reason: String| DetectError::Alert {
        input: input.to_string(),
        line: line_of(bytes, offset),
        reason,
    };
    let json_err = |base_line: usize, e: serde_json::Error| DetectError::Alert {
        input: input.to_string(),
        line: base_line + e.line().saturating_sub(1),
        reason: format!(
            "not valid JSON (column {}: {})",
            e.column(),
            json_message(&e)
        ),
    };
    for item in serde_json::Deserializer::from_slice(body).into_iter::<&RawValue>() {
        let raw = item.map_err(|e| json_err(1, e))?;
        let offset = offset_of(bytes, raw.get());
        if raw.get().starts_with('[') {
            let elements: Vec<&RawValue> =
                serde_json::from_str(raw.get()).map_err(|e| json_err(line_of(bytes, offset), e))?;
            let count = elements.len();
            for (i, element) in elements.into_iter().enumerate() {
                let offset = offset_of(bytes, element.get());
                let alert = read_alert(element, out.len() + 1).map_err(|reason| {
                    err(
                        offset,
                        format!("array element {} of {count}: {reason}", i + 1),
                    )
                })?;
                out.push(alert);
            }
        } else {
            let alert = read_alert(raw, out.len() + 1).map_err(|reason| err(offset, reason))?;
            out.push(alert);
        }
    }
    Ok(())
}

/// serde_json's message without its " at line L column C" suffix (reported separately).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Byte offset of `part` (a slice borrowed from `base`) within `base`.
fn offset_of(base: &[u8], part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(base.as_ptr() as usize)
        .min(base.len())
}

/// 1-based line of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn read_alert(raw: &RawValue, position: usize) -> Result<Alert, String> {
    let value: Value =
        serde_json::from_str(raw.get()).map_err(|e| format!("not valid JSON ({e})"))?;
    let Value::Object(obj) = value else {
        return Err(format!(
            "an alert must be a JSON object, found {}",
            kind(&value)
        ));
    };

    let mut id = None;
    for field in ID_FIELDS {
        match lookup(&obj, field) {
            None => {}
            Some(Value::String(s)) if !s.is_empty() => {
                id = Some(s.clone());
                break;
            }
            Some(Value::Number(n)) => {
                id = Some(n.to_string());
                break;
            }
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(format!(
                    "field `{field}` must be a string or a number, found {}",
                    kind(other)
                ));
            }
        }
    }

    let mut identity_key = None;
    for field in IDENTITY_FIELDS {
        match lookup(&obj, field) {
            None => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => {
                identity_key = Some(s.clone());
                break;
            }
            Some(other) => {
                return Err(format!(
                    "field `{field}` must be a string, found {}",
                    kind(other)
                ));
            }
        }
    }

    let mut time = None;
    for field in TIME_FIELDS {
        if let Some(v) = lookup(&obj, field) {
            time = Some(read_time(v).map_err(|reason| format!("field `{field}` {reason}"))?);
            break;
        }
    }
    let Some(time) = time else {
        return Err(format!(
            "the alert has no time (looked for {})",
            list(TIME_FIELDS)
        ));
    };

    let mut evidence_event_ids = Vec::new();
    for field in EVIDENCE_FIELDS {
        if let Some(v) = lookup(&obj, field) {
            evidence_event_ids =
                read_evidence(v).map_err(|reason| format!("field `{field}` {reason}"))?;
            break;
        }
    }

    if identity_key.is_none() && evidence_event_ids.is_empty() {
        return Err(format!(
            "the alert has neither an identity key (looked for {}) nor evidence event ids (looked for {})",
            list(IDENTITY_FIELDS),
            list(EVIDENCE_FIELDS)
        ));
    }

    let mut technique = TECHNIQUE_FIELDS
        .iter()
        .find_map(|f| lookup(&obj, f).and_then(Value::as_str))
        .map(str::to_string);
    if technique.is_none()
        && let Some(Value::Array(attacks)) = lookup(&obj, "finding_info.attacks")
    {
        technique = attacks
            .iter()
            .find_map(|a| a.pointer("/technique/uid").and_then(Value::as_str))
            .map(str::to_string);
    }

    let (id, id_generated) = match id {
        Some(id) => (id, false),
        None => (format!("#{position}"), true),
    };
    Ok(Alert {
        id,
        id_generated,
        identity_key,
        time,
        evidence_event_ids,
        technique,
    })
}

/// The value at a dotted path; `None` when missing or null.
fn lookup<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = obj.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    (!current.is_null()).then_some(current)
}

fn read_time(v: &Value) -> Result<DateTime<Utc>, String> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("is not an RFC 3339 time ({s:?}: {e})")),
        Value::Number(n) => {
            let ms = match n.as_i64() {
                Some(ms) => Some(ms),
                None => n
                    .as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                    .map(|f| f.round() as i64),
            };
            ms.and_then(DateTime::from_timestamp_millis)
                .ok_or_else(|| format!("is not a time in epoch milliseconds ({n})"))
        }
        other => Err(format!(
            "must be an RFC 3339 string or epoch milliseconds, found {}",
            kind(other)
        )),
    }
}

fn read_evidence(v: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = v else {
        return Err(format!("must be an array, found {}", kind(v)));
    };
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) if !s.is_empty() => ids.push(s.clone()),
            Value::Object(o) => {
                match ["event_id", "uid"]
                    .iter()
                    .find_map(|k| o.get(*k).filter(|v| !v.is_null()))
                {
                    None => {} // an evidence artifact that is not an event
                    Some(Value::String(s)) if !s.is_empty() => ids.push(s.clone()),
                    Some(other) => {
                        return Err(format!(
                            "element {}: the event id must be a non-empty string, found {}",
                            i + 1,
                            kind(other)
                        ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "element {}: must be a non-empty string or an object with `event_id` or `uid`, found {}",
                    i + 1,
                    kind(other)
                ));
            }
        }
    }
    Ok(ids)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn list(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
