//! Vigil's configuration: one TOML file plus environment overrides, validated before anything starts.
//!
//! Every field has a default, so no file is needed. An override is an environment variable named
//! `VIGIL__<SECTION>__<FIELD>` (double underscores), e.g. `VIGIL__LAKE__DIR=/data/lake` or
//! `VIGIL__INGEST__MAX_DOCUMENT_BYTES=1048576`; its value is read as TOML (a number, `true`, or text).
//! Unknown sections or fields, in the file or the environment, are errors.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use vigil_ingest::Limits;
use vigil_sink::LakeConfig;

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    /// Parsing limits: `max_input_bytes` (largest file or stdin read, default 4 GiB),
    /// `max_document_bytes` (largest single JSON document, default 512 MiB), `dead_letter_max_bytes`
    /// (bytes of a refused record kept in its dead letter, default 1 MiB), `parallel_piece_bytes` (a
    /// large NDJSON input is cut into pieces of at least this size, normalized on several threads,
    /// default 8 MiB).
    pub(crate) ingest: Limits,
    /// Where and how the Parquet lake is written.
    pub(crate) lake: LakeSection,
    /// The embedded pipeline (`vigil run`).
    pub(crate) run: RunSection,
    /// The detection engine, in `vigil run` and `vigil detect` alike (see `vigil_detect::engine`).
    pub(crate) detect: vigil_detect::engine::EngineConfig,
    /// Permission analytics (`vigil permissions`).
    pub(crate) permissions: PermissionsSection,
    /// The Kafka cluster and topics the services (`vigil ingest|detect|sink`) use.
    pub(crate) kafka: KafkaSection,
    /// The services' own settings: where they listen, where they keep state.
    pub(crate) services: ServicesSection,
    /// Signed webhook delivery of alerts and incidents (Standard Webhooks), in `vigil run` and
    /// `vigil sink`: `spool_dir`, `[[webhooks.endpoints]]` with `url`, `secrets`, `template`,
    /// `timeout_seconds`, `retry_for_seconds`, `allow_private_targets`, `kinds`. Absent: off.
    pub(crate) webhooks: Option<vigil_sink::webhook::WebhooksConfig>,
    /// SIEM forwarding of alerts and incidents, in `vigil run` and `vigil sink`: `[siem.hec]` (Splunk
    /// HEC) and `[siem.syslog]` (CEF over syslog, RFC 5424 over TCP or TLS). Absent: off.
    pub(crate) siem: Option<vigil_sink::siem::SiemConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct KafkaSection {
    /// Bootstrap brokers, `host:port[,host:port]`.
    pub(crate) brokers: String,
    /// Raw input topics, one per provider: any producer may write native records there.
    pub(crate) raw_aws_topic: String,
    pub(crate) raw_azure_topic: String,
    pub(crate) raw_gcp_topic: String,
    /// Normalized events, keyed by identity key.
    pub(crate) events_topic: String,
    /// Alerts raised by the detect service, keyed by identity key.
    pub(crate) alerts_topic: String,
    /// Incidents (alerts of one identity chaining ATT&CK tactics), keyed by identity key.
    pub(crate) incidents_topic: String,
    /// Records that could not be normalized, with reason, source and original bytes.
    pub(crate) deadletter_topic: String,
    /// Partitions of the topics Vigil creates when they are missing (existing topics are left alone).
    pub(crate) partitions: i32,
    /// Consumer groups of the three services.
    pub(crate) ingest_group: String,
    pub(crate) detect_group: String,
    pub(crate) sink_group: String,
}

