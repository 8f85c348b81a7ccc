//! `vigil report identity|alert`: forensic reports from the lake as Markdown, JSON or HTML.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use vigil_sink::query::Lake;
use vigil_sink::report::{IdentityQuery, ReportFormat, alert_report, identity_report};

use crate::config::Config;

/// Output formats of `vigil report`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    /// Markdown with tables.
    Markdown,
    /// One JSON document.
    Json,
    /// A self-contained HTML page with charts (activity over time, by hour of week).
    Html,
}

/// Arguments of `vigil report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Debug, clap::Args)]
struct Output {
    /// The lake folder; default `lake.dir` (`vigil-lake`).
    #[arg(long)]
    lake: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum ReportCommand {
    /// What one identity did over a window: timeline, actions by service, resources touched, source
    /// networks (/24, /48) and user agents marked NEW when the lake has none of them for this identity
    /// before --since, its alerts and incidents, and its baseline figures.
    ///
    /// --since and --until take RFC 3339 times or dates (YYYY-MM-DD, UTC); a date for --until means
    /// the end of that day. Default: the 30 days before --until, which defaults to now.
    ///
    /// Examples:
    ///   vigil report identity arn:aws:iam::111122223333:user/bob --lake /tmp/vigil-lake \
    ///     --since 2026-11-01 --until 2026-11-20
    ///   vigil report identity gcp:dave@example.com --since 2026-11-19T00:00:00Z \
    ///     --format html --out dave.html
    #[command(verbatim_doc_comment)]
    Identity {
        /// The identity key, as in the lake's `identity_key` column.
        identity: String,
        /// Start of the window (inclusive).
        #[arg(long)]
        since: Option<String>,
        /// End of the window (exclusive; a date means the end of that day).
        #[arg(long)]
        until: Option<String>,
        /// Most events listed in the timeline (counts and charts always cover every event).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[command(flatten)]
        output: Output,
    },
    /// One alert: its severity, rule and ATT&CK mapping, its reasons and baseline figures, the evidence
    /// events looked up in the lake by event id, and the incidents it belongs to.
    ///
    /// Examples:
    ///   vigil report alert va-3f2c… --lake /tmp/vigil-lake
    ///   vigil report alert va-3f2c… --format html --out alert.html
    ///   vigil query "SELECT alert_id, identity_key, time, reason_key FROM alerts ORDER BY time DESC"
    #[command(verbatim_doc_comment)]
    Alert {
        /// The alert id (`alert_id` in the alerts table).
        alert: String,
        #[command(flatten)]
        output: Output,
    },
}

/// `RFC 3339` or `YYYY-MM-DD` (midnight UTC; `end_of_day` moves it to the next midnight).
fn parse_time(flag: &str, s: &str, end_of_day: bool) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    bail!("{flag} {s:?} is neither an RFC 3339 time (2026-11-20T03:00:00Z) nor a date (2026-11-20)")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the query runtime")
}

fn emit(text: &str, out: Option<&Path>) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .context("cannot write to stdout")
        }
    }
}

fn format_of(f: Format) -> ReportFormat {
    match f {
        Format::Markdown => ReportFormat::Markdown,
        Format::Json => ReportFormat::Json,
        Format::Html => ReportFormat::Html,
    }
}

/// Builds and writes the report.
pub(crate) fn execute(args: ReportArgs, config: &Config) -> anyhow::Result<()> {
    match args.command {
        ReportCommand::Identity {
            identity,
            since,
            until,
            limit,
            output,
        } => {
            let until = match until {
                Some(s) => parse_time("--until", &s, true)?,
                None => Utc::now(),
            };
            let since = match since {
                Some(s) => parse_time("--since", &s, false)?,
                None => until - Duration::days(30),
            };
            if until <= since {
                bail!("--until ({until}) must be after --since ({since})");
            }
            let lake_dir = output.lake.unwrap_or_else(|| config.lake.dir.clone());
            let query = IdentityQuery {
                identity_key: identity,
                since,
                until,
                timeline_limit: limit,
            };
            let report = runtime()?.block_on(async {
                let lake = Lake::open(&lake_dir).await?;
                identity_report(&lake, &query).await
            })?;
            if report.events == 0 && report.alerts.is_empty() {
                tracing::warn!(
                    identity = %query.identity_key,
                    "no event and no alert of this identity in the window"
                );
            }
            emit(
                &report.render(format_of(output.format))?,
                output.out.as_deref(),
            )
        }
        ReportCommand::Alert { alert, output } => {
            let lake_dir = output.lake.unwrap_or_else(|| config.lake.dir.clone());
            let report = runtime()?.block_on(async {
                let lake = Lake::open(&lake_dir).await?;
                alert_report(&lake, &alert).await
            })?;
            emit(
                &report.render(format_of(output.format))?,
                output.out.as_deref(),
            )
        }
    }
}
