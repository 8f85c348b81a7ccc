#!/usr/bin/env bash
# The SIEM tests check Vigil's output against independent components:
# - OCSF: the OCSF 1.3.0 schema as JSON Schema (PyPI `ocsf-json-schema`, which ships the official schema
#   exports, so it works offline) validated with `jsonschema` (tests/ocsf_validate.py);
# - CEF over syslog: a real rsyslog receiver (Debian `rsyslog`, `rsyslog-gnutls` for the TLS listener);
# - `openssl` makes the throwaway TLS certificates.
set -euo pipefail
missing=()
python3 -c 'import ocsf_json_schema' 2>/dev/null || missing+=('ocsf-json-schema>=1.2,<2')
python3 -c 'import jsonschema' 2>/dev/null || missing+=('jsonschema>=4.18')
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (independent OCSF validator for the SIEM tests)"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi
apt_missing=()
command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ] || apt_missing+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 \
    || apt_missing+=(rsyslog-gnutls)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
if [ ${#apt_missing[@]} -gt 0 ]; then
    echo "installing ${apt_missing[*]} (syslog receiver and certificates for the SIEM tests)"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -y -q install "${apt_missing[@]}"
fi
