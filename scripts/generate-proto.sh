#!/usr/bin/env bash
# Regenerates the committed protobuf code (Swift, Python, C, Go) from proto/sessionsidecar/v1/sidecar.proto, and
# the gRPC code of SidecarGRPC (the SessionSidecar service, Envoy's ext_authz subset, grpc.health.v1) from
# proto/. Needs protoc and protoc-c (Debian: protobuf-compiler, protobuf-c-compiler). The two Swift plugins,
# protoc-gen-swift and protoc-gen-grpc-swift-2, are built once from the versions Package.swift names, into
# .build-protoc-plugins/ (one after the other; a later run reuses them), unless they are on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=.build-protoc-plugins
plugin_path() {
  local found
  found=$(command -v "$1" || true)
  if [ -z "$found" ]; then
    found=$scratch/release/$1
    [ -x "$found" ] || nice swift build -c release --product "$1" --scratch-path "$scratch" >&2
  fi
  echo "$found"
}
plugin=$(plugin_path protoc-gen-swift)
grpc_plugin=$(plugin_path protoc-gen-grpc-swift-2)

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

# gRPC: the contract's service (its messages stay in SessionSidecarWire), then the messages and services that
# only the gRPC listener uses. Package visibility: SidecarGRPC's own tests and the benchmark use them.
grpc_out=Sources/SidecarGRPC/Generated
mkdir -p "$grpc_out"
grpc_only=(envoy/service/auth/v3/external_auth.proto envoy/service/auth/v3/attribute_context.proto
  envoy/config/core/v3/base.proto envoy/type/v3/http_status.proto google/rpc/status.proto grpc/health/v1/health.proto)
protoc -I proto --plugin=protoc-gen-swift="$plugin" \
  --swift_out="$grpc_out" --swift_opt=Visibility=Package,FileNaming=DropPath "${grpc_only[@]}"
grpc_opt=Visibility=Package,Server=true,Client=true,FileNaming=DropPath
protoc -I proto --plugin=protoc-gen-grpc-swift-2="$grpc_plugin" --grpc-swift-2_out="$grpc_out" \
  --grpc-swift-2_opt="$grpc_opt,ExtraModuleImports=SessionSidecarWire" "$proto"
protoc -I proto --plugin=protoc-gen-grpc-swift-2="$grpc_plugin" --grpc-swift-2_out="$grpc_out" \
  --grpc-swift-2_opt="$grpc_opt" envoy/service/auth/v3/external_auth.proto grpc/health/v1/health.proto
echo "generated: $swift_out, $python_out, $c_out, clients/go/sessionsidecarv1, $grpc_out"
