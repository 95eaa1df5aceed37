"""The framing contract on raw sockets: bad frames, unknown calls, pipelining."""

from __future__ import annotations

import random
import struct

from sessionsidecar import Client, pb
from support import RawConnection, create

VERIFY = pb.VerifySessionResponse  # raw answers carry the generated enum

MAX_FRAME = 256 * 1024  # sidecar.maxFrameBytes' default


def _health_request(request_id: int) -> pb.Request:
    return pb.Request(id=request_id, health=pb.HealthRequest())


def _assert_healthy(connection: RawConnection, request_id: int) -> None:
    connection.send_request(_health_request(request_id))
    response = connection.read_response()
    assert response.id == request_id
    assert response.status.code == pb.OK, pb.Code.Name(response.status.code)
    assert response.health.serving is True


def _assert_error_then_closed(socket_path: str, frame: bytes, code: int) -> None:
    with Client(socket_path) as bystander, RawConnection(socket_path) as connection:
        connection.send_bytes(frame)
        response = connection.read_response()
        assert response.id == 0
        assert response.status.code == code, pb.Code.Name(response.status.code) + " " + response.status.message
        assert response.WhichOneof("result") is None
        assert connection.closed_by_peer(), "the connection should close after a connection-level error"
        assert bystander.health().serving is True


def test_zero_length_frame_is_rejected_and_closes(socket_path: str) -> None:
    _assert_error_then_closed(socket_path, struct.pack(">I", 0), pb.INVALID_ARGUMENT)


def test_oversized_frame_is_rejected_and_closes(socket_path: str) -> None:
    _assert_error_then_closed(socket_path, struct.pack(">I", MAX_FRAME + 1), pb.RESOURCE_EXHAUSTED)


def test_frame_exactly_at_the_cap_is_accepted(socket_path: str) -> None:
    request = pb.Request(id=3, create_session=pb.CreateSessionRequest(user_id=""))
    overhead = len(request.SerializeToString())
    for filler in range(MAX_FRAME - overhead - 8, MAX_FRAME - overhead):
        request.create_session.user_id = "x" * filler
        if len(request.SerializeToString()) == MAX_FRAME:
            break
    payload = request.SerializeToString()
    assert len(payload) == MAX_FRAME
    with RawConnection(socket_path, timeout=20.0) as connection:
        connection.send_payload(payload)
        response = connection.read_response()
        assert response.id == 3, pb.Code.Name(response.status.code) + " " + response.status.message
        assert response.status.code != pb.RESOURCE_EXHAUSTED
        _assert_healthy(connection, 4)


def test_garbage_frame_is_invalid_and_connection_stays_usable(socket_path: str) -> None:
    with Client(socket_path) as bystander, RawConnection(socket_path) as connection:
        _assert_healthy(connection, 1)
        connection.send_payload(b"\xff\xff\xff\xff\xff\xff\xff\xff")
        response = connection.read_response()
        assert response.status.code == pb.INVALID_ARGUMENT, pb.Code.Name(response.status.code)
        assert response.WhichOneof("result") is None
        _assert_healthy(connection, 2)
        assert bystander.health().serving is True


def test_request_without_call_is_invalid(socket_path: str) -> None:
    with RawConnection(socket_path) as connection:
        connection.send_request(pb.Request(id=7))
        response = connection.read_response()
        assert response.id == 7
        assert response.status.code == pb.INVALID_ARGUMENT, pb.Code.Name(response.status.code)
        _assert_healthy(connection, 8)


def test_failed_call_carries_status_but_no_result(socket_path: str) -> None:
    with RawConnection(socket_path) as connection:
        connection.send_request(pb.Request(id=11, create_session=pb.CreateSessionRequest(user_id="")))
        response = connection.read_response()
        assert response.id == 11
        assert response.status.code == pb.INVALID_ARGUMENT, pb.Code.Name(response.status.code)
        assert response.WhichOneof("result") is None


def test_revoke_without_target_is_invalid(socket_path: str) -> None:
    with RawConnection(socket_path) as connection:
        request = pb.Request(id=12)
        request.revoke_sessions.SetInParent()
        connection.send_request(request)
        response = connection.read_response()
        assert response.id == 12
        assert response.status.code == pb.INVALID_ARGUMENT, pb.Code.Name(response.status.code)


def test_unknown_call_field_only_is_unimplemented(socket_path: str) -> None:
    with Client(socket_path) as bystander, RawConnection(socket_path) as connection:
        field_99_varint = bytes([0x98, 0x06, 0x01])  # tag (99 << 3 | 0) as a varint, then value 1
        connection.send_payload(field_99_varint)
        response = connection.read_response()
        assert response.status.code == pb.UNIMPLEMENTED, pb.Code.Name(response.status.code)
        assert response.id == 0
        _assert_healthy(connection, 1)
        assert bystander.health().serving is True


def test_unknown_call_field_with_id_is_unimplemented_for_that_id(socket_path: str) -> None:
    with RawConnection(socket_path) as connection:
        payload = pb.Request(id=41).SerializeToString() + bytes([0x9A, 0x06, 0x00])  # field 99, empty bytes
        connection.send_payload(payload)
        response = connection.read_response()
        assert response.id == 41
        assert response.status.code == pb.UNIMPLEMENTED, pb.Code.Name(response.status.code)


def test_frame_split_across_writes_is_reassembled(socket_path: str) -> None:
    with RawConnection(socket_path) as connection:
        frame = struct.pack(">I", len(_health_request(5).SerializeToString())) + _health_request(5).SerializeToString()
        for byte in frame:
            connection.send_bytes(bytes([byte]))
        response = connection.read_response()
        assert response.id == 5 and response.health.serving is True


def test_pipelined_verifies_on_raw_socket(client: Client, socket_path: str) -> None:
    token = create(client).access_token.token
    ids = random.sample(range(1000, 100000), 50)
    with RawConnection(socket_path) as connection:
        for request_id in ids:
            connection.send_request(pb.Request(id=request_id, verify_session=pb.VerifySessionRequest(access_token=token)))
        responses = [connection.read_response() for _ in ids]
    assert sorted(response.id for response in responses) == sorted(ids)
    for response in responses:
        assert response.status.code == pb.OK
        assert response.WhichOneof("result") == "verify_session"
        assert response.verify_session.outcome == VERIFY.OK


def test_pipelined_verifies_through_client(client: Client) -> None:
    tokens = [create(client, access_token_payload={"i": index}).access_token.token for index in range(50)]
    sent = [
        (client.send(pb.Request(verify_session=pb.VerifySessionRequest(access_token=token))), index)
        for index, token in enumerate(tokens)
    ]
    ids = [request_id for request_id, _ in sent]
    assert ids == sorted(ids) and len(set(ids)) == 50
    for request_id, index in reversed(sent):
        response = client.receive(request_id)
        assert response.id == request_id
        assert response.verify_session.outcome == VERIFY.OK
        assert f'"i":{index}' in response.verify_session.session.access_token_payload_json.replace(" ", "")
