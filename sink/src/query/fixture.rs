//! Writes Parquet files in the lake layout (`table=<t>/provider=<p>/date=<d>/hour=<h>/`), partition
//! columns left out of the files, for tests and benchmarks of the query side that must not depend
//! on the lake writer.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use chrono::{DateTime, TimeZone, Utc};
use vigil_schemas::arrow::events_to_batch;
use vigil_schemas::arrow_records::{alerts_to_batch, incidents_to_batch, provider_of_identity_key};
use vigil_schemas::{
    Action, ActionCategory, Alert, Event, EventClass, Identity, IdentityKind, Incident, Outcome,
    OutcomeStatus, Provider, RawRef, Resource, SourceEndpoint,
};

use crate::lake::{Partition, Table, write_atomically};
use crate::{LakeConfig, SinkError};

use super::PARTITION_COLUMNS;

/// Row group size of fixture files; small enough that statistics pruning shows on small lakes.
pub const ROW_GROUP_ROWS: usize = 8 * 1024;

/// The folder of one partition, as the lake writer names it.
pub fn partition_dir(
    root: &Path,
    table: Table,
    provider: &'static str,
    time: DateTime<Utc>,
) -> PathBuf {
    Partition::new(table, provider, time).dir(root)
}

/// Writes `batch` (its partition columns dropped) as `<dir>/<name>.parquet`, zstd, with page
/// statistics, atomically.
pub fn write_batch(dir: &Path, name: &str, batch: &RecordBatch) -> Result<PathBuf, SinkError> {
    write_batch_with(dir, name, batch, ROW_GROUP_ROWS)
}

/// [`write_batch`] with row groups of `row_group_rows` rows.
pub fn write_batch_with(
    dir: &Path,
    name: &str,
    batch: &RecordBatch,
    row_group_rows: usize,
) -> Result<PathBuf, SinkError> {
    fs::create_dir_all(dir).map_err(|e| SinkError::io(dir, e))?;
    let keep: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !PARTITION_COLUMNS.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let batch = batch.project(&keep)?;
    // The lake writer's own settings, so fixtures and the benchmark lake read like a real lake.
    let properties = LakeConfig {
        row_group_rows,
        ..LakeConfig::default()
    }
    .writer_properties()?;
    let path = dir.join(format!("{name}.parquet"));
    write_atomically(&path, &batch, properties)?;
    Ok(path)
}

/// Writes events, one file per provider, date and hour, sorted by identity then time.
pub fn write_events(root: &Path, name: &str, events: &[Event]) -> Result<usize, SinkError> {
    write_events_with(root, name, events, ROW_GROUP_ROWS)
}

/// [`write_events`] with row groups of `row_group_rows` rows.
pub fn write_events_with(
    root: &Path,
    name: &str,
    events: &[Event],
    row_group_rows: usize,
) -> Result<usize, SinkError> {
    let mut groups: BTreeMap<PathBuf, Vec<Event>> = BTreeMap::new();
    for e in events {
        let dir = partition_dir(root, Table::Events, e.provider.as_str(), e.event_time);
        groups.entry(dir).or_default().push(e.clone());
    }
    for (dir, mut group) in groups.iter_mut().map(|(d, g)| (d, std::mem::take(g))) {
        group.sort_by(|a, b| {
            (a.identity.key.as_str(), a.event_time).cmp(&(b.identity.key.as_str(), b.event_time))
        });
        write_batch_with(dir, name, &events_to_batch(&group)?, row_group_rows)?;
    }
    Ok(groups.len())
}

/// Writes alerts, partitioned by their identity's provider and their time.
pub fn write_alerts(root: &Path, name: &str, alerts: &[Alert]) -> Result<usize, SinkError> {
    let mut groups: BTreeMap<PathBuf, Vec<Alert>> = BTreeMap::new();
    for a in alerts {
        let provider = provider_of_identity_key(&a.identity_key).map_or("unknown", |p| p.as_str());
        groups
            .entry(partition_dir(root, Table::Alerts, provider, a.time))
            .or_default()
            .push(a.clone());
    }
    for (dir, group) in &groups {
        write_batch(dir, name, &alerts_to_batch(group)?)?;
    }
    Ok(groups.len())
}

