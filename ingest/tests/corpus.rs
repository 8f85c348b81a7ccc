//! Conformance over the real public samples in `../shared/corpus`: every log record normalizes or
//! becomes a dead letter whose reason is listed here as expected; at least 99% normalize; and where
//! Elastic's pipeline tests state their normalized output, identity, action, source IP and outcome agree
//! with ours or the disagreement is listed with its reason.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vigil_ingest::{Limits, Normalized, normalize_bytes};
use vigil_schemas::{Event, OutcomeStatus};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// Dead letters the corpus is expected to produce: (file suffix, dead-letter kind, why it is right).
const EXPECTED_EXCEPTIONS: &[(&str, &str, &str)] = &[
    // Documents that are not activity records at all (they do not count against the 99%).
    (
        "awsdocs-cloudtrail-user-guide/cloudtrail-event-reference.example01.json",
        "not_an_event",
        "CloudTrail Insights event",
    ),
    (
        "awsdocs-cloudtrail-user-guide/cloudtrail-log-file-examples.example08.json",
        "not_an_event",
        "CloudTrail Insights start/end pair",
    ),
    (
        "awsdocs-cloudtrail-user-guide/view-insights-events-cli.example01.json",
        "not_an_event",
        "Insights events from lookup-events",
    ),
    (
        "awsdocs-cloudtrail-user-guide-lake/query-lake-examples.example01.json",
        "not_an_event",
        "Lake query projecting principalid and eventName only: no time",
    ),
    (
        "awsdocs-cloudtrail-user-guide-lake/query-lake-examples.example03.json",
        "not_an_event",
        "Lake aggregate rows (eventSource, eventName, apiCount)",
    ),
    (
        "awsdocs-cloudtrail-user-guide-lake/query-lake-examples.example04.json",
        "not_an_event",
        "Lake query projecting eventTime, arn, awsRegion: no operation",
    ),
    (
        "awsdocs-cloudtrail-user-guide-lake/query-lake-examples.example05.json",
        "not_an_event",
        "Lake aggregate row (_col0, _col1)",
    ),
    (
        "elastic-integrations-cloudtrail/test-cloudtrail-digest-json.log",
        "not_an_event",
        "CloudTrail digest file: integrity metadata",
    ),
    (
        "awsdocs-cloudtrail-user-guide/cloudtrail-event-reference-user-identity.example01.json",
        "not_an_event",
        "documentation fragment: a userIdentity element alone, no operation",
    ),
    (
        "awsdocs-iam-user-guide/id_credentials_temp_control-access_monitor.example01.json",
        "not_an_event",
        "documentation fragment: a userIdentity element alone, no operation",
    ),
    (
        "grafana-agent-gcplog-push/gcplog_test.go.testPushPayload.json",
        "not_an_event",
        "Pub/Sub push of a LogEntry stripped of its payload",
    ),
    (
        "plaso-test-data/gcp_logging.jsonl",
        "not_an_event",
        "application logs (jsonPayload, textPayload), not audit logs",
    ),
    // Activity records too damaged to normalize (these count against the 99%).
    (
        "panther-analysis-cloudtrail/aws_root_activity.tests.ndjson",
        "bad_value",
        "eventTime is the word `redacted`",
    ),
    (
        "panther-analysis-cloudtrail/signin_with_aws_cli_prompt.tests.ndjson",
        "bad_value",
        "eventTime is `...`",
    ),
    (
        "panther-analysis-cloudtrail/greynoise_malicious_ip.tests.ndjson",
        "unrecognized",
        "rule test record `{}`",
    ),
    (
        "panther-analysis-cloudtrail/impossible_travel_login.tests.ndjson",
        "unrecognized",
        "rule test record with only eventType",
    ),
    (
        "panther-analysis-gcp-audit/gcp_computeinstances_create_privilege_escalation.tests.ndjson",
        "bad_value",
        "timestamp is `...`",
    ),
    (
        "panther-analysis-gcp-audit/gcp_firewall_rule_created.tests.ndjson",
        "unrecognized",
        "rule test records with only methodName",
    ),
    (
        "panther-analysis-gcp-audit/gcp_firewall_rule_deleted.tests.ndjson",
        "unrecognized",
        "rule test record with only methodName",
    ),
    (
        "panther-analysis-gcp-audit/gcp_k8s_ioc_activity.tests.ndjson",
        "unrecognized",
        "rule test records with only `operation`",
    ),
];

