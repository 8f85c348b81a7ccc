#!/usr/bin/env bash
# Times one identity's 30-day timeline from a lake of 10 million events (target: at most 1 s), release
# build: `vigil query` (the timeline as SQL) and `vigil report identity` (the whole forensic report:
# timeline, counts, first-seen marks against all earlier history, alerts, incidents).
# The lake is generated once and cached in $HOME/.cache/vigil/bench-lake.
# Usage: bash bench/query.sh [events] [days] [identities]
# PROFILE=dev times the dev build instead (its dependencies, DataFusion included, are built at
# opt-level 2; Vigil's own crates are not): quicker to build, an upper bound of the release figure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
events="${1:-10000000}"; days="${2:-30}"; identities="${3:-2000}"
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then
    cargo build --release --locked --quiet --bin vigil --example query_bench_lake
    bin="$CARGO_TARGET_DIR/release"
else
    cargo build --locked --quiet --bin vigil --example query_bench_lake
    bin="$CARGO_TARGET_DIR/debug"
fi
vigil="$bin/vigil"
lake="$HOME/.cache/vigil/bench-lake/$events-$days-$identities"
if [ ! -f "$lake/.complete" ]; then
    rm -rf "$lake"
    mkdir -p "$(dirname "$lake")"
    echo "generating $events events over $days days for $identities identities in $lake"
    start=$(date +%s)
    "$bin/examples/query_bench_lake" "$lake" "$events" "$days" "$identities" > "$lake.key"
    mv "$lake.key" "$lake/.identity"
    touch "$lake/.complete"
    echo "generated in $(( $(date +%s) - start )) s"
fi
key="$(cat "$lake/.identity")"
case "$key" in arn:aws:*) provider=aws ;; azure:*) provider=azure ;; *) provider=gcp ;; esac
until_day="$(date -u -d "2026-10-01 + $((days - 1)) days" +%F)"
rows=$("$vigil" query --lake "$lake" --format csv "SELECT count(*) AS n FROM events" | tail -1)
files=$(find "$lake/table=events" -name '*.parquet' | wc -l)
echo "machine: $(nproc) cores, $profile build; lake: $rows events in $files files, $(du -sh "$lake" | cut -f1)"
sql="SELECT event_time, event_id, action_permission, outcome_status, src_ip, user_agent FROM events WHERE identity_key = '$key' AND provider = '$provider' AND date BETWEEN '2026-10-01' AND '$until_day' ORDER BY event_time"
n=$("$vigil" query --lake "$lake" --format csv "$sql" | tail -n +2 | wc -l)
echo "identity $key: $n events in the 30-day timeline"
query_cmd=("$vigil" query --lake "$lake" --format csv "$sql")
report_cmd=("$vigil" report identity "$key" --lake "$lake" --since 2026-10-01 --until "$until_day" --format json --out /dev/null)
median() { # command... -> prints the median wall time of 7 runs, in seconds
    local times=()
    for _ in 1 2 3 4 5 6 7; do
        local t0 t1
        t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -g | sed -n 4p
}
q=$(median "${query_cmd[@]}")
r=$(median "${report_cmd[@]}")
printf 'timeline query (vigil query):     median %.3f s over 7 runs (target <= 1 s)\n' "$q"
printf 'identity report (vigil report):   median %.3f s over 7 runs (target <= 1 s)\n' "$r"
if command -v hyperfine > /dev/null; then
    hyperfine --warmup 1 --runs 7 -N --style basic \
        "$(printf '%q ' "${query_cmd[@]}")" "$(printf '%q ' "${report_cmd[@]}")"
fi
