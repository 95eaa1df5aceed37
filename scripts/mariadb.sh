#!/usr/bin/env bash
# A private MariaDB for development and tests, with its data in one directory (default .run/mariadb).
#
#   scripts/mariadb.sh start [DIR]   install the packages if missing, initialise DIR once, start the server,
#                                    wait until it answers, create user sidecar/sidecar and database session_sidecar
#   scripts/mariadb.sh stop [DIR]    stop it
#   scripts/mariadb.sh env [DIR]     print the SIDECAR_TEST_MYSQL_* export lines: eval "$(scripts/mariadb.sh env)"
#
# The port is $SIDECAR_MYSQL_PORT (default 33061); the server listens on 127.0.0.1 and on DIR/mysqld.sock only.
# $SIDECAR_MYSQL_EXTRA_ARGS is appended to mariadbd's arguments (the tests use it for --ssl-cert/--ssl-key).
# Works as root in a fresh Debian 12 container and in CI (no stdin, no TTY). Idempotent.
set -euo pipefail
# shellcheck source=lib/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/packages.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:-}
dir=${2:-$repo/.run/mariadb}
port=${SIDECAR_MYSQL_PORT:-33061}
start_timeout=${SIDECAR_MYSQL_START_TIMEOUT:-60}

usage() {
  echo "usage: $0 start|stop|env [DIR]" >&2
  exit 2
}

die() {
  echo "mariadb.sh: $*" >&2
  exit 1
}

# Absolute paths: the server is started from another working directory and the socket path goes into env lines.
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
datadir=$dir/data
socket=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
logfile=$dir/mysqld.log
portfile=$dir/port

# A Unix socket path is limited to 107 bytes (sun_path).
if [ "${#socket}" -gt 107 ]; then
  die "socket path $socket is longer than 107 bytes: pass a shorter DIR"
fi

install_packages() {
  local missing=()
  [ -n "$(find_tool mariadbd)" ] && [ -n "$(find_tool mariadb-install-db)" ] || missing+=(mariadb-server)
  [ -n "$(find_tool mariadb)" ] && [ -n "$(find_tool mariadb-admin)" ] || missing+=(mariadb-client)
  mapfile -t -O "${#missing[@]}" missing < <(missing_packages libmariadb-dev)
  if [ "${#missing[@]}" -eq 0 ]; then
    return
  fi
  ensure_packages "${missing[@]}"
}

is_running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
  "$(find_tool mariadb-admin)" --no-defaults --protocol=socket --socket="$socket" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1
}

sql_as_root() {
  "$(find_tool mariadb)" --no-defaults --protocol=socket --socket="$socket" -uroot --batch
}

log_tail() {
  if [ -f "$logfile" ]; then
    echo "--- last lines of $logfile ---" >&2
    tail -n 30 "$logfile" >&2
  fi
}

create_user_and_database() {
  # sidecar may use session_sidecar and create/drop the sidecar_test_% databases that tests make one each.
  sql_as_root <<'SQL'
CREATE USER IF NOT EXISTS 'sidecar'@'localhost' IDENTIFIED BY 'sidecar';
CREATE USER IF NOT EXISTS 'sidecar'@'127.0.0.1' IDENTIFIED BY 'sidecar';
ALTER USER 'sidecar'@'localhost' IDENTIFIED BY 'sidecar';
ALTER USER 'sidecar'@'127.0.0.1' IDENTIFIED BY 'sidecar';
CREATE DATABASE IF NOT EXISTS session_sidecar CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
GRANT ALL PRIVILEGES ON session_sidecar.* TO 'sidecar'@'localhost';
GRANT ALL PRIVILEGES ON session_sidecar.* TO 'sidecar'@'127.0.0.1';
GRANT ALL PRIVILEGES ON `sidecar\_test\_%`.* TO 'sidecar'@'localhost';
GRANT ALL PRIVILEGES ON `sidecar\_test\_%`.* TO 'sidecar'@'127.0.0.1';
SQL
}

start() {
  install_packages
  if is_running && answers; then
    echo "mariadb.sh: already running (pid $(cat "$pidfile"), port $(cat "$portfile" 2>/dev/null || echo "$port"), $dir)"
    create_user_and_database
    return
  fi
  if [ ! -d "$datadir/mysql" ]; then
    echo "mariadb.sh: initialising $datadir" >&2
    mkdir -p "$datadir"
    if ! "$(find_tool mariadb-install-db)" --no-defaults --datadir="$datadir" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 </dev/null; then
      tail -n 30 "$dir/install.log" >&2
      die "mariadb-install-db failed (full log: $dir/install.log)"
    fi
  fi
  rm -f "$socket" "$pidfile"
  echo "$port" >"$portfile"
  # Detached from our stdin/stdout so that CI's pipes are not held open by the server.
  nohup "$(find_tool mariadbd)" --no-defaults --datadir="$datadir" --socket="$socket" --port="$port" \
    --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$pidfile" --log-error="$logfile" \
    --skip-name-resolve --max-connections=500 --innodb-buffer-pool-size=64M \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin ${SIDECAR_MYSQL_EXTRA_ARGS:-} </dev/null >/dev/null 2>&1 &
  local server_pid=$!
  local waited=0
  until answers; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      log_tail
      die "mariadbd exited during startup (port $port taken? see $logfile)"
    fi
    if [ "$waited" -ge "$start_timeout" ]; then
      log_tail
      die "mariadbd did not answer within ${start_timeout}s (see $logfile)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  create_user_and_database
  echo "mariadb.sh: started (pid $server_pid, port $port, socket $socket)"
}

stop() {
  if ! is_running; then
    echo "mariadb.sh: not running ($dir)"
    rm -f "$pidfile"
    return
  fi
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 60 ]; then
      echo "mariadb.sh: mariadbd $pid ignored SIGTERM for 30s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
  echo "mariadb.sh: stopped"
}

print_env() {
  local running_port=$port
  [ -f "$portfile" ] && running_port=$(cat "$portfile")
  echo "export SIDECAR_TEST_MYSQL_HOST=127.0.0.1"
  echo "export SIDECAR_TEST_MYSQL_PORT=$running_port"
  echo "export SIDECAR_TEST_MYSQL_USER=sidecar"
  echo "export SIDECAR_TEST_MYSQL_PASSWORD=sidecar"
  echo "export SIDECAR_TEST_MYSQL_SOCKET=$socket"
}

case "$command" in
start) start ;;
stop) stop ;;
env) print_env ;;
*) usage ;;
esac
