//! Writes simulated records where a real estate's log pipelines would have put them: CloudTrail S3
//! delivery files, Azure diagnostic-settings blobs and REST exports, GCP log-sink files and Pub/Sub
//! push bodies. One file per channel and hour, written to a temporary name and renamed, so a folder
//! watcher never sees half a file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Datelike, Timelike, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use vigil_ingest::simulate::{Channel, SimRecord};

/// Counts of what was written.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub files: u64,
    pub bytes: u64,
}

/// Writes one hour of records (all from the hour starting at `hour`) under `root`.
pub(crate) fn write_hour(
    root: &Path,
    hour: DateTime<Utc>,
    records: &[SimRecord],
    written: &mut Written,
) -> anyhow::Result<()> {
    let mut by_channel: BTreeMap<&Channel, Vec<&SimRecord>> = BTreeMap::new();
    for r in records {
        by_channel.entry(&r.channel).or_default().push(r);
    }
    for (channel, records) in by_channel {
        let (path, bytes) = render_file(root, hour, channel, &records)?;
        write_atomically(&path, &bytes)?;
        written.files += 1;
        written.bytes += bytes.len() as u64;
    }
    Ok(())
}

fn json_lines(records: &[&SimRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.iter().map(|r| r.body.len() + 1).sum());
    for r in records {
        out.extend_from_slice(r.body.as_bytes());
        out.push(b'\n');
    }
    out
}

fn listed(key: &str, records: &[&SimRecord]) -> Vec<u8> {
    let mut out = format!("{{\"{key}\":[").into_bytes();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.body.as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// A stable 16-character name part, as CloudTrail's unique file suffix.
fn unique(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    digest
        .iter()
        .take(16)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn render_file(
    root: &Path,
    hour: DateTime<Utc>,
    channel: &Channel,
    records: &[&SimRecord],
) -> anyhow::Result<(PathBuf, Vec<u8>)> {
    let (y, m, d, h) = (hour.year(), hour.month(), hour.day(), hour.hour());
    let blob = format!("y={y}/m={m:02}/d={d:02}/h={h:02}/m=00/PT1H.json");
    Ok(match channel {
        Channel::CloudTrail { account, region } => {
            let stamp = hour.format("%Y%m%dT%H%MZ");
            let name = format!("{account}_CloudTrail_{region}_{stamp}_{}.json.gz", unique(&[account, region, &stamp.to_string()]));
            let path = root.join(format!("aws/AWSLogs/{account}/CloudTrail/{region}/{y}/{m:02}/{d:02}")).join(name);
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            gz.write_all(&listed("Records", records))?;
            (path, gz.finish()?)
        }
        Channel::AzureActivityExport { subscription } => (
            root.join(format!("azure/insights-activity-logs/resourceId=/SUBSCRIPTIONS/{}", subscription.to_ascii_uppercase())).join(blob),
            json_lines(records),
        ),
        Channel::AzureActivityRest { subscription } => (
            root.join(format!("azure/activity-log-rest/{subscription}/{y}-{m:02}-{d:02}T{h:02}.json")),
            listed("value", records),
        ),
        Channel::EntraSignIn { tenant } => (
            root.join(format!("azure/insights-logs-signinlogs/tenantId={tenant}")).join(blob),
            json_lines(records),
        ),
        Channel::EntraAudit { tenant } => (
            root.join(format!("azure/insights-logs-auditlogs/tenantId={tenant}")).join(blob),
            json_lines(records),
        ),
        Channel::KeyVault { subscription, vault } => (
            root.join(format!(
                "azure/insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/{}/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{}",
                subscription.to_ascii_uppercase(),
                vault.to_ascii_uppercase()
            ))
            .join(blob),
            json_lines(records),
        ),
        Channel::GcpAudit { project, log } => (
            root.join(format!("gcp/{project}/{}/{y}/{m:02}/{d:02}/{h:02}:00:00_{h:02}:59:59_S0.json", log.log_id())),
            json_lines(records),
        ),
        Channel::GcpPubSubPush { project } => (
            root.join(format!("gcp/pubsub-push/{project}/{y}-{m:02}-{d:02}/{h:02}.ndjson")),
            json_lines(records),
        ),
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("output path has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
