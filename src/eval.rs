//! `vigil eval`: scores an alert output against a simulation's labels.
//!
//! The scoring itself is [`vigil_detect::eval`]; this module reads the files, prints the report as a
//! table or JSON, and checks the optional floors.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use vigil_detect::eval::{self, Alert, EvalOptions, Floors, Report, TimeToDetect};

const LABELS_HINT: &str = "write one with `vigil simulate --out DIR`";
const ALERTS_HINT: &str = "alerts must be JSON objects (JSON lines, a JSON array or one object) \
    with a time and an identity key or evidence event ids; see `vigil eval --help`";
const ALERT_EXTENSIONS: &[&str] = &["json", "jsonl", "ndjson"];

/// Arguments of `vigil eval`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct EvalArgs {
    /// The labels file written by `vigil simulate`.
    #[arg(long, value_name = "FILE")]
    labels: PathBuf,
    /// Alerts to score: a file, a folder (every *.json, *.jsonl and *.ndjson file below it, in name
    /// order, hidden files skipped) or `-` for stdin. JSON lines, a JSON array or one object.
    #[arg(long, value_name = "PATH")]
    alerts: PathBuf,
    /// Output: a table for people, or the report as one JSON object.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// An alert without evidence event ids matches a scenario on its identity from the scenario's
    /// first event until this many seconds after its last.
    #[arg(long, value_name = "SECS", default_value_t = eval::DEFAULT_WINDOW_SECS)]
    window: u64,
    /// Exit non-zero when recall (0 to 1) is below this.
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    min_recall: Option<f64>,
    /// Exit non-zero when false alerts per 1,000 identity-days are above this.
    #[arg(long, value_name = "N", value_parser = parse_non_negative)]
    max_false_per_1000: Option<f64>,
    /// Exit non-zero when the p95 time to detect, in seconds, is above this (or nothing is detected).
    #[arg(long, value_name = "SECS", value_parser = parse_non_negative)]
    max_p95_seconds: Option<f64>,
}

const AFTER_HELP: &str = "\
Alert fields (first present wins; dotted names are nested objects):
  id            alert_id, id, finding_info.uid, metadata.uid (missing: #<n>)
  identity key  identity_key, identity.key, actor.user.uid, actor.user.name
  time          time, alert_time, event_time, finding_info.last_seen_time
                (RFC 3339 string, or a number of epoch milliseconds)
  evidence      evidence_event_ids, event_ids, evidence[].event_id, evidences[].uid
  technique     technique, mitre_technique, finding_info.attacks[].technique.uid
An alert needs a time and an identity key or evidence event ids.

Scoring:
  An alert with evidence event ids matches the scenarios whose events it cites. One without
  matches a scenario on its identity when its time is within [first event, last event + window].
  A scenario is detected when an alert matches it. Time to detect = earliest matching alert time
  - first malicious event time (event time), clamped at 0; median, and p95 by nearest rank.
  Precision = alerts matching a scenario / alerts. False alerts per 1,000 identity-days = alerts
  matching none / benign identity-days of the labels * 1000. Alerts repeating an id count once.
  The exit status is 0 whatever the scores unless a --min-*/--max-* floor is missed.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a number from 0 to 1")),
    }
}

fn parse_non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
        _ => Err(format!("`{s}` is not a number of 0 or more")),
    }
}

pub(crate) fn execute(args: EvalArgs) -> anyhow::Result<()> {
    let labels_name = args.labels.display().to_string();
    let bytes = std::fs::read(&args.labels)
        .map_err(|e| anyhow!("cannot read the labels file {labels_name}: {e}; {LABELS_HINT}"))?;
    let labels = eval::parse_labels(&bytes).map_err(|e| {
        anyhow!("labels file {labels_name} is not a Vigil labels file: {e}; {LABELS_HINT}")
    })?;

    let alerts = read_alerts(&args.alerts)?;
    let options = EvalOptions {
        window_secs: args.window,
    };
    let report = eval::score(&labels, &alerts, &options).map_err(|e| {
        anyhow!("labels file {labels_name} is not a Vigil labels file: {e}; {LABELS_HINT}")
    })?;

    match args.format {
        Format::Table => print!("{}", render_table(&report)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot write the report as JSON")?
        ),
    }

    let missed = report.check(&Floors {
        min_recall: args.min_recall,
        max_false_per_1000: args.max_false_per_1000,
        max_p95_seconds: args.max_p95_seconds,
    });
    if !missed.is_empty() {
        bail!("{}", missed.join("; "));
    }
    Ok(())
}

