"""Every SessionSidecar call over gRPC, from stubs generated from the project's .proto, against a real sidecar
process on its gRPC Unix socket; gRPC health with grpc's own health client; the socket file; and the drain."""

import os
import stat
import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import grpc_socket

TIMEOUT = 60  # seconds: the tests assert behaviour, not speed


@pytest.fixture()
def stub(sidecar_pb, channel):
    return sidecar_pb[1].SessionSidecarStub(channel)


@pytest.fixture()
def pb(sidecar_pb):
    return sidecar_pb[0]


def create(stub, pb, user="grpc-user", **fields):
    return stub.CreateSession(pb.CreateSessionRequest(user_id=user, **fields), timeout=TIMEOUT)


def test_create_verify_refresh(stub, pb):
    created = create(stub, pb, access_token_payload_json='{"role":"admin"}', enable_anti_csrf=True)
    assert created.session.user_id == "grpc-user"
    assert created.access_token.token and created.refresh_token.token and created.anti_csrf_token
    assert {c.name for c in created.cookies} >= {"sAccessToken", "sRefreshToken"}

    verified = stub.VerifySession(pb.VerifySessionRequest(
        access_token=created.access_token.token, anti_csrf_token=created.anti_csrf_token, do_anti_csrf_check=True),
        timeout=TIMEOUT)
    assert verified.outcome == pb.VerifySessionResponse.OK
    assert verified.session.handle == created.session.handle
    assert '"role":"admin"' in verified.session.access_token_payload_json

    refreshed = stub.RefreshSession(pb.RefreshSessionRequest(
        refresh_token=created.refresh_token.token, anti_csrf_token=created.anti_csrf_token), timeout=TIMEOUT)
    assert refreshed.outcome == pb.RefreshSessionResponse.OK
    assert refreshed.session.handle == created.session.handle
    assert refreshed.refresh_token.token and refreshed.refresh_token.token != created.refresh_token.token


def test_session_outcomes_are_results_with_status_ok(stub, pb):
    garbage = stub.VerifySession(pb.VerifySessionRequest(access_token="not.a.token"), timeout=TIMEOUT)
    assert garbage.outcome == pb.VerifySessionResponse.UNAUTHORISED
    assert garbage.reason

    created = create(stub, pb)
    first = stub.RefreshSession(pb.RefreshSessionRequest(refresh_token=created.refresh_token.token), timeout=TIMEOUT)
    assert first.outcome == pb.RefreshSessionResponse.OK
    second = stub.RefreshSession(pb.RefreshSessionRequest(refresh_token=first.refresh_token.token), timeout=TIMEOUT)
    assert second.outcome == pb.RefreshSessionResponse.OK
    # The first token again, after the next one was used: theft, the session is revoked.
    stolen = stub.RefreshSession(pb.RefreshSessionRequest(refresh_token=created.refresh_token.token), timeout=TIMEOUT)
    assert stolen.outcome == pb.RefreshSessionResponse.TOKEN_THEFT_DETECTED


def test_manage_sessions(stub, pb):
    user = "grpc-manage"
    created = create(stub, pb, user=user, session_data_json='{"cart":1}')
    handle = created.session.handle

    listed = stub.ListSessions(pb.ListSessionsRequest(user_id=user), timeout=TIMEOUT)
    assert handle in listed.session_handles

    stub.UpdateSessionData(pb.UpdateSessionDataRequest(session_handle=handle, session_data_json='{"cart":2}'),
                           timeout=TIMEOUT)
    stub.UpdateAccessTokenPayload(pb.UpdateAccessTokenPayloadRequest(
        session_handle=handle, access_token_payload_json='{"plan":"pro"}'), timeout=TIMEOUT)
    stored = stub.GetSession(pb.GetSessionRequest(session_handle=handle), timeout=TIMEOUT)
    assert stored.user_id == user and '"cart":2' in stored.session_data_json
    assert '"plan":"pro"' in stored.access_token_payload_json

    regenerated = stub.RegenerateAccessToken(pb.RegenerateAccessTokenRequest(
        access_token=created.access_token.token, access_token_payload_json='{"plan":"team"}'), timeout=TIMEOUT)
    assert regenerated.HasField("access_token")
    assert '"plan":"team"' in regenerated.session.access_token_payload_json

    revoked = stub.RevokeSessions(pb.RevokeSessionsRequest(user_id=user), timeout=TIMEOUT)
    assert list(revoked.revoked_session_handles) == [handle]
    with pytest.raises(grpc.RpcError) as gone:
        stub.GetSession(pb.GetSessionRequest(session_handle=handle), timeout=TIMEOUT)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND

    second = create(stub, pb, user=user)
    by_handle = stub.RevokeSessions(pb.RevokeSessionsRequest(
        session_handles=pb.SessionHandles(handles=[second.session.handle])), timeout=TIMEOUT)
    assert list(by_handle.revoked_session_handles) == [second.session.handle]


