"""Fixtures of the gRPC suite: a channel to the sidecar's gRPC Unix socket, and the SessionSidecar stubs generated
from the project's .proto with grpc_tools.protoc into a temporary directory (nothing generated is committed for
Python's gRPC: the socket client in clients/python keeps its own code).

Needs SESSION_SIDECAR_GRPC_SOCKET (tests/grpc/run.sh sets it, with a sidecar it started)."""

import importlib
import os
import pathlib
import sys

import grpc
import pytest
from grpc_tools import protoc

REPO = pathlib.Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "proto"
PROTOC_INCLUDE = pathlib.Path(protoc.__file__).parent / "_proto"  # google/protobuf/*.proto, shipped with grpcio-tools


def grpc_socket() -> str:
    path = os.environ.get("SESSION_SIDECAR_GRPC_SOCKET")
    if not path:
        pytest.fail("SESSION_SIDECAR_GRPC_SOCKET is not set: run tests/grpc/run.sh")
    return path


def generate(out: pathlib.Path, *protos: str) -> None:
    """Python messages and gRPC stubs for `protos` (paths under proto/) into `out`."""
    args = ["grpc_tools.protoc", f"-I{PROTO_DIR}", f"-I{PROTOC_INCLUDE}", f"--python_out={out}",
            f"--grpc_python_out={out}"]
    if protoc.main(args + list(protos)) != 0:
        pytest.fail(f"grpc_tools.protoc failed on {protos}")


@pytest.fixture(scope="session")
def sidecar_pb(tmp_path_factory):
    """(messages, stubs) of sessionsidecar.v1, generated from proto/sessionsidecar/v1/sidecar.proto."""
    out = tmp_path_factory.mktemp("generated")
    generate(out, "sessionsidecar/v1/sidecar.proto")
    sys.path.insert(0, str(out))
    try:
        return (importlib.import_module("sessionsidecar.v1.sidecar_pb2"),
                importlib.import_module("sessionsidecar.v1.sidecar_pb2_grpc"))
    finally:
        sys.path.remove(str(out))


@pytest.fixture(scope="session")
def channel():
    with grpc.insecure_channel(f"unix:{grpc_socket()}") as ch:
        grpc.channel_ready_future(ch).result(timeout=60)
        yield ch
