"""Fixtures for the live-sidecar suite: SIDECAR_SOCKET (required) and SIDECAR_JWKS_FILE (optional)."""

from __future__ import annotations

import os
import stat
from typing import Iterator

import pytest

from sessionsidecar_client import SidecarClient, pb


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run without a sidecar: a missing SIDECAR_SOCKET is an error, never a silent skip."""
    if not os.environ.get("SIDECAR_SOCKET"):
        raise pytest.UsageError(
            "SIDECAR_SOCKET is not set: export SIDECAR_SOCKET=/path/to/sidecar.sock (a running session-sidecar) "
            "and optionally SIDECAR_JWKS_FILE=/path/to/jwks.json, then run the tests again."
        )


@pytest.fixture(scope="session")
def socket_path() -> str:
    """The live sidecar's Unix socket path, checked to exist."""
    path = os.environ["SIDECAR_SOCKET"]
    try:
        is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError as error:
        pytest.fail(f"SIDECAR_SOCKET={path!r} cannot be used: {error}")
    if not is_socket:
        pytest.fail(f"SIDECAR_SOCKET={path!r} is not a Unix socket")
    return path


@pytest.fixture
def client(socket_path: str) -> Iterator[SidecarClient]:
    """A fresh connection per test."""
    with SidecarClient(socket_path, timeout=10.0) as connection:
        yield connection


@pytest.fixture
def signing_keys(client: SidecarClient) -> pb.GetSigningKeysResponse:
    """The sidecar's current signing keys."""
    return client.get_signing_keys()


@pytest.fixture
def jwks_file_path() -> str:
    """SIDECAR_JWKS_FILE, or a visible skip when it is not set."""
    path = os.environ.get("SIDECAR_JWKS_FILE")
    if not path:
        pytest.skip("SIDECAR_JWKS_FILE is not set (point it at the sidecar's sidecar.jwksFile to run this test)")
    return path
