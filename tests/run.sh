#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (README: "Run the tests").
# Installs what the tests need beyond Rust if it is missing: each part's readers, receivers and verifiers
# (deploy/scripts/deps/), and Tansu, the Kafka-compatible broker.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each part's own test tools (DuckDB, rsyslog, Chromium, the Standard Webhooks and OCSF verifiers...):
# every script under deploy/scripts/deps/ checks for its tools and installs what is missing.
for deps in deploy/scripts/deps/*.sh; do
    bash "$deps"
done
# Tansu, the Kafka-compatible broker the Kafka tests start (built with cargo once per machine).
bash deploy/scripts/tansu.sh install
if [ ! -d ../shared/corpus ]; then
    echo "error: ../shared/corpus is missing; the conformance tests read the public samples there" >&2
    exit 1
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# cargo prints one summary per test binary, the last often a doc-test run with nothing in it; the
# closing line here is the total over all of them.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
