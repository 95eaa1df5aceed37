#!/usr/bin/env bash
# Regenerates the committed protobuf code (Swift, Python, C, Go) from proto/sessionsidecar/v1/sidecar.proto.
# Needs protoc and protoc-c (Debian: protobuf-compiler, protobuf-c-compiler). protoc-gen-swift is built once
# from the swift-protobuf version Package.swift names, into .build-protoc-gen-swift/, unless it is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

plugin=$(command -v protoc-gen-swift || true)
if [ -z "$plugin" ]; then
  swift build -c release --product protoc-gen-swift --scratch-path .build-protoc-gen-swift >&2
  plugin=.build-protoc-gen-swift/release/protoc-gen-swift
fi

proto=sessionsidecar/v1/sidecar.proto
swift_out=Sources/SessionSidecarWire/Generated
python_out=clients/python  # protoc writes sessionsidecar/v1/sidecar_pb2.py there: inside the sessionsidecar package
c_out=clients/c/generated
mkdir -p "$swift_out" "$python_out" "$c_out"

protoc -I proto --plugin=protoc-gen-swift="$plugin" \
  --swift_out="$swift_out" --swift_opt=Visibility=Public,FileNaming=DropPath "$proto"
protoc -I proto --python_out="$python_out" "$proto"
protoc-c -I proto --c_out="$c_out" "$proto"
clients/go/generate.sh
echo "generated: $swift_out, $python_out, $c_out, clients/go/sessionsidecarv1"
