"""The whole life of a session through both clients: create, verify, refresh, revoke, then refused."""

from __future__ import annotations

import json

from sessionsidecar import AsyncClient, Client, Code, RefreshOutcome, SidecarStatusError, VerifyOutcome
from aio_support import run
from support import cookie_named, new_user, outcome_name

RENEW_PATH = "/auth/session/refresh"


def test_create_verify_refresh_revoke_then_refused(client: Client) -> None:
    user_id = new_user()
    created = client.create_session(user_id, {"role": "admin"}, {"cart": [1]})
    assert created.session.user_id == user_id
    assert cookie_named(created.cookies, "sRefreshToken").path == RENEW_PATH

    verified = client.verify_session(created.access_token.token)
    assert verified.outcome is VerifyOutcome.OK, outcome_name(verified) + " " + verified.reason
    assert verified.ok
    assert verified.session is not None and verified.session.user_id == user_id
    assert verified.session.access_token_payload["role"] == "admin"

    refreshed = client.refresh_session(created.refresh_token.token)
    assert refreshed.outcome is RefreshOutcome.OK, outcome_name(refreshed) + " " + refreshed.reason
    assert refreshed.access_token is not None and refreshed.refresh_token is not None
    assert refreshed.access_token.token != created.access_token.token
    again = client.verify_session(refreshed.access_token.token)
    assert again.outcome is VerifyOutcome.OK and again.session.handle == created.session.handle

    revoked = client.revoke_sessions(session_handles=[created.session.handle])
    assert revoked.revoked_session_handles == (created.session.handle,)

    refused = client.verify_session(refreshed.access_token.token, check_database=True)
    assert refused.outcome is VerifyOutcome.UNAUTHORISED, outcome_name(refused) + " " + refused.reason
    assert refused.session is None
    assert refused.reason
    after = client.refresh_session(refreshed.refresh_token.token)
    assert after.outcome is RefreshOutcome.UNAUTHORISED, outcome_name(after)
    assert after.access_token is None
    assert client.list_sessions(user_id).session_handles == ()


def test_async_create_verify_refresh_revoke_then_refused(socket_path: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(socket_path) as sidecar:
            user_id = new_user()
            created = await sidecar.create_session(user_id, {"role": "admin"}, {"cart": [1]})
            assert created.session.user_id == user_id

            verified = await sidecar.verify_session(created.access_token.token)
            assert verified.outcome is VerifyOutcome.OK, outcome_name(verified) + " " + verified.reason
            assert verified.session.access_token_payload["role"] == "admin"

            refreshed = await sidecar.refresh_session(created.refresh_token.token)
            assert refreshed.outcome is RefreshOutcome.OK, outcome_name(refreshed) + " " + refreshed.reason
            assert refreshed.refresh_token is not None
            assert (await sidecar.verify_session(refreshed.access_token.token)).outcome is VerifyOutcome.OK

            info = await sidecar.get_session(created.session.handle)
            assert info.user_id == user_id and info.session_data == {"cart": [1]}
            assert info.access_token_payload == {"role": "admin"}
            assert (await sidecar.list_sessions(user_id)).session_handles == (created.session.handle,)

            await sidecar.update_session_data(created.session.handle, {"cart": [1, 2]})
            await sidecar.update_access_token_payload(created.session.handle, {"role": "editor"})
            info = await sidecar.get_session(created.session.handle)
            assert info.session_data == {"cart": [1, 2]} and info.access_token_payload == {"role": "editor"}
            regenerated = await sidecar.regenerate_access_token(refreshed.access_token.token, {"role": "viewer"})
            assert regenerated.access_token is not None
            assert json.loads(regenerated.session.access_token_payload_json)["role"] == "viewer"

            revoked = await sidecar.revoke_sessions(user_id=user_id)
            assert revoked.revoked_session_handles == (created.session.handle,)

            refused = await sidecar.verify_session(regenerated.access_token.token, check_database=True)
            assert refused.outcome is VerifyOutcome.UNAUTHORISED, outcome_name(refused)
            after = await sidecar.refresh_session(refreshed.refresh_token.token)
            assert after.outcome is RefreshOutcome.UNAUTHORISED, outcome_name(after)
            try:
                await sidecar.get_session(created.session.handle)
            except SidecarStatusError as error:
                assert error.code is Code.NOT_FOUND, error
            else:
                raise AssertionError("get_session of a revoked session did not fail")

            health = await sidecar.health()
            assert health.serving and health.database_reachable and health.version
            keys = await sidecar.get_signing_keys()
            assert {jwk["kid"] for jwk in keys.jwks["keys"]} == {key.kid for key in keys.keys}

    run(scenario())


def test_theft_is_an_outcome_not_an_exception(client: Client) -> None:
    created = client.create_session(new_user())
    first = client.refresh_session(created.refresh_token.token)
    client.refresh_session(first.refresh_token.token)
    theft = client.refresh_session(created.refresh_token.token)
    assert theft.outcome is RefreshOutcome.TOKEN_THEFT_DETECTED, outcome_name(theft)
    assert not theft.ok
    assert theft.session is not None and theft.session.handle == created.session.handle


def test_results_do_not_show_credentials_in_repr(client: Client) -> None:
    created = client.create_session(new_user(), enable_anti_csrf=True)
    refreshed = client.refresh_session(created.refresh_token.token, created.anti_csrf_token)
    assert refreshed.ok, outcome_name(refreshed)
    verified = client.verify_session(refreshed.access_token.token)
    secrets = [created.access_token.token, created.refresh_token.token, created.anti_csrf_token,
               refreshed.refresh_token.token, refreshed.anti_csrf_token]
    # Each token's parts too, but the refresh token's first part: it is the session handle, which is no secret.
    secrets += [part for token in secrets for part in token.split(".")
                if len(part) > 16 and part != created.session.handle]
    secrets.append(verified.session.access_token_payload["refreshTokenHash1"])
    for result in (created, refreshed, verified):
        text = repr(result)
        assert created.session.handle in text  # the repr does show the result
        for secret in secrets:
            assert secret not in text
