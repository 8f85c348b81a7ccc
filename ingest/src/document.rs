//! From bytes to events: gzip, framing into JSON documents (one document, NDJSON, or concatenated
//! pretty-printed documents), envelope detection, and dispatch to the provider normalizers. Sans-I/O.
//!
//! Every byte either ends up in an event or in a dead letter; nothing is skipped silently.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Deserializer, Value};
use vigil_schemas::{DeadLetter, Event, Provider};

use crate::aws::{self, CloudTrailRecord};
use crate::json::get_ci;
use crate::record::{RecordContext, RecordError};
use crate::{azure, gcp};

/// Limits that keep hostile or broken input from exhausting memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest input (file, stdin, or decompressed gzip) read, in bytes. Larger input is refused whole.
    pub max_input_bytes: u64,
    /// Largest single JSON document (one line of NDJSON, one S3 delivery file), in bytes.
    pub max_document_bytes: u64,
    /// How many bytes of a refused record the dead letter keeps.
    pub dead_letter_max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 4 << 30,
            max_document_bytes: 512 << 20,
            dead_letter_max_bytes: 1 << 20,
        }
    }
}

/// What one input became.
#[derive(Debug, Default)]
pub struct Normalized {
    pub events: Vec<Event>,
    pub dead_letters: Vec<DeadLetter>,
}

/// Normalizes one input (a file's or stdin's bytes, gzip or not) from `source`.
pub fn normalize_bytes(
    source: &str,
    input: &[u8],
    ingest_time: DateTime<Utc>,
    limits: &Limits,
) -> Normalized {
    let mut run = Run {
        source,
        ingest_time,
        limits,
        out: Normalized::default(),
    };
    if input.len() as u64 > limits.max_input_bytes {
        run.refuse(
            "too_large",
            format!(
                "input of {} bytes exceeds max_input_bytes {}",
                input.len(),
                limits.max_input_bytes
            ),
            0,
            input,
        );
        return run.out;
    }
    let decoded: Cow<'_, [u8]> = if input.starts_with(&[0x1f, 0x8b]) {
        match gunzip(input, limits.max_input_bytes) {
            Ok(bytes) => Cow::Owned(bytes),
            Err((prefix, reason)) => {
                run.refuse("bad_gzip", reason, 0, input);
                Cow::Owned(prefix)
            }
        }
    } else {
        Cow::Borrowed(input)
    };
    run.frame(&decoded, input.is_empty());
    run.out
}

/// Decompresses gzip (including multi-member files) up to `limit` bytes; on failure returns what was
/// decompressed before it and the reason.
fn gunzip(input: &[u8], limit: u64) -> Result<Vec<u8>, (Vec<u8>, String)> {
    let mut out = Vec::with_capacity(input.len() * 8);
    let mut decoder = flate2::read::MultiGzDecoder::new(input).take(limit + 1);
    match decoder.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => {
            out.truncate(0);
            Err((
                out,
                format!("gzip expands past max_input_bytes {limit}; refused"),
            ))
        }
        Ok(_) => Ok(out),
        Err(e) => {
            let reason = format!(
                "gzip stream is corrupt or truncated after {} decompressed bytes: {e}",
                out.len()
            );
            Err((out, reason))
        }
    }
}

struct Run<'a> {
    source: &'a str,
    ingest_time: DateTime<Utc>,
    limits: &'a Limits,
    out: Normalized,
}

/// A record located in the source: its bytes and where they start.
struct Located<'b> {
    bytes: &'b [u8],
    offset: u64,
    index: u64,
    envelope: Option<&'static str>,
}

impl<'a> Run<'a> {
    fn refuse(
        &mut self,
        kind: &str,
        reason: impl Into<String>,
        offset: u64,
        bytes: &[u8],
    ) -> &mut DeadLetter {
        let dl = DeadLetter::new(
            kind,
            reason,
            self.source,
            offset,
            bytes,
            self.limits.dead_letter_max_bytes,
        );
        self.out.dead_letters.push(dl);
        let last = self.out.dead_letters.len() - 1;
        &mut self.out.dead_letters[last]
    }

