"""Session management: revoke, list, get, update data/payload, regenerate, database checks."""

from __future__ import annotations

import json
import time

import pytest

from sessionsidecar import Client, SidecarStatusError, pb
from support import PROTECTED_CLAIMS, VERIFY, REFRESH, cookie_named, create, jwt_parts, new_user, outcome_name


def test_list_sessions_returns_users_handles(client: Client) -> None:
    user_id = new_user()
    handles = {client.create_session(user_id).session.handle for _ in range(3)}
    create(client)  # another user's session must not appear
    assert set(client.list_sessions(user_id).session_handles) == handles
    assert list(client.list_sessions(new_user()).session_handles) == []


def test_revoke_by_handles(client: Client) -> None:
    user_id = new_user()
    first = client.create_session(user_id)
    second = client.create_session(user_id)
    revoked = client.revoke_sessions(session_handles=[first.session.handle])
    assert list(revoked.revoked_session_handles) == [first.session.handle]
    assert list(client.list_sessions(user_id).session_handles) == [second.session.handle]
    with pytest.raises(SidecarStatusError) as error:
        client.get_session(first.session.handle)
    assert error.value.code == pb.NOT_FOUND, error.value.code_name
    refreshed = client.refresh_session(first.refresh_token.token)
    assert refreshed.outcome == REFRESH.UNAUTHORISED, outcome_name(refreshed)


def test_revoke_unknown_handle_revokes_nothing(client: Client) -> None:
    revoked = client.revoke_sessions(session_handles=["00000000-0000-0000-0000-000000000000"])
    assert list(revoked.revoked_session_handles) == []


def test_revoke_by_user(client: Client) -> None:
    user_id = new_user()
    handles = {client.create_session(user_id).session.handle for _ in range(2)}
    bystander = create(client)
    revoked = client.revoke_sessions(user_id=user_id)
    assert set(revoked.revoked_session_handles) == handles
    assert list(client.list_sessions(user_id).session_handles) == []
    assert client.get_session(bystander.session.handle).user_id == bystander.session.user_id


def test_revoke_needs_exactly_one_target(client: Client) -> None:
    with pytest.raises(ValueError):
        client.revoke_sessions()
    with pytest.raises(ValueError):
        client.revoke_sessions(session_handles=["x"], user_id="y")


def test_get_session_fields(client: Client) -> None:
    user_id = new_user()
    before_ms = time.time() * 1000
    created = client.create_session(user_id, {"role": "editor"}, {"cart": [1, 2]})
    info = client.get_session(created.session.handle)
    assert info.session_handle == created.session.handle
    assert info.user_id == user_id
    assert json.loads(info.session_data_json) == {"cart": [1, 2]}
    assert json.loads(info.access_token_payload_json) == {"role": "editor"}
    assert before_ms - 5000 <= info.created_at_ms <= time.time() * 1000 + 5000
    assert info.expires_at_ms == created.refresh_token.expires_at_ms
    assert info.expires_at_ms > created.access_token.expires_at_ms


def test_get_unknown_session_is_not_found(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.get_session("00000000-0000-0000-0000-000000000000")
    assert error.value.code == pb.NOT_FOUND, error.value.code_name


def test_update_session_data(client: Client) -> None:
    created = create(client, session_data={"v": 1})
    client.update_session_data(created.session.handle, {"v": 2, "more": "yes"})
    assert json.loads(client.get_session(created.session.handle).session_data_json) == {"v": 2, "more": "yes"}


def test_update_session_data_of_unknown_session_is_not_found(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.update_session_data("00000000-0000-0000-0000-000000000000", {"v": 1})
    assert error.value.code == pb.NOT_FOUND, error.value.code_name


def test_update_access_token_payload_then_refresh(client: Client) -> None:
    created = create(client, access_token_payload={"role": "old"})
    client.update_access_token_payload(created.session.handle, {"role": "new", "plan": "pro"})
    assert json.loads(client.get_session(created.session.handle).access_token_payload_json) == {
        "role": "new", "plan": "pro",
    }
    refreshed = client.refresh_session(created.refresh_token.token)
    assert refreshed.outcome == REFRESH.OK, outcome_name(refreshed) + " " + refreshed.reason
    _header, claims = jwt_parts(refreshed.access_token.token)
    assert claims["role"] == "new"
    assert claims["plan"] == "pro"


def test_update_access_token_payload_of_unknown_session_is_not_found(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.update_access_token_payload("00000000-0000-0000-0000-000000000000", {"v": 1})
    assert error.value.code == pb.NOT_FOUND, error.value.code_name


def test_regenerate_with_forged_token_is_unauthenticated(client: Client) -> None:
    created = create(client)
    forged = created.access_token.token[:-6] + "AAAAAA"
    with pytest.raises(SidecarStatusError) as error:
        client.regenerate_access_token(forged, {"role": "admin"})
    assert error.value.code == pb.UNAUTHENTICATED, error.value.code_name
    assert forged not in error.value.message
    assert forged.split(".")[2] not in error.value.message


def test_regenerate_access_token_keeps_expiry_and_adds_claim(client: Client) -> None:
    created = create(client, access_token_payload={"role": "old"})
    regenerated = client.regenerate_access_token(created.access_token.token, {"role": "old", "extra": 1})
    assert regenerated.access_token is not None
    new_token = regenerated.access_token.token
    assert new_token and new_token != created.access_token.token
    _header, old_claims = jwt_parts(created.access_token.token)
    _header, new_claims = jwt_parts(new_token)
    assert new_claims["exp"] == old_claims["exp"]
    assert regenerated.access_token.expires_at_ms == created.access_token.expires_at_ms
    assert new_claims["extra"] == 1
    for name in PROTECTED_CLAIMS:
        if name != "iat":
            assert new_claims[name] == old_claims[name], name
    assert regenerated.session.handle == created.session.handle
    assert json.loads(regenerated.session.access_token_payload_json)["extra"] == 1
    assert cookie_named(regenerated.cookies, "sAccessToken").value == new_token
    verified = client.verify_session(new_token)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason
    assert json.loads(client.get_session(created.session.handle).access_token_payload_json) == {
        "role": "old", "extra": 1,
    }


def test_verify_with_database_check_after_revoke_is_unauthorised(client: Client) -> None:
    created = create(client)
    token = created.access_token.token
    before = client.verify_session(token, check_database=True)
    assert before.outcome == VERIFY.OK, outcome_name(before) + " " + before.reason
    client.revoke_sessions(session_handles=[created.session.handle])
    after = client.verify_session(token, check_database=True)
    assert after.outcome == VERIFY.UNAUTHORISED, outcome_name(after) + " " + after.reason
