use std::error::Error;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;

use super::fixture::{BOB, sample_lake};
use super::{Lake, OutputFormat, write_batches};
use crate::SinkError;

async fn count(lake: &Lake, sql: &str) -> Result<i64, Box<dyn Error>> {
    let batches = lake.sql(sql).await?;
    let batch = batches.first().ok_or("no batch")?;
    Ok(batch.column(0).as_primitive::<Int64Type>().value(0))
}

#[tokio::test]
async fn tables_count_and_filter_on_partitions_and_columns() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let written = sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    assert_eq!(
        count(&lake, "SELECT count(*) FROM events").await?,
        written as i64
    );
    assert_eq!(
        count(&lake, "SELECT count(*) FROM events WHERE provider = 'aws'").await?,
        93
    );
    assert_eq!(
        count(
            &lake,
            "SELECT count(*) FROM events WHERE date = '2026-11-20' AND hour = '03'"
        )
        .await?,
        3
    );
    let q = format!(
        "SELECT count(*) FROM events WHERE identity_key = '{BOB}' AND outcome_status = 'failure'"
    );
    assert_eq!(count(&lake, &q).await?, 1);
    assert_eq!(count(&lake, "SELECT count(*) FROM alerts").await?, 2);
    assert_eq!(count(&lake, "SELECT count(*) FROM incidents").await?, 2);
    assert_eq!(
        count(
            &lake,
            "SELECT count(*) FROM (SELECT unnest(evidence_event_ids) FROM alerts)"
        )
        .await?,
        3
    );
    // No dead letter was written: the table is there, empty, with its columns.
    assert_eq!(count(&lake, "SELECT count(*) FROM deadletters").await?, 0);
    assert!(
        lake.sql("SELECT reason, provider FROM deadletters")
            .await
            .is_ok()
    );
    Ok(())
}

#[tokio::test]
async fn partition_filters_prune_folders_and_predicates_reach_the_scan()
-> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    let plan = lake
        .sql("EXPLAIN SELECT event_id FROM events WHERE provider = 'gcp' AND identity_key = 'x'")
        .await?;
    let mut text = String::new();
    write_batches(&plan, OutputFormat::Csv, &mut string_sink(&mut text))?;
    // Only the gcp folder's files are scanned, and the identity predicate is pushed into Parquet.
    assert!(text.contains("provider=gcp"), "{text}");
    assert!(!text.contains("provider=aws"), "{text}");
    assert!(text.contains("pruning_predicate"), "{text}");
    Ok(())
}

fn string_sink(text: &mut String) -> StringSink<'_> {
    StringSink(text)
}

struct StringSink<'a>(&'a mut String);

impl std::io::Write for StringSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push_str(&String::from_utf8_lossy(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn outputs_parse_back() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    let rows = lake
        .sql("SELECT provider, count(*) AS n FROM events GROUP BY provider ORDER BY provider")
        .await?;
    let mut csv = Vec::new();
    write_batches(&rows, OutputFormat::Csv, &mut csv)?;
    assert_eq!(
        String::from_utf8(csv)?,
        "provider,n\naws,93\nazure,10\ngcp,10\n"
    );
    let mut json = Vec::new();
    write_batches(&rows, OutputFormat::Json, &mut json)?;
    let lines: Vec<serde_json::Value> = String::from_utf8(json)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines[1], serde_json::json!({"provider": "azure", "n": 10}));
    let mut table = Vec::new();
    write_batches(&rows, OutputFormat::Table, &mut table)?;
    let table = String::from_utf8(table)?;
    assert!(table.contains("| gcp      | 10 |"), "{table}");
    assert!(table.ends_with("3 rows\n"), "{table}");
    Ok(())
}

#[tokio::test]
async fn empty_results_keep_their_columns_and_errors_are_clear() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    let rows = lake
        .sql("SELECT event_id, provider FROM events WHERE 1 = 0")
        .await?;
    let mut csv = Vec::new();
    write_batches(&rows, OutputFormat::Csv, &mut csv)?;
    assert_eq!(String::from_utf8(csv)?, "event_id,provider\n");
    let err = lake
        .sql("SELECT * FROM evnts")
        .await
        .err()
        .ok_or("no error")?;
    assert!(matches!(err, SinkError::Lake(_)), "{err}");
    assert!(
        err.to_string()
            .contains("events, alerts, incidents, deadletters"),
        "{err}"
    );

    let empty = tempfile::tempdir()?;
    let err = Lake::open(empty.path()).await.err().ok_or("no error")?;
    assert!(err.to_string().contains("table=events/"), "{err}");
    let err = Lake::open(&empty.path().join("nope"))
        .await
        .err()
        .ok_or("no error")?;
    assert!(err.to_string().contains("not a folder"), "{err}");
    Ok(())
}
