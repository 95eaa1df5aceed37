"""RefreshSession: rotation, the grace period, theft detection, bad tokens."""

from __future__ import annotations

import threading
from typing import List

import pytest

from sessionsidecar import Client, RefreshSessionResult, SidecarStatusError, pb
from support import REFRESH, VERIFY, cookie_named, create, jwt_parts, outcome_name


def _refresh_ok(client: Client, refresh_token: str, anti_csrf_token: str = "") -> RefreshSessionResult:
    refreshed = client.refresh_session(refresh_token, anti_csrf_token)
    assert refreshed.outcome == REFRESH.OK, outcome_name(refreshed) + " " + refreshed.reason
    return refreshed


def test_rotation_issues_new_tokens(client: Client) -> None:
    created = create(client, access_token_payload={"role": "r"})
    refreshed = _refresh_ok(client, created.refresh_token.token)
    assert refreshed.refresh_token is not None
    assert refreshed.refresh_token.token not in ("", created.refresh_token.token)
    assert refreshed.access_token.token not in ("", created.access_token.token)
    assert refreshed.session.handle == created.session.handle
    assert refreshed.session.user_id == created.session.user_id
    _header, claims = jwt_parts(refreshed.access_token.token)
    assert claims["role"] == "r"
    assert claims["sessionHandle"] == created.session.handle
    assert claims["parentRefreshTokenHash1"] == jwt_parts(created.access_token.token)[1]["refreshTokenHash1"]
    assert cookie_named(refreshed.cookies, "sRefreshToken").value == refreshed.refresh_token.token
    assert cookie_named(refreshed.cookies, "sAccessToken").value == refreshed.access_token.token
    verified = client.verify_session(refreshed.access_token.token)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason


def test_previous_token_reused_within_grace_gets_the_same_new_refresh_token(client: Client) -> None:
    created = create(client)
    first = _refresh_ok(client, created.refresh_token.token)
    again = _refresh_ok(client, created.refresh_token.token)
    # A second tab, or a retry after the first answer was lost: the same new refresh token, a fresh access token.
    assert again.refresh_token is not None
    assert again.refresh_token.token == first.refresh_token.token
    assert again.access_token.token
    assert again.session.handle == created.session.handle
    assert cookie_named(again.cookies, "sRefreshToken").value == first.refresh_token.token
    verified = client.verify_session(again.access_token.token)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason


def test_current_token_still_rotates_after_grace_reuse(client: Client) -> None:
    created = create(client)
    first = _refresh_ok(client, created.refresh_token.token)
    _refresh_ok(client, created.refresh_token.token)
    second = _refresh_ok(client, first.refresh_token.token)
    assert second.refresh_token is not None
    assert second.refresh_token.token != first.refresh_token.token


def test_concurrent_refreshes_rotate_exactly_once(client: Client, socket_path: str) -> None:
    created = create(client)
    results: List[RefreshSessionResult] = []

    def refresh_on_own_connection() -> None:
        with Client(socket_path) as own:
            results.append(own.refresh_session(created.refresh_token.token))

    threads = [threading.Thread(target=refresh_on_own_connection) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [outcome_name(result) for result in results] == ["OK"] * 4
    # One rotation: every answer carries the same new refresh token (one live branch).
    assert len({result.refresh_token.token for result in results}) == 1
    assert created.refresh_token.token not in {result.refresh_token.token for result in results}


def test_token_two_rotations_back_is_theft_and_revokes(client: Client) -> None:
    created = create(client)
    first = _refresh_ok(client, created.refresh_token.token)
    second = _refresh_ok(client, first.refresh_token.token)

    theft = client.refresh_session(created.refresh_token.token)
    assert theft.outcome == REFRESH.TOKEN_THEFT_DETECTED, outcome_name(theft) + " " + theft.reason
    assert theft.session.handle == created.session.handle
    assert theft.session.user_id == created.session.user_id
    assert theft.access_token is None
    assert theft.refresh_token is None

    with pytest.raises(SidecarStatusError) as error:
        client.get_session(created.session.handle)
    assert error.value.code == pb.NOT_FOUND, error.value.code_name
    after = client.refresh_session(second.refresh_token.token)
    assert after.outcome == REFRESH.UNAUTHORISED, outcome_name(after) + " " + after.reason
    checked = client.verify_session(second.access_token.token, check_database=True)
    assert checked.outcome == VERIFY.UNAUTHORISED, outcome_name(checked) + " " + checked.reason


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "00000000-0000-0000-0000-000000000000.x.y"])
def test_garbage_refresh_token_is_unauthorised(client: Client, token: str) -> None:
    refreshed = client.refresh_session(token)
    assert refreshed.outcome == REFRESH.UNAUTHORISED, outcome_name(refreshed) + " " + refreshed.reason


def test_tampered_refresh_token_is_unauthorised(client: Client) -> None:
    created = create(client)
    token = created.refresh_token.token
    position = len(token) - 10
    replacement = "A" if token[position] != "A" else "B"
    tampered = token[:position] + replacement + token[position + 1:]
    refreshed = client.refresh_session(tampered)
    assert refreshed.outcome == REFRESH.UNAUTHORISED, outcome_name(refreshed) + " " + refreshed.reason


@pytest.mark.parametrize("anti_csrf_token", ["wrong", ""], ids=["wrong", "missing"])
def test_refresh_with_wrong_anti_csrf_is_unauthorised(client: Client, anti_csrf_token: str) -> None:
    created = create(client, enable_anti_csrf=True)
    refreshed = client.refresh_session(created.refresh_token.token, anti_csrf_token)
    assert refreshed.outcome == REFRESH.UNAUTHORISED, outcome_name(refreshed) + " " + refreshed.reason


def test_refresh_with_right_anti_csrf_issues_new_anti_csrf(client: Client) -> None:
    created = create(client, enable_anti_csrf=True)
    refreshed = _refresh_ok(client, created.refresh_token.token, created.anti_csrf_token)
    assert refreshed.anti_csrf_token
    _header, claims = jwt_parts(refreshed.access_token.token)
    assert claims["antiCsrfToken"] == refreshed.anti_csrf_token
