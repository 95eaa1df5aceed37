#!/usr/bin/env bash
# Regenerates the Go protobuf code of the Go client from proto/sessionsidecar/v1/sidecar.proto into
# clients/go/sessionsidecarv1/sidecar.pb.go (import path sessionsidecar.dev/client/sessionsidecarv1).
# Needs protoc and protoc-gen-go (Debian: protobuf-compiler, protoc-gen-go; the generated code then builds
# against golang-google-protobuf-dev, same version). Called by scripts/generate-proto.sh; runs from anywhere.
#
# The .proto's `go_package = "sessionsidecar/v1;sessionsidecarv1"` names no importable module, so the M option
# below maps the file to this module's package instead (same package name, sessionsidecarv1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
module=sessionsidecar.dev/client
proto=sessionsidecar/v1/sidecar.proto

command -v protoc >/dev/null || { echo "generate.sh: protoc not found (Debian: protobuf-compiler)" >&2; exit 1; }
plugin=${PROTOC_GEN_GO:-$(command -v protoc-gen-go || true)}
[ -n "$plugin" ] || { echo "generate.sh: protoc-gen-go not found (Debian: protoc-gen-go)" >&2; exit 1; }

mkdir -p "$here/sessionsidecarv1"
protoc -I "$repo/proto" --plugin=protoc-gen-go="$plugin" \
  --go_out="$here" \
  --go_opt=module="$module" \
  --go_opt=M"$proto"="$module/sessionsidecarv1;sessionsidecarv1" \
  "$proto"
echo "generated: clients/go/sessionsidecarv1/sidecar.pb.go"