/// Reads every alert under `path` (a file, a folder, or `-` for stdin).
fn read_alerts(path: &Path) -> anyhow::Result<Vec<Alert>> {
    let mut alerts = Vec::new();
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| anyhow!("cannot read the alerts from stdin: {e}"))?;
        parse(&bytes, "stdin", &mut alerts)?;
    } else if path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        files.sort();
        if files.is_empty() {
            eprintln!(
                "note: no *.json, *.jsonl or *.ndjson file under {}; scoring zero alerts",
                path.display()
            );
        }
        for file in files {
            read_file(&file, &mut alerts)?;
        }
    } else if path.is_file() {
        read_file(path, &mut alerts)?;
    } else {
        bail!(
            "alerts path {} does not exist; pass a file, a folder of *.json/*.jsonl/*.ndjson files, or - for stdin",
            path.display()
        );
    }
    Ok(alerts)
}

fn read_file(path: &Path, alerts: &mut Vec<Alert>) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow!("cannot read the alerts file {}: {e}", path.display()))?;
    parse(&bytes, &path.display().to_string(), alerts)
}

fn parse(bytes: &[u8], name: &str, alerts: &mut Vec<Alert>) -> anyhow::Result<()> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        bail!(
            "alerts {name} are gzip-compressed; decompress them first, e.g. `zcat {name} | vigil eval --alerts - ...`"
        );
    }
    eval::parse_alerts(bytes, name, alerts)
        .map_err(|e| anyhow!("cannot read the alerts: {e}; {ALERTS_HINT}"))
}

/// Alert files below `dir`, recursively, hidden files and folders skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow!("cannot list the alerts folder {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| anyhow!("cannot list the alerts folder {}: {e}", dir.display()))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ALERT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The report as tables: the figures, then recall per technique, per tactic and per scenario.
fn render_table(r: &Report) -> String {
    use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
    let table = |header: Vec<&str>| {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(header);
        t
    };

    let mut summary = table(vec!["measure", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("scenarios", r.scenarios.to_string()),
        ("detected", r.detected.to_string()),
        ("recall", ratio(r.recall)),
        ("alerts", r.alerts.to_string()),
        ("true alerts", r.true_alerts.to_string()),
        ("false alerts", r.false_alerts.to_string()),
        ("precision", ratio(r.precision)),
        ("benign identity-days", r.benign_identity_days.to_string()),
        (
            "false alerts per 1,000 identity-days",
            ratio(r.false_per_1000_identity_days),
        ),
        (
            "time to detect, median",
            secs(r.time_to_detect_seconds.median),
        ),
        ("time to detect, p95", secs(r.time_to_detect_seconds.p95)),
        ("duplicate alerts ignored", r.duplicates_ignored.to_string()),
    ];
    for (name, value) in rows {
        summary.add_row(vec![name.to_string(), value]);
    }

    let ttd_cells = |t: &TimeToDetect| vec![secs(t.median), secs(t.p95)];
    let mut techniques = table(vec![
        "technique",
        "ATT&CK",
        "scenarios",
        "detected",
        "recall",
        "TTD median",
        "TTD p95",
    ]);
    for row in &r.by_technique {
        let mut cells = vec![
            row.technique.clone(),
            row.mitre_technique.clone(),
            row.scenarios.to_string(),
            row.detected.to_string(),
            ratio(Some(row.recall)),
        ];
        cells.extend(ttd_cells(&row.time_to_detect_seconds));
        techniques.add_row(cells);
    }

    let mut tactics = table(vec![
        "tactic",
        "scenarios",
        "detected",
        "recall",
        "TTD median",
        "TTD p95",
    ]);
    for row in &r.by_tactic {
        let mut cells = vec![
            row.tactic.clone(),
            row.scenarios.to_string(),
            row.detected.to_string(),
            ratio(Some(row.recall)),
        ];
        cells.extend(ttd_cells(&row.time_to_detect_seconds));
        tactics.add_row(cells);
    }

    let mut scenarios = table(vec![
        "scenario",
        "technique",
        "tactic",
        "identity",
        "detected",
        "time to detect",
        "alerts",
    ]);
    for row in &r.by_scenario {
        scenarios.add_row(vec![
            row.scenario_id.clone(),
            row.technique.clone(),
            row.tactic.clone(),
            row.identity_key.clone(),
            if row.detected { "yes" } else { "no" }.to_string(),
            secs(row.time_to_detect_seconds),
            row.matching_alerts.to_string(),
        ]);
    }

    format!(
        "{summary}\nBy technique\n{techniques}\nBy tactic\n{tactics}\nBy scenario\n{scenarios}\n\
         Alerts match by evidence event id, else by identity within [first event, last event + {} s]; \
         time to detect on the event-time clock, p95 by nearest rank (rules in full: --format json).\n",
        r.rules.window_seconds
    )
}

fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |f| format!("{f:.3}"))
}

fn secs(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(f) if f.fract() == 0.0 => format!("{f:.0} s"),
        Some(f) => {
            let text = format!("{f:.3}");
            format!("{} s", text.trim_end_matches('0'))
        }
    }
}
