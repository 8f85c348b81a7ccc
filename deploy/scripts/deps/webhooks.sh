#!/usr/bin/env bash
# The webhook tests verify every delivery with the Standard Webhooks reference library (PyPI
# `standardwebhooks`), an implementation independent of Vigil's signer.
set -euo pipefail
if ! python3 -c 'from standardwebhooks.webhooks import Webhook' 2>/dev/null; then
    echo "installing standardwebhooks (independent signature verifier for the webhook tests)"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check 'standardwebhooks>=1.0'
fi
