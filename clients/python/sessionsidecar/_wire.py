"""What both clients share: framing, the socket path, building each call's request and reading its result.

Framing: every frame, both ways, is a 4-byte unsigned big-endian length N, then N bytes of one protobuf
message (`Request` out, `Response` back).
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any, Callable, Iterable, List, Mapping, NamedTuple, Optional, Union

from google.protobuf.message import DecodeError, Message

from . import types as t
from .errors import Code, RequestTooLargeError, SidecarProtocolError, SidecarStatusError
from .v1 import sidecar_pb2 as pb

HEADER = struct.Struct(">I")
#: The sidecar's default `sidecar.maxFrameBytes` (4 MiB); frames over it are refused both ways.
DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024
#: Seconds a call waits for its answer unless the client or the call says otherwise.
DEFAULT_TIMEOUT = 10.0
SOCKET_ENV = "SESSION_SIDECAR_SOCKET"

#: A JSON object given either as a mapping (serialised with `json.dumps`) or as a ready JSON string.
JsonObject = Union[str, Mapping[str, Any], None]


class _Default:
    """The type of `DEFAULT`: "use the client's timeout"."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


def resolve_socket_path(socket_path: Optional[Union[str, "os.PathLike[str]"]]) -> str:
    """The argument, else $SESSION_SIDECAR_SOCKET; neither is a `ValueError`."""
    if socket_path is None:
        socket_path = os.environ.get(SOCKET_ENV) or None
        if socket_path is None:
            raise ValueError(f"no sidecar socket: pass socket_path or set {SOCKET_ENV}")
    return os.fspath(socket_path)


def encode_frame(payload: bytes) -> bytes:
    """Prefix `payload` with its length."""
    return HEADER.pack(len(payload)) + payload


def encode_request(request: pb.Request, max_frame_size: int) -> bytes:
    """The framed request; one over `max_frame_size` raises `RequestTooLargeError` (and is not sent)."""
    payload = request.SerializeToString()
    if len(payload) > max_frame_size:
        raise RequestTooLargeError(
            f"the request is {len(payload)} bytes, over the frame limit of {max_frame_size} bytes; not sent",
            request_id=request.id, call=request.WhichOneof("call") or "",
        )
    return encode_frame(payload)


class FrameDecoder:
    """Cuts a byte stream into frame payloads, keeping a partial frame across reads."""

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self._max_frame_size = max_frame_size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> List[bytes]:
        """Add `data`; return the payloads of the frames it completed (a frame over the limit raises)."""
        self._buffer += data
        payloads = []
        offset = 0
        buffer = self._buffer
        while len(buffer) - offset >= HEADER.size:
            (length,) = HEADER.unpack_from(buffer, offset)
            if length > self._max_frame_size:
                raise SidecarProtocolError(
                    f"the sidecar sent a frame of {length} bytes, over the limit of {self._max_frame_size}")
            end = offset + HEADER.size + length
            if len(buffer) < end:
                break
            payloads.append(bytes(buffer[offset + HEADER.size:end]))
            offset = end
        if offset:
            del buffer[:offset]
        return payloads


def parse_response(payload: bytes) -> pb.Response:
    response = pb.Response()
    try:
        response.ParseFromString(payload)
    except DecodeError as error:
        raise SidecarProtocolError(f"the sidecar sent a frame that is not a Response: {error}") from None
    return response


def is_stream(request: pb.Request) -> bool:
    """Whether the sidecar answers `request` with many responses on its id (WatchSigningKeys)."""
    return request.WhichOneof("call") == "watch_signing_keys"


def result_of(response: pb.Response, call: str) -> Any:
    """`response`'s result message for `call`, or `SidecarStatusError` when its status is not OK."""
    if response.status.code != Code.OK:
        raise SidecarStatusError(response.status.code, response.status.message, response.id, call)
    kind = response.WhichOneof("result")
    if kind != call:
        raise SidecarProtocolError(f"the answer carries result {kind!r}, not {call!r}", request_id=response.id,
                                   call=call)
    return getattr(response, call)


