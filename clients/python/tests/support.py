"""Helpers shared by the tests: JWT decoding, unique users, raw socket connections."""

from __future__ import annotations

import base64
import json
import socket
import struct
import uuid
from typing import Any, Dict, Tuple

from sessionsidecar_client import SidecarClient, encode_frame, pb

VERIFY = pb.VerifySessionResponse
REFRESH = pb.RefreshSessionResponse
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


def outcome_name(message: Any) -> str:
    """The symbolic outcome of a Verify/RefreshSessionResponse, for readable assertion messages."""
    return type(message).Outcome.Name(message.outcome)


def cookie_named(cookies: Any, name: str) -> pb.Cookie:
    """The cookie called `name` from a repeated Cookie field."""
    matches = [cookie for cookie in cookies if cookie.name == name]
    assert len(matches) == 1, f"expected one {name} cookie, got {[c.name for c in cookies]}"
    return matches[0]


def create(client: SidecarClient, **kwargs: Any) -> pb.CreateSessionResponse:
    """Create a session for a new user unless `user_id` is given."""
    kwargs.setdefault("user_id", new_user())
    return client.create_session(**kwargs)


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

    def _read_exactly(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError(f"connection closed after {len(data)} of {count} bytes")
            data += chunk
        return bytes(data)

    def read_response(self) -> pb.Response:
        """Read one framed Response."""
        (length,) = struct.unpack(">I", self._read_exactly(4))
        response = pb.Response()
        response.ParseFromString(self._read_exactly(length))
        return response

    def closed_by_peer(self) -> bool:
        """True when the server has closed the connection (reads end of stream, or reset)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
