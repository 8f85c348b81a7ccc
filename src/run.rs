//! `vigil run`: the whole pipeline in one process over in-memory channels. Readers and normalizers run
//! on a pool of threads (one input at a time each); one writer thread passes events through the detect
//! stage and writes the lake and the dead-letter file.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use crossbeam_channel::{bounded, unbounded};
use indicatif::{ProgressBar, ProgressStyle};
use vigil_detect::Detector;
use vigil_ingest::source::Input;
use vigil_ingest::{Limits, Normalized, normalize_bytes_on};
use vigil_schemas::{Alert, DeadLetter, Incident};
use vigil_sink::{AlertWriter, DeadLetterWriter, JsonLinesWriter, LakeWriter};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::outputs::Outputs;

/// What a run did, for the summary table and for tests.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// (provider, format) -> (normalized, dead-lettered)
    pub(crate) by_format: BTreeMap<(String, String), (u64, u64)>,
    pub(crate) inputs: u64,
    pub(crate) bytes: u64,
    pub(crate) events: u64,
    pub(crate) dead_letters: u64,
    pub(crate) lake_files: usize,
    pub(crate) dead_letter_file: PathBuf,
    pub(crate) alerts: u64,
    pub(crate) alert_file: PathBuf,
    pub(crate) incidents: u64,
    pub(crate) incident_file: PathBuf,
    pub(crate) elapsed: Duration,
}

struct Work {
    /// Position of the input in the order given, so the detect stage sees inputs in that order
    /// whichever normalizer thread finishes first.
    seq: usize,
    name: String,
    bytes: u64,
    normalized: Normalized,
}

