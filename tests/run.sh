#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (README: "Run the tests").
# Installs what the tests need beyond Rust if it is missing: pyarrow, the independent Parquet reader.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import pyarrow' 2>/dev/null; then
    echo "installing pyarrow (independent Parquet reader for the lake tests)"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check 'pyarrow>=15'
fi
if [ ! -d ../shared/corpus ]; then
    echo "error: ../shared/corpus is missing; the conformance tests read the public samples there" >&2
    exit 1
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
