"""The exceptions the client raises, and the wire's status codes.

Every exception is a `SidecarError` and carries a `code` (a `Code`, gRPC's numbering, as on the wire) and a
`message`:

- `SidecarStatusError`: the sidecar answered the call with a status that is not OK; `code` and `message` are
  the wire's (``INVALID_ARGUMENT (3): user_id is empty``).
- `SidecarConnectionError` (also a built-in `ConnectionError`): the client could not connect, or the connection
  broke while the call was in flight (then the call may or may not have been carried out). `code` is
  UNAVAILABLE, or the status the sidecar sent for the whole connection just before closing it.
- `ClientClosedError` (a `SidecarConnectionError`): the client was closed.
- `SidecarTimeoutError` (also a built-in `TimeoutError`): no answer within the call's timeout; `code` is
  DEADLINE_EXCEEDED. The connection stays usable; a late answer is dropped.
- `SidecarProtocolError`: the sidecar's bytes broke the contract (unparsable frame, a result of the wrong kind,
  an outcome this client does not know); `code` is INTERNAL.
- `RequestTooLargeError` (also a `ValueError`): the request would not fit in one frame; nothing was sent;
  `code` is RESOURCE_EXHAUSTED, what the sidecar would answer.

Session outcomes (TRY_REFRESH_TOKEN, UNAUTHORISED, TOKEN_THEFT_DETECTED) are never exceptions: they are values
in the results.
"""

from __future__ import annotations

import enum
from typing import Optional, Union


class Code(enum.IntEnum):
    """`sessionsidecar.v1.Code`: gRPC's status codes and numbers."""

    OK = 0
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16


def as_code(number: int) -> Union[Code, int]:
    """`number` as a `Code`, or the bare number when this client does not know it (a newer sidecar)."""
    try:
        return Code(number)
    except ValueError:
        return number


def code_name(code: Union[Code, int]) -> str:
    """``"INVALID_ARGUMENT"``, or ``"CODE_99"`` for a number this client does not know."""
    return code.name if isinstance(code, Code) else f"CODE_{int(code)}"


class SidecarError(Exception):
    """Base of every exception this client raises.

    Attributes:
        code: a `Code` (or a bare int for a code this client does not know).
        message: what went wrong, in words; never a token, a hash or a key.
        request_id: the request's id on the wire, 0 when there is none.
        call: the call's name (``"create_session"``), empty when there is none.
    """

    default_code: Code = Code.INTERNAL

    def __init__(
        self,
        message: str,
        code: Optional[Union[Code, int]] = None,
        request_id: int = 0,
        call: str = "",
    ) -> None:
        self.code: Union[Code, int] = as_code(self.default_code if code is None else code)
        self.message = message
        self.request_id = request_id
        self.call = call
        super().__init__(self._text())

    @property
    def code_name(self) -> str:
        """The code's name, e.g. ``"INVALID_ARGUMENT"``."""
        return code_name(self.code)

    @property
    def code_number(self) -> int:
        """The code's number on the wire, e.g. 3."""
        return int(self.code)

    def _text(self) -> str:
        where = self.call or "sidecar"
        if self.request_id:
            where += f" (request {self.request_id})"
        return f"{where}: {self.code_name} ({int(self.code)}): {self.message}"

    def __str__(self) -> str:
        return self._text()


class SidecarStatusError(SidecarError):
    """The sidecar carried out no call: its answer's status is not OK (`code` and `message` are the wire's)."""

    def __init__(self, code: Union[Code, int], message: str, request_id: int = 0, call: str = "") -> None:
        super().__init__(message, code, request_id, call)


class SidecarConnectionError(SidecarError, ConnectionError):
    """No connection to the sidecar, or it broke while the call was in flight."""

    default_code = Code.UNAVAILABLE


class ClientClosedError(SidecarConnectionError):
    """The client was closed (by `close()` or by leaving its ``with`` block)."""


class SidecarTimeoutError(SidecarError, TimeoutError):
    """No answer within the call's timeout."""

    default_code = Code.DEADLINE_EXCEEDED


class SidecarProtocolError(SidecarError):
    """What came over the socket broke the wire contract."""

    default_code = Code.INTERNAL


class RequestTooLargeError(SidecarError, ValueError):
    """The request is larger than one frame may be; it was not sent."""

    default_code = Code.RESOURCE_EXHAUSTED
