#!/usr/bin/env bash
# Runs the client's test suite against a live sidecar.
#   SIDECAR_SOCKET=/path/to/sidecar.sock [SIDECAR_JWKS_FILE=/path/to/jwks.json] ./run_tests.sh [pytest args]
# Creates (or reuses) a virtualenv at clients/python/.venv and installs requirements.txt into it.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