/// Writes incidents, partitioned by their identity's provider and their last time.
pub fn write_incidents(
    root: &Path,
    name: &str,
    incidents: &[Incident],
) -> Result<usize, SinkError> {
    let mut groups: BTreeMap<PathBuf, Vec<Incident>> = BTreeMap::new();
    for i in incidents {
        let provider = provider_of_identity_key(&i.identity_key).map_or("unknown", |p| p.as_str());
        groups
            .entry(partition_dir(root, Table::Incidents, provider, i.last_time))
            .or_default()
            .push(i.clone());
    }
    for (dir, group) in &groups {
        write_batch(dir, name, &incidents_to_batch(group)?)?;
    }
    Ok(groups.len())
}

/// One event with the fields the query side looks at; the rest defaulted.
#[allow(clippy::too_many_arguments)]
pub fn event(
    id: &str,
    time: DateTime<Utc>,
    provider: Provider,
    key: &str,
    service: &str,
    permission: &str,
    category: ActionCategory,
    ip: Option<&str>,
    user_agent: Option<&str>,
    resources: &[&str],
    error_code: Option<&str>,
) -> Event {
    Event {
        event_id: id.to_string(),
        event_time: time,
        event_time_estimated: false,
        ingest_time: time,
        provider,
        class: EventClass::ApiActivity,
        account_id: Some("111122223333".into()),
        tenant_id: None,
        region: Some("us-east-1".into()),
        identity: Identity::new(key, IdentityKind::HumanUser),
        action: Action {
            service: service.to_string(),
            operation: permission
                .rsplit([':', '.', '/'])
                .next()
                .unwrap_or(permission)
                .to_string(),
            permission: permission.to_string(),
            category,
        },
        resources: resources
            .iter()
            .map(|r| Resource {
                id: (*r).to_string(),
                kind: Some("resource".into()),
                name: None,
            })
            .collect(),
        source: SourceEndpoint {
            ip: ip.and_then(|i| i.parse().ok()),
            raw: ip.map(str::to_string),
        },
        user_agent: user_agent.map(str::to_string),
        outcome: match error_code {
            None => Outcome::success(),
            Some(code) => Outcome {
                status: OutcomeStatus::Failure,
                error_code: Some(code.to_string()),
                error_message: None,
            },
        },
        raw_ref: RawRef {
            source: "fixture".into(),
            byte_offset: 0,
            record_index: 0,
            format: "fixture".into(),
        },
    }
}

/// The identity the sample lake tells a story about.
pub const BOB: &str = "arn:aws:iam::111122223333:user/bob";
/// An Azure and a GCP identity of the sample lake.
pub const CAROL: &str = "azure:00000000-0000-0000-0000-00000000ca01";
pub const ETL: &str = "gcp:etl-runner@acme-prod.iam.gserviceaccount.com";
/// A user agent an attacker chose, to check that reports escape it.
pub const HOSTILE_AGENT: &str = "python-requests/2.31 </script><script>alert(1)</script>";
/// A reason text an attacker influenced.
pub const HOSTILE_REASON: &str = "client <img src=x onerror=alert(2)> never seen | `x` **bold**";

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .single()
        .unwrap_or_default()
}

