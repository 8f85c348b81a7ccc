//! `vigil query "SQL"`: DataFusion SQL over the lake's tables.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use vigil_sink::query::{Lake, OutputFormat, write_batches};

use crate::config::Config;

/// Output formats of `vigil query`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum QueryFormat {
    /// A boxed table, for reading.
    Table,
    /// CSV with a header line.
    Csv,
    /// JSON lines, one object per row.
    Json,
}

/// Arguments of `vigil query`.
#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// One SQL statement (DataFusion dialect), or `-` to read it from stdin.
    sql: String,
    /// The lake folder; default `lake.dir` (`vigil-lake`).
    #[arg(long)]
    lake: Option<PathBuf>,
    /// How rows are printed.
    #[arg(long, value_enum, default_value = "table")]
    format: QueryFormat,
}

/// Runs the statement and prints its rows.
pub(crate) fn execute(args: QueryArgs, config: &Config) -> anyhow::Result<()> {
    let lake_dir = args.lake.unwrap_or_else(|| config.lake.dir.clone());
    let sql = if args.sql == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the SQL from stdin")?;
        s
    } else {
        args.sql
    };
    let format = match args.format {
        QueryFormat::Table => OutputFormat::Table,
        QueryFormat::Csv => OutputFormat::Csv,
        QueryFormat::Json => OutputFormat::Json,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the query runtime")?;
    let batches = runtime.block_on(async {
        let lake = Lake::open(&lake_dir).await?;
        lake.sql(&sql).await
    })?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_batches(&batches, format, &mut out)?;
    Ok(())
}
