#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (README: "Run the tests").
# Installs what the tests need beyond Rust if it is missing: pyarrow, the independent Parquet reader,
# and Tansu, the Kafka-compatible broker.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import pyarrow' 2>/dev/null; then
    echo "installing pyarrow (independent Parquet reader for the lake tests)"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check 'pyarrow>=15'
fi
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
