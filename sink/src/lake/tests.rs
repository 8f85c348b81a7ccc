use std::fs;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use vigil_schemas::arrow::batch_to_events_of;
use vigil_schemas::*;

use super::*;

fn event(id: &str, provider: Provider, day: u32, key: &str) -> Event {
    let time = Utc
        .with_ymd_and_hms(2024, 3, day, 12, 0, 0)
        .single()
        .unwrap_or_default();
    Event {
        event_id: id.into(),
        event_time: time,
        event_time_estimated: false,
        ingest_time: time,
        provider,
        class: EventClass::ApiActivity,
        account_id: Some("1".into()),
        tenant_id: None,
        region: None,
        identity: Identity::new(key, IdentityKind::HumanUser),
        action: Action {
            service: "s".into(),
            operation: "o".into(),
            permission: "s:o".into(),
            category: ActionCategory::Read,
        },
        resources: vec![],
        source: SourceEndpoint::default(),
        user_agent: None,
        outcome: Outcome::success(),
        raw_ref: RawRef {
            source: "f".into(),
            byte_offset: 0,
            record_index: 0,
            format: "cloudtrail".into(),
        },
    }
}

fn alert(id: &str, key: &str) -> Alert {
    Alert {
        alert_id: id.into(),
        identity_key: key.into(),
        time: Utc
            .with_ymd_and_hms(2024, 3, 1, 7, 30, 0)
            .single()
            .unwrap_or_default(),
        severity: "high".into(),
        score: 96.0,
        tactic: Some("Defense Evasion".into()),
        technique: Some("T1562.008".into()),
        reasons: vec!["stopped logging".into()],
        evidence_event_ids: vec!["a".into()],
        reason_key: "aws.cloudtrail.stop-logging".into(),
        baseline: Default::default(),
    }
}

#[test]
fn partitions_sorts_and_reads_back() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config = LakeConfig {
        rows_per_file: 2,
        ..LakeConfig::default()
    };
    let mut lake = LakeWriter::new(dir.path(), "r1", config)?;
    lake.write(vec![
        event("a", Provider::Aws, 1, "z"),
        event("b", Provider::Aws, 1, "a"),
        event("c", Provider::Gcp, 2, "g"),
        event("d", Provider::Aws, 1, "m"),
    ])?;
    let files = lake.finish()?;
    assert_eq!(files.len(), 3, "two full files by size, one at finish");
    assert_eq!(files.iter().map(|f| f.rows).sum::<usize>(), 4);
    let first = &files[0];
    assert!(
        first
            .path
            .ends_with("table=events/provider=aws/date=2024-03-01/hour=12/part-r1-00001.parquet"),
        "{}",
        first.path.display()
    );
    let builder = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&first.path)?)?;
    let metadata = builder.metadata().clone();
    let columns = metadata.file_metadata().schema_descr().columns().to_vec();
    assert!(
        columns.iter().all(|c| c.name() != "provider"),
        "the provider is in the path, not in the file"
    );
    let key_column = columns
        .iter()
        .position(|c| c.name() == "identity_key")
        .ok_or("no identity_key column")?;
    let chunk = metadata.row_group(0).column(key_column);
    assert!(matches!(
        chunk.compression(),
        parquet::basic::Compression::ZSTD(_)
    ));
    let stats = chunk.statistics().ok_or("identity_key has no statistics")?;
    assert_eq!(
        stats.min_bytes_opt(),
        Some(&b"a"[..]),
        "statistics let readers prune by identity"
    );
    assert_eq!(stats.max_bytes_opt(), Some(&b"z"[..]));
    let reader = builder.build()?;
    let mut back = Vec::new();
    for batch in reader {
        back.extend(batch_to_events_of(&batch?, Some(Provider::Aws))?);
    }
    let keys: Vec<&str> = back.iter().map(|e| e.identity.key.as_str()).collect();
    assert_eq!(keys, vec!["a", "z"], "sorted by identity key");
    assert!(back.iter().all(|e| e.provider == Provider::Aws));
    assert_eq!(back[0], event("b", Provider::Aws, 1, "a"), "round trip");
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".tmp"))
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files remain: {leftovers:?}"
    );
    Ok(())
}

#[test]
fn alerts_incidents_and_dead_letters_get_their_own_tables() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let mut lake = LakeWriter::new(dir.path(), "r2", LakeConfig::default())?;
    let a = alert("va-1", "arn:aws:iam::1:user/alice");
    lake.write_alerts(&[a.clone(), alert("va-2", "gcp:bob@example.com")])?;
    lake.write_incidents(&[Incident {
        incident_id: "vi-1".into(),
        revision: 1,
        identity_key: a.identity_key.clone(),
        first_time: a.time,
        last_time: a.time,
        severity: "critical".into(),
        score: 96.0,
        tactics: vec!["Defense Evasion".into(), "Impact".into()],
        techniques: vec![],
        alert_ids: vec!["va-1".into()],
        summary: "stopped logging, then deleted buckets".into(),
    }])?;
    let letter = DeadLetter::new("invalid_json", "not JSON", "in.json", 3, b"{x", 1024);
    let now = Utc
        .with_ymd_and_hms(2024, 3, 2, 23, 59, 0)
        .single()
        .unwrap_or_default();
    lake.write_dead_letters(&[letter], now)?;
    assert_eq!(lake.buffered_rows(), 4);
    let files = lake.finish()?;
    let mut relative: Vec<String> = files
        .iter()
        .map(|f| {
            f.path
                .parent()
                .and_then(|p| p.strip_prefix(dir.path()).ok())
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        })
        .collect();
    relative.sort();
    assert_eq!(
        relative,
        vec![
            "table=alerts/provider=aws/date=2024-03-01/hour=07",
            "table=alerts/provider=gcp/date=2024-03-01/hour=07",
            "table=deadletters/provider=unknown/date=2024-03-02/hour=23",
            "table=incidents/provider=aws/date=2024-03-01/hour=07",
        ]
    );
    assert!(files.iter().all(|f| f.rows == 1 && f.bytes > 0));
    Ok(())
}

#[test]
fn a_partition_that_waited_roll_seconds_is_written_without_finish()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config = LakeConfig {
        roll_seconds: 0,
        ..LakeConfig::default()
    };
    let mut lake = LakeWriter::new(dir.path(), "r3", config)?;
    lake.write(vec![event("a", Provider::Azure, 5, "k")])?;
    assert_eq!(lake.buffered_rows(), 0, "rolled by time at once");
    let visible = walk(&Table::Events.dir(dir.path()));
    assert_eq!(visible.len(), 1, "{visible:?}");

    let waiting = LakeConfig::default();
    let mut lake = LakeWriter::new(dir.path(), "r4", waiting)?;
    lake.write(vec![event("b", Provider::Azure, 5, "k")])?;
    lake.roll()?;
    assert_eq!(lake.buffered_rows(), 1, "five minutes have not passed");
    Ok(())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                out.extend(walk(&p))
            } else {
                out.push(p)
            }
        }
    }
    out
}
