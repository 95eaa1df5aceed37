"""Anti-CSRF: the token given at creation must accompany verifications that ask for the check."""

from __future__ import annotations

from sessionsidecar import Client
from support import VERIFY, create, jwt_parts, outcome_name


def test_anti_csrf_token_is_issued_and_embedded(client: Client) -> None:
    created = create(client, enable_anti_csrf=True)
    assert created.anti_csrf_token
    _header, claims = jwt_parts(created.access_token.token)
    assert claims["antiCsrfToken"] == created.anti_csrf_token


def test_no_anti_csrf_token_without_enable(client: Client) -> None:
    created = create(client)
    assert created.anti_csrf_token == ""


def test_wrong_anti_csrf_token_asks_for_refresh(client: Client) -> None:
    created = create(client, enable_anti_csrf=True)
    verified = client.verify_session(created.access_token.token, anti_csrf_token="wrong", do_anti_csrf_check=True)
    assert verified.outcome == VERIFY.TRY_REFRESH_TOKEN, outcome_name(verified) + " " + verified.reason


def test_missing_anti_csrf_token_asks_for_refresh(client: Client) -> None:
    created = create(client, enable_anti_csrf=True)
    verified = client.verify_session(created.access_token.token, do_anti_csrf_check=True)
    assert verified.outcome == VERIFY.TRY_REFRESH_TOKEN, outcome_name(verified) + " " + verified.reason


def test_right_anti_csrf_token_verifies(client: Client) -> None:
    created = create(client, enable_anti_csrf=True)
    verified = client.verify_session(
        created.access_token.token, anti_csrf_token=created.anti_csrf_token, do_anti_csrf_check=True,
    )
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason
    assert verified.session.handle == created.session.handle


def test_check_not_requested_ignores_anti_csrf(client: Client) -> None:
    created = create(client, enable_anti_csrf=True)
    verified = client.verify_session(created.access_token.token, anti_csrf_token="wrong", do_anti_csrf_check=False)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason
