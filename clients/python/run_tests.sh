#!/usr/bin/env bash
# Runs the client's whole test suite against a live sidecar (`make test` runs this too):
#   eval "$(scripts/test-sidecar.sh env DIR)"     # SESSION_SIDECAR_SOCKET, SESSION_SIDECAR_RESTART, SIDECAR_JWKS_*
#   clients/python/run_tests.sh [pytest args]
# SESSION_SIDECAR_SOCKET is required (SIDECAR_SOCKET, its old name, is read when it is unset). The tests that need
# SESSION_SIDECAR_RESTART, SIDECAR_JWKS_FILE or SIDECAR_JWKS_URL are skipped, with the reason shown, without them.
# Creates (or reuses) a virtualenv at clients/python/.venv, installs requirements.txt (the test tools) and this
# package with pip from this folder (not editable: the tests import what `pip install` installed), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")"

if [ -z "${SESSION_SIDECAR_SOCKET:-}" ] && [ -n "${SIDECAR_SOCKET:-}" ]; then
  export SESSION_SIDECAR_SOCKET=$SIDECAR_SOCKET
fi
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install -r requirements.txt
"${pip[@]}" install --force-reinstall --no-deps .   # the source may have changed under the same version
"${pip[@]}" check                                   # its dependencies (protobuf) are satisfied

export SESSIONSIDECAR_TEST_INSTALLED=1  # conftest.py refuses to test a copy imported from the source folder
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
