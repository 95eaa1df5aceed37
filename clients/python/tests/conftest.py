"""Fixtures for the live-sidecar suite.

SESSION_SIDECAR_SOCKET (required): the socket of a running session-sidecar (scripts/test-sidecar.sh env).
SESSION_SIDECAR_RESTART (optional): a shell command that restarts that sidecar (same database, same keys); the
tests that need it are skipped, with the reason shown, when it is unset.
SIDECAR_JWKS_FILE and SIDECAR_JWKS_URL (optional): see the tests that read them.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

import sessionsidecar
from sessionsidecar import Client, SigningKeys


def pytest_report_header(config: pytest.Config) -> str:
    return f"sessionsidecar {sessionsidecar.__version__} from {os.path.dirname(sessionsidecar.__file__)}"


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run without a sidecar: a missing SESSION_SIDECAR_SOCKET is an error, never a silent skip."""
    source = Path(__file__).resolve().parent.parent / "sessionsidecar"
    if os.environ.get("SESSIONSIDECAR_TEST_INSTALLED") and Path(sessionsidecar.__file__).resolve().parent == source:
        raise pytest.UsageError(f"sessionsidecar was imported from the source folder {source}, not from the "
                                "installed package: run pytest without the source folder on sys.path")
    if not os.environ.get("SESSION_SIDECAR_SOCKET"):
        raise pytest.UsageError(
            "SESSION_SIDECAR_SOCKET is not set: export SESSION_SIDECAR_SOCKET=/path/to/sidecar.sock (a running "
            "session-sidecar; `eval \"$(scripts/test-sidecar.sh env DIR)\"` sets it and the others), then run the "
            "tests again."
        )


@pytest.fixture(scope="session")
def socket_path() -> str:
    """The live sidecar's Unix socket path, checked to exist."""
    path = os.environ["SESSION_SIDECAR_SOCKET"]
    try:
        is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError as error:
        pytest.fail(f"SESSION_SIDECAR_SOCKET={path!r} cannot be used: {error}")
    if not is_socket:
        pytest.fail(f"SESSION_SIDECAR_SOCKET={path!r} is not a Unix socket")
    return path


@pytest.fixture
def client(socket_path: str) -> Iterator[Client]:
    """A fresh client (connection) per test."""
    with Client(socket_path, timeout=10.0) as connection:
        yield connection


@pytest.fixture
def signing_keys(client: Client) -> SigningKeys:
    """The sidecar's current signing keys."""
    return client.get_signing_keys()


@pytest.fixture
def jwks_file_path() -> str:
    """SIDECAR_JWKS_FILE, or a visible skip when it is not set."""
    path = os.environ.get("SIDECAR_JWKS_FILE")
    if not path:
        pytest.skip("SIDECAR_JWKS_FILE is not set (point it at the sidecar's sidecar.jwksFile to run this test)")
    return path


@pytest.fixture
def restart_sidecar(socket_path: str) -> Callable[[], None]:
    """A function that restarts the live sidecar with $SESSION_SIDECAR_RESTART, or a visible skip when unset."""
    command = os.environ.get("SESSION_SIDECAR_RESTART")
    if not command:
        pytest.skip("SESSION_SIDECAR_RESTART is not set (scripts/test-sidecar.sh env sets it: a command that "
                    "restarts the sidecar on the same database and keys)")

    def restart() -> None:
        done = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"{command} failed ({done.returncode}): {done.stderr[-2000:]}"
        assert stat.S_ISSOCK(os.stat(socket_path).st_mode), "the sidecar's socket is missing after the restart"

    return restart