def json_text(value: JsonObject, argument: str) -> str:
    """A `JsonObject` argument as the string the wire carries (``""`` means ``{}`` to the sidecar)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(dict(value), separators=(",", ":"))
    raise TypeError(f"{argument} must be a mapping, a JSON string or None, not {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------------
# One CallSpec per call: the Request's oneof field, its message, and how to turn the result into a type.


class CallSpec(NamedTuple):
    call: str
    message: Message
    convert: Callable[[Any], Any]

    def request(self) -> pb.Request:
        request = pb.Request()
        getattr(request, self.call).CopyFrom(self.message)
        return request

    def result(self, response: pb.Response) -> Any:
        return self.convert(result_of(response, self.call))


def _none(_message: Any) -> None:
    return None


def create_session(user_id: str, access_token_payload: JsonObject, session_data: JsonObject,
                   enable_anti_csrf: bool, use_static_key: bool) -> CallSpec:
    return CallSpec("create_session", pb.CreateSessionRequest(
        user_id=user_id,
        access_token_payload_json=json_text(access_token_payload, "access_token_payload"),
        session_data_json=json_text(session_data, "session_data"),
        enable_anti_csrf=enable_anti_csrf,
        use_static_key=use_static_key,
    ), t.CreateSessionResult.from_pb)


def verify_session(access_token: str, anti_csrf_token: str, do_anti_csrf_check: bool,
                   check_database: bool) -> CallSpec:
    return CallSpec("verify_session", pb.VerifySessionRequest(
        access_token=access_token, anti_csrf_token=anti_csrf_token, do_anti_csrf_check=do_anti_csrf_check,
        check_database=check_database,
    ), t.VerifySessionResult.from_pb)


def refresh_session(refresh_token: str, anti_csrf_token: str) -> CallSpec:
    return CallSpec("refresh_session", pb.RefreshSessionRequest(
        refresh_token=refresh_token, anti_csrf_token=anti_csrf_token,
    ), t.RefreshSessionResult.from_pb)


def revoke_sessions(session_handles: Optional[Iterable[str]], user_id: Optional[str]) -> CallSpec:
    if (session_handles is None) == (user_id is None):
        raise ValueError("give exactly one of session_handles and user_id")
    if isinstance(session_handles, str):
        raise TypeError("session_handles must be an iterable of handles, not one string")
    message = pb.RevokeSessionsRequest()
    if user_id is not None:
        message.user_id = user_id
    else:
        message.session_handles.handles.extend(session_handles or [])
        message.session_handles.SetInParent()
    return CallSpec("revoke_sessions", message, t.RevokeSessionsResult.from_pb)


def list_sessions(user_id: str) -> CallSpec:
    return CallSpec("list_sessions", pb.ListSessionsRequest(user_id=user_id), t.ListSessionsResult.from_pb)


def get_session(session_handle: str) -> CallSpec:
    return CallSpec("get_session", pb.GetSessionRequest(session_handle=session_handle), t.SessionInfo.from_pb)


def update_session_data(session_handle: str, session_data: JsonObject) -> CallSpec:
    return CallSpec("update_session_data", pb.UpdateSessionDataRequest(
        session_handle=session_handle, session_data_json=json_text(session_data, "session_data"),
    ), _none)


def update_access_token_payload(session_handle: str, access_token_payload: JsonObject) -> CallSpec:
    return CallSpec("update_access_token_payload", pb.UpdateAccessTokenPayloadRequest(
        session_handle=session_handle,
        access_token_payload_json=json_text(access_token_payload, "access_token_payload"),
    ), _none)


def regenerate_access_token(access_token: str, access_token_payload: JsonObject) -> CallSpec:
    return CallSpec("regenerate_access_token", pb.RegenerateAccessTokenRequest(
        access_token=access_token,
        access_token_payload_json=json_text(access_token_payload, "access_token_payload"),
    ), t.RegenerateAccessTokenResult.from_pb)


def get_signing_keys() -> CallSpec:
    return CallSpec("get_signing_keys", pb.GetSigningKeysRequest(), t.SigningKeys.from_pb)


def watch_signing_keys() -> CallSpec:
    return CallSpec("watch_signing_keys", pb.WatchSigningKeysRequest(), t.SigningKeys.from_pb)


def health() -> CallSpec:
    return CallSpec("health", pb.HealthRequest(), t.Health.from_pb)
