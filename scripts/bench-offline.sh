#!/usr/bin/env bash
# The offline library's verify against raw OpenSSL and vapor/jwt-kit (issue 11), on one access token made as the
# sidecar makes them. Builds bench/offline-verify (a package of its own, so jwt-kit and swift-crypto's BoringSSL
# never enter the sidecar's build) in release and runs it; prints the table and writes
# bench/results/offline-verify.json and bench/results/offline-verify.txt.
#
#   scripts/bench-offline.sh                       # 7 rounds of 1 s per verifier; the first build takes ~4 min
#   BENCH_ROUNDS=11 BENCH_SECONDS=2 scripts/bench-offline.sh
#   BENCH_RESULTS_DIR=/tmp/x ...                 # write the results elsewhere (scripts/test.sh's short run does)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/packages.sh
. "$repo/scripts/lib/packages.sh"
ensure_packages pkg-config libssl-dev
package=$repo/bench/offline-verify
results=${BENCH_RESULTS_DIR:-$repo/bench/results}
mkdir -p "$results"
echo "bench-offline.sh: building $package (release)" >&2
swift build -c release --package-path "$package" --product OfflineVerifyBenchmark >&2
"$(swift build -c release --package-path "$package" --show-bin-path)/OfflineVerifyBenchmark" \
  --rounds "${BENCH_ROUNDS:-7}" --seconds "${BENCH_SECONDS:-1}" --json "$results/offline-verify.json" |
  tee "$results/offline-verify.txt"
