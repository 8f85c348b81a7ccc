//! Byte-level framing: where JSON documents start and end, and what kind of broken they are.

/// The dead-letter kind of a JSON parse error.
pub(super) fn json_error_kind(error: &str) -> &'static str {
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
pub(super) fn first_key_is_cloudtrail(doc: &[u8]) -> bool {
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
pub(super) fn skip_ws(buf: &[u8], pos: usize) -> usize {
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
pub(super) fn next_document_start(buf: &[u8], start: usize) -> usize {
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
pub(super) fn escape_control_characters(bytes: &[u8]) -> Vec<u8> {
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
