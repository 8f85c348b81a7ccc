//! Forensic queries over the lake with DataFusion: the tables `events`, `alerts`, `incidents` and
//! `deadletters` are listing tables over `<lake>/table=<name>/provider=…/date=…/hour=…/*.parquet`.
//!
//! The hive partition values (`provider`, `date` as `YYYY-MM-DD`, `hour` as `HH`) live only in the
//! path and are exposed as Utf8 columns, so `WHERE provider = 'aws' AND date >= '2026-11-01'` never
//! lists or opens the other folders. Filters on file columns are pushed into the Parquet scan: row
//! groups and pages are skipped by their min/max statistics, and rows are filtered while decoding.
//!
//! A table whose folder holds no Parquet file yet is still registered, with its known schema, and
//! reads as empty; a lake folder with none of the four table folders is an error.

pub mod fixture;
mod output;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub use output::{OutputFormat, write_batches};

use crate::SinkError;

/// The tables of the lake, in the order they are registered.
pub const TABLES: [&str; 4] = ["events", "alerts", "incidents", "deadletters"];

/// The hive partition columns every table has, outermost first.
pub const PARTITION_COLUMNS: [&str; 3] = ["provider", "date", "hour"];

/// What was found for one table when the lake was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub name: &'static str,
    /// `<lake>/table=<name>`.
    pub dir: PathBuf,
    /// Parquet files under it when the lake was opened.
    pub files: usize,
}

/// An opened lake: a DataFusion session with the lake's tables registered.
pub struct Lake {
    root: PathBuf,
    ctx: SessionContext,
    tables: Vec<TableInfo>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake")
            .field("root", &self.root)
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

impl Lake {
    /// Opens the lake at `root` and registers its tables. Fails when `root` has none of the
    /// `table=<name>` folders (most likely a wrong path).
    pub async fn open(root: &Path) -> Result<Lake, SinkError> {
        if !root.is_dir() {
            return Err(SinkError::Lake(format!(
                "no lake at {}: not a folder (write one with `vigil run --lake {}`)",
                root.display(),
                root.display()
            )));
        }
        let config = SessionConfig::new()
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true)
            .set_bool("datafusion.execution.parquet.reorder_filters", true)
            .set_bool("datafusion.execution.parquet.pruning", true)
            .set_bool("datafusion.execution.parquet.enable_page_index", true)
            .set_bool(
                "datafusion.execution.parquet.schema_force_view_types",
                false,
            );
        let ctx = SessionContext::new_with_config(config);
        let parquet_options = ctx.state().default_table_options().parquet;
        let mut tables = Vec::new();
        for name in TABLES {
            let dir = root.join(format!("table={name}"));
            let files = parquet_files(&dir);
            let schema = match files.last() {
                Some(newest) => file_schema(newest)?,
                None => known_schema(name),
            };
            if files.is_empty() {
                let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
                for c in PARTITION_COLUMNS {
                    fields.push(Arc::new(Field::new(c, DataType::Utf8, false)));
                }
                let empty = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])
                    .map_err(|e| SinkError::query(e, &format!("table {name}")))?;
                ctx.register_table(name, Arc::new(empty))
                    .map_err(|e| SinkError::query(e, &format!("table {name}")))?;
                tables.push(TableInfo {
                    name,
                    dir,
                    files: 0,
                });
                continue;
            }
            let format = ParquetFormat::new().with_options(parquet_options.clone());
            let options = ListingOptions::new(Arc::new(format))
                .with_file_extension(".parquet")
                .with_table_partition_cols(
                    PARTITION_COLUMNS
                        .iter()
                        .map(|c| (c.to_string(), DataType::Utf8))
                        .collect(),
                )
                // Table statistics would read every footer while planning; pruning uses the row-group
                // and page statistics of the files that remain, when they are opened.
                .with_collect_stat(false);
            let url = ListingTableUrl::parse(format!("{}/", absolute(&dir).display()))
                .map_err(|e| SinkError::query(e, &format!("table {name}")))?;
            let table = ListingTable::try_new(
                ListingTableConfig::new(url)
                    .with_listing_options(options)
                    .with_schema(schema),
            )
            .map_err(|e| SinkError::query(e, &format!("table {name}")))?;
            ctx.register_table(name, Arc::new(table))
                .map_err(|e| SinkError::query(e, &format!("table {name}")))?;
            tables.push(TableInfo {
                name,
                dir,
                files: files.len(),
            });
        }
        if tables.iter().all(|t| !t.dir.is_dir()) {
            return Err(SinkError::Lake(format!(
                "no lake at {}: none of {} found (write one with `vigil run --lake {}`)",
                root.display(),
                TABLES.map(|t| format!("table={t}/")).join(", "),
                root.display()
            )));
        }
        Ok(Lake {
            root: root.to_path_buf(),
            ctx,
            tables,
        })
    }

    /// The lake folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The tables and how many files each had when the lake was opened.
    pub fn tables(&self) -> &[TableInfo] {
        &self.tables
    }

    /// The DataFusion session, for building queries with the DataFrame API (no SQL text, so
    /// values never need quoting).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// A table as a DataFrame.
    pub async fn table(&self, name: &str) -> Result<DataFrame, SinkError> {
        self.ctx
            .table(name)
            .await
            .map_err(|e| SinkError::query(e, &format!("table {name}")))
    }

    /// Plans and runs one SQL statement, returning its rows.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, SinkError> {
        let df = self.ctx.sql(sql).await.map_err(|e| self.explain_error(e))?;
        self.collect(df).await
    }

    /// Runs a DataFrame, returning its rows; an empty result is one empty batch that still
    /// carries the columns.
    pub async fn collect(&self, df: DataFrame) -> Result<Vec<RecordBatch>, SinkError> {
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let mut batches = df.collect().await.map_err(|e| self.explain_error(e))?;
        batches.retain(|b| b.num_rows() > 0);
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema));
        }
        Ok(batches)
    }

    fn explain_error(&self, e: datafusion::error::DataFusionError) -> SinkError {
        let text = e.to_string();
        if text.contains("not found") && text.contains("table") {
            return SinkError::Lake(format!(
                "{}; the lake's tables are {}",
                text.lines().next().unwrap_or_default(),
                TABLES.join(", ")
            ));
        }
        SinkError::query(e, "query")
    }
}

/// Every `.parquet` file under `dir`, recursively, hidden files and folders skipped, sorted by
/// path (so the last one is of the latest date and hour of the last provider).
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The Arrow schema stored in one Parquet file's footer.
fn file_schema(path: &Path) -> Result<SchemaRef, SinkError> {
    let file = fs::File::open(path).map_err(|e| SinkError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let schema = builder.schema();
    // Partition values live in the path; a file that also carries one as a column would clash.
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !PARTITION_COLUMNS.contains(&f.name().as_str()))
        .cloned()
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// The schema of a table with no file yet: the writer's, without the partition columns.
fn known_schema(table: &str) -> SchemaRef {
    let schema = match table {
        "events" => vigil_schemas::arrow::event_schema(),
        "alerts" => vigil_schemas::arrow_records::alert_schema(),
        "incidents" => vigil_schemas::arrow_records::incident_schema(),
        _ => vigil_schemas::arrow_records::dead_letter_schema(),
    };
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !PARTITION_COLUMNS.contains(&f.name().as_str()))
        .cloned()
        .collect();
    Arc::new(Schema::new(fields))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl SinkError {
    pub(crate) fn query(source: datafusion::error::DataFusionError, what: &str) -> SinkError {
        SinkError::Query {
            what: what.to_string(),
            error: Box::new(source),
        }
    }
}
