#!/usr/bin/env bash
# A sidecar process for client and gateway tests, on a database of its own in the private MariaDB
# (scripts/mariadb.sh), with everything it writes under DIR (default .run/test-sidecar).
#
#   scripts/test-sidecar.sh start [DIR]     create the database once, write DIR/sidecar.yaml, start, wait for the socket
#   scripts/test-sidecar.sh stop [DIR]      SIGTERM, wait for the drain
#   scripts/test-sidecar.sh restart [DIR]   stop then start (same database, same keys): clients must reconnect
#   scripts/test-sidecar.sh env [DIR]       export lines: SESSION_SIDECAR_SOCKET, SESSION_SIDECAR_RESTART, ...
#   scripts/test-sidecar.sh drop [DIR]      stop, then drop its database
#
# The binary is $SIDECAR_BIN, else the debug build's. $SIDECAR_EXTRA_YAML is appended to the configuration
# (top-level keys only); $SIDECAR_ACCESS_TOKEN_VALIDITY sets tokens.accessToken.validity (seconds). `start`
# saves these in DIR/settings.env, so `restart` (and SESSION_SIDECAR_RESTART) brings back the same sidecar.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:-}
dir=${2:-$repo/.run/test-sidecar}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
eval "$("$repo/scripts/mariadb.sh" env)"

die() {
  echo "test-sidecar.sh: $*" >&2
  exit 1
}

# Settings saved by the first start fill what the environment leaves unset (a restart from a client's test).
if [ -f "$dir/settings.env" ]; then
  # shellcheck disable=SC1091
  . "$dir/settings.env"
fi

binary() {
  if [ -n "${SIDECAR_BIN:-}" ]; then
    echo "$SIDECAR_BIN"
  else
    echo "$(cd "$repo" && swift build --show-bin-path)/session-sidecar"
  fi
}

mysql_admin() {
  mariadb --no-defaults -h "$SIDECAR_TEST_MYSQL_HOST" -P "$SIDECAR_TEST_MYSQL_PORT" -u "$SIDECAR_TEST_MYSQL_USER" \
    -p"$SIDECAR_TEST_MYSQL_PASSWORD" -e "$1"
}

# The database name is fixed per DIR, so that a restart finds the same sessions and keys.
database() {
  echo "sidecar_test_$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
}

http_port() {
  echo $((20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000))
}

write_config() {
  local kek=$dir/kek.bin
  if [ ! -f "$kek" ]; then
    head -c 32 /dev/urandom >"$kek"
    chmod 600 "$kek"
  fi
  cat >"$dir/sidecar.yaml" <<YAML
mysql:
  host: $SIDECAR_TEST_MYSQL_HOST
  port: $SIDECAR_TEST_MYSQL_PORT
  user: $SIDECAR_TEST_MYSQL_USER
  password: $SIDECAR_TEST_MYSQL_PASSWORD
  database: $(database)
  connectionLimit: 8
tokens:
  accessToken:
    validity: ${SIDECAR_ACCESS_TOKEN_VALIDITY:-3600}
  refreshToken:
    renewTokenPath: /auth/session/refresh
cookie:
  domain: localhost
  secure: false
sidecar:
  socketPath: $dir/sidecar.sock
  jwksFile: $dir/jwks.json
  keyEncryptionKeyFile: $kek
  http:
    address: 127.0.0.1:$(http_port)
${SIDECAR_EXTRA_YAML:-}
YAML
}

is_running() {
  [ -f "$dir/sidecar.pid" ] && kill -0 "$(cat "$dir/sidecar.pid")" 2>/dev/null
}

start() {
  if is_running; then
    return
  fi
  mysql_admin "CREATE DATABASE IF NOT EXISTS \`$(database)\`"
  write_config
  local bin
  bin=$(binary)
  [ -x "$bin" ] || die "no sidecar binary at $bin (build it, or set SIDECAR_BIN)"
  # Read back by restart: each fills only a variable the caller left unset.
  {
    printf ': "${SIDECAR_BIN:=%s}"\n' "$(printf '%q' "$bin")"
    printf ': "${SIDECAR_ACCESS_TOKEN_VALIDITY:=%s}"\n' "${SIDECAR_ACCESS_TOKEN_VALIDITY:-3600}"
    printf 'SIDECAR_EXTRA_YAML=${SIDECAR_EXTRA_YAML-%s}\n' "$(printf '%q' "${SIDECAR_EXTRA_YAML:-}")"
  } >"$dir/settings.env"
  nohup "$bin" serve --config "$dir/sidecar.yaml" </dev/null >>"$dir/sidecar.log" 2>&1 &
  echo $! >"$dir/sidecar.pid"
  for _ in $(seq 1 200); do
    [ -S "$dir/sidecar.sock" ] && return
    kill -0 "$(cat "$dir/sidecar.pid")" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 30 "$dir/sidecar.log" >&2
  die "the sidecar did not start (log: $dir/sidecar.log)"
}

stop() {
  is_running || return 0
  local pid
  pid=$(cat "$dir/sidecar.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/sidecar.pid"
}

case "$command" in
start) start ;;
stop) stop ;;
restart)
  stop
  start
  ;;
drop)
  stop
  mysql_admin "DROP DATABASE IF EXISTS \`$(database)\`"
  rm -f "$dir/settings.env" "$dir/kek.bin"
  ;;
env)
  echo "export SESSION_SIDECAR_SOCKET=$dir/sidecar.sock"
  echo "export SESSION_SIDECAR_RESTART='$repo/scripts/test-sidecar.sh restart $dir'"
  echo "export SESSION_SIDECAR_CONFIG=$dir/sidecar.yaml"
  echo "export SIDECAR_JWKS_FILE=$dir/jwks.json"
  echo "export SIDECAR_JWKS_URL=http://127.0.0.1:$(http_port)/.well-known/jwks.json"
  echo "export SESSION_SIDECAR_HTTP=http://127.0.0.1:$(http_port)"
  ;;
*)
  echo "usage: $0 start|stop|restart|env|drop [DIR]" >&2
  exit 2
  ;;
esac
