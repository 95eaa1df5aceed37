"""Exceptions raised by the SessionSidecar client."""

from __future__ import annotations

from .proto import pb


class SidecarError(Exception):
    """The sidecar answered a call with a `Status` whose code is not OK.

    Attributes:
        code: The `sessionsidecar.v1.Code` number (e.g. ``pb.INVALID_ARGUMENT``).
        message: The sidecar's human-readable explanation.
        request_id: The id of the response that carried the status (0 for connection-level errors).
    """

    def __init__(self, code: int, message: str, request_id: int = 0) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        super().__init__(f"{self.code_name}: {message}")

    @property
    def code_name(self) -> str:
        """The symbolic name of `code` (``"INVALID_ARGUMENT"``), or the number if unknown."""
        try:
            return pb.Code.Name(self.code)
        except ValueError:
            return str(self.code)


class SidecarProtocolError(Exception):
    """The connection broke the wire contract (closed mid-call, oversized or unparsable frame, wrong result)."""
