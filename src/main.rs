//! The `vigil` binary: one binary, many roles.

mod config;
mod detection;
mod eval;
mod metrics;
mod outputs;
mod permissions;
mod permissions_catalog;
mod query;
mod report;
mod run;
mod services;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;

/// Vigil watches every cloud identity: it reads AWS CloudTrail, Azure Activity Log / Entra ID and GCP
/// Cloud Audit Logs in their native formats, normalizes them into one event shape, and writes them to
/// a Parquet lake.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML). Every field has a default; `VIGIL__<SECTION>__<FIELD>` environment
    /// variables override the file.
    #[arg(long, global = true, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,

    /// Log filter, e.g. `info` or `vigil=debug` (RUST_LOG syntax).
    #[arg(long, global = true, env = "VIGIL_LOG", default_value = "warn")]
    log: String,

    /// Write logs as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole pipeline in this process, no broker needed: read files, folders and stdin,
    /// normalize them on all cores, and write a Parquet lake plus a dead-letter file.
    ///
    /// Wire formats are detected per document: CloudTrail S3 files, bare events, EventBridge envelopes,
    /// NDJSON, lookup-events output and CloudTrail Lake rows; Azure REST and diagnostic-settings exports
    /// and Entra ID sign-in/audit records; GCP LogEntry (NDJSON or not) and Pub/Sub push envelopes.
    /// Gzip is detected by its magic bytes.
    ///
    /// Examples:
    ///   vigil run --input deploy/sample --lake /tmp/lake
    ///   zcat trail.json.gz | vigil run --input - --lake /tmp/lake
    #[command(verbatim_doc_comment)]
    Run {
        /// Files, folders (read recursively) or `-` for stdin. Repeat or list several.
        #[arg(long, short, required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        /// Lake folder (overrides `lake.dir`; default `vigil-lake`).
        #[arg(long)]
        lake: Option<PathBuf>,
        /// Dead-letter file (overrides `run.dead_letter_file`).
        #[arg(long)]
        dead_letters: Option<PathBuf>,
        /// Normalizer threads, 0 for one per core (overrides `run.threads`).
        #[arg(long)]
        threads: Option<usize>,
        /// Write Prometheus metrics here at the end (overrides `run.metrics_file`).
        #[arg(long)]
        metrics_file: Option<PathBuf>,
        /// Never show the progress bar, even on a terminal.
        #[arg(long)]
        no_progress: bool,
    },

    /// Write the activity of a simulated multi-cloud estate, with labelled attacks, in the providers'
    /// native wire formats.
    ///
    /// Identities of several archetypes (SSO engineers, admins, on-call, CI/CD roles, service accounts
    /// and principals, functions, data jobs, a break-glass root) act across AWS, Azure and GCP with
    /// their own rhythm and vocabulary; attack scenarios from the Stratus Red Team catalog are injected
    /// on chosen identities and written to a labels file for `vigil eval`. Same seed, same bytes.
    ///
    /// Examples:
    ///   vigil simulate --out /tmp/estate --identities 200 --days 7
    ///   vigil simulate --emit - --rate 50 --identities 20 --days 1
    #[command(verbatim_doc_comment)]
    Simulate(simulate::SimulateArgs),

    /// Score alerts against the labels of a simulation: recall per scenario and technique, precision,
    /// false alerts per 1,000 identity-days, and time to detect.
    ///
    /// Example:
    ///   vigil eval --labels /tmp/estate/labels.json --alerts /tmp/lake/alerts.jsonl
    #[command(verbatim_doc_comment)]
    Eval(eval::EvalArgs),

    /// The ingest stage as a Kafka service: reads raw topics (one per provider), a watched folder and
    /// an HTTP push endpoint, normalizes, and produces events keyed by identity to the events topic and
    /// dead letters to the dead-letter topic.
    Ingest(services::ingest::IngestArgs),

    /// The detect stage as a Kafka service: consumes the events topic, keeps per-partition state with
    /// checkpoints, and produces alerts.
    Detect(services::detect::DetectArgs),

    /// The sink stage as a Kafka service: consumes events, alerts and dead letters and writes the
    /// Parquet lake, deduplicated by event id.
    Sink(services::sink::SinkArgs),

    /// Permission analytics: what each identity is granted against what it used (from the lake),
    /// findings, escalation paths, Permission Creep Index, and right-sized policies.
    Permissions(permissions::PermissionsArgs),

    /// Run SQL over the lake with DataFusion. Tables: `events`, `alerts`, `incidents`, `deadletters`,
    /// each with the partition columns `provider`, `date` (YYYY-MM-DD) and `hour` (HH) taken from the
    /// folder names: filter on them and other folders are never opened. Filters on other columns
    /// are pushed into the Parquet scan (row groups and pages skipped by their statistics).
    ///
    /// Examples:
    ///   vigil query --lake /tmp/vigil-lake "SELECT provider, count(*) FROM events GROUP BY provider"
    ///   vigil query "SELECT event_time, action_permission, src_ip FROM events
    ///     WHERE identity_key = 'arn:aws:iam::111122223333:user/bob' AND date >= '2026-11-19'
    ///     ORDER BY event_time" --format csv
    ///   vigil query "SELECT alert_id, time, severity, reason_key FROM alerts ORDER BY time DESC
    ///     LIMIT 20" --format json
    ///   vigil query "SELECT count(*) FROM (SELECT unnest(evidence_event_ids) FROM alerts)"
    ///   vigil query "SHOW COLUMNS FROM events"
    #[command(verbatim_doc_comment)]
    Query(query::QueryArgs),

    /// Forensic reports from the lake, as Markdown, JSON or a self-contained HTML page with charts:
    /// `identity` (what one identity did over a window) and `alert` (one alert and its evidence).
    Report(report::ReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log, cli.log_json);
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let e = match e.downcast_ref::<services::restart::Restart>() {
                Some(restart) => services::restart::exec_again(restart),
                None => e,
            };
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command {
        Command::Run {
            input,
            lake,
            dead_letters,
            threads,
            metrics_file,
            no_progress,
        } => {
            if let Some(dir) = lake {
                config.lake.dir = dir;
            }
            if dead_letters.is_some() {
                config.run.dead_letter_file = dead_letters;
            }
            if let Some(n) = threads {
                config.run.threads = n;
            }
            if metrics_file.is_some() {
                config.run.metrics_file = metrics_file;
            }
            let inputs = vigil_ingest::source::expand(&input).context("cannot list the inputs")?;
            let summary = run::run(&config, inputs, !no_progress)?;
            print!("{}", run::render_summary(&summary));
            Ok(())
        }
        Command::Simulate(args) => simulate::execute(args),
        Command::Eval(args) => eval::execute(args),
        Command::Permissions(args) => permissions::execute(args, &config),
        Command::Query(args) => query::execute(args, &config),
        Command::Report(args) => report::execute(args, &config),
        Command::Ingest(args) => services::ingest::execute(args, &config),
        Command::Detect(args) => services::detect::execute(args, &config),
        Command::Sink(args) => services::sink::execute(args, &config),
    }
}

fn init_tracing(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
