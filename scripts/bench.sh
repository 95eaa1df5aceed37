#!/usr/bin/env bash
# The sidecar's end-to-end benchmark (issue 11): one command, a few minutes, as root on Debian 12.
#
#   scripts/bench.sh
#
# Installs what it needs (gcc, make, pkg-config, libssl-dev, libprotobuf-c-dev, openssl, curl), builds bench/'s C tools,
# builds the sidecar in release (unless SIDECAR_BIN is set), starts the private MariaDB (scripts/mariadb.sh) and a
# sidecar on a database of its own (scripts/test-sidecar.sh), then measures in one run: `openssl speed rsa2048`,
# the floor server (bench/floor_server.c), and the sidecar through bench/loadgen.c (then restarted on the same
# database with blacklisting on, and once more with the verified-token cache off). Prints a table and writes
# bench/results/latest.json (the figures), latest-runs.jsonl (every loadgen line) and latest.txt (the table).
# Every process it starts is stopped at exit; the sidecar's database is dropped. What each figure means:
# bench/README.md.
#
# Settings (environment):
#   BENCH_SECONDS=5          measured seconds per run            BENCH_WARMUP=1      unmeasured seconds before each
#   BENCH_CONNS=4            connections for throughput runs     BENCH_INFLIGHT=64   in flight per connection
#   BENCH_POOL=100000        sessions created first (the "unique" token set; also create_per_s); all of them are
#                            in the verified-token cache when rss_mb_loaded is read
#   BENCH_REPEAT_SET=2000    tokens of the "repeat" set
#   BENCH_DB_CONNS=4         connections for create/refresh      BENCH_DB_INFLIGHT=16 in flight per connection
#   BENCH_OPENSSL_SECONDS=3  `openssl speed -seconds`            BENCH_IDLE_WAIT=3   seconds before rss_mb_idle
#   SIDECAR_BIN=path         use this sidecar binary instead of building one (`swift build -c release`)
#   BENCH_EXTRA_YAML=text    more sidecar configuration as dotted keys, e.g. "sidecar.maxInFlightPerConnection: 64"
#                            (not blacklisting or verifyCache.maxEntries: the restarts set those)
#   BENCH_RUN_DIR=dir        working files (default bench/.run); BENCH_KEEP=1 keeps them and the database
set -euo pipefail
# shellcheck source=lib/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/packages.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$repo/bench
results=$bench/results

seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
conns=${BENCH_CONNS:-4}
inflight=${BENCH_INFLIGHT:-64}
pool=${BENCH_POOL:-100000}
repeat_set=${BENCH_REPEAT_SET:-2000}
db_conns=${BENCH_DB_CONNS:-4}
db_inflight=${BENCH_DB_INFLIGHT:-16}
openssl_seconds=${BENCH_OPENSSL_SECONDS:-3}
idle_wait=${BENCH_IDLE_WAIT:-3}
keep=${BENCH_KEEP:-0}