pub(crate) fn run(
    config: &Config,
    inputs: Vec<Input>,
    show_progress: bool,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let metrics = Metrics::new()?;
    let run_id = format!(
        "{}-{}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let threads = match config.run.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let total_bytes: u64 = inputs.iter().filter_map(Input::len_hint).sum();
    let progress = progress_bar(
        show_progress && std::io::stderr().is_terminal(),
        total_bytes,
    );

    let mut lake = LakeWriter::new(
        &config.lake.dir,
        run_id.clone(),
        config.lake.writer_config(),
    )
    .with_context(|| format!("cannot create the lake at {}", config.lake.dir.display()))?;
    let dead_letter_path = config.run.dead_letter_file.clone().unwrap_or_else(|| {
        config
            .lake
            .dir
            .join("deadletter")
            .join(format!("deadletters-{run_id}.jsonl"))
    });
    let mut dead = DeadLetterWriter::create(&dead_letter_path).with_context(|| {
        format!(
            "cannot create the dead-letter file {}",
            dead_letter_path.display()
        )
    })?;
    let alert_path = config
        .lake
        .dir
        .join("alerts")
        .join(format!("alerts-{run_id}.jsonl"));
    let mut alerts = AlertWriter::create(&alert_path)
        .with_context(|| format!("cannot create the alert file {}", alert_path.display()))?;
    let incident_path = config
        .lake
        .dir
        .join("incidents")
        .join(format!("incidents-{run_id}.jsonl"));
    let mut incidents = JsonLinesWriter::<Incident>::create(&incident_path).with_context(|| {
        format!(
            "cannot create the incident file {}",
            incident_path.display()
        )
    })?;
    let mut detector = crate::detection::engine(&config.detect)?;
    let outputs = Outputs::start(config, metrics.registry())?;

    // Inputs are handed out a window at a time and the next one only when the oldest is written, so
    // the reorder buffer below holds at most `window` normalized inputs however slow one of them is.
    let window = threads * 2;
    let (input_tx, input_rx) = unbounded::<(usize, Input)>();
    let mut feeder = Feeder {
        inputs: inputs.into_iter().enumerate(),
        tx: Some(input_tx),
    };
    for _ in 0..window {
        feeder.feed()?;
    }
    // Bounded so fast normalizers cannot run far ahead of the writer.
    let (work_tx, work_rx) = bounded::<Work>(window);
    let limits = Arc::new(config.ingest.clone());

    let mut summary = Summary {
        dead_letter_file: dead_letter_path.clone(),
        alert_file: alert_path.clone(),
        incident_file: incident_path.clone(),
        ..Summary::default()
    };
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for worker in 0..threads {
            let (input_rx, work_tx, limits) = (input_rx.clone(), work_tx.clone(), limits.clone());
            std::thread::Builder::new()
                .name(format!("normalize-{worker}"))
                .spawn_scoped(scope, move || {
                    normalize_worker(&input_rx, &work_tx, &limits, threads)
                })
                .context("cannot start a normalizer thread")?;
        }
        drop(work_tx);
        // Owned here so that an error below drops the input queue's sender and the normalizers stop.
        let mut feeder = feeder;
        let mut pending: BTreeMap<usize, Work> = BTreeMap::new();
        let mut next = 0;
        for arrived in work_rx {
            pending.insert(arrived.seq, arrived);
            while let Some(work) = pending.remove(&next) {
                next += 1;
                feeder.feed()?;
                progress.inc(work.bytes);
                summary.inputs += 1;
                summary.bytes += work.bytes;
                let kind = if work.name == "stdin" {
                    "stdin"
                } else {
                    "file"
                };
                metrics
                    .input_bytes
                    .with_label_values(&[kind])
                    .inc_by(work.bytes);
                account(&mut summary, &metrics, &work.normalized);
                dead.write(&work.normalized.dead_letters)
                    .context("cannot write dead letters")?;
                lake.write_dead_letters(&work.normalized.dead_letters, Utc::now())
                    .context("cannot write dead letters to the lake")?;
                let events = detector
                    .on_events(work.normalized.events)
                    .context("detect stage failed")?;
                outputs.events(&events);
                lake.write(events).context("cannot write the lake")?;
                let raised = detector.drain_alerts();
                let grouped = detector.drain_incidents();
                let sinks = (&mut lake, &mut alerts, &mut incidents, &outputs);
                record_findings(&mut summary, sinks, raised, grouped)?;
            }
        }
        Ok(())
    })?;
    detector
        .on_finish()
        .context("detect stage failed at end of input")?;
    let raised = detector.drain_alerts();
    let grouped = detector.drain_incidents();
    let sinks = (&mut lake, &mut alerts, &mut incidents, &outputs);
    record_findings(&mut summary, sinks, raised, grouped)?;
    outputs.drain_and_shutdown(Duration::from_secs(config.run.outputs_drain_seconds));
    alerts.finish().context("cannot finish the alert file")?;
    incidents
        .finish()
        .context("cannot finish the incident file")?;
    metrics.record_detector(&detector.counters());
    let files = lake.finish().context("cannot finish the lake")?;
    dead.finish()
        .context("cannot finish the dead-letter file")?;
    progress.finish_and_clear();
    summary.lake_files = files.len();
    summary.elapsed = started.elapsed();
    if let Some(path) = &config.run.metrics_file {
        std::fs::write(path, metrics.render()?)
            .with_context(|| format!("cannot write metrics to {}", path.display()))?;
    }
    tracing::info!(
        events = summary.events,
        dead_letters = summary.dead_letters,
        files = files.len(),
        "run finished"
    );
    Ok(summary)
}

/// Alerts and incidents go to the JSON-lines feeds, the lake's tables and the configured outputs.
fn record_findings(
    summary: &mut Summary,
    (lake, alerts, incidents, outputs): (
        &mut LakeWriter,
        &mut AlertWriter,
        &mut JsonLinesWriter<Incident>,
        &Outputs,
    ),
    raised: Vec<Alert>,
    grouped: Vec<Incident>,
) -> anyhow::Result<()> {
    summary.alerts += raised.len() as u64;
    summary.incidents += grouped.len() as u64;
    alerts.write(&raised).context("cannot write alerts")?;
    incidents
        .write(&grouped)
        .context("cannot write incidents")?;
    lake.write_alerts(&raised)
        .context("cannot write alerts to the lake")?;
    lake.write_incidents(&grouped)
        .context("cannot write incidents to the lake")?;
    outputs.alerts(&raised)?;
    outputs.incidents(&grouped)?;
    Ok(())
}

