"""The Python client for the SessionSidecar: length-prefixed protobuf over a Unix socket.

    from sessionsidecar import Client, VerifyOutcome

    with Client("/run/session-sidecar/sidecar.sock") as sidecar:   # or Client(): $SESSION_SIDECAR_SOCKET
        created = sidecar.create_session("user-42", {"role": "admin"})
        verified = sidecar.verify_session(created.access_token.token)
        assert verified.outcome is VerifyOutcome.OK and verified.session.user_id == "user-42"

`AsyncClient` has the same calls as coroutines. The generated protobuf module is `sessionsidecar.pb`.
"""

from ._wire import DEFAULT_MAX_FRAME_SIZE, DEFAULT_TIMEOUT, SOCKET_ENV, JsonObject, encode_frame
from .aio import AsyncClient, AsyncSigningKeysWatch
from .client import Client, SigningKeysWatch
from .errors import (
    ClientClosedError, Code, RequestTooLargeError, SidecarConnectionError, SidecarError, SidecarProtocolError,
    SidecarStatusError, SidecarTimeoutError,
)
from .types import (
    Cookie, CreateSessionResult, Health, KeyKind, ListSessionsResult, RefreshOutcome, RefreshSessionResult,
    RegenerateAccessTokenResult, RevokeSessionsResult, Session, SessionInfo, SigningKey, SigningKeys, Token,
    VerifyOutcome, VerifySessionResult,
)
from .v1 import sidecar_pb2 as pb

__all__ = [
    "AsyncClient", "AsyncSigningKeysWatch", "Client", "ClientClosedError", "Code", "Cookie", "CreateSessionResult",
    "DEFAULT_MAX_FRAME_SIZE", "DEFAULT_TIMEOUT", "Health", "JsonObject", "KeyKind", "ListSessionsResult",
    "RefreshOutcome", "RefreshSessionResult", "RegenerateAccessTokenResult", "RequestTooLargeError",
    "RevokeSessionsResult", "SOCKET_ENV", "Session", "SessionInfo", "SidecarConnectionError", "SidecarError",
    "SidecarProtocolError", "SidecarStatusError", "SidecarTimeoutError", "SigningKey", "SigningKeys",
    "SigningKeysWatch", "Token", "VerifyOutcome", "VerifySessionResult", "encode_frame", "pb",
]
__version__ = "0.2.0"
