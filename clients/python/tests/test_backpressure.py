"""A client that pipelines without reading: the server stops reading it instead of buffering replies."""

from __future__ import annotations

import select
import socket
import struct
import time

from sessionsidecar import Client, pb

REQUESTS = 200_000


def _frames() -> bytes:
    # VerifySession with an empty token: answered at once (INVALID_ARGUMENT), so nothing waits on MySQL and
    # only the reply path can push back.
    parts = []
    for request_id in range(1, REQUESTS + 1):
        body = pb.Request(id=request_id, verify_session=pb.VerifySessionRequest()).SerializeToString()
        parts.append(struct.pack(">I", len(body)) + body)
    return b"".join(parts)


def test_a_client_that_does_not_read_is_not_buffered_without_bound(socket_path: str) -> None:
    data = _frames()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    sock.setblocking(False)
    sent = 0
    stalled_since = None
    # Send without reading until the server stops taking bytes for a full second.
    deadline = time.monotonic() + 30
    while sent < len(data) and time.monotonic() < deadline:
        try:
            sent += sock.send(data[sent : sent + 65536])
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 1.0:
                break
            time.sleep(0.01)
    assert sent < len(data), "the server kept reading a client that never reads its replies"

    with Client(socket_path) as bystander:
        assert bystander.health().serving is True

    # Now read: the server resumes, takes the rest, and answers every request exactly once.
    received = b""
    answered = set()
    deadline = time.monotonic() + 120
    while len(answered) < REQUESTS and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock] if sent < len(data) else [], [], 1.0)
        if writable:
            try:
                sent += sock.send(data[sent : sent + 65536])
            except BlockingIOError:
                pass
        if readable:
            chunk = sock.recv(1 << 20)
            assert chunk, "the server closed the connection"
            received += chunk
            offset = 0
            while len(received) - offset >= 4:
                (length,) = struct.unpack_from(">I", received, offset)
                if len(received) - offset - 4 < length:
                    break
                response = pb.Response.FromString(received[offset + 4 : offset + 4 + length])
                assert response.status.code == pb.INVALID_ARGUMENT
                answered.add(response.id)
                offset += 4 + length
            received = received[offset:]
    sock.close()
    assert len(answered) == REQUESTS
