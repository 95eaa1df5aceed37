#!/usr/bin/env bash
# Runs every test: installs what is missing, starts a private MariaDB (.run/mariadb), builds, runs the Swift
# tests (unit and integration, against that MariaDB), then the Python cross-language suite (PyJWT, joserfc,
# raw-socket hostile input) against a sidecar started here. Exits non-zero when any test fails.
#   SIDECAR_REQUIRE_TESTVECTORS=1 makes the Wycheproof tests fail instead of skipping when ../shared is absent.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

scripts/install-deps.sh
scripts/mariadb.sh start
eval "$(scripts/mariadb.sh env)"
export SIDECAR_REQUIRE_MYSQL=1
if [ ! -d ../shared/testvectors/wycheproof ]; then
  echo "test.sh: ../shared/testvectors/wycheproof not found: the Wycheproof tests will print SKIPPED"
fi

swift build --build-tests
status=0
swift test --skip-build || status=$?

# The Python suite talks to a real sidecar process on a database of its own.
db="sidecar_test_python_$$"
work=$(mktemp -d /tmp/sidecar-python-XXXXXX)
mysql_admin() { mariadb -h "$SIDECAR_TEST_MYSQL_HOST" -P "$SIDECAR_TEST_MYSQL_PORT" -u "$SIDECAR_TEST_MYSQL_USER" \
  -p"$SIDECAR_TEST_MYSQL_PASSWORD" -e "$1"; }
mysql_admin "CREATE DATABASE \`$db\`"
http_port=$((20000 + $$ % 20000))
cat > "$work/sidecar.yaml" <<YAML
mysql:
  host: $SIDECAR_TEST_MYSQL_HOST
  port: $SIDECAR_TEST_MYSQL_PORT
  user: $SIDECAR_TEST_MYSQL_USER
  password: $SIDECAR_TEST_MYSQL_PASSWORD
  database: $db
  connectionLimit: 8
tokens:
  refreshToken:
    renewTokenPath: /auth/session/refresh
cookie:
  domain: localhost
  secure: true
sidecar:
  socketPath: $work/sidecar.sock
  jwksFile: $work/jwks.json
  http:
    address: 127.0.0.1:$http_port
YAML
"$(swift build --show-bin-path)/session-sidecar" serve --config "$work/sidecar.yaml" > "$work/sidecar.log" 2>&1 &
sidecar_pid=$!
cleanup() {
  kill "$sidecar_pid" 2>/dev/null || true
  wait "$sidecar_pid" 2>/dev/null || true
  mysql_admin "DROP DATABASE IF EXISTS \`$db\`" || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do [ -S "$work/sidecar.sock" ] && break; sleep 0.1; done
if [ ! -S "$work/sidecar.sock" ]; then
  echo "test.sh: the sidecar did not start:"; cat "$work/sidecar.log"; exit 1
fi
SIDECAR_SOCKET="$work/sidecar.sock" SIDECAR_JWKS_FILE="$work/jwks.json" \
  SIDECAR_JWKS_URL="http://127.0.0.1:$http_port/.well-known/jwks.json" clients/python/run_tests.sh || status=$?

if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED (see above)"
  echo "--- sidecar log (python suite) ---"; tail -50 "$work/sidecar.log"
fi
exit "$status"
