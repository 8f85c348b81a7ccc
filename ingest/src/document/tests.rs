//! Unit tests of the document module.

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

    let lookup =
        serde_json::json!({"Events": [{"EventId": "x", "CloudTrailEvent": CT.replace('@', "7")}]})
            .to_string();
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

#[test]
fn large_ndjson_is_split_with_the_same_result() {
    let mut text = String::new();
    for i in 0..3_000 {
        text.push_str(&CT.replace('@', &i.to_string()));
        text.push('\n');
        if i % 500 == 7 {
            text.push_str("{\"broken\": \n");
        }
    }
    let limits = Limits {
        parallel_piece_bytes: 16 * 1024,
        ..Limits::default()
    };
    let now = Utc::now();
    let one = normalize_bytes_on("t", text.as_bytes(), now, &limits, 1);
    let four = normalize_bytes_on("t", text.as_bytes(), now, &limits, 4);
    assert!(split_points(text.as_bytes(), 4, limits.parallel_piece_bytes).len() == 4);
    assert_eq!(one.events.len(), 3_000);
    assert_eq!(one.dead_letters.len(), 6);
    assert_eq!(
        one.events, four.events,
        "same events, same order, same offsets"
    );
    assert_eq!(one.dead_letters, four.dead_letters);
}

#[test]
fn documents_that_are_not_ndjson_are_not_split() {
    let pretty = format!(
        "{{\n\"Records\": [\n{}\n]\n}}\n{{\n\"x\": 1}}",
        CT.replace('@', "1")
    );
    assert!(split_points(pretty.as_bytes(), 4, 1).is_empty());
    let small = format!("{}\n{}\n", CT.replace('@', "1"), CT.replace('@', "2"));
    assert!(split_points(small.as_bytes(), 4, 1 << 20).is_empty());
}