def test_signing_keys_and_their_stream(stub, pb):
    keys = stub.GetSigningKeys(pb.GetSigningKeysRequest(), timeout=TIMEOUT)
    assert keys.keys and '"keys"' in keys.jwks_json and keys.cache_max_age_s > 0

    stream = stub.WatchSigningKeys(pb.WatchSigningKeysRequest(), timeout=TIMEOUT)
    first = next(stream)
    assert first.jwks_json == keys.jwks_json
    assert [k.kid for k in first.keys] == [k.kid for k in keys.keys]
    stream.cancel()
    with pytest.raises(grpc.RpcError) as ended:
        next(stream)
    assert ended.value.code() == grpc.StatusCode.CANCELLED


def test_health_calls(stub, pb, channel):
    health = stub.Health(pb.HealthRequest(), timeout=TIMEOUT)
    assert health.serving and health.version and health.database_reachable

    standard = health_pb2_grpc.HealthStub(channel)
    for service in ["", "sessionsidecar.v1.SessionSidecar", "envoy.service.auth.v3.Authorization"]:
        answer = standard.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
    with pytest.raises(grpc.RpcError) as unknown:
        standard.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=TIMEOUT)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    watch = standard.Watch(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    watch.cancel()


@pytest.mark.parametrize("call, request_fields, code", [
    ("CreateSession", {}, grpc.StatusCode.INVALID_ARGUMENT),
    ("VerifySession", {}, grpc.StatusCode.INVALID_ARGUMENT),
    ("GetSession", {"session_handle": "no-such-handle"}, grpc.StatusCode.NOT_FOUND),
    ("RevokeSessions", {}, grpc.StatusCode.INVALID_ARGUMENT),
    ("UpdateSessionData", {"session_handle": "no-such-handle", "session_data_json": "{}"},
     grpc.StatusCode.NOT_FOUND),
    ("CreateSession", {"user_id": "u", "session_data_json": "[not json"}, grpc.StatusCode.INVALID_ARGUMENT),
])
def test_failures_are_grpc_statuses(stub, pb, call, request_fields, code):
    request_type = {"CreateSession": pb.CreateSessionRequest, "VerifySession": pb.VerifySessionRequest,
                    "GetSession": pb.GetSessionRequest, "RevokeSessions": pb.RevokeSessionsRequest,
                    "UpdateSessionData": pb.UpdateSessionDataRequest}[call]
    with pytest.raises(grpc.RpcError) as failed:
        getattr(stub, call)(request_type(**request_fields), timeout=TIMEOUT)
    assert failed.value.code() == code
    assert failed.value.details()


def test_garbage_bytes_get_a_status_not_a_crash(channel):
    """A request body that is not a protobuf message: INTERNAL from the deserializer, and the sidecar answers on."""
    raw = channel.unary_unary("/sessionsidecar.v1.SessionSidecar/VerifySession")
    with pytest.raises(grpc.RpcError) as failed:
        raw(b"\xff\xff\xff\xff", timeout=TIMEOUT)
    assert failed.value.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT)
    unknown = channel.unary_unary("/sessionsidecar.v1.SessionSidecar/NoSuchCall")
    with pytest.raises(grpc.RpcError) as missing:
        unknown(b"", timeout=TIMEOUT)
    assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_socket_file_has_the_main_sockets_mode():
    mode = os.stat(grpc_socket()).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660  # sidecar.socketMode's default, as the main socket


def test_drain_ends_the_key_stream_and_removes_the_socket(stub, pb):
    """SIGTERM: the open WatchSigningKeys stream ends with UNAVAILABLE, the socket file goes; then restarted."""
    restart = os.environ.get("SESSION_SIDECAR_RESTART")
    if not restart:
        pytest.skip("SESSION_SIDECAR_RESTART is not set")
    stop = restart.replace(" restart ", " stop ")
    stream = stub.WatchSigningKeys(pb.WatchSigningKeysRequest(), timeout=TIMEOUT)
    next(stream)
    try:
        subprocess.run(stop, shell=True, check=True, timeout=TIMEOUT)
        with pytest.raises(grpc.RpcError) as ended:
            next(stream)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in ended.value.details()
        assert not os.path.exists(grpc_socket())
    finally:
        subprocess.run(restart, shell=True, check=True, timeout=TIMEOUT)
