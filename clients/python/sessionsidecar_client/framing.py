"""Length-prefixed framing: a 4-byte unsigned big-endian length N, then N bytes of one protobuf message."""

from __future__ import annotations

import socket
import struct
from typing import Optional

from .errors import SidecarProtocolError

HEADER = struct.Struct(">I")
DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024


def encode_frame(payload: bytes) -> bytes:
    """Prefix `payload` with its length."""
    return HEADER.pack(len(payload)) + payload


class FrameReader:
    """Reads whole frames from a stream socket, keeping partial data across short reads and timeouts."""

    def __init__(self, sock: socket.socket, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self._sock = sock
        self._max_frame_size = max_frame_size
        self._buffer = bytearray()

    def _complete_frame(self) -> Optional[bytes]:
        """Remove and return the first complete frame's payload from the buffer, if there is one."""
        if len(self._buffer) < HEADER.size:
            return None
        (length,) = HEADER.unpack_from(self._buffer)
        if length > self._max_frame_size:
            raise SidecarProtocolError(f"incoming frame of {length} bytes exceeds {self._max_frame_size}")
        end = HEADER.size + length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[HEADER.size:end])
        del self._buffer[:end]
        return payload

    def read_frame(self) -> bytes:
        """Block until one whole frame has arrived and return its payload.

        Raises `TimeoutError` (socket timeout; buffered bytes are kept) or `SidecarProtocolError` when the peer
        closes the connection.
        """
        while True:
            payload = self._complete_frame()
            if payload is not None:
                return payload
            chunk = self._sock.recv(65536)
            if not chunk:
                raise SidecarProtocolError("connection closed by the sidecar")
            self._buffer += chunk