    fn ctx<'r>(&'r self, at: &Located<'r>, raw: Option<&'r [u8]>) -> RecordContext<'r> {
        RecordContext {
            source: self.source,
            byte_offset: at.offset,
            record_index: at.index,
            envelope: at.envelope,
            ingest_time: self.ingest_time,
            raw,
        }
    }

    fn record_failed(
        &mut self,
        at: &Located<'_>,
        provider: Option<Provider>,
        format: &str,
        err: RecordError,
    ) {
        let format = match at.envelope {
            Some(envelope) => format!("{envelope}:{format}"),
            None => format.to_string(),
        };
        let provider = provider.map(Provider::as_str);
        let dl = self.refuse(err.kind, err.reason, at.offset, at.bytes);
        *dl = dl
            .clone()
            .with_record_index(at.index)
            .with_format(provider, &format);
    }

    /// Splits the buffer into JSON documents and handles each; a broken document is dead-lettered up to
    /// the next line that starts a new document, and framing goes on from there.
    fn frame(&mut self, buf: &[u8], input_was_empty: bool) {
        let mut pos = skip_ws(buf, 0);
        if pos == buf.len() {
            let reason = if input_was_empty {
                "empty input: no records"
            } else {
                "input holds only whitespace"
            };
            self.refuse("empty", reason, 0, buf);
            return;
        }
        while pos < buf.len() {
            let rest = &buf[pos..];
            // One pass for CloudTrail (the volume leader): documents whose first key is CloudTrail's are
            // read straight into the typed record. Everything else, and CloudTrail of an odd shape, is
            // framed generically.
            if first_key_is_cloudtrail(rest) {
                let mut probe = Deserializer::from_slice(rest).into_iter::<CloudTrailRecord<'_>>();
                match probe.next() {
                    None => break,
                    Some(Ok(record)) => {
                        let end = pos + probe.byte_offset();
                        if !self.document_too_large(buf, pos, end) {
                            self.cloudtrail_probe(record, &buf[pos..end], pos as u64);
                        }
                        pos = skip_ws(buf, end);
                        continue;
                    }
                    Some(Err(e)) if !e.is_data() => {
                        pos = self.broken_document(buf, pos, &e.to_string());
                        continue;
                    }
                    Some(Err(_)) => {} // valid JSON of another shape: read it generically
                }
            }
            let mut generic = Deserializer::from_slice(rest).into_iter::<&RawValue>();
            match generic.next() {
                Some(Ok(_)) => {
                    let end = pos + generic.byte_offset();
                    if !self.document_too_large(buf, pos, end) {
                        self.generic_document(&buf[pos..end], pos as u64);
                    }
                    pos = skip_ws(buf, end);
                }
                Some(Err(e)) => pos = self.broken_document(buf, pos, &e.to_string()),
                None => break,
            }
        }
    }

    fn document_too_large(&mut self, buf: &[u8], start: usize, end: usize) -> bool {
        let len = (end - start) as u64;
        if len <= self.limits.max_document_bytes {
            return false;
        }
        let reason = format!(
            "JSON document of {len} bytes exceeds max_document_bytes {}",
            self.limits.max_document_bytes
        );
        self.refuse("too_large", reason, start as u64, &buf[start..end]);
        true
    }

    /// Dead-letters a document that is not valid JSON, unless it only holds raw control characters in
    /// strings (seen in AWS documentation samples), which are escaped and read again.
    fn broken_document(&mut self, buf: &[u8], start: usize, error: &str) -> usize {
        let resync = next_document_start(buf, start);
        let bytes = &buf[start..resync];
        if error.contains("control character") {
            let repaired = escape_control_characters(bytes);
            let mut stream = Deserializer::from_slice(&repaired).into_iter::<&RawValue>();
            if let Some(Ok(_)) = stream.next() {
                let end = stream.byte_offset();
                self.generic_document(&repaired[..end], start as u64);
                let tail = skip_ws(&repaired, end);
                if tail < repaired.len() {
                    let reason = "bytes after a repaired document are not JSON".to_string();
                    self.refuse("invalid_json", reason, start as u64, &repaired[tail..]);
                }
                return skip_ws(buf, resync);
            }
        }
        let kind = json_error_kind(error);
        self.refuse(
            kind,
            format!("not valid JSON: {error}"),
            start as u64,
            bytes,
        );
        skip_ws(buf, resync)
    }

    /// A document read by the one-pass CloudTrail probe.
    fn cloudtrail_probe(&mut self, record: CloudTrailRecord<'_>, doc: &[u8], offset: u64) {
        if let Some(records) = &record.records {
            if records.is_empty() {
                let at = Located {
                    bytes: doc,
                    offset,
                    index: 0,
                    envelope: Some("s3_file"),
                };
                let err = RecordError {
                    kind: "empty",
                    reason: "CloudTrail file holds no Records".into(),
                };
                self.record_failed(&at, Some(Provider::Aws), aws::FORMAT, err);
                return;
            }
            for (i, r) in records.iter().enumerate() {
                let at = Located {
                    bytes: doc,
                    offset,
                    index: i as u64,
                    envelope: Some("s3_file"),
                };
                self.cloudtrail_record(r, &at, None);
            }
            return;
        }
        if record.looks_like_cloudtrail() {
            let at = Located {
                bytes: doc,
                offset,
                index: 0,
                envelope: None,
            };
            self.cloudtrail_record(&record, &at, Some(doc));
            return;
        }
        self.generic_document(doc, offset);
    }

    fn cloudtrail_record(
        &mut self,
        record: &CloudTrailRecord<'_>,
        at: &Located<'_>,
        raw: Option<&[u8]>,
    ) {
        let result = aws::normalize(record, &self.ctx(at, raw));
        match result {
            Ok(event) => self.out.events.push(event),
            Err(err) => self.record_failed(at, Some(Provider::Aws), aws::FORMAT, err),
        }
    }

    /// A valid JSON document of any shape: find its envelope and records.
    fn generic_document(&mut self, doc: &[u8], offset: u64) {
        let base = doc.as_ptr() as usize;
        let offset_of =
            |raw: &RawValue| offset + (raw.get().as_ptr() as usize).saturating_sub(base) as u64;
        let whole = Located {
            bytes: doc,
            offset,
            index: 0,
            envelope: None,
        };

        if let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(doc) {
            if items.is_empty() {
                let err = RecordError {
                    kind: "empty",
                    reason: "JSON array holds no records".into(),
                };
                self.record_failed(&whole, None, "array", err);
                return;
            }
            for (i, item) in items.iter().enumerate() {
                let at = Located {
                    bytes: item.get().as_bytes(),
                    offset: offset_of(item),
                    index: i as u64,
                    envelope: Some("array"),
                };
                self.record(&at);
            }
            return;
        }
        let Ok(fields) = serde_json::from_slice::<BTreeMap<String, &RawValue>>(doc) else {
            let err = RecordError {
                kind: "unrecognized",
                reason: "JSON document is neither an object nor an array".into(),
            };
            self.record_failed(&whole, None, "unknown", err);
            return;
        };
        let field = |name: &str| -> Option<&RawValue> {
            fields.get(name).copied().or_else(|| {
                fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| *v)
            })
        };
        // Envelopes holding a list of records.
        for (key, envelope) in [
            ("Records", "records"),
            ("records", "records"),
            ("value", "value"),
            ("Events", "lookup_events"),
        ] {
            if let Some(list) =
                field(key).and_then(|raw| serde_json::from_str::<Vec<&RawValue>>(raw.get()).ok())
            {
                if list.is_empty() {
                    let reason = format!("envelope `{key}` holds no records");
                    self.record_failed(
                        &whole,
                        None,
                        envelope,
                        RecordError {
                            kind: "empty",
                            reason,
                        },
                    );
                    return;
                }
                for (i, item) in list.iter().enumerate() {
                    let at = Located {
                        bytes: item.get().as_bytes(),
                        offset: offset_of(item),
                        index: i as u64,
                        envelope: Some(envelope),
                    };
                    self.record(&at);
                }
                return;
            }
        }
        if let Some(rows) = field("QueryResultRows") {
            self.lake_rows(rows, &whole, offset_of(rows));
            return;
        }
        if let Some(body) = field("responses").and_then(|r| rest_example_records(r.get())) {
            for (i, item) in body.iter().enumerate() {
                let at = Located {
                    bytes: doc,
                    offset,
                    index: i as u64,
                    envelope: Some("rest_example"),
                };
                self.value_record(item, &at, None);
            }
            return;
        }
        self.record(&whole);
    }

    /// CloudTrail Lake query results: each row is a list of one-column objects. Rows that are not events
    /// (aggregates such as `count(*)`) are refused as such.
    fn lake_rows(&mut self, rows: &RawValue, whole: &Located<'_>, offset: u64) {
        let Ok(rows) = serde_json::from_str::<Vec<Vec<BTreeMap<String, Value>>>>(rows.get()) else {
            let err = RecordError::bad_value(
                "QueryResultRows is not a list of rows of single-column objects",
            );
            self.record_failed(whole, Some(Provider::Aws), "cloudtrail_lake_row", err);
            return;
        };
        for (i, row) in rows.into_iter().enumerate() {
            let merged: serde_json::Map<String, Value> = row.into_iter().flatten().collect();
            let record = Value::Object(merged);
            let at = Located {
                bytes: whole.bytes,
                offset,
                index: i as u64,
                envelope: Some("lake_rows"),
            };
            let has_event_fields =
                get_ci(&record, "eventTime").is_some() && get_ci(&record, "eventName").is_some();
            if !has_event_fields {
                let columns: Vec<&str> = record
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let err = RecordError::not_an_event(format!(
                    "CloudTrail Lake row has columns {columns:?}, not an event (an event needs eventTime and eventName)"
                ));
                self.record_failed(&at, Some(Provider::Aws), aws::FORMAT, err);
                continue;
            }
            self.value_record(&record, &at, None);
        }
    }

    /// One record given by its bytes.
    fn record(&mut self, at: &Located<'_>) {
        match serde_json::from_slice::<Value>(at.bytes) {
            Ok(value) => self.value_record(&value, at, Some(at.bytes)),
            Err(e) => {
                let reason = format!("record is not valid JSON: {e}");
                let err = RecordError {
                    kind: json_error_kind(&reason),
                    reason,
                };
                self.record_failed(at, None, "unknown", err);
            }
        }
    }

    /// One record given as a JSON value: unwrap single-record envelopes, then pick the provider.
    fn value_record(&mut self, v: &Value, at: &Located<'_>, raw: Option<&[u8]>) {
        if !v.is_object() {
            let err = RecordError {
                kind: "unrecognized",
                reason: format!("record is a JSON {}, not an object", kind_of(v)),
            };
            self.record_failed(at, None, "unknown", err);
            return;
        }
        match unwrap_envelope(v) {
            Envelope::None => {}
            Envelope::Inner(inner, name) => {
                let bytes = serde_json::to_vec(&inner).unwrap_or_default();
                let at = Located {
                    bytes: &bytes,
                    offset: at.offset,
                    index: at.index,
                    envelope: Some(name),
                };
                self.value_record(&inner, &at, Some(at.bytes));
                return;
            }
            Envelope::CloudTrailText(text, name) => {
                let at = Located {
                    bytes: text.as_bytes(),
                    offset: at.offset,
                    index: at.index,
                    envelope: Some(name),
                };
                self.cloudtrail_text(&at);
                return;
            }
            Envelope::Refused(provider, format, err) => {
                self.record_failed(at, provider, format, err);
                return;
            }
        }
        if is_cloudtrail(v) {
            let text = v.to_string();
            let inner = Located {
                bytes: text.as_bytes(),
                offset: at.offset,
                index: at.index,
                envelope: at.envelope,
            };
            self.cloudtrail_text(&inner);
            return;
        }
        let ctx = self.ctx(at, raw);
        let (provider, format, result) = if let Some(format) = gcp::classify(v) {
            (Provider::Gcp, format, gcp::normalize(v, format, &ctx))
        } else if let Some(format) = azure::classify(v) {
            (Provider::Azure, format, azure::normalize(v, format, &ctx))
        } else if get_ci(v, "logName").is_some()
            && (get_ci(v, "jsonPayload").is_some() || get_ci(v, "textPayload").is_some())
        {
            let err = RecordError::not_an_event(
                "GCP LogEntry with a jsonPayload/textPayload: an application log, not an audit log",
            );
            self.record_failed(at, Some(Provider::Gcp), "gcp_log_entry", err);
            return;
        } else {
            let keys: Vec<&str> = v
                .as_object()
                .map(|m| m.keys().take(8).map(String::as_str).collect())
                .unwrap_or_default();
            let err = RecordError {
                kind: "unrecognized",
                reason: format!("not a CloudTrail, Azure or GCP audit record (keys: {keys:?})"),
            };
            self.record_failed(at, None, "unknown", err);
            return;
        };
        match result {
            Ok(event) => self.out.events.push(event),
            Err(err) => self.record_failed(at, Some(provider), format, err),
        }
    }

    /// A CloudTrail record given as JSON text (lookup-events' `CloudTrailEvent`, re-serialized values).
    fn cloudtrail_text(&mut self, at: &Located<'_>) {
        match serde_json::from_slice::<CloudTrailRecord<'_>>(at.bytes) {
            Ok(record) => self.cloudtrail_record(&record, at, Some(at.bytes)),
            Err(e) => {
                let err = RecordError::bad_value(format!(
                    "CloudTrail record has a field of the wrong shape: {e}"
                ));
                self.record_failed(at, Some(Provider::Aws), aws::FORMAT, err);
            }
        }
    }
}

