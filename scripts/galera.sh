#!/usr/bin/env bash
# A private three-node MariaDB Galera cluster on loopback for tests (issue 13), data under DIR/node1..3
# (default DIR .run/galera).
#
#   scripts/galera.sh start [DIR]           install the packages if missing, initialise once, bootstrap one node
#                                           and join the others; wait until every node is Synced with cluster size 3;
#                                           create user sidecar/sidecar and database session_sidecar. Idempotent:
#                                           nodes already running are kept, missing ones are started and joined.
#   scripts/galera.sh stop [DIR]            stop every node cleanly (node3, node2, then node1)
#   scripts/galera.sh env [DIR]             print export lines: eval "$(scripts/galera.sh env)"
#   scripts/galera.sh status [DIR]          one line per node; exit status 0 only if all three are Synced, size 3
#   scripts/galera.sh kill N [DIR]          SIGKILL node N (a crash: no clean shutdown) and wait until it is gone
#   scripts/galera.sh restart-node N [DIR]  start node N again and wait until it has rejoined (Synced)
#
# Ports, from $SIDECAR_GALERA_PORT (default 33071), node i = 1..3:
#   client  33070+i   (127.0.0.1 and DIR/nodeI/mysqld.sock)
#   galera  33170+i   (group communication, gmcast.listen_addr)
#   IST     33270+i   (incremental state transfer receiver)
#   SST     33370+i   (rsync state transfer receiver)
# On one host every node needs ports of its own; the IST and SST receivers in particular.
#
# As root the nodes run as the `mysql` user (rsync SST's daemon drops privileges when started by root, so a
# node running as root cannot receive a state transfer); DIR/nodeI is owned by mysql, and every directory above
# DIR must be traversable by mysql (checked at start). As another user the nodes run as that user.
#
# Recovery, as an operator would do it: a node that crashed is first run with --wsrep-recover and started at the
# recovered position (so it rejoins by IST, not a full copy); a node is started again only once the others have
# dropped its dead incarnation; `start` with no node running bootstraps the node grastate.dat marks
# safe_to_bootstrap, or after a crash of all three the one with the highest recovered seqno; survivors that lost
# quorum (non-Primary) are made Primary again with pc.bootstrap=YES before others join them.
#
# $SIDECAR_GALERA_EXTRA_ARGS is appended to every node's mariadbd arguments; $SIDECAR_GALERA_PROVIDER_OPTIONS is
# appended to wsrep_provider_options, e.g. for faster eviction of a dead node (~3 s instead of ~6 s):
#   "evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT3S;evs.inactive_check_period=PT0.5S"
# Options take effect at the next start of a node. $SIDECAR_GALERA_START_TIMEOUT (default 120 s) bounds each wait.
# Small on purpose (a Swift build shares the machine): 32M buffer pool, 32M gcache, 16M redo log and
# innodb_flush_log_at_trx_commit=2 per node, ~100 MB RSS each.
set -euo pipefail
# shellcheck source=lib/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/packages.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:-}
node_arg=
case "$command" in
kill | restart-node)
  node_arg=${2:-}
  dir=${3:-$repo/.run/galera}
  ;;
*) dir=${2:-$repo/.run/galera} ;;
esac
base_port=${SIDECAR_GALERA_PORT:-33071}
start_timeout=${SIDECAR_GALERA_START_TIMEOUT:-120}
nodes=(1 2 3)
provider=/usr/lib/galera/libgalera_smm.so
cluster_name=session_sidecar_test

usage() {
  echo "usage: $0 start|stop|env|status [DIR]" >&2
  echo "       $0 kill|restart-node N [DIR]     (N = 1, 2 or 3)" >&2
  exit 2
}

die() {
  echo "galera.sh: $*" >&2
  exit 1
}

say() {
  echo "galera.sh: $*" >&2
}

case "$command" in
start | stop | env | status) ;;
kill | restart-node) [[ "$node_arg" =~ ^[123]$ ]] || usage ;;
*) usage ;;
esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

