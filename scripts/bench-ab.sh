#!/usr/bin/env bash
# The socket's verify figures of two sidecar binaries, measured in one run, interleaved (A B A B ...), so that both
# see the same machine: e.g. main's binary against a branch's, to show a change keeps the fast path's speed.
#
#   scripts/bench-ab.sh A_BINARY B_BINARY
#
# Builds bench/'s loadgen, starts the private MariaDB (scripts/mariadb.sh) and one sidecar per binary, each on a
# database of its own (scripts/test-sidecar.sh, directories under $BENCH_RUN_DIR, default /tmp/session-sidecar-ab),
# creates $BENCH_POOL sessions on each, then runs $BENCH_ROUNDS rounds of: verify throughput (4 connections × 64 in
# flight, unique tokens) and verify latency (1 connection, 1 in flight) on A, then on B. Prints one line per run and
# the median of each figure per binary; every loadgen JSON line goes to $BENCH_RUN_DIR/ab-runs.jsonl. Stops and drops
# both sidecars at exit. Settings: BENCH_SECONDS=5 BENCH_WARMUP=1 BENCH_ROUNDS=3 BENCH_POOL=20000.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/packages.sh
. "$repo/scripts/lib/packages.sh"
die() {
  echo "bench-ab.sh: $*" >&2
  exit 1
}
[ $# -eq 2 ] || die "usage: $0 A_BINARY B_BINARY"
binaries=("$1" "$2")
for bin in "${binaries[@]}"; do [ -x "$bin" ] || die "not an executable: $bin"; done
seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-3}
pool=${BENCH_POOL:-20000}
run_dir=${BENCH_RUN_DIR:-/tmp/session-sidecar-ab}
mkdir -p "$run_dir"
dirs=("$run_dir/a" "$run_dir/b")

cleanup() {
  for dir in "${dirs[@]}"; do "$repo/scripts/test-sidecar.sh" drop "$dir" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

ensure_packages gcc make pkg-config libssl-dev libprotobuf-c-dev
make -C "$repo/bench" --no-print-directory -s >&2
loadgen=$repo/bench/build/loadgen
"$repo/scripts/mariadb.sh" start >&2
runs=$run_dir/ab-runs.jsonl
: >"$runs"

jget() { sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1"; }
for i in 0 1; do
  "$repo/scripts/test-sidecar.sh" drop "${dirs[$i]}" >/dev/null 2>&1 || true
  SIDECAR_BIN=${binaries[$i]} "$repo/scripts/test-sidecar.sh" start "${dirs[$i]}" >&2
  "$loadgen" create --socket "${dirs[$i]}/sidecar.sock" --count "$pool" --conns 4 --inflight 16 \
    --out "${dirs[$i]}/tokens.tsv" --quiet --label "create-$i" >>"$runs"
done

for round in $(seq 1 "$rounds"); do
  for i in 0 1; do
    name=$([ "$i" -eq 0 ] && echo A || echo B)
    sock=${dirs[$i]}/sidecar.sock
    throughput=$("$loadgen" verify --socket "$sock" --tokens "${dirs[$i]}/tokens.tsv" --set unique --pool "$pool" \
      --conns 4 --inflight 64 --seconds "$seconds" --warmup "$warmup" --label "$name-throughput-$round")
    latency=$("$loadgen" verify --socket "$sock" --tokens "${dirs[$i]}/tokens.tsv" --set unique --pool "$pool" \
      --conns 1 --inflight 1 --seconds "$seconds" --warmup "$warmup" --label "$name-latency-$round")
    echo "$throughput" >>"$runs"
    echo "$latency" >>"$runs"
    echo "round $round $name: $(jget "$throughput" per_s) verifies/s (4×64); 1 in flight: p50 $(jget "$latency" p50_us) µs, p99 $(jget "$latency" p99_us) µs"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for name in A B; do
  per_s=$(grep "\"$name-throughput-" "$runs" | while read -r l; do jget "$l" per_s; done | median)
  p50=$(grep "\"$name-latency-" "$runs" | while read -r l; do jget "$l" p50_us; done | median)
  p99=$(grep "\"$name-latency-" "$runs" | while read -r l; do jget "$l" p99_us; done | median)
  bin=${binaries[0]}
  [ "$name" = B ] && bin=${binaries[1]}
  echo "median $name ($bin): $per_s verifies/s (4×64), p50 $p50 µs, p99 $p99 µs (1 in flight)"
done
