//! Lenient accessors over `serde_json::Value` for records whose producers disagree on key casing
//! (`operationName` / `operationname`), scalar types (numbers as strings) and nesting (JSON in strings).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// Looks a key up exactly, then ignoring ASCII case.
pub(crate) fn get_ci<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    let map = obj.as_object()?;
    map_get_ci(map, key)
}

pub(crate) fn map_get_ci<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Follows a path of keys (each matched ignoring case), skipping nulls.
pub(crate) fn path<'v>(obj: &'v Value, keys: &[&str]) -> Option<&'v Value> {
    let mut cur = obj;
    for key in keys {
        cur = get_ci(cur, key)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

/// A scalar as text: strings trimmed (producers pad values with spaces), numbers and booleans printed.
/// Empty strings, null, objects and arrays give `None`.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                None
            } else {
                Some(t.to_string())
            }
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `scalar_text` at a path.
pub(crate) fn text(obj: &Value, keys: &[&str]) -> Option<String> {
    path(obj, keys).and_then(scalar_text)
}

/// The first of several paths that has text.
pub(crate) fn first_text(obj: &Value, paths: &[&[&str]]) -> Option<String> {
    paths.iter().find_map(|p| text(obj, p))
}

/// A boolean that may be written as `true`, `"true"`, `"True"`, `1` or `"yes"`.
pub(crate) fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A value that may be an object, or a JSON document inside a string (Azure `responseBody`,
/// `properties.policies`, AKS `properties.log`). Strings that are not JSON objects give `None`.
pub(crate) fn embedded_object(v: &Value) -> Option<Value> {
    match v {
        Value::Object(_) => Some(v.clone()),
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') {
                serde_json::from_str::<Value>(t)
                    .ok()
                    .filter(Value::is_object)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Parses the time formats found in the three clouds' logs: RFC 3339 with any fraction, a space instead
/// of `T`, no zone (read as UTC), seven-digit fractions (Azure), US-style `M/D/YYYY h:mm:ss AM` (Azure
/// portal exports), and epoch seconds or milliseconds as numbers.
pub(crate) fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => {
            let x = n.as_f64()?;
            // Values past year 2286 in seconds are milliseconds.
            let micros = if x.abs() > 1e10 {
                x * 1_000.0
            } else {
                x * 1_000_000.0
            };
            DateTime::from_timestamp_micros(micros as i64)
        }
        Value::String(s) => parse_time_str(s.trim()),
        _ => None,
    }
}

pub(crate) fn parse_time_str(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let with_t = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.with_timezone(&Utc));
    }
    const NAIVE: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M:%S",
        "%Y/%m/%d %H:%M:%S%.f",
    ];
    let trimmed_z = with_t.trim_end_matches('Z');
    for fmt in NAIVE {
        if let Ok(t) = NaiveDateTime::parse_from_str(trimmed_z, fmt) {
            return Some(t.and_utc());
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %z") {
        return Some(t.with_timezone(&Utc));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_lookup_prefers_exact() {
        let v = json!({"operationname": "a", "OperationName": "b"});
        assert_eq!(text(&v, &["OperationName"]).as_deref(), Some("b"));
        assert_eq!(text(&v, &["operationname"]).as_deref(), Some("a"));
        assert_eq!(
            text(&json!({"level": "x"}), &["Level"]).as_deref(),
            Some("x")
        );
        assert_eq!(text(&v, &["missing"]), None);
    }

    #[test]
    fn scalars_become_text() {
        assert_eq!(scalar_text(&json!(" x ")).as_deref(), Some("x"));
        assert_eq!(scalar_text(&json!(4)).as_deref(), Some("4"));
        assert_eq!(scalar_text(&json!("")), None);
        assert_eq!(scalar_text(&json!({})), None);
    }

    #[test]
    fn times_in_every_shape() {
        let want = |s: &str| parse_time(&json!(s)).map(|t| t.to_rfc3339());
        assert_eq!(
            want("2019-10-18T15:30:51.0273716Z").as_deref(),
            Some("2019-10-18T15:30:51.027371600+00:00")
        );
        assert_eq!(
            want("2023-07-26 22:58:30.983201900").as_deref(),
            Some("2023-07-26T22:58:30.983201900+00:00")
        );
        assert_eq!(
            want("2014-03-06T21:22:54Z").as_deref(),
            Some("2014-03-06T21:22:54+00:00")
        );
        assert_eq!(
            want("2018-01-01T10:00:00+02:00").as_deref(),
            Some("2018-01-01T08:00:00+00:00")
        );
        assert!(want("1/21/2020 2:34:56 PM").is_some());
        assert!(want("2020-01-21T14:34:56").is_some());
        assert_eq!(want("yesterday"), None);
        assert_eq!(
            parse_time(&json!(1_600_000_000)).map(|t| t.timestamp()),
            Some(1_600_000_000)
        );
        assert_eq!(
            parse_time(&json!(1_600_000_000_123u64)).map(|t| t.timestamp_millis()),
            Some(1_600_000_000_123)
        );
    }

    #[test]
    fn embedded_documents() {
        assert!(embedded_object(&json!("{\"a\":1}")).is_some());
        assert!(embedded_object(&json!("plain")).is_none());
        assert!(embedded_object(&json!({"a": 1})).is_some());
    }
}
