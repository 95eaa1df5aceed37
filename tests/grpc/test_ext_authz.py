"""Envoy's gRPC ext_authz against a real sidecar, driven with Envoy's OWN generated definitions (PyPI's xds-protos,
built from envoyproxy/data-plane-api), so wire compatibility is checked by code this project did not write. Also
checks that the project's subset (proto/envoy/...) has Envoy's names, numbers and types, field by field."""

import base64
import json
import time

import grpc
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_tools import protoc

from conftest import PROTO_DIR, PROTOC_INCLUDE

TIMEOUT = 60
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]  # 16
ACCESS_TOKEN_VALIDITY_S = 10  # tests/grpc/run.sh starts the sidecar with it


@pytest.fixture()
def authorization(channel):
    return external_auth_pb2_grpc.AuthorizationStub(channel)


@pytest.fixture()
def session(sidecar_pb, channel):
    """A function creating a session over gRPC: (user, anti_csrf) -> CreateSessionResponse."""
    pb, stubs = sidecar_pb
    stub = stubs.SessionSidecarStub(channel)

    def create(user, anti_csrf=False):
        return stub.CreateSession(pb.CreateSessionRequest(
            user_id=user, access_token_payload_json='{"role":"admin"}', enable_anti_csrf=anti_csrf), timeout=TIMEOUT)
    return create


def check(authorization, method="GET", headers=None):
    """What Envoy sends for `method /orders/7` with `headers` (lower-case names, as Envoy writes them)."""
    context = attribute_context_pb2.AttributeContext
    http = context.HttpRequest(
        id="1", method=method, path="/orders/7", host="app.example.com", scheme="https",
        headers={":authority": "app.example.com", ":method": method, ":path": "/orders/7", **(headers or {})})
    request = external_auth_pb2.CheckRequest(attributes=context(request=context.Request(http=http)))
    return authorization.Check(request, timeout=TIMEOUT)


def assert_allowed(response, user, handle):
    assert response.status.code == 0
    assert response.WhichOneof("http_response") == "ok_response"
    headers = {h.header.key: h for h in response.ok_response.headers}
    assert set(headers) == {"x-session-user-id", "x-session-handle", "x-session-payload"}
    assert headers["x-session-user-id"].header.value == user
    assert headers["x-session-handle"].header.value == handle
    payload = headers["x-session-payload"].header.value
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) == {"role": "admin"}
    for option in headers.values():  # replace the client's own x-session-* headers, never append to them
        assert option.HasField("append") and not option.append.value
        assert option.append_action == base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


def assert_denied(response, outcome, body):
    assert response.status.code == UNAUTHENTICATED
    assert response.WhichOneof("http_response") == "denied_response"
    denied = response.denied_response
    assert denied.status.code == http_status_pb2.Unauthorized
    assert {h.header.key: h.header.value for h in denied.headers} == {
        "x-session-outcome": outcome, "content-type": "application/json"}
    assert denied.body == body
    assert json.loads(denied.body)  # the same JSON as /auth/verify's 401


def test_valid_token_is_allowed_with_the_session_headers(authorization, session):
    created = session("envoy-user")
    handle = created.session.handle
    assert_allowed(check(authorization, headers={"authorization": f"Bearer {created.access_token.token}"}),
                   "envoy-user", handle)
    assert_allowed(check(authorization, headers={"cookie": f"theme=dark; sAccessToken={created.access_token.token}"}),
                   "envoy-user", handle)


def test_absent_forged_and_garbage_tokens_are_unauthorised(authorization, session):
    created = session("envoy-forged")
    header, payload, signature = created.access_token.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for headers in [{}, {"authorization": f"Bearer {header}.{forged_payload}.{signature}"},
                    {"authorization": "Bearer garbage"}, {"cookie": "sAccessToken="}]:
        assert_denied(check(authorization, headers=headers), "unauthorised", '{"message":"unauthorised"}')


def test_anti_csrf_is_checked_for_unsafe_methods(authorization, session):
    created = session("envoy-csrf", anti_csrf=True)
    bearer = {"authorization": f"Bearer {created.access_token.token}"}
    assert_allowed(check(authorization, "GET", bearer), "envoy-csrf", created.session.handle)
    assert_denied(check(authorization, "POST", bearer), "try-refresh-token", '{"message":"try refresh token"}')
    assert_denied(check(authorization, "POST", {**bearer, "anti-csrf": "wrong"}),
                  "try-refresh-token", '{"message":"try refresh token"}')
    assert_allowed(check(authorization, "POST", {**bearer, "anti-csrf": created.anti_csrf_token}),
                   "envoy-csrf", created.session.handle)


def test_expired_token_asks_for_a_refresh(authorization, session):
    created = session("envoy-expired")
    bearer = {"authorization": f"Bearer {created.access_token.token}"}
    assert_allowed(check(authorization, headers=bearer), "envoy-expired", created.session.handle)
    time.sleep(ACCESS_TOKEN_VALIDITY_S + 1.5)
    assert_denied(check(authorization, headers=bearer), "try-refresh-token", '{"message":"try refresh token"}')


def test_the_projects_subset_matches_envoys_definitions(tmp_path):
    """Every message, field and enum value of proto/envoy/... and proto/google/rpc/status.proto exists in Envoy's
    own descriptors (xds-protos) with the same number, type and label."""
    ours = tmp_path / "ours.pb"
    protos = ["envoy/service/auth/v3/external_auth.proto", "envoy/service/auth/v3/attribute_context.proto",
              "envoy/config/core/v3/base.proto", "envoy/type/v3/http_status.proto", "google/rpc/status.proto"]
    assert protoc.main(["grpc_tools.protoc", f"-I{PROTO_DIR}", f"-I{PROTOC_INCLUDE}",
                        f"--descriptor_set_out={ours}"] + protos) == 0
    mine = descriptor_pb2.FileDescriptorSet.FromString(ours.read_bytes())
    envoy = descriptor_pool.Default()  # holds Envoy's definitions: xds-protos' modules are imported above
    compared = 0
    for file in mine.file:
        def walk(messages, prefix):
            nonlocal compared
            for message in messages:
                name = f"{prefix}.{message.name}"
                theirs = envoy.FindMessageTypeByName(name)
                for field in message.field:
                    their_field = theirs.fields_by_name.get(field.name)
                    assert their_field is not None, f"{name}.{field.name} is not Envoy's"
                    assert their_field.number == field.number, f"{name}.{field.name}"
                    assert their_field.type == field.type, f"{name}.{field.name}"
                    their_type = (their_field.message_type or their_field.enum_type)
                    if their_type is not None:
                        assert "." + their_type.full_name == field.type_name, f"{name}.{field.name}"
                    compared += 1
                for enum in message.enum_type:
                    compare_enum(envoy.FindEnumTypeByName(f"{name}.{enum.name}"), enum)
                walk(message.nested_type, name)

        walk(file.message_type, file.package)
        for enum in file.enum_type:
            compare_enum(envoy.FindEnumTypeByName(f"{file.package}.{enum.name}"), enum)
        for service in file.service:
            theirs = envoy.FindServiceByName(f"{file.package}.{service.name}")
            for method in service.method:
                their_method = theirs.methods_by_name[method.name]
                assert "." + their_method.input_type.full_name == method.input_type
                assert "." + their_method.output_type.full_name == method.output_type
    assert compared > 20


def compare_enum(theirs, mine):
    for value in mine.value:
        assert theirs.values_by_name[value.name].number == value.number, f"{theirs.full_name}.{value.name}"
