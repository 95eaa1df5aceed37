"""CreateSession and VerifySession: token shape, claims, cookies."""

from __future__ import annotations

import json
import time
from email.utils import format_datetime
from datetime import datetime, timezone

from sessionsidecar import Client
from support import PROTECTED_CLAIMS, VERIFY, cookie_named, create, jwt_parts, new_user, outcome_name

RENEW_PATH = "/auth/session/refresh"
CUSTOM_CLAIMS = {"role": "admin", "tenant": {"id": 7, "tags": ["a", "b"]}, "flag": True}


def test_create_then_verify_returns_the_session(client: Client) -> None:
    user_id = new_user()
    created = client.create_session(user_id, CUSTOM_CLAIMS, {"secret": "server-side"})
    assert created.session.handle
    assert created.session.user_id == user_id

    verified = client.verify_session(created.access_token.token)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason
    assert verified.reason == ""
    assert verified.session.handle == created.session.handle
    assert verified.session.user_id == user_id
    payload = json.loads(verified.session.access_token_payload_json)
    assert payload == jwt_parts(created.access_token.token)[1]
    for name, value in CUSTOM_CLAIMS.items():
        assert payload[name] == value
    assert payload["sub"] == user_id
    assert payload["sessionHandle"] == created.session.handle
    assert verified.session.expires_at_ms == created.access_token.expires_at_ms


def test_access_token_header_is_rs256_jwt_with_dynamic_kid(client: Client) -> None:
    created = create(client)
    header, _claims = jwt_parts(created.access_token.token)
    assert header["kid"].startswith("d-"), header
    assert header == {"alg": "RS256", "typ": "JWT", "kid": header["kid"], "version": "5"}


def test_access_token_claims_are_protected_plus_flattened_custom(client: Client) -> None:
    user_id = new_user()
    before = int(time.time())
    created = client.create_session(user_id, CUSTOM_CLAIMS)
    _header, claims = jwt_parts(created.access_token.token)

    for name in PROTECTED_CLAIMS:
        assert name in claims, f"claim {name} missing from {sorted(claims)}"
    assert claims["sub"] == user_id
    assert claims["sessionHandle"] == created.session.handle
    assert isinstance(claims["refreshTokenHash1"], str) and claims["refreshTokenHash1"]
    assert before - 5 <= claims["iat"] <= time.time() + 5
    assert claims["exp"] > claims["iat"]
    assert created.access_token.expires_at_ms == claims["exp"] * 1000
    for name, value in CUSTOM_CLAIMS.items():
        assert claims[name] == value, f"custom claim {name} not flattened at top level"
    assert json.loads(created.session.access_token_payload_json) == claims


def test_refresh_token_outlives_access_token(client: Client) -> None:
    created = create(client)
    assert created.refresh_token.token
    assert created.refresh_token.token != created.access_token.token
    assert created.refresh_token.expires_at_ms > created.access_token.expires_at_ms > time.time() * 1000


def _http_date(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms // 1000, tz=timezone.utc), usegmt=True)


def _assert_cookie(cookie, value: str, path: str) -> None:
    assert cookie.value == value
    assert cookie.path == path
    assert cookie.http_only is True
    assert cookie.same_site == "Lax"
    assert cookie.expires_at_ms > time.time() * 1000
    header = cookie.set_cookie_header
    attributes = [part.strip() for part in header.split(";")]
    assert attributes[0] == f"{cookie.name}={value}"
    assert f"Path={path}" in attributes
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert f"Expires={_http_date(cookie.expires_at_ms)}" in attributes, header
    if cookie.domain:
        assert f"Domain={cookie.domain}" in attributes
    assert ("Secure" in attributes) == cookie.secure


def test_create_sets_access_and_refresh_cookies(client: Client) -> None:
    created = create(client)
    assert sorted(cookie.name for cookie in created.cookies) == ["sAccessToken", "sRefreshToken"]
    _assert_cookie(cookie_named(created.cookies, "sAccessToken"), created.access_token.token, "/")
    _assert_cookie(cookie_named(created.cookies, "sRefreshToken"), created.refresh_token.token, RENEW_PATH)


def test_sessions_get_distinct_handles_and_tokens(client: Client) -> None:
    user_id = new_user()
    first = client.create_session(user_id)
    second = client.create_session(user_id)
    assert first.session.handle != second.session.handle
    assert first.refresh_token.token != second.refresh_token.token
    assert first.access_token.token != second.access_token.token


def test_empty_payload_means_empty_object(client: Client) -> None:
    created = create(client, access_token_payload="", session_data="")
    info = client.get_session(created.session.handle)
    assert json.loads(info.access_token_payload_json or "{}") == {}
    assert json.loads(info.session_data_json or "{}") == {}
    _header, claims = jwt_parts(created.access_token.token)
    assert set(PROTECTED_CLAIMS) <= set(claims)
