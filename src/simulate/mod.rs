//! `vigil simulate`: writes a simulated estate's activity to files, or emits it in event-time order to
//! stdout, an HTTP endpoint or a Kafka topic.

mod emit;
mod files;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_ingest::simulate::{Simulation, SimulationConfig, techniques};

/// Arguments of `vigil simulate`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimulateArgs {
    /// Write files in the providers' delivery layouts under `DIR/logs`, and the labels to
    /// `DIR/labels.json`.
    #[arg(long, conflicts_with = "emit", required_unless_present_any = ["emit", "list_techniques"])]
    out: Option<PathBuf>,
    /// Emit records in event-time order instead of writing files: `-` for stdout (NDJSON),
    /// `http://host:port/path` to POST batches, `kafka://host:port/topic` to produce (`{provider}` in
    /// the topic becomes aws, azure or gcp).
    #[arg(long)]
    emit: Option<String>,
    /// Events per second when emitting (wall clock); without it, as fast as the target takes them.
    #[arg(long, requires = "emit", value_parser = emit::parse_rate)]
    rate: Option<f64>,
    /// Records per HTTP POST when emitting to HTTP.
    #[arg(long, default_value_t = 500, requires = "emit")]
    batch: usize,
    /// Identities in the estate, across AWS (45%), Azure (30%) and GCP (25%).
    #[arg(long, default_value_t = 200)]
    identities: usize,
    /// Days of activity.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// First day (UTC), `YYYY-MM-DD` or RFC 3339.
    #[arg(long, default_value = "2026-03-02")]
    start: String,
    /// Random seed: the same seed and parameters give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Attack techniques to inject: `all`, `none`, or ids separated by commas (see --list-techniques).
    #[arg(long, default_value = "all")]
    attacks: String,
    /// Times each technique is injected, on different identities where there are enough.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Where to write the labels (default: `labels.json` in --out; none when emitting).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// List the attack techniques and exit.
    #[arg(long)]
    list_techniques: bool,
    /// Never show the progress bar.
    #[arg(long)]
    no_progress: bool,
}

fn parse_start(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("--start `{text}` is neither YYYY-MM-DD nor RFC 3339"))?;
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

pub(crate) fn execute(args: SimulateArgs) -> anyhow::Result<()> {
    if args.list_techniques {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header([
            "technique",
            "ATT&CK",
            "tactic",
            "cloud",
        ]);
        for (id, mitre, tactic, provider) in techniques() {
            table.add_row([id, mitre, tactic, provider.as_str()]);
        }
        println!("{table}");
        return Ok(());
    }
    let chosen: Vec<String> = match args.attacks.as_str() {
        "all" => techniques().iter().map(|t| t.0.to_string()).collect(),
        "none" | "" => Vec::new(),
        list => list
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    let config = SimulationConfig {
        seed: args.seed,
        start: parse_start(&args.start)?,
        days: args.days,
        identities: args.identities,
        techniques: chosen,
        rounds: args.rounds,
    };
    let mut simulation = Simulation::new(config)?;
    let labels_path = args
        .labels
        .clone()
        .or_else(|| args.out.as_ref().map(|d| d.join("labels.json")));
    let hours = u64::from(args.days) * 24;
    let progress = if args.no_progress || args.emit.is_some() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(hours)
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating [{bar:40}] {pos}/{len} hours, {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut written = files::Written::default();
    let mut events = 0u64;
    let start = simulation.labels().start;
    if let Some(target) = &args.emit {
        let mut emitter = emit::open(
            target,
            &emit::EmitOptions {
                batch: args.batch,
                http_headers: Vec::new(),
            },
        )?;
        let mut pacer = emit::Pacer::new(args.rate);
        'hours: for hour in simulation.by_ref() {
            for record in &hour {
                if emitter.is_closed() {
                    break 'hours;
                }
                pacer.wait();
                emitter.send(record)?;
                events += 1;
            }
        }
        emitter.finish()?;
    } else if let Some(out) = &args.out {
        for (i, hour) in simulation.by_ref().enumerate() {
            files::write_hour(
                &out.join("logs"),
                start + Duration::hours(i as i64),
                &hour,
                &mut written,
            )?;
            events += hour.len() as u64;
            progress.inc(1);
            progress.set_message(format!("{events} events"));
        }
    }
    progress.finish_and_clear();
    let labels = simulation.labels();
    if let Some(path) = &labels_path {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&labels)?;
        std::fs::write(path, text)
            .with_context(|| format!("cannot write the labels to {}", path.display()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(["simulated", "value"]);
    table.add_row(["identities".to_string(), labels.identities.to_string()]);
    table.add_row([
        "days".to_string(),
        format!("{} from {}", labels.days, labels.start.format("%Y-%m-%d")),
    ]);
    table.add_row(["events".to_string(), events.to_string()]);
    table.add_row([
        "benign identity-days".to_string(),
        labels.benign_identity_days.to_string(),
    ]);
    table.add_row([
        "attack scenarios".to_string(),
        labels.scenarios.len().to_string(),
    ]);
    if args.out.is_some() {
        table.add_row([
            "files".to_string(),
            format!("{} ({:.1} MB)", written.files, written.bytes as f64 / 1e6),
        ]);
    }
    table.add_row([
        "events/s".to_string(),
        format!("{:.0}", events as f64 / seconds.max(1e-9)),
    ]);
    if let Some(path) = &labels_path {
        table.add_row(["labels".to_string(), path.display().to_string()]);
    }
    // Emitting to stdout keeps stdout for the records.
    if args.emit.as_deref() == Some("-") {
        eprintln!("{table}");
    } else {
        println!("{table}");
    }
    Ok(())
}
