#!/usr/bin/env bash
# Runs the minimal Python client of docs/protocol.md, exactly as the page shows it, against a live sidecar:
#   eval "$(scripts/test-sidecar.sh env DIR)"        # after scripts/test-sidecar.sh start DIR
#   tests/protocol_doc/test_minimal_client.sh
#
# Takes the protoc command (between <!-- minimal-client-protoc:start/end -->) and the client (between
# <!-- minimal-client:start/end -->) from the page, generates sidecar_pb2.py with that command into a temporary
# folder, runs the client there with $SESSION_SIDECAR_SOCKET, and passes when it prints "verify: OK user-42".
# Needs python3 (with venv) and protoc (scripts/install-deps.sh installs both). The `protobuf` runtime is installed
# with pip into a virtualenv of its own, $PROTOCOL_DOC_VENV (default /tmp/sessionsidecar-protocol-doc-venv), reused
# by later runs; $PROTOBUF_REQUIREMENT overrides which protobuf it installs.
# Exits 0 on success, 1 when the client fails or prints anything else, 2 when something it needs is missing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
doc=$repo/docs/protocol.md
venv=${PROTOCOL_DOC_VENV:-/tmp/sessionsidecar-protocol-doc-venv}

result() {
  # The plain closing line a CI log reader counts.
  echo "protocol_doc: $1 passed, $2 failed"
}
missing() {
  echo "test_minimal_client: $*" >&2
  result 0 1
  exit 2
}
fail() {
  echo "test_minimal_client: FAIL: $*" >&2
  result 0 1
  exit 1
}

[ -n "${SESSION_SIDECAR_SOCKET:-}" ] ||
  missing "SESSION_SIDECAR_SOCKET is not set: eval \"\$(scripts/test-sidecar.sh env DIR)\" after starting one"
[ -S "$SESSION_SIDECAR_SOCKET" ] || missing "no socket at $SESSION_SIDECAR_SOCKET: is the sidecar running?"
command -v protoc >/dev/null || missing "protoc is not installed (scripts/install-deps.sh installs it)"
command -v python3 >/dev/null || missing "python3 is not installed (scripts/install-deps.sh installs it)"

# The body of the fenced block between <!-- NAME:start --> and <!-- NAME:end -->, without the fence lines.
block() {
  awk -v start="<!-- $1:start -->" -v end="<!-- $1:end -->" '
    $0 == start { inside = 1; next }
    $0 == end { inside = 0; next }
    inside && /^```/ { fence = !fence; next }
    inside && fence { print }
  ' "$doc"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/protocol-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT

client=$(block minimal-client)
[ -n "$client" ] || fail "no python block between <!-- minimal-client:start --> and <!-- minimal-client:end --> in $doc"
printf '%s\n' "$client" >"$work/minimal_client.py"

protoc_command=$(block minimal-client-protoc | sed -e 's/[[:space:]]*#.*$//' | grep -E '^protoc ' || true)
[ -n "$protoc_command" ] || fail "no protoc command between the minimal-client-protoc markers in $doc"
# Run as the page says, from a folder where proto/ is this repository's.
ln -s "$repo/proto" "$work/proto"
(cd "$work" && bash -euc "$protoc_command") || fail "the page's protoc command failed: $protoc_command"
[ -f "$work/sidecar_pb2.py" ] || fail "the page's protoc command did not write sidecar_pb2.py: $protoc_command"

# The protobuf runtime to match protoc's generated code: protoc 3.x (Debian 12: 3.21) makes code for the 4.21+
# runtime (4.x is what the project's Python client tests with); protoc N.x (N >= 22) for runtime 4.N / 5.N / 6.N ...
if [ -z "${PROTOBUF_REQUIREMENT:-}" ]; then
  protoc_version=$(protoc --version | awk '{print $2}')
  protoc_major=${protoc_version%%.*}
  if [ "$protoc_major" = 3 ]; then
    PROTOBUF_REQUIREMENT='protobuf>=4.21,<5'
  else
    PROTOBUF_REQUIREMENT="protobuf>=4.$protoc_major"
  fi
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || missing "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
"$venv/bin/python" -m pip --disable-pip-version-check --quiet install "$PROTOBUF_REQUIREMENT" ||
  missing "pip could not install $PROTOBUF_REQUIREMENT into $venv"

echo "test_minimal_client: running the client of docs/protocol.md against $SESSION_SIDECAR_SOCKET"
set +e
output=$(cd "$work" && timeout 60 "$venv/bin/python" minimal_client.py 2>&1)
status=$?
set -e
printf '%s\n' "$output"
[ "$status" -eq 0 ] || fail "the client exited with status $status"
grep -qx 'verify: OK user-42' <<<"$output" || fail "the client did not print 'verify: OK user-42'"
echo "test_minimal_client: ok"
result 1 0