client_port() { echo $((base_port + $1 - 1)); }
galera_port() { echo $((base_port + 100 + $1 - 1)); }
ist_port() { echo $((base_port + 200 + $1 - 1)); }
sst_port() { echo $((base_port + 300 + $1 - 1)); }
node_dir() { echo "$dir/node$1"; }
datadir() { echo "$dir/node$1/data"; }
socket() { echo "$dir/node$1/mysqld.sock"; }
pidfile() { echo "$dir/node$1/mysqld.pid"; }
logfile() { echo "$dir/node$1/mysqld.log"; }
cnffile() { echo "$dir/node$1/my.cnf"; }

# A Unix socket path is limited to 107 bytes (sun_path).
if [ "${#dir}" -gt 88 ]; then
  die "DIR $dir is too long for the node sockets (107 bytes): pass a shorter DIR"
fi

if [ "$(id -u)" -eq 0 ]; then
  run_user=mysql
else
  run_user=$(id -un)
fi

install_packages() {
  local missing=()
  [ -n "$(find_tool mariadbd)" ] && [ -n "$(find_tool mariadb-install-db)" ] || missing+=(mariadb-server)
  [ -n "$(find_tool mariadb)" ] && [ -n "$(find_tool mariadb-admin)" ] || missing+=(mariadb-client)
  [ -e "$provider" ] || missing+=(galera-4)
  [ -n "$(find_tool rsync)" ] || missing+=(rsync)
  # wsrep_sst_rsync checks its port with one of these.
  [ -n "$(find_tool ss)" ] || [ -n "$(find_tool lsof)" ] || missing+=(iproute2)
  if [ "${#missing[@]}" -eq 0 ]; then
    return
  fi
  ensure_packages "${missing[@]}"
  [ -e "$provider" ] || die "galera-4 installed but $provider is missing"
}

# The pid of node N's mariadbd: from its pid file, or, while it is still starting (the pid file is written only
# once a joiner has its state), from the pid recorded at launch. Either must be a live mariadbd started with
# this node's my.cnf: a stale file or a reused pid is not taken for the node.
node_pid() {
  local file pid
  for file in "$(pidfile "$1")" "$(node_dir "$1")/launched.pid"; do
    [ -f "$file" ] || continue
    pid=$(cat "$file" 2>/dev/null) || continue
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    kill -0 "$pid" 2>/dev/null || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--defaults-file=$(cnffile "$1")" || continue
    echo "$pid"
    return 0
  done
  return 1
}

is_running() { node_pid "$1" >/dev/null; }

mariadb_root() {
  local node=$1
  shift
  "$(find_tool mariadb)" --no-defaults --protocol=socket --socket="$(socket "$node")" -uroot --connect-timeout=2 \
    --batch --skip-column-names "$@"
}

