#!/usr/bin/env bash
# The gRPC listener against a real sidecar process (issue 12):
#   - every SessionSidecar call over the gRPC Unix socket, from stubs that grpc_tools.protoc generates from
#     proto/sessionsidecar/v1/sidecar.proto at test time; WatchSigningKeys as a stream; failures as gRPC statuses;
#     grpc.health.v1 with grpc's own health client; the socket file's mode; SIGTERM ending the key stream with
#     UNAVAILABLE and removing the socket (then the sidecar is restarted);
#   - Envoy's ext_authz (envoy.service.auth.v3.Authorization/Check) driven by Envoy's own generated definitions
#     (xds-protos): a valid token is allowed with the x-session-* headers; absent, forged, garbage and expired
#     tokens, and an anti-CSRF mismatch on POST, are denied 401 with x-session-outcome and the JSON body; the
#     project's Envoy subset (proto/envoy/...) has Envoy's numbers and types, field by field.
#
#   tests/grpc/run.sh [pytest args]
#
# As root on Debian 12, no stdin. Installs python3-venv if missing, creates .run/grpc-venv and installs
# tests/grpc/requirements.txt with pip, starts the private MariaDB (scripts/mariadb.sh) and a sidecar of its own
# (scripts/test-sidecar.sh, directory .run/grpc-tests/sidecar, sidecar.grpc.socketPath DIR/grpc.sock, 10 s access
# tokens), runs pytest, and drops the sidecar at exit. The binary is $SIDECAR_BIN, else the debug build's.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
die() {
  echo "tests/grpc/run.sh: $*" >&2
  exit 1
}
# shellcheck source=../../scripts/lib/packages.sh
. scripts/lib/packages.sh

ensure_packages python3 python3-venv
venv=$repo/.run/grpc-venv
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv" || die "could not create $venv"
fi
"$venv/bin/python" -m pip --disable-pip-version-check --quiet install -r tests/grpc/requirements.txt ||
  die "pip could not install tests/grpc/requirements.txt"

scripts/mariadb.sh start >/dev/null
sidecar_dir=$repo/.run/grpc-tests/sidecar
scripts/test-sidecar.sh drop "$sidecar_dir" >/dev/null 2>&1 || true
trap 'scripts/test-sidecar.sh drop "$sidecar_dir" >/dev/null 2>&1 || true' EXIT
SIDECAR_ACCESS_TOKEN_VALIDITY=10 SIDECAR_EXTRA_YAML="sidecar.grpc.socketPath: $sidecar_dir/grpc.sock" \
  scripts/test-sidecar.sh start "$sidecar_dir"
eval "$(scripts/test-sidecar.sh env "$sidecar_dir")"
export SESSION_SIDECAR_GRPC_SOCKET=$sidecar_dir/grpc.sock

status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/grpc "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- sidecar log ---"
  tail -40 "$sidecar_dir/sidecar.log" || true
fi
exit "$status"
