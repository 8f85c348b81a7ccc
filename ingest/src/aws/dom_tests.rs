//! The SIMD fast path and the serde path read every CloudTrail document the same way.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::{CloudTrailRecord, dom, normalize};
use crate::record::RecordContext;

fn ctx() -> RecordContext<'static> {
    RecordContext {
        source: "diff",
        byte_offset: 0,
        record_index: 0,
        envelope: None,
        ingest_time: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        raw: None,
    }
}

/// Events (or refusals) of a document, each record normalized, via one path's record.
fn outcomes(record: &CloudTrailRecord<'_>) -> Vec<String> {
    let records: Vec<&CloudTrailRecord<'_>> = match &record.records {
        Some(list) => list.iter().collect(),
        None => vec![record],
    };
    records
        .into_iter()
        .map(|r| format!("{:?}", normalize(r, &ctx())))
        .collect()
}

fn compare(doc: &[u8]) -> Option<usize> {
    let dom_value = dom::parse(doc)?;
    let fast = dom::record(&dom_value);
    let careful = serde_json::from_slice::<CloudTrailRecord<'_>>(doc);
    match (fast, careful) {
        (Some(fast), Ok(careful)) => {
            let (a, b) = (outcomes(&fast), outcomes(&careful));
            assert_eq!(a, b, "paths disagree on {}", String::from_utf8_lossy(doc));
            Some(a.len())
        }
        // The fast path may decline what serde reads; it must never read what serde refuses.
        (Some(_), Err(e)) => panic!("fast path read a document serde refuses ({e})"),
        (None, _) => None,
    }
}

#[test]
fn odd_shapes_agree_or_fall_back() {
    let docs = [
        json!({"eventTime": " 2026-01-01T00:00:00Z ", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
               "recipientAccountId": 111122223333u64, "readOnly": true, "requestParameters": "odd",
               "resources": [{"ARN": "arn:aws:s3:::b"}, 3, {"arn": "arn:aws:s3:::c", "type": "AWS::S3::Bucket"}],
               "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/R/s",
                                "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/R"}, "attributes": {"mfaAuthenticated": "true"}}}}),
        json!({"eventname": "ConsoleLogin", "eventsource": "signin.amazonaws.com", "eventtime": "2026-01-01T00:00:00Z",
               "responseElements": {"ConsoleLogin": "Failure"}, "additionalEventData": {"MFAUsed": "No"},
               "userIdentity": {"type": "Root", "accountId": "1"}}),
        json!({"Records": [{"eventTime": "2026-01-01T00:00:00Z", "eventSource": "kms.amazonaws.com", "eventName": "Decrypt",
                            "userIdentity": null, "errorCode": 5, "eventID": {"nested": true}}]}),
    ];
    for doc in docs {
        let bytes = serde_json::to_vec(&doc).unwrap_or_default();
        assert!(compare(&bytes).is_some(), "fast path declined {doc}");
    }
    // Shapes serde refuses: the fast path declines them too, so the careful path reports them.
    for refused in [
        json!({"eventName": "X", "eventSource": "s", "userIdentity": "a string"}),
        json!({"eventName": "X", "eventSource": "s", "eventname": "Y"}),
        json!({"Records": [1, 2]}),
    ] {
        let bytes = serde_json::to_vec(&refused).unwrap_or_default();
        assert_eq!(compare(&bytes), None, "{refused}");
    }
}

#[test]
fn every_aws_corpus_document_agrees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/aws");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus missing at {}: {e}", dir.display()))
            .flatten()
        {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                files.push(p)
            }
        }
    }
    let mut records = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        records += compare(&bytes).unwrap_or(0);
        // Each NDJSON line is a document of its own.
        for line in bytes.split(|b| *b == b'\n').filter(|l| l.starts_with(b"{")) {
            records += compare(line).unwrap_or(0);
        }
    }
    assert!(records > 400, "only {records} corpus records compared");
}
