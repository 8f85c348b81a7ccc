//! Bad input through the whole `vigil run` pipeline: nothing panics, nothing is dropped silently; each
//! bad record is a dead letter with its reason, source, position and original bytes, counted in metrics,
//! and the good records around it still arrive.

mod common;

use std::io::Write;
use std::path::Path;

use common::*;

const GOOD: &str = r#"{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"good-@","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}"#;

fn good(id: &str) -> String {
    GOOD.replace('@', id)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{e}"));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
    enc.finish().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_kind_of_bad_input_is_dead_lettered_and_the_stream_goes_on() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let input = tmp.path().join("input");
    std::fs::create_dir_all(&input).unwrap_or_else(|e| panic!("{e}"));

    let gz = gzip(format!("{}\n{}\n", good("gz1"), good("gz2")).as_bytes());
    write(&input, "a-truncated.json.gz", &gz[..gz.len() - 10]);
    write(
        &input,
        "b-invalid-json.ndjson",
        format!("{}\n{{\"eventName\": oops}}\n{}\n", good("j1"), good("j2")).as_bytes(),
    );
    let mut bad_utf8 = good("u1").into_bytes();
    bad_utf8.extend_from_slice(
        b"\n{\"eventName\":\"List\xff\xfeBuckets\",\"eventSource\":\"s3.amazonaws.com\"}\n",
    );
    write(&input, "c-invalid-utf8.ndjson", &bad_utf8);
    write(&input, "d-wrong-types.json", br#"{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":"not-an-object"}"#);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    write(&input, "e-deep.json", deep.as_bytes());
    let very_deep = format!("{}{}", "[".repeat(2_000_000), "]".repeat(2_000_000));
    write(&input, "e2-very-deep.json", very_deep.as_bytes());
    write(&input, "f-empty.json", b"");
    let huge = good("huge").replace(
        "\"eventID\"",
        &format!(
            "\"userAgent\":\"{}\",\"eventID\"",
            "x".repeat(50 * 1024 * 1024)
        ),
    );
    write(
        &input,
        "g-50mb-line.ndjson",
        format!("{huge}\n{}\n", good("after-huge")).as_bytes(),
    );

    let lake = tmp.path().join("lake");
    let metrics = tmp.path().join("metrics.prom");
    run_pipeline(
        &[&input],
        &lake,
        &[
            ("VIGIL__INGEST__MAX_DOCUMENT_BYTES", "16777216"),
            (
                "VIGIL__RUN__METRICS_FILE",
                metrics.to_str().unwrap_or_default(),
            ),
        ],
    );

    let letters = dead_letters(&lake);
    let kind_of = |file: &str| -> Vec<&str> {
        letters
            .iter()
            .filter(|d| d.source.ends_with(file))
            .map(|d| d.kind.as_str())
            .collect()
    };
    assert!(
        kind_of("a-truncated.json.gz").contains(&"bad_gzip"),
        "{letters:#?}"
    );
    assert_eq!(kind_of("b-invalid-json.ndjson"), vec!["invalid_json"]);
    assert_eq!(kind_of("c-invalid-utf8.ndjson"), vec!["invalid_utf8"]);
    assert_eq!(kind_of("d-wrong-types.json"), vec!["bad_value"]);
    assert_eq!(kind_of("e-deep.json"), vec!["too_deep"]);
    assert_eq!(
        kind_of("e2-very-deep.json"),
        vec!["too_deep"],
        "no stack overflow either"
    );
    assert_eq!(kind_of("f-empty.json"), vec!["empty"]);
    assert_eq!(kind_of("g-50mb-line.ndjson"), vec!["too_large"]);

    for letter in &letters {
        assert!(!letter.reason.is_empty());
        assert!(
            letter.original_len > 0 || letter.kind == "empty",
            "{letter:?}"
        );
    }
    let huge_letter = letters
        .iter()
        .find(|d| d.kind == "too_large")
        .unwrap_or_else(|| panic!("no too_large letter"));
    assert!(
        huge_letter.original_truncated,
        "a 50 MB record keeps only the configured prefix"
    );
    assert!(huge_letter.original_len > 50 * 1024 * 1024);
    let invalid = letters
        .iter()
        .find(|d| d.kind == "invalid_json")
        .unwrap_or_else(|| panic!("no invalid_json letter"));
    assert_eq!(
        invalid.original().unwrap_or_default(),
        b"{\"eventName\": oops}\n"
    );
    assert_eq!(invalid.byte_offset as usize, good("j1").len() + 1);

    let summary = pyarrow_summary(&lake);
    // gz: what decompressed before the cut; j1, j2; u1; after-huge. The wrong-types record is refused.
    let rows = summary["rows"].as_u64().unwrap_or(0);
    assert!(
        (4..=6).contains(&rows),
        "good records around bad ones arrive: {summary}"
    );
    let prom = std::fs::read_to_string(&metrics).unwrap_or_default();
    for kind in [
        "bad_gzip",
        "invalid_json",
        "invalid_utf8",
        "bad_value",
        "too_deep",
        "empty",
        "too_large",
    ] {
        assert!(
            prom.contains(&format!("kind=\"{kind}\"")),
            "metric for {kind} missing:\n{prom}"
        );
    }
}

#[test]
fn a_50mb_line_within_the_limit_is_an_event() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = tmp.path().join("huge.ndjson");
    let huge = good("huge").replace(
        "\"eventID\"",
        &format!(
            "\"userAgent\":\"{}\",\"eventID\"",
            "y".repeat(50 * 1024 * 1024)
        ),
    );
    write(tmp.path(), "huge.ndjson", huge.as_bytes());
    let lake = tmp.path().join("lake");
    run_pipeline(&[&file], &lake, &[]);
    assert_eq!(pyarrow_summary(&lake)["rows"], 1);
    assert!(dead_letters(&lake).is_empty());
}
