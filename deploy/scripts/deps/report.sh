#!/usr/bin/env bash
# The report tests render `vigil report --format html` in a real browser: Debian's headless Chromium.
# The query benchmark (bench/query.sh) times with hyperfine when it is there.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (headless browser for the report tests, timer for bench/query.sh)"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -y -q install "${missing[@]}"
fi
