#!/usr/bin/env bash
# The lake tests read Parquet back with two independent readers: pyarrow and DuckDB (PyPI packages).
set -euo pipefail
missing=()
python3 -c 'import pyarrow' 2>/dev/null || missing+=('pyarrow>=15')
python3 -c 'import duckdb' 2>/dev/null || missing+=('duckdb>=1.0')
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (independent Parquet readers for the lake tests)"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi
