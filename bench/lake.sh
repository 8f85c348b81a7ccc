#!/usr/bin/env bash
# Measures writing the lake on one core (criterion, release): MB/s of Arrow input turned into zstd
# Parquet files, fsynced and renamed into place; from prepared Arrow batches (the lake's own cost) and
# from normalized events (the whole `vigil run` path: partition, sort, build Arrow, write).
# Usage: bash bench/lake.sh        (CPU to pin: VIGIL_BENCH_CPU=0; needs taskset, from util-linux)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cpu="${VIGIL_BENCH_CPU:-0}"
cargo bench --locked --quiet -p vigil-sink --bench lake_write --no-run
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); pinned to CPU $cpu"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
taskset -c "$cpu" cargo bench --locked --quiet -p vigil-sink --bench lake_write 2>&1 | tee "$out" \
    | grep -E '^lake (input|output)'
python3 - "$CARGO_TARGET_DIR/criterion" <<'PY'
import json, os, sys
root = sys.argv[1]
for name in ["arrow_to_parquet", "events_to_parquet"]:
    base = os.path.join(root, "lake", name, "new")
    est = json.load(open(os.path.join(base, "estimates.json")))
    bench = json.load(open(os.path.join(base, "benchmark.json")))
    nbytes = bench["throughput"]["Bytes"]
    for stat in ["mean", "median"]:
        ns = est[stat]["point_estimate"]
        print(f"{name}: {stat} {ns/1e6:.0f} ms = {nbytes/ns*1e3:,.0f} MB/s of Arrow input")
PY
