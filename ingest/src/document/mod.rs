//! From bytes to events: gzip, framing into JSON documents (one document, NDJSON, or concatenated
//! pretty-printed documents), envelope detection, and dispatch to the provider normalizers. Sans-I/O.
//!
//! Every byte either ends up in an event or in a dead letter; nothing is skipped silently.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Deserializer, Value};
use vigil_schemas::{DeadLetter, Event, Provider};

mod envelope;
mod framing;
mod input;
mod lake_rows;

use crate::aws::{self, CloudTrailRecord};
use crate::json::get_ci;
use crate::record::{RecordContext, RecordError};
use crate::{azure, gcp};
use envelope::{Envelope, is_cloudtrail, kind_of, rest_example_records, unwrap_envelope};
use framing::{
    escape_control_characters, first_key_is_cloudtrail, json_error_kind, next_document_start,
    skip_ws,
};
use input::{gunzip, split_points};

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
    /// A large NDJSON input is cut into pieces of at least this many bytes, normalized on several threads.
    pub parallel_piece_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 4 << 30,
            max_document_bytes: 512 << 20,
            dead_letter_max_bytes: 1 << 20,
            parallel_piece_bytes: 8 << 20,
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
    normalize_bytes_on(source, input, ingest_time, limits, 1)
}

/// [`normalize_bytes`] on up to `threads` threads: a large NDJSON-shaped input is cut where a line
/// starts a new document (the points framing resynchronises at anyway) into pieces of at least
/// `limits.parallel_piece_bytes`, normalized side by side; events and dead letters come back in input
/// order with offsets into the whole input. The result is the same as on one thread.
pub fn normalize_bytes_on(
    source: &str,
    input: &[u8],
    ingest_time: DateTime<Utc>,
    limits: &Limits,
    threads: usize,
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
    let pieces = split_points(&decoded, threads, limits.parallel_piece_bytes);
    if pieces.len() <= 1 {
        run.frame(&decoded, input.is_empty());
        return run.out;
    }
    let parts: Vec<Normalized> = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|piece| {
                let bytes = &decoded[piece.clone()];
                let base = piece.start as u64;
                let handle = scope.spawn(move || {
                    let mut part = Run {
                        source,
                        ingest_time,
                        limits,
                        out: Normalized::default(),
                    };
                    part.frame(bytes, false);
                    part.out.shift_offsets(base);
                    part.out
                });
                (handle, piece.clone())
            })
            .collect();
        handles
            .into_iter()
            .map(|(handle, piece)| {
                handle.join().unwrap_or_else(|_| {
                    // Normalizing never panics by design; if it ever did, the bytes are not lost.
                    let bytes = &decoded[piece.clone()];
                    let letter = DeadLetter::new(
                        "internal_error",
                        "normalizer thread failed on this piece of the input",
                        source,
                        piece.start as u64,
                        bytes,
                        limits.dead_letter_max_bytes,
                    );
                    Normalized {
                        events: Vec::new(),
                        dead_letters: vec![letter],
                    }
                })
            })
            .collect()
    });
    for part in parts {
        run.out.events.extend(part.events);
        run.out.dead_letters.extend(part.dead_letters);
    }
    run.out
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
        if self.whole_cloudtrail_document(buf, pos) {
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

    /// The fast path for a buffer that is exactly one CloudTrail document (an S3 delivery file, one
    /// event): SIMD-parsed in one go, records normalized straight from the parsed tree. A record the
    /// fast path declines is read the careful way on its own. Returns false, having done nothing, for
    /// anything else.
    fn whole_cloudtrail_document(&mut self, buf: &[u8], pos: usize) -> bool {
        let end = buf
            .iter()
            .rposition(|b| !b.is_ascii_whitespace() && *b != 0)
            .map_or(pos, |i| i + 1);
        if end <= pos
            || (end - pos) as u64 > self.limits.max_document_bytes
            || !first_key_is_cloudtrail(&buf[pos..])
        {
            return false;
        }
        let doc = &buf[pos..end];
        // The SIMD parser copies its input first; NDJSON and concatenated documents would be copied
        // whole only to stop after the first document, so they go the streaming way from the start.
        if doc
            .split(|b| *b == b'\n')
            .skip(1)
            .any(|line| line.first() == Some(&b'{'))
        {
            return false;
        }
        let Some(tree) = aws::dom::parse(doc) else {
            return false;
        };
        if let Some(records) = aws::dom::delivery_records(&tree) {
            if records.is_empty() {
                self.empty_delivery_file(doc, pos as u64);
                return true;
            }
            for (i, item) in records.iter().enumerate() {
                let at = Located {
                    bytes: doc,
                    offset: pos as u64,
                    index: i as u64,
                    envelope: Some("s3_file"),
                };
                match aws::dom::record(item) {
                    Some(record) => self.cloudtrail_record(&record, &at, None),
                    None => {
                        let text = item.to_string();
                        self.cloudtrail_text(&Located {
                            bytes: text.as_bytes(),
                            ..at
                        });
                    }
                }
            }
            return true;
        }
        match aws::dom::record(&tree) {
            Some(record) if record.records.is_none() && record.looks_like_cloudtrail() => {
                let at = Located {
                    bytes: doc,
                    offset: pos as u64,
                    index: 0,
                    envelope: None,
                };
                self.cloudtrail_record(&record, &at, Some(doc));
                true
            }
            _ => false,
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

    /// A CloudTrail S3 file whose `Records` list is empty: a dead letter, so no input vanishes.
    fn empty_delivery_file(&mut self, doc: &[u8], offset: u64) {
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
    }

    /// A document read by the one-pass CloudTrail probe.
    fn cloudtrail_probe(&mut self, record: CloudTrailRecord<'_>, doc: &[u8], offset: u64) {
        if let Some(records) = &record.records {
            if records.is_empty() {
                self.empty_delivery_file(doc, offset);
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
            self.listed_records(&items, &whole, "array", "JSON array");
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
                self.listed_records(&list, &whole, envelope, &format!("envelope `{key}`"));
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

    /// The elements of a list inside `whole` (a top-level array, an envelope's `records`...), each a
    /// record located at its own bytes; an empty list is a dead letter, not nothing.
    fn listed_records(
        &mut self,
        items: &[&RawValue],
        whole: &Located<'_>,
        envelope: &'static str,
        what: &str,
    ) {
        if items.is_empty() {
            let err = RecordError {
                kind: "empty",
                reason: format!("{what} holds no records"),
            };
            self.record_failed(whole, None, envelope, err);
            return;
        }
        let base = whole.bytes.as_ptr() as usize;
        for (i, item) in items.iter().enumerate() {
            let at = Located {
                bytes: item.get().as_bytes(),
                offset: whole.offset + (item.get().as_ptr() as usize).saturating_sub(base) as u64,
                index: i as u64,
                envelope: Some(envelope),
            };
            self.record(&at);
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

#[cfg(test)]
mod tests;