impl Default for KafkaSection {
    fn default() -> Self {
        KafkaSection {
            brokers: "127.0.0.1:9092".into(),
            raw_aws_topic: "vigil.raw.aws".into(),
            raw_azure_topic: "vigil.raw.azure".into(),
            raw_gcp_topic: "vigil.raw.gcp".into(),
            events_topic: "vigil.events".into(),
            alerts_topic: "vigil.alerts".into(),
            incidents_topic: "vigil.incidents".into(),
            deadletter_topic: "vigil.deadletter".into(),
            partitions: 6,
            ingest_group: "vigil-ingest".into(),
            detect_group: "vigil-detect".into(),
            sink_group: "vigil-sink".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServicesSection {
    /// Where `vigil ingest` serves /metrics, /healthz, /readyz and the HTTP push endpoint.
    pub(crate) ingest_listen: String,
    /// Where `vigil detect` serves /metrics, /healthz and /readyz.
    pub(crate) detect_listen: String,
    /// Where `vigil sink` serves /metrics, /healthz and /readyz.
    pub(crate) sink_listen: String,
    /// Folder `vigil ingest` watches for new files (as S3/GCS syncs drop them); none by default.
    pub(crate) watch_dir: Option<PathBuf>,
    /// Seconds between scans of `watch_dir`.
    pub(crate) watch_interval_seconds: u64,
    /// Where `vigil ingest` remembers which watched files it has finished.
    pub(crate) ingest_state_dir: PathBuf,
    /// Where `vigil detect` keeps per-partition checkpoints (state with the offsets it reflects).
    pub(crate) checkpoint_dir: PathBuf,
    /// Seconds between detect checkpoints (also taken on rebalance and shutdown).
    pub(crate) checkpoint_interval_seconds: u64,
    /// `vigil sink` makes its buffered events durable (Parquet, fsync) and commits their offsets at
    /// least this often...
    pub(crate) sink_flush_seconds: u64,
    /// ...or when this many events are buffered.
    pub(crate) sink_flush_events: usize,
    /// After a Kafka failure a service cannot ride out (the broker refused a message for good, as
    /// during a broker restart), it drains, commits what is settled and starts itself again after
    /// a backoff (1 s doubling to 30 s). `false`: it exits non-zero, for an external supervisor.
    pub(crate) restart_on_failure: bool,
}

impl Default for ServicesSection {
    fn default() -> Self {
        ServicesSection {
            ingest_listen: "127.0.0.1:9800".into(),
            detect_listen: "127.0.0.1:9801".into(),
            sink_listen: "127.0.0.1:9802".into(),
            watch_dir: None,
            watch_interval_seconds: 2,
            ingest_state_dir: PathBuf::from("vigil-state/ingest"),
            checkpoint_dir: PathBuf::from("vigil-state/checkpoints"),
            checkpoint_interval_seconds: 10,
            sink_flush_seconds: 5,
            sink_flush_events: 50_000,
            restart_on_failure: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PermissionsSection {
    /// The permission catalog folder (with `aws/`, `azure/`, `gcp/`: the iam-catalog data pack, or a
    /// newer one of the same layout). No default: Vigil does not bundle the catalog.
    pub(crate) catalog_dir: Option<PathBuf>,
    /// Days of activity that count as "used".
    pub(crate) window_days: u32,
}

impl Default for PermissionsSection {
    fn default() -> Self {
        PermissionsSection {
            catalog_dir: None,
            window_days: 90,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LakeSection {
    /// Root folder of the lake: tables `events`, `alerts`, `incidents` and `deadletters` under
    /// `<dir>/table=<t>/provider=<p>/date=<YYYY-MM-DD>/hour=<HH>/`.
    pub(crate) dir: PathBuf,
    /// Rows buffered per partition before a Parquet file is written (files roll by size)...
    pub(crate) rows_per_file: usize,
    /// ...or once the partition's first buffered row has waited this many seconds (and by time).
    pub(crate) roll_seconds: u64,
    /// Rows per Parquet row group.
    pub(crate) row_group_rows: usize,
    /// zstd compression level, 1 to 22.
    pub(crate) zstd_level: i32,
}

impl Default for LakeSection {
    fn default() -> Self {
        let lake = LakeConfig::default();
        LakeSection {
            dir: PathBuf::from("vigil-lake"),
            rows_per_file: lake.rows_per_file,
            roll_seconds: lake.roll_seconds,
            row_group_rows: lake.row_group_rows,
            zstd_level: lake.zstd_level,
        }
    }
}

impl LakeSection {
    pub(crate) fn writer_config(&self) -> LakeConfig {
        LakeConfig {
            rows_per_file: self.rows_per_file,
            roll_seconds: self.roll_seconds,
            row_group_rows: self.row_group_rows,
            zstd_level: self.zstd_level,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RunSection {
    /// Normalizer threads; 0 means one per core.
    pub(crate) threads: usize,
    /// Dead-letter file (JSON lines); empty means `<lake dir>/deadletter/deadletters-<run id>.jsonl`.
    pub(crate) dead_letter_file: Option<PathBuf>,
    /// Prometheus text-format metrics written here when the run ends (node_exporter textfile style).
    pub(crate) metrics_file: Option<PathBuf>,
    /// Seconds the run waits at its end for webhook deliveries to finish; what is still undelivered
    /// stays in `webhooks.spool_dir` for the next `vigil run` or `vigil sink` over that spool.
    pub(crate) outputs_drain_seconds: u64,
}

impl Default for RunSection {
    fn default() -> Self {
        RunSection {
            threads: 0,
            dead_letter_file: None,
            metrics_file: None,
            outputs_drain_seconds: 30,
        }
    }
}

impl Config {
    /// Reads the file (if any), applies environment overrides and validates the result.
    pub(crate) fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut table = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| {
                    format!(
                        "cannot read config file {}; check the path given to --config",
                        p.display()
                    )
                })?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("config file {} is not valid TOML", p.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("VIGIL__") else {
                continue;
            };
            let Some((section, field)) = rest.split_once("__") else {
                bail!("environment override {name} must look like VIGIL__<SECTION>__<FIELD>");
            };
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|t| t.get("v").cloned())
                .unwrap_or(toml::Value::String(value));
            let entry = table
                .entry(section.to_ascii_lowercase())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(section_table) = entry.as_table_mut() else {
                bail!("environment override {name}: `{section}` is not a section");
            };
            section_table.insert(field.to_ascii_lowercase(), parsed);
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration (file or VIGIL__ environment overrides)")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(1..=22).contains(&self.lake.zstd_level) {
            bail!(
                "lake.zstd_level must be between 1 and 22, got {}",
                self.lake.zstd_level
            );
        }
        if self.lake.rows_per_file == 0 || self.lake.row_group_rows == 0 {
            bail!("lake.rows_per_file and lake.row_group_rows must be at least 1");
        }
        if self.ingest.max_document_bytes == 0 || self.ingest.max_input_bytes == 0 {
            bail!("ingest.max_document_bytes and ingest.max_input_bytes must be at least 1");
        }
        if self.lake.dir.as_os_str().is_empty() {
            bail!("lake.dir must not be empty");
        }
        if self.kafka.brokers.trim().is_empty() {
            bail!("kafka.brokers must name at least one broker (host:port)");
        }
        if self.kafka.partitions < 1 {
            bail!("kafka.partitions must be at least 1");
        }
        for (name, listen) in [
            ("services.ingest_listen", &self.services.ingest_listen),
            ("services.detect_listen", &self.services.detect_listen),
            ("services.sink_listen", &self.services.sink_listen),
        ] {
            if listen.parse::<std::net::SocketAddr>().is_err() {
                bail!("{name} must be an address like 127.0.0.1:9800, got `{listen}`");
            }
        }
        if self.services.sink_flush_events == 0 || self.services.sink_flush_seconds == 0 {
            bail!("services.sink_flush_events and services.sink_flush_seconds must be at least 1");
        }
        let problems = self.detect.problems();
        if !problems.is_empty() {
            bail!("{}", problems.join("; "));
        }
        if self.permissions.window_days == 0 {
            bail!("permissions.window_days must be at least 1");
        }
        if let Some(webhooks) = &self.webhooks {
            webhooks.validate()?;
        }
        if let Some(siem) = &self.siem {
            siem.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_no_file() -> anyhow::Result<()> {
        let c = Config::load(None, env(&[]))?;
        assert_eq!(c, Config::default());
        assert_eq!(c.lake.dir, PathBuf::from("vigil-lake"));
        Ok(())
    }

    #[test]
    fn file_then_environment() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vigil.toml");
        std::fs::write(
            &path,
            "[lake]\ndir = \"/from/file\"\nzstd_level = 5\n[ingest]\nmax_document_bytes = 100\n",
        )?;
        let c = Config::load(
            Some(&path),
            env(&[("VIGIL__LAKE__DIR", "/from/env"), ("OTHER", "x")]),
        )?;
        assert_eq!(c.lake.dir, PathBuf::from("/from/env"));
        assert_eq!(c.lake.zstd_level, 5);
        assert_eq!(c.ingest.max_document_bytes, 100);
        Ok(())
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vigil.toml");
        std::fs::write(&path, "[lake]\ndirr = \"typo\"\n")?;
        let err = Config::load(Some(&path), env(&[]))
            .err()
            .map(|e| format!("{e:#}"));
        assert!(err.is_some_and(|e| e.contains("dirr")));
        assert!(Config::load(None, env(&[("VIGIL__LAKE__ZSTD_LEVEL", "40")])).is_err());
        assert!(Config::load(None, env(&[("VIGIL__NOPE__X", "1")])).is_err());
        assert!(Config::load(None, env(&[("VIGIL__BROKEN", "1")])).is_err());
        Ok(())
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// The documented example configuration must stay loadable and equal to the defaults.
    #[test]
    fn example_config_is_the_defaults() -> anyhow::Result<()> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/vigil.example.toml");
        assert_eq!(Config::load(Some(&path), Vec::new())?, Config::default());
        Ok(())
    }

    /// The commented-out output sections of the example are valid as written: uncommented (one `# `
    /// removed from each line from `# [webhooks]` on), they load and name both outputs.
    #[test]
    fn example_output_sections_load_when_uncommented() -> anyhow::Result<()> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/vigil.example.toml");
        let text = std::fs::read_to_string(&path)?;
        let start = text
            .find("# [webhooks]")
            .ok_or_else(|| anyhow::anyhow!("no webhooks example"))?;
        let uncommented: String = text[start..]
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), format!("{}{uncommented}\n", &text[..start]))?;
        let config = Config::load(Some(file.path()), Vec::new())?;
        let webhooks = config
            .webhooks
            .ok_or_else(|| anyhow::anyhow!("no [webhooks]"))?;
        assert_eq!(webhooks.endpoints.len(), 1);
        assert_eq!(webhooks.endpoints[0].retry_for_seconds, 259_200);
        let siem = config.siem.ok_or_else(|| anyhow::anyhow!("no [siem]"))?;
        assert!(siem.hec.is_some() && siem.syslog.as_ref().is_some_and(|s| s.tls));
        Ok(())
    }
}
