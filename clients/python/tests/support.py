"""Helpers shared by the tests: JWT decoding, unique users, raw socket connections, a scripted fake sidecar."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from sessionsidecar import Client, Cookie, CreateSessionResult, RefreshOutcome, VerifyOutcome, encode_frame, pb

VERIFY = VerifyOutcome
REFRESH = RefreshOutcome
PROTECTED_CLAIMS = (
    "sub", "exp", "iat", "sessionHandle", "refreshTokenHash1", "parentRefreshTokenHash1", "antiCsrfToken",
)


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    """Encode as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Dict[str, Any]) -> str:
    """A JSON object as an unpadded base64url JWT segment."""
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def jwt_parts(token: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The (header, claims) of a JWT, unverified."""
    header, claims, _signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(claims))


def new_user() -> str:
    """A user id no other test uses."""
    return f"pytest-{uuid.uuid4()}"


def outcome_name(result: Any) -> str:
    """The symbolic outcome of a Verify/RefreshSessionResult, for readable assertion messages."""
    return result.outcome.name


def cookie_named(cookies: Any, name: str) -> Cookie:
    """The cookie called `name` from a result's cookies."""
    matches = [cookie for cookie in cookies if cookie.name == name]
    assert len(matches) == 1, f"expected one {name} cookie, got {[c.name for c in cookies]}"
    return matches[0]


def create(client: Client, **kwargs: Any) -> CreateSessionResult:
    """Create a session for a new user unless `user_id` is given."""
    kwargs.setdefault("user_id", new_user())
    return client.create_session(**kwargs)


def read_exactly(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {count} bytes")
        data += chunk
    return bytes(data)


class RawConnection:
    """A bare socket speaking the framing by hand, for sending malformed frames."""

    def __init__(self, socket_path: str, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(socket_path)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send_bytes(self, data: bytes) -> None:
        """Send raw bytes (framing is up to the caller)."""
        self.sock.sendall(data)

    def send_payload(self, payload: bytes) -> None:
        """Send one correctly framed payload."""
        self.sock.sendall(encode_frame(payload))

    def send_request(self, request: pb.Request) -> None:
        """Send one framed Request."""
        self.send_payload(request.SerializeToString())

    def read_response(self) -> pb.Response:
        """Read one framed Response."""
        (length,) = struct.unpack(">I", read_exactly(self.sock, 4))
        response = pb.Response()
        response.ParseFromString(read_exactly(self.sock, length))
        return response

    def closed_by_peer(self) -> bool:
        """True when the server has closed the connection (reads end of stream, or reset)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


class FakeConnection:
    """The server side of one connection to a `FakeSidecar`."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(30)

    def read_request(self) -> pb.Request:
        (length,) = struct.unpack(">I", read_exactly(self.sock, 4))
        request = pb.Request()
        request.ParseFromString(read_exactly(self.sock, length))
        return request

    def answer(self, request: pb.Request, **result: Any) -> None:
        """Answer `request` OK with `result` (e.g. health=pb.HealthResponse(serving=True))."""
        self.write(pb.Response(id=request.id, status=pb.Status(code=pb.OK), **result))

    def wait_for_hang_up(self) -> None:
        """Read until the client closes the connection (anything it sends is ignored)."""
        while True:
            try:
                if not self.sock.recv(65536):
                    return
            except ConnectionError:
                return

    def write(self, response: pb.Response) -> None:
        self.sock.sendall(encode_frame(response.SerializeToString()))

    def close(self) -> None:
        self.sock.close()


class FakeSidecar:
    """A scripted stand-in on a Unix socket: each accepted connection runs the next handler from `handlers`
    (in a thread); for client behaviour the real sidecar cannot be made to show on demand (silence, a close
    in the middle of a call)."""

    def __init__(self, path: str, handlers: List[Callable[[FakeConnection], None]]) -> None:
        self.path = path
        self.handlers = list(handlers)
        self.errors: List[BaseException] = []
        self.connections = 0
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(8)
        self._threads: List[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            handler: Optional[Callable[[FakeConnection], None]] = self.handlers.pop(0) if self.handlers else None
            if handler is None:
                sock.close()
                continue
            thread = threading.Thread(target=self._run, args=(handler, FakeConnection(sock)), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, handler: Callable[[FakeConnection], None], connection: FakeConnection) -> None:
        try:
            handler(connection)
        except BaseException as error:  # reported by close()
            self.errors.append(error)
        finally:
            connection.close()

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=30)
        if os.path.exists(self.path):
            os.unlink(self.path)
        assert not self.errors, f"the fake sidecar's handlers failed: {self.errors!r}"

    def __enter__(self) -> "FakeSidecar":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