say() { echo "bench.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# --- what it needs ---------------------------------------------------------------------------------------------
install_packages() {
  ensure_packages gcc make pkg-config libssl-dev libprotobuf-c-dev openssl curl
}

# --- processes started here, stopped at exit -------------------------------------------------------------------
floor_pid=
mariadb_started=0
sidecar_dir=
run_dir=

cleanup() {
  local status=$?
  set +e
  if [ -n "$floor_pid" ] && kill -0 "$floor_pid" 2>/dev/null; then
    kill -TERM "$floor_pid"
    wait "$floor_pid" 2>/dev/null
  fi
  if [ -n "$sidecar_dir" ]; then
    if [ "$keep" = 1 ]; then
      "$repo/scripts/test-sidecar.sh" stop "$sidecar_dir" >/dev/null 2>&1
    else
      "$repo/scripts/test-sidecar.sh" drop "$sidecar_dir" >/dev/null 2>&1
    fi
  fi
  if [ "$mariadb_started" = 1 ]; then
    "$repo/scripts/mariadb.sh" stop >/dev/null 2>&1
  fi
  if [ -n "$run_dir" ] && [ "$keep" != 1 ]; then
    rm -f "$run_dir"/tokens*.tsv "$run_dir"/tokens*.tsv.tmp
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- JSON and arithmetic helpers (no jq, no python) -----------------------------------------------------------
# jget LINE KEY: a number from a flat loadgen JSON line.
jget() {
  local v
  v=$(sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1")
  [ -n "$v" ] || die "no \"$2\" in: $1"
  echo "$v"
}
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' <<<"$1"; }

# --- build ---------------------------------------------------------------------------------------------------
install_packages
say "building bench/ (loadgen, floor_server)"
make -C "$bench" --no-print-directory -s >&2
loadgen=$bench/build/loadgen
floor=$bench/build/floor_server

if [ -n "${SIDECAR_BIN:-}" ]; then
  sidecar_bin=$SIDECAR_BIN
else
  command -v swift >/dev/null 2>&1 || die "swift is not on PATH: install Swift 6 or set SIDECAR_BIN"
  say "building the sidecar (swift build -c release --product session-sidecar)"
  (cd "$repo" && swift build -c release --product session-sidecar >&2)
  sidecar_bin="$(cd "$repo" && swift build -c release --show-bin-path)/session-sidecar"
fi
[ -x "$sidecar_bin" ] || die "no sidecar binary at $sidecar_bin"
case "$sidecar_bin" in
*/debug/*) say "WARNING: $sidecar_bin looks like a debug build: its figures say nothing about the sidecar" ;;
esac

# --- working directory (the sidecar's socket path must stay short: sidecar.socketPath ≤ 90 bytes) ------------
run_dir=${BENCH_RUN_DIR:-$bench/.run}
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
if [ "${#run_dir}" -gt 60 ]; then
  run_dir=/tmp/session-sidecar-bench
  mkdir -p "$run_dir"
  say "the working directory's path is long; using $run_dir"
fi
sidecar_dir=$run_dir/sidecar
floor_sock=$run_dir/floor.sock
tokens=$run_dir/tokens.tsv
mkdir -p "$results"
runs_file=$results/latest-runs.jsonl
: >"$runs_file"

# run_loadgen NAME ARGS...: runs one measurement, keeps its JSON line in $runs_file, stops the benchmark if any
# measured request failed. The line is left in the variable `line`.
line=
run_loadgen() {
  local name=$1
  shift
  say "run: $name ($*)"
  local rc=0
  line=$("$loadgen" "$@" --label "$name") || rc=$?
  [ -n "$line" ] && echo "$line" >>"$runs_file"
  if [ "$rc" -ne 0 ]; then
    say "loadgen $name failed (exit $rc): ${line:-no output}"
    [ -n "$sidecar_dir" ] && [ -f "$sidecar_dir/sidecar.log" ] && tail -n 20 "$sidecar_dir/sidecar.log" >&2
    exit 1
  fi
  say "  $(jget "$line" per_s)/s, p50 $(jget "$line" p50_us) µs, p99 $(jget "$line" p99_us) µs"
}

sidecar_pid() { cat "$sidecar_dir/sidecar.pid"; }
sidecar_alive() {
  kill -0 "$(sidecar_pid)" 2>/dev/null || {
    tail -n 30 "$sidecar_dir/sidecar.log" >&2
    die "the sidecar exited during the benchmark (log: $sidecar_dir/sidecar.log)"
  }
}
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$(sidecar_pid)/status"; }

# --- MariaDB and the sidecar -----------------------------------------------------------------------------------
mariadb_pidfile=$repo/.run/mariadb/mysqld.pid
if ! { [ -f "$mariadb_pidfile" ] && kill -0 "$(cat "$mariadb_pidfile")" 2>/dev/null; }; then
  mariadb_started=1
fi
"$repo/scripts/mariadb.sh" start >&2

export SIDECAR_BIN=$sidecar_bin
# A fresh database each run: no sessions left from an earlier one.
"$repo/scripts/test-sidecar.sh" drop "$sidecar_dir" >&2
rm -f "$sidecar_dir/sidecar.log"
SIDECAR_EXTRA_YAML="${BENCH_EXTRA_YAML:-}" "$repo/scripts/test-sidecar.sh" start "$sidecar_dir" >&2
say "sidecar $(sidecar_pid) on $sidecar_dir/sidecar.sock ($sidecar_bin)"
sleep "$idle_wait"
sidecar_alive
rss_mb_idle=$(rss_mb)
sock=$sidecar_dir/sidecar.sock

# --- create the pool (create_per_s) ---------------------------------------------------------------------------
run_loadgen create create --socket "$sock" --count "$pool" --conns "$db_conns" --inflight "$db_inflight" \
  --out "$tokens" --quiet
create_per_s=$(jget "$line" per_s)
sidecar_alive

# --- openssl speed: one core ----------------------------------------------------------------------------------
say "run: openssl speed -seconds $openssl_seconds -elapsed rsa2048"
openssl_out=$(openssl speed -seconds "$openssl_seconds" -elapsed rsa2048 2>/dev/null)
openssl_line=$(grep -E '^rsa +2048 +bits' <<<"$openssl_out" | tail -n 1)
[ -n "$openssl_line" ] || die "cannot read openssl speed's output: $openssl_out"
openssl_sign_per_s=$(awk '{ print $(NF-1) }' <<<"$openssl_line")
openssl_verify_per_s=$(awk '{ print $NF }' <<<"$openssl_line")
say "  sign $openssl_sign_per_s/s, verify $openssl_verify_per_s/s"
echo "{\"mode\":\"openssl-speed\",\"label\":\"openssl\",\"sign_per_s\":$openssl_sign_per_s,\"verify_per_s\":$openssl_verify_per_s,\"version\":\"$(json_escape "$(openssl version)")\"}" >>"$runs_file"

# --- the floor ------------------------------------------------------------------------------------------------
rm -f "$floor_sock"
"$floor" --socket "$floor_sock" 2>>"$run_dir/floor.log" &
floor_pid=$!
for _ in $(seq 1 600); do # RSA key generation first: up to 30 s
  [ -S "$floor_sock" ] && break
  kill -0 "$floor_pid" 2>/dev/null || die "floor_server exited (log: $run_dir/floor.log)"
  sleep 0.05
done
[ -S "$floor_sock" ] || die "floor_server did not listen"
run_loadgen floor-throughput verify --socket "$floor_sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns "$conns" --inflight "$inflight" --seconds "$seconds" --warmup "$warmup"
floor_verify_per_s=$(jget "$line" per_s)
run_loadgen floor-latency verify --socket "$floor_sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns 1 --inflight 1 --seconds "$seconds" --warmup "$warmup"
floor_p50_us=$(jget "$line" p50_us)
floor_p99_us=$(jget "$line" p99_us)
floor_p999_us=$(jget "$line" p999_us)
kill -TERM "$floor_pid"
wait "$floor_pid" 2>/dev/null || true
floor_pid=

# --- the sidecar ----------------------------------------------------------------------------------------------
run_loadgen verify-unique verify --socket "$sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns "$conns" --inflight "$inflight" --seconds "$seconds" --warmup "$warmup"
verify_unique_per_s=$(jget "$line" per_s)
sidecar_alive

run_loadgen verify-repeat verify --socket "$sock" --tokens "$tokens" --set repeat --pool "$repeat_set" \
  --conns "$conns" --inflight "$inflight" --seconds "$seconds" --warmup "$warmup"
verify_repeat_per_s=$(jget "$line" per_s)
sidecar_alive
rss_mb_loaded=$(rss_mb)
# How many tokens the cache holds now (the gauge is updated every 2 s).
sleep 2.5
http_url=$("$repo/scripts/test-sidecar.sh" env "$sidecar_dir" | sed -n 's/^export SESSION_SIDECAR_HTTP=//p')
verify_cache_entries=$(curl -fsS "$http_url/metrics" |
  awk '$1 == "session_sidecar_verify_cache_entries" { printf "%d", $2 }')
[ -n "$verify_cache_entries" ] || die "no session_sidecar_verify_cache_entries in $http_url/metrics"

run_loadgen verify-latency verify --socket "$sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns 1 --inflight 1 --seconds "$seconds" --warmup "$warmup"
verify_p50_us=$(jget "$line" p50_us)
verify_p99_us=$(jget "$line" p99_us)
verify_p999_us=$(jget "$line" p999_us)
sidecar_alive

half_rate=$(calc "$verify_unique_per_s / 2" 0)
run_loadgen verify-half-rate verify --socket "$sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns "$conns" --rate "$half_rate" --seconds "$seconds" --warmup "$warmup"
verify_half_rate_p50_us=$(jget "$line" p50_us)
verify_half_rate_p99_us=$(jget "$line" p99_us)
verify_half_rate_p999_us=$(jget "$line" p999_us)
sidecar_alive

# Refresh rotates the refresh tokens; the rotated ones are written back, the access tokens stay valid.
run_loadgen refresh refresh --socket "$sock" --tokens "$tokens" --out "$tokens" --conns "$db_conns" \
  --inflight "$db_inflight" --seconds "$seconds" --warmup "$warmup"
refresh_per_s=$(jget "$line" per_s)
sidecar_alive

# restart_sidecar YAML: the same sidecar (same database and keys) again, with one more dotted key of configuration.
# test-sidecar.sh already writes a `tokens:` and a `sidecar:` block and the sidecar refuses a second top-level key
# of either (duplicated keys); the configuration is flattened to dotted keys, so one dotted top-level key merges
# into it. settings.env keeps the first start's extra YAML and wins over the environment: remove it to change it.
restart_sidecar() {
  "$repo/scripts/test-sidecar.sh" stop "$sidecar_dir" >&2
  rm -f "$sidecar_dir/settings.env"
  SIDECAR_EXTRA_YAML="$1${BENCH_EXTRA_YAML:+
$BENCH_EXTRA_YAML}" "$repo/scripts/test-sidecar.sh" start "$sidecar_dir" >&2
}

# --- with blacklisting on -------------------------------------------------------------------------------------
restart_sidecar "tokens.accessToken.blacklisting: true"
"$sidecar_bin" config check --config "$sidecar_dir/sidecar.yaml" 2>&1 | grep -q '^ *blacklisting: true' ||
  die "blacklisting is not on in $sidecar_dir/sidecar.yaml"
sleep 2 # the first revocation-log sync
sidecar_alive
run_loadgen verify-blacklisting verify --socket "$sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns "$conns" --inflight "$inflight" --seconds "$seconds" --warmup "$warmup"
verify_blacklisting_per_s=$(jget "$line" per_s)
sidecar_alive

# --- with the verified-token cache off: every request pays the RS256 check ------------------------------------
# What "distinct tokens" cost (a token the cache has not seen): the cached runs above cycle a pool the cache holds.
restart_sidecar "sidecar.verifyCache.maxEntries: 0"
sleep 1
sidecar_alive
run_loadgen verify-uncached verify --socket "$sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns "$conns" --inflight "$inflight" --seconds "$seconds" --warmup "$warmup"
verify_uncached_per_s=$(jget "$line" per_s)
run_loadgen verify-uncached-latency verify --socket "$sock" --tokens "$tokens" --set unique --pool "$pool" \
  --conns 1 --inflight 1 --seconds "$seconds" --warmup "$warmup"
verify_uncached_p50_us=$(jget "$line" p50_us)
verify_uncached_p99_us=$(jget "$line" p99_us)
verify_uncached_p999_us=$(jget "$line" p999_us)
sidecar_alive
log_problems=$(grep -ciE 'error|warning|critical' "$sidecar_dir/sidecar.log" || true)

# --- results --------------------------------------------------------------------------------------------------
nproc_n=$(nproc)
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[ -n "$cpu_model" ] || cpu_model=$(uname -m)
kernel=$(uname -r)
timestamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)

cat >"$results/latest.json" <<JSON
{
  "verify_unique_per_s": $verify_unique_per_s,
  "verify_repeat_per_s": $verify_repeat_per_s,
  "verify_blacklisting_per_s": $verify_blacklisting_per_s,
  "verify_uncached_per_s": $verify_uncached_per_s,
  "verify_uncached_p50_us": $verify_uncached_p50_us,
  "verify_uncached_p99_us": $verify_uncached_p99_us,
  "verify_uncached_p999_us": $verify_uncached_p999_us,
  "verify_p50_us": $verify_p50_us,
  "verify_p99_us": $verify_p99_us,
  "verify_p999_us": $verify_p999_us,
  "verify_half_rate_p50_us": $verify_half_rate_p50_us,
  "verify_half_rate_p99_us": $verify_half_rate_p99_us,
  "verify_half_rate_p999_us": $verify_half_rate_p999_us,
  "create_per_s": $create_per_s,
  "refresh_per_s": $refresh_per_s,
  "rss_mb_idle": $rss_mb_idle,
  "rss_mb_loaded": $rss_mb_loaded,
  "verify_cache_entries": $verify_cache_entries,
  "openssl_verify_per_s": $openssl_verify_per_s,
  "openssl_sign_per_s": $openssl_sign_per_s,
  "floor_verify_per_s": $floor_verify_per_s,
  "floor_p50_us": $floor_p50_us,
  "floor_p99_us": $floor_p99_us,
  "nproc": $nproc_n,
  "cpu_model": "$(json_escape "$cpu_model")",
  "kernel": "$(json_escape "$kernel")",
  "timestamp": "$timestamp"
}
JSON

# The table: rates against openssl's one-core rate (verify, or sign for calls that sign a token) and against the
# floor's rate at the same settings; latencies against openssl's time per verify (1e6 / verify/s) and the
# floor's latency at the same percentile, one connection, one in flight.
openssl_verify_us=$(calc "1000000 / $openssl_verify_per_s" 2)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
row() { printf '| %-44s | %12s | %-5s | %14s | %10s |\n' "$1" "$2" "$3" "$4" "$5"; }
{
  echo "SessionSidecar benchmark, $timestamp"
  echo "machine: $nproc_n x $cpu_model, Linux $kernel; $(openssl version | cut -d' ' -f1-2)"
  echo "sidecar: $sidecar_bin"
  echo "settings: ${seconds}s per run after ${warmup}s warm-up; throughput runs $conns conn x $inflight in flight;" \
    "pool $pool tokens, repeat set $repeat_set; create/refresh $db_conns conn x $db_inflight in flight"
  echo
  row "figure" "value" "unit" "x openssl" "x floor"
  row "--------------------------------------------" "-----------:" "-----" "-------------:" "---------:"
  row "openssl speed rsa2048 verify (1 core)" "$openssl_verify_per_s" "/s" "1.00x" "$(ratio "$openssl_verify_per_s" "$floor_verify_per_s")"
  row "openssl speed rsa2048 sign (1 core)" "$openssl_sign_per_s" "/s" "1.00x (sign)" "-"
  row "floor verify (${conns}x${inflight})" "$floor_verify_per_s" "/s" "$(ratio "$floor_verify_per_s" "$openssl_verify_per_s")" "1.00x"
  row "floor latency p50 (1x1)" "$floor_p50_us" "us" "$(ratio "$floor_p50_us" "$openssl_verify_us")" "1.00x"
  row "floor latency p99 (1x1)" "$floor_p99_us" "us" "$(ratio "$floor_p99_us" "$openssl_verify_us")" "1.00x"
  row "floor latency p99.9 (1x1, not in JSON)" "$floor_p999_us" "us" "$(ratio "$floor_p999_us" "$openssl_verify_us")" "1.00x"
  row "verify_unique_per_s (${conns}x${inflight})" "$verify_unique_per_s" "/s" "$(ratio "$verify_unique_per_s" "$openssl_verify_per_s")" "$(ratio "$verify_unique_per_s" "$floor_verify_per_s")"
  row "verify_repeat_per_s (${conns}x${inflight})" "$verify_repeat_per_s" "/s" "$(ratio "$verify_repeat_per_s" "$openssl_verify_per_s")" "$(ratio "$verify_repeat_per_s" "$floor_verify_per_s")"
  row "verify_blacklisting_per_s (${conns}x${inflight})" "$verify_blacklisting_per_s" "/s" "$(ratio "$verify_blacklisting_per_s" "$openssl_verify_per_s")" "$(ratio "$verify_blacklisting_per_s" "$floor_verify_per_s")"
  row "verify_uncached_per_s (${conns}x${inflight}, cache off)" "$verify_uncached_per_s" "/s" "$(ratio "$verify_uncached_per_s" "$openssl_verify_per_s")" "$(ratio "$verify_uncached_per_s" "$floor_verify_per_s")"
  row "verify_p50_us (1x1)" "$verify_p50_us" "us" "$(ratio "$verify_p50_us" "$openssl_verify_us")" "$(ratio "$verify_p50_us" "$floor_p50_us")"
  row "verify_p99_us (1x1)" "$verify_p99_us" "us" "$(ratio "$verify_p99_us" "$openssl_verify_us")" "$(ratio "$verify_p99_us" "$floor_p99_us")"
  row "verify_p999_us (1x1)" "$verify_p999_us" "us" "$(ratio "$verify_p999_us" "$openssl_verify_us")" "$(ratio "$verify_p999_us" "$floor_p999_us")"
  row "verify_uncached_p50_us (1x1, cache off)" "$verify_uncached_p50_us" "us" "$(ratio "$verify_uncached_p50_us" "$openssl_verify_us")" "$(ratio "$verify_uncached_p50_us" "$floor_p50_us")"
  row "verify_uncached_p99_us (1x1, cache off)" "$verify_uncached_p99_us" "us" "$(ratio "$verify_uncached_p99_us" "$openssl_verify_us")" "$(ratio "$verify_uncached_p99_us" "$floor_p99_us")"
  row "verify_uncached_p999_us (1x1, cache off)" "$verify_uncached_p999_us" "us" "$(ratio "$verify_uncached_p999_us" "$openssl_verify_us")" "$(ratio "$verify_uncached_p999_us" "$floor_p999_us")"
  row "verify_half_rate_p50_us ($half_rate/s open)" "$verify_half_rate_p50_us" "us" "$(ratio "$verify_half_rate_p50_us" "$openssl_verify_us")" "$(ratio "$verify_half_rate_p50_us" "$floor_p50_us")"
  row "verify_half_rate_p99_us" "$verify_half_rate_p99_us" "us" "$(ratio "$verify_half_rate_p99_us" "$openssl_verify_us")" "$(ratio "$verify_half_rate_p99_us" "$floor_p99_us")"
  row "verify_half_rate_p999_us" "$verify_half_rate_p999_us" "us" "$(ratio "$verify_half_rate_p999_us" "$openssl_verify_us")" "$(ratio "$verify_half_rate_p999_us" "$floor_p999_us")"
  row "create_per_s (${db_conns}x${db_inflight})" "$create_per_s" "/s" "$(ratio "$create_per_s" "$openssl_sign_per_s") sign" "-"
  row "refresh_per_s (${db_conns}x${db_inflight})" "$refresh_per_s" "/s" "$(ratio "$refresh_per_s" "$openssl_sign_per_s") sign" "-"
  row "rss_mb_idle" "$rss_mb_idle" "MiB" "-" "-"
  row "rss_mb_loaded ($verify_cache_entries tokens cached)" "$rss_mb_loaded" "MiB" "-" "-"
  echo
  echo "sidecar log: $log_problems line(s) mentioning error/warning/critical ($sidecar_dir/sidecar.log)"
  echo "results: $results/latest.json, every run: $runs_file"
} | tee "$results/latest.txt"
