//! Shared helpers of the scenario tests: run the real `vigil` binary, read what it wrote.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vigil_schemas::DeadLetter;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn vigil() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.env_remove("VIGIL_CONFIG").env("NO_COLOR", "1");
    cmd
}

/// Runs `vigil run` over `inputs` into `lake`, asserting it succeeded; returns its output.
pub fn run_pipeline(inputs: &[&Path], lake: &Path, extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = vigil();
    cmd.arg("run")
        .arg("--lake")
        .arg(lake)
        .arg("--no-progress")
        .arg("--input")
        .args(inputs);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start vigil: {e}"));
    assert!(
        out.status.success(),
        "vigil run failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// All dead letters written under `lake/deadletter`.
pub fn dead_letters(lake: &Path) -> Vec<DeadLetter> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(lake.join("deadletter")) else {
        return out;
    };
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.push(
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("dead letter line is not JSON: {e}: {line}")),
            );
        }
    }
    out
}

/// Reads the lake's `events` table with pyarrow (an independent Parquet reader) and returns its
/// summary as JSON: row count, column types, rows per provider, distinct event ids.
pub fn pyarrow_summary(lake: &Path) -> serde_json::Value {
    let script = r#"
import json, sys
import pyarrow.dataset as ds
table = ds.dataset(sys.argv[1] + "/events", format="parquet", partitioning="hive").to_table()
providers = {}
for p in table.column("provider").to_pylist():
    providers[p] = providers.get(p, 0) + 1
print(json.dumps({
    "rows": table.num_rows,
    "types": {f.name: str(f.type) for f in table.schema},
    "providers": providers,
    "distinct_ids": len(set(table.column("event_id").to_pylist())),
    "identity_keys": sorted(set(table.column("identity_key").to_pylist())),
}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lake)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the independent Parquet reader: {e}"));
    assert!(
        out.status.success(),
        "pyarrow could not read the lake (tests/run.sh installs pyarrow): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("pyarrow summary is not JSON: {e}"))
}
