"""`SidecarClient`: one Unix-socket connection to the SessionSidecar, one method per call."""

from __future__ import annotations

import collections
import itertools
import json
import socket
import threading
from typing import Any, Deque, Dict, Iterable, Iterator, Mapping, Optional, Union

from google.protobuf.message import DecodeError, Message

from .errors import SidecarError, SidecarProtocolError
from .framing import DEFAULT_MAX_FRAME_SIZE, FrameReader, encode_frame
from .proto import pb

#: A JSON object given either as a mapping (serialised with `json.dumps`) or as a ready JSON string.
JsonObject = Union[str, Mapping[str, Any], None]

_UNSET: Any = object()


def _json_text(value: JsonObject) -> str:
    """Turn a `JsonObject` argument into the string the wire carries (``""`` means ``{}`` to the sidecar)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(dict(value), separators=(",", ":"))


class SidecarClient:
    """A connection to the sidecar. Use it from one thread at a time (locks keep it consistent otherwise).

    Every call method sends one `Request` and returns the matching result message (for example
    `pb.CreateSessionResponse`), raising `SidecarError` when the response's status is not OK. Session outcomes
    such as ``TRY_REFRESH_TOKEN`` are results, not errors: check the returned message's ``outcome``.

    For pipelining, `send` a request and later `receive` its response by id; responses for other ids that
    arrive meanwhile are kept until their caller asks for them.
    """

    def __init__(
        self,
        socket_path: str,
        timeout: Optional[float] = 10.0,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        """Connect to the sidecar's Unix socket; `timeout` (seconds, None = wait forever) bounds each read."""
        self.socket_path = socket_path
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(socket_path)
        except OSError:
            self._sock.close()
            raise
        self._reader = FrameReader(self._sock, max_frame_size)
        self._ids = itertools.count(1)
        self._pending: Dict[int, Deque[pb.Response]] = collections.defaultdict(collections.deque)
        self._send_lock = threading.Lock()
        self._receive_lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------------------------------------------
    # Connection

    def close(self) -> None:
        """Close the connection (this also ends any `watch_signing_keys` stream)."""
        if not self._closed:
            self._closed = True
            self._sock.close()

    def __enter__(self) -> "SidecarClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def next_id(self) -> int:
        """Reserve the next request id (ids start at 1 and only increase)."""
        return next(self._ids)

    def send(self, request: pb.Request) -> int:
        """Send `request`, giving it a fresh id when its id is 0, and return the id to `receive` with."""
        if request.id == 0:
            request.id = self.next_id()
        frame = encode_frame(request.SerializeToString())
        with self._send_lock:
            self._sock.sendall(frame)
        return request.id

    def receive(self, request_id: int, timeout: Optional[float] = _UNSET) -> pb.Response:
        """Return the next response carrying `request_id`, buffering responses for other ids.

        A connection-level error (a response with id 0) raises `SidecarError`. `timeout` overrides the
        client's timeout for this wait; a timeout raises `TimeoutError` and loses nothing.
        """
        with self._receive_lock:
            queued = self._pending.get(request_id)
            if queued:
                return queued.popleft()
            if timeout is not _UNSET:
                self._sock.settimeout(timeout)
            try:
                while True:
                    response = self._read_response()
                    if response.id == request_id:
                        return response
                    if response.id == 0:
                        raise SidecarError(response.status.code, response.status.message, 0)
                    self._pending[response.id].append(response)
            finally:
                if timeout is not _UNSET:
                    self._sock.settimeout(self.timeout)

    def _read_response(self) -> pb.Response:
        """Read and parse one `Response` frame."""
        payload = self._reader.read_frame()
        response = pb.Response()
        try:
            response.ParseFromString(payload)
        except DecodeError as error:
            raise SidecarProtocolError(f"unparsable response frame: {error}") from error
        return response

    def _result(self, response: pb.Response, call: str) -> Any:
        """Check a response's status and return its result for `call` (the oneof field's name)."""
        if response.status.code != pb.OK:
            raise SidecarError(response.status.code, response.status.message, response.id)
        kind = response.WhichOneof("result")
        if kind != call:
            raise SidecarProtocolError(f"response {response.id} carries result {kind!r}, expected {call!r}")
        return getattr(response, call)

    def _call(self, call: str, message: Message) -> Any:
        """Send one call (`call` is the `Request.call` field name) and return its checked result."""
        request = pb.Request()
        getattr(request, call).CopyFrom(message)
        request_id = self.send(request)
        return self._result(self.receive(request_id), call)

    # ------------------------------------------------------------------------------------------------------
    # Sessions

    def create_session(
        self,
        user_id: str,
        access_token_payload: JsonObject = None,
        session_data: JsonObject = None,
        enable_anti_csrf: bool = False,
        use_static_key: bool = False,
    ) -> pb.CreateSessionResponse:
        """Create a session; `access_token_payload` members become top-level access-token claims."""
        return self._call("create_session", pb.CreateSessionRequest(
            user_id=user_id,
            access_token_payload_json=_json_text(access_token_payload),
            session_data_json=_json_text(session_data),
            enable_anti_csrf=enable_anti_csrf,
            use_static_key=use_static_key,
        ))

    def verify_session(
        self,
        access_token: str,
        anti_csrf_token: str = "",
        do_anti_csrf_check: bool = False,
        check_database: bool = False,
    ) -> pb.VerifySessionResponse:
        """Verify an access token; inspect ``outcome`` (OK, TRY_REFRESH_TOKEN, UNAUTHORISED)."""
        return self._call("verify_session", pb.VerifySessionRequest(
            access_token=access_token,
            anti_csrf_token=anti_csrf_token,
            do_anti_csrf_check=do_anti_csrf_check,
            check_database=check_database,
        ))

    def refresh_session(self, refresh_token: str, anti_csrf_token: str = "") -> pb.RefreshSessionResponse:
        """Rotate a refresh token; inspect ``outcome`` (OK, UNAUTHORISED, TOKEN_THEFT_DETECTED)."""
        return self._call("refresh_session", pb.RefreshSessionRequest(
            refresh_token=refresh_token, anti_csrf_token=anti_csrf_token,
        ))

    def revoke_sessions(
        self, session_handles: Optional[Iterable[str]] = None, user_id: Optional[str] = None,
    ) -> pb.RevokeSessionsResponse:
        """Revoke the given sessions, or every session of `user_id` (give exactly one of the two)."""
        if (session_handles is None) == (user_id is None):
            raise ValueError("give exactly one of session_handles and user_id")
        if isinstance(session_handles, str):
            raise TypeError("session_handles must be an iterable of handles, not one string")
        request = pb.RevokeSessionsRequest()
        if user_id is not None:
            request.user_id = user_id
        else:
            request.session_handles.handles.extend(session_handles or [])
            request.session_handles.SetInParent()
        return self._call("revoke_sessions", request)

    def list_sessions(self, user_id: str) -> pb.ListSessionsResponse:
        """List the handles of a user's sessions."""
        return self._call("list_sessions", pb.ListSessionsRequest(user_id=user_id))

    def get_session(self, session_handle: str) -> pb.GetSessionResponse:
        """Fetch a session's stored information."""
        return self._call("get_session", pb.GetSessionRequest(session_handle=session_handle))

    def update_session_data(self, session_handle: str, session_data: JsonObject) -> pb.UpdateSessionDataResponse:
        """Replace a session's server-side data."""
        return self._call("update_session_data", pb.UpdateSessionDataRequest(
            session_handle=session_handle, session_data_json=_json_text(session_data),
        ))

    def update_access_token_payload(
        self, session_handle: str, access_token_payload: JsonObject,
    ) -> pb.UpdateAccessTokenPayloadResponse:
        """Replace the app's claims that the session's next access token will carry."""
        return self._call("update_access_token_payload", pb.UpdateAccessTokenPayloadRequest(
            session_handle=session_handle, access_token_payload_json=_json_text(access_token_payload),
        ))

    def regenerate_access_token(
        self, access_token: str, access_token_payload: JsonObject = None,
    ) -> pb.RegenerateAccessTokenResponse:
        """Issue a new access token with the same expiry carrying a new app payload."""
        return self._call("regenerate_access_token", pb.RegenerateAccessTokenRequest(
            access_token=access_token, access_token_payload_json=_json_text(access_token_payload),
        ))

    # ------------------------------------------------------------------------------------------------------
    # Keys and health

    def get_signing_keys(self) -> pb.GetSigningKeysResponse:
        """Return the public signing keys and the JWK Set a verifier needs."""
        return self._call("get_signing_keys", pb.GetSigningKeysRequest())

    def watch_signing_keys(self, timeout: Optional[float] = None) -> Iterator[pb.GetSigningKeysResponse]:
        """Yield the current key set, then each new key set as it changes, all on one request id.

        `timeout` bounds the wait for each item (None = wait forever). The stream ends only with the
        connection; use a dedicated client for it and `close` it when done.
        """
        request = pb.Request(watch_signing_keys=pb.WatchSigningKeysRequest())
        request_id = self.send(request)
        while True:
            yield self._result(self.receive(request_id, timeout=timeout), "watch_signing_keys")

    def health(self) -> pb.HealthResponse:
        """Ask whether the sidecar serves and reaches its database."""
        return self._call("health", pb.HealthRequest())