# "state size cluster_status" of a node, e.g. "Synced 3 Primary"; fails if the node does not answer.
wsrep_state() {
  local out
  out=$(mariadb_root "$1" -e "SELECT
      MAX(IF(VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT', VARIABLE_VALUE, NULL)),
      MAX(IF(VARIABLE_NAME='WSREP_CLUSTER_SIZE', VARIABLE_VALUE, NULL)),
      MAX(IF(VARIABLE_NAME='WSREP_CLUSTER_STATUS', VARIABLE_VALUE, NULL))
    FROM information_schema.GLOBAL_STATUS
    WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE_COMMENT', 'WSREP_CLUSTER_SIZE', 'WSREP_CLUSTER_STATUS')" 2>/dev/null) ||
    return 1
  [ -n "$out" ] || return 1
  echo "$out" | tr '\t' ' '
}

log_tail() {
  local log
  log=$(logfile "$1")
  if [ -f "$log" ]; then
    echo "--- last lines of $log ---" >&2
    tail -n 30 "$log" >&2
  fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# The first directory on the way to DIR that the node user cannot enter, if any.
untraversable_parent() {
  local path=$1 prefix=""
  local part
  IFS=/ read -r -a parts <<<"${path#/}"
  for part in "${parts[@]}"; do
    prefix="$prefix/$part"
    if ! runuser -u "$run_user" -- test -x "$prefix" 2>/dev/null; then
      echo "$prefix"
      return
    fi
  done
}

prepare_dirs() {
  if [ "$run_user" != "$(id -un)" ]; then
    id "$run_user" >/dev/null 2>&1 || die "user $run_user does not exist (it comes with mariadb-server)"
    local blocked
    blocked=$(untraversable_parent "$dir")
    if [ -n "$blocked" ]; then
      die "user $run_user cannot enter $blocked (mode $(stat -c %A "$blocked")); the nodes run as $run_user so that" \
        "rsync SST works: make the path traversable (chmod o+x on each such directory) or pass a DIR elsewhere," \
        "e.g. /var/tmp/session-sidecar-galera"
    fi
  fi
  local n
  for n in "${nodes[@]}"; do
    mkdir -p "$(datadir "$n")"
    if [ "$run_user" != "$(id -un)" ]; then
      chown "$run_user:" "$(node_dir "$n")" "$(datadir "$n")"
      chmod 755 "$(node_dir "$n")"
    fi
    write_cnf "$n"
  done
}

write_cnf() {
  local n=$1 addresses="" i
  for i in "${nodes[@]}"; do
    addresses="$addresses${addresses:+,}127.0.0.1:$(galera_port "$i")"
  done
  local options
  options="gmcast.listen_addr=tcp://127.0.0.1:$(galera_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n")"
  options="$options;gcache.size=32M;gcache.page_size=32M"
  [ -n "${SIDECAR_GALERA_PROVIDER_OPTIONS:-}" ] && options="$options;$SIDECAR_GALERA_PROVIDER_OPTIONS"
  cat >"$(cnffile "$n")" <<EOF
# Written by scripts/galera.sh on every start; edits are overwritten.
[mysqld]
user=$run_user
datadir=$(datadir "$n")
socket=$(socket "$n")
pid-file=$(pidfile "$n")
log-error=$(logfile "$n")
port=$(client_port "$n")
bind-address=127.0.0.1
skip-name-resolve
max_connections=200
character-set-server=utf8mb4
collation-server=utf8mb4_bin
default_storage_engine=InnoDB
innodb_buffer_pool_size=32M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
key_buffer_size=4M
aria_pagecache_buffer_size=8M
binlog_format=ROW
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=$cluster_name
wsrep_cluster_address=gcomm://$addresses
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$(galera_port "$n")
wsrep_node_incoming_address=127.0.0.1:$(client_port "$n")
wsrep_provider_options="$options"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
EOF
  chmod 644 "$(cnffile "$n")"
}

initialise_node() {
  local n=$1
  say "initialising $(datadir "$n")"
  local install_log
  install_log=$(node_dir "$n")/install.log
  if ! "$(find_tool mariadb-install-db)" --no-defaults --datadir="$(datadir "$n")" --user="$run_user" \
    --auth-root-authentication-method=normal --skip-test-db --innodb-log-file-size=16M \
    --innodb-buffer-pool-size=32M >"$install_log" 2>&1 </dev/null; then
    tail -n 30 "$install_log" >&2
    die "mariadb-install-db failed (full log: $install_log)"
  fi
}

grastate() {
  # grastate NODE KEY: the value of KEY in the node's grastate.dat, empty if absent.
  local file
  file=$(datadir "$1")/grastate.dat
  [ -f "$file" ] || return 0
  sed -n "s/^$2:[[:space:]]*//p" "$file" | head -n 1
}

# The position (uuid:seqno) of a node that is not running and was not stopped cleanly (grastate.dat says
# seqno -1), recovered from InnoDB with --wsrep-recover as mysqld_safe and galera_recovery do; empty if unknown.
recovered_position() {
  local n=$1 recover_log
  recover_log=$(node_dir "$n")/recover.log
  rm -f "$recover_log"
  "$(find_tool mariadbd)" --defaults-file="$(cnffile "$n")" --wsrep-recover --log-error="$recover_log" \
    </dev/null >/dev/null 2>&1 || true
  sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:[0-9][0-9]*\).*/\1/p' "$recover_log" 2>/dev/null | tail -n 1
}

# The arguments to start an initialised node with: after a crash, --wsrep-start-position with the recovered
# position, so that the node asks for an incremental state transfer (IST) instead of a full copy (SST).
start_position_args() {
  local n=$1 seqno position
  [ -d "$(datadir "$n")/mysql" ] || return 0
  seqno=$(grastate "$n" seqno)
  if [ "$seqno" = "-1" ]; then
    position=$(recovered_position "$n")
    if [ -n "$position" ]; then
      say "node$n: crashed last time; recovered position $position"
      echo "--wsrep-start-position=$position"
    fi
  fi
}

# The last committed seqno of a node that is not running: from grastate.dat, or, after a crash, recovered.
node_seqno() {
  local n=$1 seqno position
  seqno=$(grastate "$n" seqno)
  if [ -z "$seqno" ] || [ "$seqno" = "-1" ]; then
    position=$(recovered_position "$n")
    seqno=${position##*:}
  fi
  echo "${seqno:--1}"
}

# Which node to bootstrap when none is running: the one grastate.dat marks safe_to_bootstrap (the last one
# stopped cleanly), otherwise (a crash of all nodes) the one with the highest seqno; a fresh cluster: node1.
choose_bootstrap_node() {
  local n initialised=()
  for n in "${nodes[@]}"; do
    [ -d "$(datadir "$n")/mysql" ] && initialised+=("$n")
  done
  if [ "${#initialised[@]}" -eq 0 ]; then
    echo 1
    return
  fi
  for n in "${initialised[@]}"; do
    if [ "$(grastate "$n" safe_to_bootstrap)" = "1" ]; then
      echo "$n"
      return
    fi
  done
  local best="" best_seqno=-2 seqno
  for n in "${initialised[@]}"; do
    seqno=$(node_seqno "$n")
    say "node$n: no node is marked safe_to_bootstrap; node$n's last seqno is $seqno"
    if [ "$seqno" -gt "$best_seqno" ]; then
      best=$n
      best_seqno=$seqno
    fi
  done
  say "bootstrapping node$best (highest seqno $best_seqno): setting safe_to_bootstrap: 1 in its grastate.dat"
  sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$(datadir "$best")/grastate.dat"
  echo "$best"
}

# Refuse to start a node whose ports something else already listens on (mariadbd would abort only after its
# state transfer, with a less obvious message).
check_ports() {
  local n=$1 port holders
  command -v ss >/dev/null 2>&1 || return 0
  for port in "$(client_port "$n")" "$(galera_port "$n")" "$(ist_port "$n")" "$(sst_port "$n")"; do
    holders=$(ss -Hltnp "sport = :$port" 2>/dev/null || true)
    if [ -n "$holders" ]; then
      die "node$n: port $port is already in use: $holders (set SIDECAR_GALERA_PORT to move all ports)"
    fi
  done
}

launch_node() {
  local n=$1
  shift
  check_ports "$n"
  local log
  log=$(logfile "$n")
  touch "$log"
  [ "$run_user" != "$(id -un)" ] && chown "$run_user:" "$log"
  echo "==== galera.sh: starting node$n $* at $(date -u +%FT%TZ) ====" >>"$log"
  rm -f "$(socket "$n")" "$(pidfile "$n")"
  # Detached from our stdin/stdout so that CI's pipes are not held open by the server.
  # shellcheck disable=SC2086 # SIDECAR_GALERA_EXTRA_ARGS is a list of arguments
  nohup "$(find_tool mariadbd)" --defaults-file="$(cnffile "$n")" "$@" ${SIDECAR_GALERA_EXTRA_ARGS:-} \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$(node_dir "$n")/launched.pid"
}

# Wait until node N answers and is Synced in a Primary component of at least MIN_SIZE nodes.
wait_synced() {
  local n=$1 min_size=$2 started
  started=$(now_ms)
  local state="" last_state="" comment size primary
  while :; do
    if state=$(wsrep_state "$n"); then
      read -r comment size primary <<<"$state"
      if [ "$comment" = "Synced" ] && [ "$primary" = "Primary" ] && [ "$size" -ge "$min_size" ]; then
        return 0
      fi
    else
      state="not answering"
    fi
    if [ "$state" != "$last_state" ]; then
      say "node$n: $state"
      last_state=$state
    fi
    if ! is_running "$n"; then
      log_tail "$n"
      die "node$n (mariadbd) exited while starting (port taken? state transfer failed? see $(logfile "$n"))"
    fi
    if [ "$(elapsed "$started" | cut -d. -f1)" -ge "$start_timeout" ]; then
      log_tail "$n"
      die "node$n was not Synced in a Primary component of $min_size within ${start_timeout}s (last: $state; see $(logfile "$n"))"
    fi
    sleep 0.5
  done
}

# Before a node joins: wait until every running node has dropped the node's previous (crashed) incarnation,
# i.e. reports a cluster size equal to the number of nodes running. A node that rejoins while the others still
# count its old incarnation goes through several failed membership rounds and needs 15-20 s instead of ~5 s.
wait_until_dropped() {
  local n=$1 others count i state size started waited_note=""
  others=$(running_nodes)
  count=$(echo "$others" | grep -c .)
  [ "$count" -gt 0 ] || return 0
  started=$(now_ms)
  while :; do
    local pending=""
    for i in $others; do
      state=$(wsrep_state "$i") || state="? ? ?"
      read -r _ size _ <<<"$state"
      [ "$size" = "$count" ] || pending="$pending node$i"
    done
    [ -z "$pending" ] && break
    if [ -z "$waited_note" ]; then
      say "waiting until${pending} no longer count node$n's previous incarnation (cluster size $count)"
      waited_note=1
    fi
    if [ "$(elapsed "$started" | cut -d. -f1)" -ge "$start_timeout" ]; then
      die "${pending# } still report a cluster size other than $count after ${start_timeout}s"
    fi
    sleep 0.2
  done
  [ -n "$waited_note" ] && say "dropped after $(elapsed "$started") s"
  return 0
}

# After the others were killed, the nodes left running may be a minority (one of three): Galera then stops them
# (non-Primary, "WSREP has not yet prepared node for application use") and a new node cannot join them. As an
# operator would, make the survivors a Primary component again with pc.bootstrap=YES; they hold every committed
# transaction, since nothing can commit without a Primary component.
ensure_primary() {
  local others count i state primary size
  others=$(running_nodes)
  count=$(echo "$others" | grep -c .)
  [ "$count" -gt 0 ] || return 0
  for i in $others; do
    state=$(wsrep_state "$i") || state="? ? ?"
    read -r _ size primary <<<"$state"
    [ "$primary" = "Primary" ] && return 0
  done
  if [ $((count * 2)) -gt "${#nodes[@]}" ]; then
    return 0 # a majority: it forms a Primary component by itself
  fi
  i=$(echo "$others" | head -n 1)
  say "node$i: the running nodes lost quorum (non-Primary, cluster size $size); making them Primary again (pc.bootstrap=YES)"
  mariadb_root "$i" -e "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'" ||
    die "node$i: SET GLOBAL wsrep_provider_options='pc.bootstrap=YES' failed"
  wait_synced "$i" 1
}

create_user_and_database() {
  # On one node; Galera replicates users, grants and databases to the others (DDL in total order).
  # sidecar may use session_sidecar and create/drop the sidecar_test_% databases that tests make one each.
  mariadb_root "$1" <<'SQL'
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

running_nodes() {
  local n
  for n in "${nodes[@]}"; do
    is_running "$n" && echo "$n"
  done
  return 0
}

start() {
  install_packages
  prepare_dirs
  local t0
  t0=$(now_ms)
  local running
  running=$(running_nodes | tr '\n' ' ')
  if [ -z "$running" ]; then
    local boot
    boot=$(choose_bootstrap_node)
    [ -d "$(datadir "$boot")/mysql" ] || initialise_node "$boot"
    say "bootstrapping a new cluster on node$boot (port $(client_port "$boot"))"
    local position_args
    position_args=$(start_position_args "$boot")
    # shellcheck disable=SC2086 # empty or one argument
    launch_node "$boot" --wsrep-new-cluster $position_args
    wait_synced "$boot" 1
    say "node$boot: Synced after $(elapsed "$t0") s"
  else
    say "already running: $(running_nodes | sed 's/^/node/' | tr '\n' ' ')"
  fi
  local n position_args
  for n in "${nodes[@]}"; do
    is_running "$n" && continue
    # A joiner needs no initialised data directory: the state transfer brings everything.
    wait_until_dropped "$n"
    ensure_primary
    say "starting node$n (port $(client_port "$n")) to join"
    position_args=$(start_position_args "$n")
    # shellcheck disable=SC2086 # empty or one argument
    launch_node "$n" $position_args
    wait_synced "$n" 2
    say "node$n: Synced after $(elapsed "$t0") s"
  done
  for n in "${nodes[@]}"; do
    wait_synced "$n" "${#nodes[@]}"
  done
  create_user_and_database 1
  say "cluster of ${#nodes[@]} Synced after $(elapsed "$t0") s"
  echo "galera.sh: running (client ports $(client_port 1),$(client_port 2),$(client_port 3); $dir)"
}

stop_node() {
  local n=$1 pid
  if ! pid=$(node_pid "$n"); then
    rm -f "$(pidfile "$n")"
    echo "galera.sh: node$n not running"
    return
  fi
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 120 ]; then
      say "node$n (pid $pid) ignored SIGTERM for 60s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  rm -f "$(pidfile "$n")"
  echo "galera.sh: node$n stopped"
}

stop() {
  # One at a time, node1 last: the last node to leave is the one marked safe_to_bootstrap.
  local n
  for n in 3 2 1; do
    stop_node "$n"
  done
}

kill_node() {
  local n=$1 pid
  if ! pid=$(node_pid "$n"); then
    echo "galera.sh: node$n not running"
    return
  fi
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
  done
  rm -f "$(pidfile "$n")"
  echo "galera.sh: node$n (pid $pid) killed"
}

restart_node() {
  local n=$1 t0
  t0=$(now_ms)
  if is_running "$n"; then
    say "node$n already running"
  else
    local others position_args
    others=$(running_nodes | sed 's/^/node/' | tr '\n' ' ')
    [ -n "$others" ] || die "no other node is running for node$n to join: use 'scripts/galera.sh start'"
    prepare_dirs
    wait_until_dropped "$n"
    ensure_primary
    say "starting node$n (port $(client_port "$n")) to rejoin ${others% }"
    position_args=$(start_position_args "$n")
    # shellcheck disable=SC2086 # empty or one argument
    launch_node "$n" $position_args
  fi
  wait_synced "$n" 2
  local state comment size
  state=$(wsrep_state "$n") || state="? ? ?"
  read -r comment size _ <<<"$state"
  echo "galera.sh: node$n $comment after $(elapsed "$t0") s (cluster size $size)"
}

status() {
  local n ok=0 pid state comment size primary
  for n in "${nodes[@]}"; do
    if pid=$(node_pid "$n"); then
      if state=$(wsrep_state "$n"); then
        read -r comment size primary <<<"$state"
        echo "node$n: pid $pid port $(client_port "$n") state $comment cluster_size $size $primary"
        { [ "$comment" = "Synced" ] && [ "$size" = "${#nodes[@]}" ] && [ "$primary" = "Primary" ]; } || ok=1
      else
        echo "node$n: pid $pid port $(client_port "$n") not answering"
        ok=1
      fi
    else
      echo "node$n: not running"
      ok=1
    fi
  done
  return "$ok"
}

print_env() {
  local hosts="" n
  for n in "${nodes[@]}"; do
    hosts="$hosts${hosts:+,}127.0.0.1:$(client_port "$n")"
  done
  echo "export SIDECAR_GALERA_HOSTS=$hosts"
  echo "export SIDECAR_GALERA_USER=sidecar"
  echo "export SIDECAR_GALERA_PASSWORD=sidecar"
  echo "export SIDECAR_GALERA_DATABASE=session_sidecar"
  echo "export SIDECAR_GALERA_DIR=$dir"
  for n in "${nodes[@]}"; do
    echo "export SIDECAR_GALERA_NODE${n}_PORT=$(client_port "$n")"
    echo "export SIDECAR_GALERA_NODE${n}_SOCKET=$(socket "$n")"
    echo "export SIDECAR_GALERA_NODE${n}_PID_FILE=$(pidfile "$n")"
  done
}

case "$command" in
start) start ;;
stop) stop ;;
env) print_env ;;
status) status ;;
kill) kill_node "$node_arg" ;;
restart-node) restart_node "$node_arg" ;;
esac
