//! The lake's four tables as two independent readers see them: DuckDB and pyarrow read
//! `table=events|alerts|incidents|deadletters/provider=…/date=…/hour=…/` with hive partitioning, and
//! must agree with `vigil run`'s own counts and the JSON-lines feeds, with the right column types.

mod common;

use std::path::Path;
use std::process::Command;

use common::{dead_letters, repo_root, run_pipeline};

/// Counts, partition values and column types of every table, by DuckDB and by pyarrow.
fn read_tables(lake: &Path) -> serde_json::Value {
    let script = r#"
import json, sys, os
import duckdb, pyarrow.dataset as ds
lake = sys.argv[1]
out = {}
for name in ["events", "alerts", "incidents", "deadletters"]:
    root = os.path.join(lake, "table=" + name)
    glob = os.path.join(root, "**", "*.parquet")
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
    duck_types = dict(zip(rel.columns, [str(t) for t in rel.types]))
    duck_rows = con.execute(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)").fetchone()[0]
    by_provider = dict(con.execute(
        f"SELECT provider, count(*) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY provider"
    ).fetchall())
    hours = sorted({int(h) for (h,) in con.execute(
        f"SELECT DISTINCT hour FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()})
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
    out[name] = {
        "duckdb_rows": duck_rows,
        "pyarrow_rows": table.num_rows,
        "by_provider": by_provider,
        "hours_in_range": all(0 <= h <= 23 for h in hours),
        "duckdb_types": duck_types,
        "pyarrow_types": {f.name: str(f.type) for f in table.schema},
    }
print(json.dumps(out))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the independent readers: {e}"));
    assert!(
        out.status.success(),
        "DuckDB/pyarrow could not read the lake (deploy/scripts/deps/lake.sh installs them): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("reader output is not JSON: {e}"))
}

fn jsonl_count(dir: &Path) -> u64 {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        n += text.lines().count() as u64;
    }
    n
}

#[test]
fn duckdb_and_pyarrow_read_every_table_with_its_types_and_counts() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The shipped sample (alerts and an incident) plus a file that is not JSON (a dead letter).
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, b"{\"Records\": [ not json").unwrap_or_else(|e| panic!("{e}"));
    let lake = tmp.path().join("lake");
    run_pipeline(&[&repo_root().join("deploy/sample"), &broken], &lake, &[]);

    let tables = read_tables(&lake);
    let alerts = jsonl_count(&lake.join("alerts"));
    let incidents = jsonl_count(&lake.join("incidents"));
    let letters = dead_letters(&lake).len() as u64;
    assert!(alerts >= 2 && incidents >= 1 && letters >= 1);
    for (name, expected) in [
        ("events", 43),
        ("alerts", alerts),
        ("incidents", incidents),
        ("deadletters", letters),
    ] {
        let t = &tables[name];
        assert_eq!(t["duckdb_rows"], expected, "{name}: {t}");
        assert_eq!(t["pyarrow_rows"], expected, "{name}: {t}");
        assert_eq!(t["hours_in_range"], true, "{name}: {t}");
        for reader in ["duckdb_types", "pyarrow_types"] {
            for partition in ["provider", "date", "hour"] {
                assert!(
                    t[reader].get(partition).is_some(),
                    "{name}: {reader} has no {partition} column: {t}"
                );
            }
        }
    }
    let events = &tables["events"];
    assert_eq!(events["by_provider"]["aws"], 21, "{events}");
    assert_eq!(events["by_provider"]["azure"], 12, "{events}");
    assert_eq!(events["by_provider"]["gcp"], 10, "{events}");
    assert_eq!(
        events["duckdb_types"]["event_time"],
        "TIMESTAMP WITH TIME ZONE"
    );
    assert_eq!(
        events["pyarrow_types"]["event_time"],
        "timestamp[us, tz=UTC]"
    );
    let alert_types = &tables["alerts"]["pyarrow_types"];
    assert_eq!(alert_types["score"], "double");
    assert_eq!(alert_types["reasons"], "list<item: string>");
    let alert_providers = tables["alerts"]["by_provider"]
        .as_object()
        .unwrap_or_else(|| panic!("no providers"));
    assert!(
        alert_providers.get("unknown").is_none() && alert_providers.contains_key("aws"),
        "every alert's provider is known from its identity: {alert_providers:?}"
    );
    assert_eq!(tables["incidents"]["pyarrow_types"]["revision"], "uint32");
    assert_eq!(tables["deadletters"]["pyarrow_types"]["original"], "binary");
    assert_eq!(tables["deadletters"]["by_provider"]["unknown"], letters);
}
