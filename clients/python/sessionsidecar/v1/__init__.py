"""The wire contract's generated code: ``sidecar_pb2`` is written by scripts/generate-proto.sh (protoc
--python_out), from proto/sessionsidecar/v1/sidecar.proto; do not edit it by hand. This file is not generated:
it makes the folder a package, so the module's import name equals the proto file's path."""