/// Hands inputs to the normalizers one at a time; closes their queue after the last.
struct Feeder {
    inputs: std::iter::Enumerate<std::vec::IntoIter<Input>>,
    tx: Option<crossbeam_channel::Sender<(usize, Input)>>,
}

impl Feeder {
    fn feed(&mut self) -> anyhow::Result<()> {
        match (self.inputs.next(), &self.tx) {
            (Some(input), Some(tx)) => tx.send(input).context("input queue closed"),
            _ => {
                self.tx = None;
                Ok(())
            }
        }
    }
}

/// Reads and normalizes inputs until none are left. A large NDJSON input is itself split over
/// `threads` threads, so one big export on stdin still uses every core.
fn normalize_worker(
    inputs: &crossbeam_channel::Receiver<(usize, Input)>,
    out: &crossbeam_channel::Sender<Work>,
    limits: &Limits,
    threads: usize,
) {
    for (seq, input) in inputs {
        let name = input.name();
        let normalized = match input.read(limits.max_input_bytes) {
            Ok(bytes) => {
                let len = bytes.len() as u64;
                let normalized = normalize_bytes_on(&name, &bytes, Utc::now(), limits, threads);
                (normalized, len)
            }
            Err(e) => {
                tracing::warn!(input = %name, error = %e, "input unreadable; recorded as a dead letter");
                let letter = DeadLetter::new("unreadable", e.to_string(), &name, 0, &[], 0);
                (
                    Normalized {
                        events: Vec::new(),
                        dead_letters: vec![letter],
                    },
                    0,
                )
            }
        };
        let work = Work {
            seq,
            name,
            bytes: normalized.1,
            normalized: normalized.0,
        };
        if out.send(work).is_err() {
            return; // the writer stopped; its error is reported there
        }
    }
}

fn account(summary: &mut Summary, metrics: &Metrics, n: &Normalized) {
    for e in &n.events {
        let provider = e.provider.as_str();
        metrics
            .events
            .with_label_values(&[provider, &e.raw_ref.format])
            .inc();
        summary
            .by_format
            .entry((provider.to_string(), e.raw_ref.format.clone()))
            .or_default()
            .0 += 1;
    }
    for d in &n.dead_letters {
        let provider = d.provider.as_deref().unwrap_or("unknown");
        let format = d.format.as_deref().unwrap_or("(unparsed)");
        metrics
            .dead_letters
            .with_label_values(&[&d.kind, provider])
            .inc();
        summary
            .by_format
            .entry((provider.to_string(), format.to_string()))
            .or_default()
            .1 += 1;
    }
    summary.events += n.events.len() as u64;
    summary.dead_letters += n.dead_letters.len() as u64;
}

fn progress_bar(visible: bool, total: u64) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{spinner} normalizing [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The summary table printed at the end of a run.
pub(crate) fn render_summary(s: &Summary) -> String {
    use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "provider",
        "format",
        "records read",
        "normalized",
        "dead-lettered",
    ]);
    for ((provider, format), (ok, dead)) in &s.by_format {
        table.add_row(vec![
            provider.clone(),
            format.clone(),
            (ok + dead).to_string(),
            ok.to_string(),
            dead.to_string(),
        ]);
    }
    table.add_row(vec![
        "total".to_string(),
        String::new(),
        (s.events + s.dead_letters).to_string(),
        s.events.to_string(),
        s.dead_letters.to_string(),
    ]);
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    format!(
        "{table}\n{} inputs, {:.1} MB in {:.2}s: {:.0} events/s, {:.1} MB/s; {} lake files; dead letters: {}\n{} alerts: {}\n{} incidents: {}\n",
        s.inputs,
        s.bytes as f64 / 1e6,
        secs,
        s.events as f64 / secs,
        s.bytes as f64 / 1e6 / secs,
        s.lake_files,
        s.dead_letter_file.display(),
        s.alerts,
        s.alert_file.display(),
        s.incidents,
        s.incident_file.display(),
    )
}