#[derive(Default)]
struct Tally {
    events: usize,
    dead: usize,
    not_events: usize,
    by_provider_dir: BTreeMap<String, (usize, usize)>,
}

fn corpus_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&corpus_root(), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.ends_with(".md") && !name.ends_with("-expected.json")
        })
        .collect()
}

fn normalize_file(path: &Path) -> Normalized {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    normalize_bytes(
        &path.display().to_string(),
        &bytes,
        chrono::Utc::now(),
        &Limits::default(),
    )
}

#[test]
fn every_corpus_record_normalizes_or_is_an_expected_dead_letter() {
    let files = corpus_files();
    assert!(
        files.len() > 400,
        "corpus not found at {} ({} files)",
        corpus_root().display(),
        files.len()
    );
    let mut tally = Tally::default();
    let mut unexpected = Vec::new();
    let mut seen_exceptions = vec![false; EXPECTED_EXCEPTIONS.len()];
    for path in &files {
        let out = normalize_file(path);
        let rel = path
            .strip_prefix(corpus_root())
            .unwrap_or(path)
            .display()
            .to_string();
        let dir = rel
            .rsplit_once('/')
            .map_or(rel.clone(), |(d, _)| d.to_string());
        let entry = tally.by_provider_dir.entry(dir).or_default();
        entry.0 += out.events.len();
        entry.1 += out.dead_letters.len();
        tally.events += out.events.len();
        tally.dead += out.dead_letters.len();
        for dl in &out.dead_letters {
            tally.not_events += usize::from(dl.kind == "not_an_event");
            let known = EXPECTED_EXCEPTIONS
                .iter()
                .position(|(file, kind, _)| rel.ends_with(file) && dl.kind == *kind);
            match known {
                Some(i) => seen_exceptions[i] = true,
                None => unexpected.push(format!(
                    "{rel} @{} [{}] {}",
                    dl.byte_offset, dl.kind, dl.reason
                )),
            }
        }
        for e in &out.events {
            assert!(!e.identity.key.is_empty(), "{rel}: empty identity key");
            assert!(!e.action.operation.is_empty(), "{rel}: empty operation");
            assert!(!e.event_id.is_empty(), "{rel}: empty event id");
        }
    }
    for (dir, (events, dead)) in &tally.by_provider_dir {
        eprintln!("{dir:60} events {events:4} dead letters {dead:3}");
    }
    // Documents that are not activity records (digests, Insights, aggregates, application logs) are
    // dead-lettered correctly but are not log records of activity, so they do not count.
    let activity_records = tally.events + tally.dead - tally.not_events;
    let ratio = tally.events as f64 / activity_records as f64;
    eprintln!(
        "corpus: {} events, {} dead letters ({} not activity records), {:.2}% of activity records normalized",
        tally.events,
        tally.dead,
        tally.not_events,
        ratio * 100.0
    );
    assert!(
        unexpected.is_empty(),
        "unexpected dead letters:\n{}",
        unexpected.join("\n")
    );
    let unused: Vec<_> = EXPECTED_EXCEPTIONS
        .iter()
        .zip(&seen_exceptions)
        .filter(|(_, seen)| !**seen)
        .map(|(e, _)| e.0)
        .collect();
    assert!(
        unused.is_empty(),
        "expected exceptions that no longer occur (remove them): {unused:?}"
    );
    assert!(
        ratio >= 0.99,
        "only {:.2}% of corpus records normalized",
        ratio * 100.0
    );
    assert!(
        tally.events >= 900,
        "suspiciously few events: {}",
        tally.events
    );
}

/// Elastic's expected output disagreeing with ours on purpose: (file, record index, field, why).
const REASONED_DISAGREEMENTS: &[(&str, usize, &str, &str)] = &[];

fn ecs<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    // ECS documents mix dotted keys and nesting.
    if let Some(v) = doc.get(path) {
        return Some(v);
    }
    let mut cur = doc;
    let mut rest = path;
    loop {
        if let Some(v) = cur.get(rest) {
            return Some(v);
        }
        let (head, tail) = rest.split_once('.')?;
        cur = cur.get(head)?;
        rest = tail;
    }
}

