#!/usr/bin/env bash
# Times `vigil permissions analyze` on 10,000 identities (AWS, Azure, GCP inventories) over 90 days of
# events (10 a day per active identity, about 8 million), release build.
# Usage: bash bench/permissions.sh [identities] [days] [events-per-day] [catalog-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
identities="${1:-10000}"; days="${2:-90}"; per_day="${3:-10}"; catalog="${4:-../shared/iam-catalog}"
cargo build --release --locked --quiet --bin vigil --example permissions_bench_data
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
echo "machine: $(nproc) cores; generating $identities identities x $days days x $per_day events/day"
"$CARGO_TARGET_DIR/release/examples/permissions_bench_data" "$data" "$identities" "$days" "$per_day"
python3 - "$CARGO_TARGET_DIR/release/vigil" "$data" "$catalog" "$days" <<'PY'
import json, resource, subprocess, sys, time
vigil, data, catalog, days = sys.argv[1:5]
t0 = time.perf_counter()
out = subprocess.run([vigil, "permissions", "analyze", "--inventory", f"{data}/inventory", "--lake", f"{data}/lake",
                      "--catalog", catalog, "--days", days, "--now", "2026-06-01T00:00:00Z", "--format", "json"],
                     check=True, capture_output=True).stdout
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
a = json.loads(out)
print(f"analyzed {len(a['analysis']['identities']):,} identities and {a['events']:,} events "
      f"in {seconds:.1f} s, peak RSS {peak:,.0f} MiB; {len(a['analysis']['findings']):,} findings; "
      f"{sum(a['unmapped_actions'].values()):,} events unmapped")
PY
