#!/usr/bin/env bash
# Measures the detect stage on one core: events/s of the engine at steady state (criterion, on learned
# identities of a simulated 2,000-identity estate: the day after a 3-day warm-up, refit and alerts
# included) and from a cold start (a fresh engine over day 1); then state per identity after a 7-day
# warm-up, from three angles: the engine's own accounting (`Engine::bytes_per_identity`, plus the
# checkpoint size), the resident memory a fresh process gains by restoring that checkpoint, and the
# peak-RSS difference between the same run with and without the engine.
# Usage: bash bench/detect.sh [identities] [state-days]   (release build; CPU to pin: VIGIL_BENCH_CPU=0)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
# One core, honestly: linfa's k-means would otherwise spread a refit over rayon's pool.
export RAYON_NUM_THREADS=1
identities="${1:-2000}"; days="${2:-7}"; cpu="${VIGIL_BENCH_CPU:-0}"
cargo bench --locked --quiet -p vigil-detect --bench engine --no-run
cargo build --release --locked --quiet -p vigil-detect --example engine_state
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); pinned to CPU $cpu"

VIGIL_BENCH_IDENTITIES="$identities" taskset -c "$cpu" \
    cargo bench --locked --quiet -p vigil-detect --bench engine 2>&1 | tee "$out/bench.txt" \
    | grep -E '^(simulated|warm-up|state|one pass)'
state="$CARGO_TARGET_DIR/release/examples/engine_state"
/usr/bin/time -v taskset -c "$cpu" "$state" "$identities" "$days" engine "$out/engine.snapshot" \
    >"$out/engine.txt" 2>"$out/engine.time"
/usr/bin/time -v taskset -c "$cpu" "$state" "$identities" "$days" passthrough >"$out/pass.txt" 2>"$out/pass.time"
grep '^day=' "$out/engine.txt"
taskset -c "$cpu" "$state" restore "$out/engine.snapshot" >"$out/restore.txt"

python3 - "$CARGO_TARGET_DIR/criterion/engine" "$out" "$identities" "$days" <<'PY'
import json, os, re, sys
crit, out, identities, days = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for name in sorted(os.listdir(crit)):
    if f"_{identities}ids_" not in name:
        continue
    new = os.path.join(crit, name, "new")
    n = json.load(open(os.path.join(new, "benchmark.json")))["throughput"]["Elements"]
    est = json.load(open(os.path.join(new, "estimates.json")))
    rate = {k: n / est[k]["point_estimate"] * 1e9 for k in ("mean", "median")}
    lo, hi = (n / est["mean"]["confidence_interval"][b] * 1e9 for b in ("upper_bound", "lower_bound"))
    print(f"{name}: {n:,} events; mean {est['mean']['point_estimate']/1e6:.0f} ms = {rate['mean']:,.0f} events/s "
          f"(95% CI {lo:,.0f}-{hi:,.0f}), median {rate['median']:,.0f} events/s")
def peak(path):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1))
last = [l for l in open(os.path.join(out, "engine.txt")) if l.startswith("day=")][-1]
fields = dict(kv.split("=") for kv in last.split())
n = int(fields["identities_in_memory"])
with_engine, without = peak(os.path.join(out, "engine.time")), peak(os.path.join(out, "pass.time"))
print(f"state after {days} days, {n:,} identities in memory: accounting {float(fields['bytes_per_identity']):,.0f} "
      f"bytes/identity; checkpoint {int(fields['snapshot_bytes']):,} bytes = "
      f"{float(fields['snapshot_bytes_per_identity']):,.0f} bytes/identity (population models included)")
r = dict(kv.split("=") for kv in open(os.path.join(out, "restore.txt")).read().split()[1:])
print(f"resident memory a process gains restoring that checkpoint: {(int(r['rss_after_kib'])-int(r['rss_before_kib']))/1024:.1f} MiB "
      f"= {float(r['rss_delta_bytes_per_identity']):,.0f} bytes/identity (identities and population models, no events)")
print(f"peak RSS with engine {with_engine/1024:.1f} MiB, without {without/1024:.1f} MiB: "
      f"delta {(with_engine-without)*1024/n:,.0f} bytes/identity (identities, population models, allocator slack)")
PY