fn ecs_str(doc: &Value, path: &str) -> Option<String> {
    ecs(doc, path).and_then(|v| v.as_str().map(str::to_string))
}

fn identity_candidates(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for path in [
        "user.name",
        "user.id",
        "user.email",
        "client.user.id",
        "client.user.email",
        "aws.cloudtrail.user_identity.arn",
        "gcp.audit.authentication_info.principal_email",
        "azure.activitylogs.identity.claims_initiated_by_user.name",
    ] {
        if let Some(v) = ecs_str(doc, path) {
            out.push(v.to_lowercase());
        }
    }
    if let Some(Value::Array(users)) = ecs(doc, "related.user") {
        out.extend(
            users
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase),
        );
    }
    out
}

fn identity_agrees(e: &Event, candidates: &[String]) -> bool {
    let ours: Vec<String> = [
        Some(e.identity.key.clone()),
        e.identity.display_name.clone(),
        e.identity.session_name.clone(),
        e.identity.credential_id.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|s| s.to_lowercase())
    .collect();
    candidates.iter().any(|c| {
        ours.iter()
            .any(|o| o == c || o.ends_with(&format!(":{c}")) || o.contains(c.as_str()))
    })
}

#[test]
fn agrees_with_elastic_expected_output() {
    let mut expected_files: Vec<PathBuf> = Vec::new();
    for dir in [
        "aws/elastic-integrations-cloudtrail",
        "azure/elastic-integrations-activitylogs",
        "gcp/elastic-integrations-gcp-audit",
    ] {
        let Ok(entries) = fs::read_dir(corpus_root().join(dir)) else {
            continue;
        };
        expected_files.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with("-expected.json")),
        );
    }
    expected_files.sort();
    assert!(
        expected_files.len() >= 8,
        "expected files missing: {expected_files:?}"
    );

    let mut disagreements = Vec::new();
    let mut checked = 0;
    for expected_path in &expected_files {
        let log = PathBuf::from(
            expected_path
                .to_string_lossy()
                .trim_end_matches("-expected.json")
                .to_string(),
        );
        let rel = log
            .strip_prefix(corpus_root())
            .unwrap_or(&log)
            .display()
            .to_string();
        let text = fs::read_to_string(expected_path).unwrap_or_default();
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let docs = doc
            .get("expected")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let out = normalize_file(&log);
        assert_eq!(
            out.events.len(),
            docs.len(),
            "{rel}: event count differs from Elastic's"
        );
        for (i, (ours, theirs)) in out.events.iter().zip(&docs).enumerate() {
            let mut disagree = |field: &str, detail: String| {
                let reasoned = REASONED_DISAGREEMENTS
                    .iter()
                    .any(|(f, idx, fld, _)| rel.ends_with(f) && *idx == i && *fld == field);
                if !reasoned {
                    disagreements.push(format!("{rel}[{i}] {field}: {detail}"));
                }
            };
            if let Some(action) = ecs_str(theirs, "event.action") {
                let op = &ours.action.operation;
                let agrees = op.eq_ignore_ascii_case(&action)
                    || op
                        .to_lowercase()
                        .ends_with(&format!(".{}", action.to_lowercase()));
                if !agrees {
                    disagree("action", format!("ours {op}, Elastic {action}"));
                }
            }
            if let Some(ip) = ecs_str(theirs, "source.ip") {
                let our_ip = ours.source.ip.map(|i| i.to_string());
                if our_ip.as_deref() != Some(ip.as_str()) {
                    disagree("source_ip", format!("ours {our_ip:?}, Elastic {ip}"));
                }
            }
            if let Some(outcome) = ecs_str(theirs, "event.outcome") {
                let our = match ours.outcome.status {
                    OutcomeStatus::Success => "success",
                    OutcomeStatus::Failure => "failure",
                    OutcomeStatus::Unknown => "unknown",
                };
                if our != outcome {
                    disagree("outcome", format!("ours {our}, Elastic {outcome}"));
                }
            }
            let candidates = identity_candidates(theirs);
            if !candidates.is_empty() && !identity_agrees(ours, &candidates) {
                disagree(
                    "identity",
                    format!("ours {:?}, Elastic {candidates:?}", ours.identity),
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 14, "only {checked} expected records compared");
    assert!(
        disagreements.is_empty(),
        "disagreements with Elastic:\n{}",
        disagreements.join("\n")
    );
}