enum Envelope {
    None,
    Inner(Value, &'static str),
    CloudTrailText(String, &'static str),
    Refused(Option<Provider>, &'static str, RecordError),
}

/// Single-record envelopes: EventBridge, lookup-events items, Pub/Sub push, CloudEvents; and documents
/// that are known not to be events (CloudTrail digests, other EventBridge detail types).
fn unwrap_envelope(v: &Value) -> Envelope {
    if let (Some(detail_type), Some(detail)) = (get_ci(v, "detail-type"), get_ci(v, "detail")) {
        let detail_type = detail_type.as_str().unwrap_or("");
        if detail_type.contains("via CloudTrail") || (detail.is_object() && is_cloudtrail(detail)) {
            return Envelope::Inner(detail.clone(), "eventbridge");
        }
        return Envelope::Refused(
            Some(Provider::Aws),
            "eventbridge",
            RecordError::not_an_event(format!(
                "EventBridge event of type `{detail_type}` is not a CloudTrail record"
            )),
        );
    }
    if let Some(Value::String(text)) = get_ci(v, "CloudTrailEvent") {
        return Envelope::CloudTrailText(text.clone(), "lookup_events");
    }
    if get_ci(v, "digestStartTime").is_some() && get_ci(v, "digestEndTime").is_some() {
        return Envelope::Refused(
            Some(Provider::Aws),
            "cloudtrail_digest",
            RecordError::not_an_event(
                "CloudTrail digest file: log-integrity metadata, not activity",
            ),
        );
    }
    if let (Some(message), Some(_)) = (get_ci(v, "message"), get_ci(v, "subscription")) {
        let Some(data) = get_ci(message, "data").and_then(Value::as_str) else {
            return Envelope::Refused(
                None,
                "pubsub_push",
                RecordError::missing(Provider::Gcp, "message.data"),
            );
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(data.trim()));
        return match decoded.map(|bytes| serde_json::from_slice::<Value>(&bytes)) {
            Ok(Ok(inner)) => Envelope::Inner(inner, "pubsub_push"),
            Ok(Err(e)) => Envelope::Refused(
                Some(Provider::Gcp),
                "pubsub_push",
                RecordError::bad_value(format!("Pub/Sub message data is not JSON: {e}")),
            ),
            Err(e) => Envelope::Refused(
                Some(Provider::Gcp),
                "pubsub_push",
                RecordError::bad_value(format!("Pub/Sub message data is not base64: {e}")),
            ),
        };
    }
    if let Some(data) = get_ci(v, "data") {
        let is_cloudevent =
            get_ci(v, "specversion").is_some() || get_ci(v, "datacontenttype").is_some();
        if is_cloudevent && data.is_object() {
            return Envelope::Inner(data.clone(), "cloudevent");
        }
    }
    Envelope::None
}

/// CloudTrail records are recognised by `eventName` or `eventVersion` (or the Insights type) beside any
/// field that only CloudTrail uses, so hand-trimmed records are still read as CloudTrail (and a record
/// without `eventName` is then refused as having no operation).
fn is_cloudtrail(v: &Value) -> bool {
    const CLOUDTRAIL_ONLY: [&str; 8] = [
        "eventSource",
        "eventVersion",
        "userIdentity",
        "awsRegion",
        "requestParameters",
        "responseElements",
        "recipientAccountId",
        "sourceIPAddress",
    ];
    let insight = get_ci(v, "eventType").and_then(Value::as_str) == Some("AwsCloudTrailInsight");
    let names_itself = get_ci(v, "eventName").is_some() || get_ci(v, "eventVersion").is_some();
    (names_itself || insight) && CLOUDTRAIL_ONLY.iter().any(|k| get_ci(v, k).is_some())
}

/// Azure REST API specification examples wrap a list response as `responses."200".body.value`.
fn rest_example_records(responses: &str) -> Option<Vec<Value>> {
    let v: Value = serde_json::from_str(responses).ok()?;
    let ok = get_ci(&v, "200")?;
    let list = get_ci(get_ci(ok, "body")?, "value")?.as_array()?;
    Some(list.clone())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The dead-letter kind of a JSON parse error.
fn json_error_kind(error: &str) -> &'static str {
    if error.contains("recursion limit") {
        "too_deep"
    } else if error.contains("EOF") {
        "truncated"
    } else if error.contains("unicode") || error.contains("UTF-8") {
        "invalid_utf8"
    } else {
        "invalid_json"
    }
}

/// Whether the document at the start of `doc` is an object whose first key is one CloudTrail uses.
fn first_key_is_cloudtrail(doc: &[u8]) -> bool {
    const KEYS: [&str; 16] = [
        "Records",
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "eventID",
        "eventType",
        "eventCategory",
        "sourceIPAddress",
        "additionalEventData",
        "requestParameters",
        "recipientAccountId",
        "errorCode",
        "readOnly",
    ];
    let Some(rest) = doc.strip_prefix(b"{") else {
        return false;
    };
    let rest = &rest[skip_blank(rest, 0)..];
    let Some(key) = rest.strip_prefix(b"\"") else {
        return false;
    };
    let Some(end) = key.iter().take(48).position(|&b| b == b'"' || b == b'\\') else {
        return false;
    };
    KEYS.iter()
        .any(|k| k.as_bytes().eq_ignore_ascii_case(&key[..end]))
}

/// Skips a byte-order mark at the very start, then blanks.
fn skip_ws(buf: &[u8], pos: usize) -> usize {
    let pos = if pos == 0 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        pos
    };
    skip_blank(buf, pos)
}

/// Skips JSON white space, and NUL padding that some exporters leave between documents.
fn skip_blank(buf: &[u8], mut pos: usize) -> usize {
    while pos < buf.len() && matches!(buf[pos], b' ' | b'\t' | b'\r' | b'\n' | 0) {
        pos += 1;
    }
    pos
}

/// The next line after `start` that begins a JSON document (`{` or `[` in the first column), or the end.
fn next_document_start(buf: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < buf.len() {
        if buf[i - 1] == b'\n' && matches!(buf[i], b'{' | b'[') {
            return i;
        }
        i += 1;
    }
    buf.len()
}

/// Escapes raw control characters inside JSON strings, which strict JSON forbids.
fn escape_control_characters(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string && b < 0x20 {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            escaped = false;
            continue;
        }
        out.push(b);
        if escaped {
            escaped = false;
        } else if in_string && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_string = !in_string;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Normalized {
        normalize_bytes("t", bytes, Utc::now(), &Limits::default())
    }

    const CT: &str = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"id-@","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}"#;

    #[test]
    fn ndjson_with_a_bad_line_keeps_the_rest() {
        let text = format!(
            "{}\n{{\"broken\": \n{}\n",
            CT.replace('@', "1"),
            CT.replace('@', "2")
        );
        let out = run(text.as_bytes());
        let ids: Vec<&str> = out.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, vec!["id-1", "id-2"]);
        assert_eq!(out.dead_letters.len(), 1);
        assert_eq!(out.dead_letters[0].kind, "truncated");
        assert_eq!(
            out.dead_letters[0].original().as_deref(),
            Some(&b"{\"broken\": \n"[..])
        );
        assert_eq!(out.dead_letters[0].byte_offset as usize, CT.len() + 1);
    }

    #[test]
    fn s3_file_records_are_indexed() {
        let text = format!(
            "{{\"Records\":[{},{}]}}",
            CT.replace('@', "1"),
            CT.replace('@', "2")
        );
        let out = run(text.as_bytes());
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[1].raw_ref.record_index, 1);
        assert_eq!(out.events[1].raw_ref.format, "s3_file:cloudtrail");
    }

