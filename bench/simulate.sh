#!/usr/bin/env bash
# Measures `vigil simulate`: events/s writing files, and peak memory for a short and a 10x longer run
# of the same estate (the simulator streams hour by hour, so memory must not grow with the run).
# Usage: bash bench/simulate.sh [identities]   (release build; prints one line per run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --release --locked --quiet
identities="${1:-2000}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
python3 - "$CARGO_TARGET_DIR/release/vigil" "$out" "$identities" <<'PY'
import json, os, resource, subprocess, sys, time
vigil, out, identities = sys.argv[1], sys.argv[2], sys.argv[3]
print(f"machine: {os.cpu_count()} cores; {identities} identities")
for days in (3, 30):
    target = os.path.join(out, f"d{days}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([vigil, "simulate", "--out", target, "--identities", identities,
                    "--days", str(days), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    labels = json.load(open(os.path.join(target, "labels.json")))
    events = labels["events"]
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(target) for f in fs)
    note = "" if peak_kib > before else " (peak not above the earlier run's)"
    print(f"days={days:>3} events={events:>10,} seconds={seconds:7.1f} events/s={events/seconds:>9,.0f} "
          f"MB written={size/1e6:8.1f} peak RSS={peak_kib/1024:7.1f} MiB{note}")
    subprocess.run(["rm", "-rf", target], check=True)
PY
