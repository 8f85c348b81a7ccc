//! Property tests over the parsers: whatever the bytes, no panic and nothing vanishes; valid records
//! survive any garbage around them; gzip changes nothing.

use std::io::Write;

use proptest::prelude::*;
use serde_json::{Value, json};
use vigil_ingest::{Limits, normalize_bytes, normalize_bytes_on};

fn normalize(bytes: &[u8]) -> vigil_ingest::Normalized {
    normalize_bytes("prop", bytes, chrono::Utc::now(), &Limits::default())
}

fn cloudtrail(id: u32, name: &str) -> String {
    json!({
        "eventVersion": "1.08",
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "eventID": format!("prop-{id}"),
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::1:user/u{id}")}
    })
    .to_string()
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("eventName".to_string()),
                    Just("eventTime".to_string()),
                    Just("userIdentity".to_string()),
                    Just("protoPayload".to_string()),
                    Just("operationName".to_string()),
                    Just("records".to_string()),
                    Just("Records".to_string()),
                    Just("time".to_string()),
                    Just("identity".to_string()),
                    Just("properties".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes: no panic, and the input is accounted for (an event or a dead letter).
    #[test]
    fn arbitrary_bytes_never_panic_or_vanish(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let out = normalize(&bytes);
        prop_assert!(!out.events.is_empty() || !out.dead_letters.is_empty());
        for letter in &out.dead_letters {
            prop_assert!(!letter.reason.is_empty());
            prop_assert!(letter.byte_offset as usize <= bytes.len().max(1) * 8);
        }
    }

    /// Arbitrary JSON shaped like audit records: no panic, every top-level record accounted for.
    #[test]
    fn arbitrary_json_never_panics(values in prop::collection::vec(json_value(), 1..5)) {
        let text: String = values.iter().map(|v| format!("{v}\n")).collect();
        let out = normalize(text.as_bytes());
        prop_assert!(out.events.len() + out.dead_letters.len() >= 1);
        for e in &out.events {
            prop_assert!(!e.identity.key.is_empty());
            prop_assert!(!e.event_id.is_empty());
        }
    }

    /// NDJSON of valid records with garbage lines between them: every valid record still arrives,
    /// and every garbage line is dead-lettered.
    #[test]
    fn valid_records_survive_garbage(
        names in prop::collection::vec("[A-Z][a-z]{2,10}", 1..8),
        garbage in prop::collection::vec("~[^\\n]{0,39}", 0..5),
    ) {
        let mut text = String::new();
        for (i, name) in names.iter().enumerate() {
            text.push_str(&cloudtrail(i as u32, name));
            text.push('\n');
            if let Some(g) = garbage.get(i) {
                text.push_str(g);
                text.push('\n');
            }
        }
        let out = normalize(text.as_bytes());
        let ids: Vec<String> = out.events.iter().map(|e| e.event_id.clone()).collect();
        let expected: Vec<String> = (0..names.len()).map(|i| format!("prop-{i}")).collect();
        prop_assert_eq!(ids, expected);
        // Each garbage line starts with `~`, which no JSON value does: one dead letter per line.
        let garbage_lines = garbage.iter().take(names.len()).count();
        prop_assert_eq!(out.dead_letters.len(), garbage_lines);
    }

    /// Gzip is transparent: the same events with or without it.
    #[test]
    fn gzip_is_transparent(names in prop::collection::vec("[A-Z][a-z]{2,10}", 1..6)) {
        let text: String = names.iter().enumerate().map(|(i, n)| cloudtrail(i as u32, n) + "\n").collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let gz = enc.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let plain = normalize(text.as_bytes());
        let zipped = normalize(&gz);
        let ops = |n: &vigil_ingest::Normalized| n.events.iter().map(|e| (e.event_id.clone(), e.action.operation.clone())).collect::<Vec<_>>();
        prop_assert_eq!(ops(&plain), ops(&zipped));
        prop_assert!(zipped.dead_letters.is_empty());
    }

    /// Truncating a valid S3 delivery file anywhere never panics and always leaves a dead letter.
    #[test]
    fn truncation_anywhere_is_a_dead_letter(cut in 1usize..400) {
        let file = format!("{{\"Records\":[{},{}]}}", cloudtrail(1, "CreateUser"), cloudtrail(2, "DeleteUser"));
        let cut = cut.min(file.len() - 1);
        let out = normalize(&file.as_bytes()[..cut]);
        prop_assert!(!out.dead_letters.is_empty());
    }

    /// Splitting a large input over threads never changes the result, whatever mixes of valid lines,
    /// garbage and multi-line documents it holds.
    #[test]
    fn splitting_over_threads_changes_nothing(
        lines in prop::collection::vec(prop_oneof![
            4 => "[A-Z][a-z]{2,10}".prop_map(|n| cloudtrail(7, &n)),
            1 => "~[^\\n]{0,30}",
            1 => Just("{\"eventName\": \"Broken".to_string()),
            1 => Just("{\n  \"eventVersion\": \"1.08\",\n  \"eventName\": \"X\",\n  \"eventSource\": \"s3.amazonaws.com\"\n}".to_string()),
        ], 1..60),
        piece in 64u64..2048,
    ) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let limits = Limits { parallel_piece_bytes: piece, ..Limits::default() };
        let now = chrono::Utc::now();
        let one = normalize_bytes_on("prop", text.as_bytes(), now, &limits, 1);
        let four = normalize_bytes_on("prop", text.as_bytes(), now, &limits, 4);
        prop_assert_eq!(&one.events, &four.events);
        prop_assert_eq!(&one.dead_letters, &four.dead_letters);
    }
}