/// A small, fully known lake: ten days (2026-11-10 to 11-19) of office-hours routine for bob,
/// carol and the ETL job, then on 2026-11-20 at 03:12 bob creates an access key for alice from a
/// new network with a new client, and at 03:14 stops the trail (plus one denied attempt at 03:13).
/// Two alerts, one incident in two revisions. Returns the number of events written.
pub fn sample_lake(root: &Path) -> Result<usize, SinkError> {
    use ActionCategory::*;
    let mut events = Vec::new();
    for day in 10..=19 {
        for hour in 9..18 {
            events.push(event(
                &format!("bob-{day}-{hour}"),
                at(day, hour, 5),
                Provider::Aws,
                BOB,
                "s3.amazonaws.com",
                "s3:GetObject",
                Read,
                Some("198.51.100.10"),
                Some("aws-cli/2.15.0"),
                &["arn:aws:s3:::acme-reports"],
                None,
            ));
        }
        events.push(event(
            &format!("carol-{day}"),
            at(day, 10, 30),
            Provider::Azure,
            CAROL,
            "Microsoft.Compute",
            "Microsoft.Compute/virtualMachines/read",
            Read,
            Some("203.0.113.5"),
            Some("Mozilla/5.0"),
            &["/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"],
            None,
        ));
        events.push(event(
            &format!("etl-{day}"),
            at(day, 2, 0),
            Provider::Gcp,
            ETL,
            "bigquery.googleapis.com",
            "bigquery.jobs.create",
            Write,
            None,
            Some("google-cloud-sdk"),
            &["projects/acme-prod"],
            None,
        ));
    }
    let attacker = |id: &str, minute: u32, service: &str, perm: &str, cat, res: &[&str], err| {
        event(
            id,
            at(20, 3, minute),
            Provider::Aws,
            BOB,
            service,
            perm,
            cat,
            Some("192.0.2.77"),
            Some(HOSTILE_AGENT),
            res,
            err,
        )
    };
    events.push(attacker(
        "bob-key",
        12,
        "iam.amazonaws.com",
        "iam:CreateAccessKey",
        PermissionChange,
        &["arn:aws:iam::111122223333:user/alice"],
        None,
    ));
    events.push(attacker(
        "bob-denied",
        13,
        "cloudtrail.amazonaws.com",
        "cloudtrail:DeleteTrail",
        Delete,
        &["arn:aws:cloudtrail:us-east-1:111122223333:trail/main"],
        Some("AccessDenied"),
    ));
    events.push(attacker(
        "bob-stop",
        14,
        "cloudtrail.amazonaws.com",
        "cloudtrail:StopLogging",
        Write,
        &["arn:aws:cloudtrail:us-east-1:111122223333:trail/main"],
        None,
    ));
    write_events(root, "part-fixture-0", &events)?;

    let baseline: BTreeMap<String, f64> = [
        ("days_of_history".to_string(), 10.0),
        ("events_seen".to_string(), 90.0),
    ]
    .into();
    let alerts = vec![
        Alert {
            alert_id: "va-key".into(),
            identity_key: BOB.into(),
            time: at(20, 3, 12),
            severity: "high".into(),
            score: 75.0,
            tactic: Some("persistence".into()),
            technique: Some("T1098.001".into()),
            reasons: vec![
                "Access key created for another IAM user (iam:CreateAccessKey)".into(),
                "source network 192.0.2.0/24 never seen for this identity".into(),
            ],
            evidence_event_ids: vec!["bob-key".into()],
            reason_key: "aws.iam.access-key-for-other-user".into(),
            baseline: baseline.clone(),
        },
        Alert {
            alert_id: "va-stop".into(),
            identity_key: BOB.into(),
            time: at(20, 3, 14),
            severity: "high".into(),
            score: 80.0,
            tactic: Some("defense-evasion".into()),
            technique: Some("T1562.008".into()),
            reasons: vec![
                "CloudTrail logging stopped (cloudtrail:StopLogging)".into(),
                HOSTILE_REASON.into(),
            ],
            evidence_event_ids: vec!["bob-stop".into(), "bob-not-in-lake".into()],
            reason_key: "aws.cloudtrail.stop-logging".into(),
            baseline,
        },
    ];
    write_alerts(root, "part-fixture-0", &alerts)?;
    let incident = |revision: u32, ids: &[&str], last: u32| Incident {
        incident_id: "vi-bob".into(),
        revision,
        identity_key: BOB.into(),
        first_time: at(20, 3, 12),
        last_time: at(20, 3, last),
        severity: "critical".into(),
        score: 80.0,
        tactics: vec!["persistence".into(), "defense-evasion".into()][..ids.len()].to_vec(),
        techniques: vec![],
        alert_ids: ids.iter().map(|s| (*s).to_string()).collect(),
        summary: format!("revision {revision}"),
    };
    write_incidents(root, "part-fixture-0", &[incident(1, &["va-key"], 12)])?;
    write_incidents(
        root,
        "part-fixture-1",
        &[incident(2, &["va-key", "va-stop"], 14)],
    )?;
    Ok(events.len())
}
