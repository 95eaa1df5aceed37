#!/usr/bin/env bash
# Shows that a program built against the Swift client product alone (SessionSidecarClient) links neither
# libssl/libcrypto nor libmariadb: builds Examples/SidecarClientExample and reads its dynamic dependencies.
# Exits non-zero when either appears.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product SidecarClientExample >/dev/null
binary="$(swift build --show-bin-path)/SidecarClientExample"
libraries=$(ldd "$binary")
if grep -Eq 'libssl|libcrypto|libmariadb|libmysqlclient' <<<"$libraries"; then
  echo "check-client-links: FAILED: $binary links a crypto or database library:" >&2
  grep -E 'libssl|libcrypto|libmariadb|libmysqlclient' <<<"$libraries" >&2
  exit 1
fi
echo "check-client-links: ok: SidecarClientExample links $(wc -l <<<"$libraries") libraries, none of libssl, libcrypto, libmariadb"