    #[test]
    fn envelopes_unwrap() {
        let bridge = format!(
            "{{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.s3\",\"detail\":{}}}",
            CT.replace('@', "1")
        );
        let out = run(bridge.as_bytes());
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].raw_ref.format, "eventbridge:cloudtrail");

        let lookup = serde_json::json!({"Events": [{"EventId": "x", "CloudTrailEvent": CT.replace('@', "7")}]}).to_string();
        let out = run(lookup.as_bytes());
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].event_id, "id-7");
        assert_eq!(out.events[0].raw_ref.format, "lookup_events:cloudtrail");
    }

    #[test]
    fn control_characters_in_strings_are_repaired() {
        let text = CT.replace("ListBuckets", "List\tBuckets").replace('@', "1");
        let out = run(text.as_bytes());
        assert_eq!(out.dead_letters.len(), 0, "{:?}", out.dead_letters);
        assert_eq!(out.events[0].action.operation, "List\tBuckets");
    }

    #[test]
    fn empty_and_garbage_are_dead_letters() {
        assert_eq!(run(b"").dead_letters[0].kind, "empty");
        assert_eq!(run(b"  \n ").dead_letters[0].kind, "empty");
        let out = run(b"hello world");
        assert_eq!(out.events.len(), 0);
        assert_eq!(out.dead_letters[0].kind, "invalid_json");
        let out = run(b"[1, \"x\"]");
        assert_eq!(out.dead_letters.len(), 2);
        assert!(out.dead_letters.iter().all(|d| d.kind == "unrecognized"));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let out = run(deep.as_bytes());
        assert_eq!(out.events.len(), 0);
        assert_eq!(out.dead_letters.len(), 1);
        assert_eq!(out.dead_letters[0].kind, "too_deep");
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_document_bytes: 100,
            ..Limits::default()
        };
        let out = normalize_bytes("t", CT.as_bytes(), Utc::now(), &limits);
        assert_eq!(out.dead_letters[0].kind, "too_large");
        let limits = Limits {
            max_input_bytes: 10,
            ..Limits::default()
        };
        let out = normalize_bytes("t", CT.as_bytes(), Utc::now(), &limits);
        assert_eq!(out.dead_letters[0].kind, "too_large");
        assert_eq!(out.events.len(), 0);
    }

    #[test]
    fn truncated_gzip_is_reported_and_prefix_used() -> Result<(), std::io::Error> {
        use std::io::Write;
        let text = format!("{}\n{}\n", CT.replace('@', "1"), CT.replace('@', "2"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes())?;
        let gz = enc.finish()?;
        let whole = run(&gz);
        assert_eq!(whole.events.len(), 2);
        let cut = run(&gz[..gz.len() - 12]);
        assert!(cut.dead_letters.iter().any(|d| d.kind == "bad_gzip"));
        Ok(())
    }

    #[test]
    fn escape_only_inside_strings() {
        assert_eq!(
            escape_control_characters(b"{\"a\":\"x\ny\"}\n"),
            b"{\"a\":\"x\\u000ay\"}\n".to_vec()
        );
    }
}
