#!/usr/bin/env bash
# Measures detection quality the way issue 4 asks: a simulated estate of 2,000 identities over 30 days
# with every attack technique, through `vigil run` (the whole pipeline, detection engine included), scored
# by `vigil eval` against the simulator's labels. Prints eval's table and the run's timing.
# Usage: bash bench/detect-quality.sh [identities] [days] [seed]   (release build; ~5 GB of scratch files)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --release --locked --quiet
identities="${1:-2000}"
days="${2:-30}"
seed="${3:-1}"
vigil="$CARGO_TARGET_DIR/release/vigil"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "estate: $identities identities, $days days, seed $seed, every technique"
"$vigil" simulate --out "$out/estate" --identities "$identities" --days "$days" --seed "$seed" \
    --no-progress > /dev/null
start=$(date +%s%N)
"$vigil" run --input "$out/estate/logs" --lake "$out/lake" --no-progress | tail -3
end=$(date +%s%N)
echo "vigil run: $(( (end - start) / 1000000 )) ms"
"$vigil" eval --labels "$out/estate/labels.json" --alerts "$out/lake/alerts" | sed -n '1,16p'
