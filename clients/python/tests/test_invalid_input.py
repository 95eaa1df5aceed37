"""Forged access tokens are UNAUTHORISED; invalid arguments are INVALID_ARGUMENT statuses."""

from __future__ import annotations

import hashlib
import hmac

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sessionsidecar import Client, SidecarStatusError, pb
from support import PROTECTED_CLAIMS, VERIFY, b64url_encode, b64url_json, create, jwt_parts, new_user, outcome_name


def _assert_unauthorised(client: Client, token: str) -> None:
    verified = client.verify_session(token)
    assert verified.outcome == VERIFY.UNAUTHORISED, outcome_name(verified) + " " + verified.reason
    assert verified.reason != ""


def test_token_signed_by_another_key_is_unauthorised(client: Client) -> None:
    created = create(client)
    header, claims = jwt_parts(created.access_token.token)
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, attacker_key, algorithm="RS256", headers={"kid": header["kid"], "version": "5"})
    _assert_unauthorised(client, forged)


def test_tampered_claims_are_unauthorised(client: Client) -> None:
    created = create(client, access_token_payload={"role": "user"})
    header_b64, _claims_b64, signature = created.access_token.token.split(".")
    _header, claims = jwt_parts(created.access_token.token)
    claims["role"] = "admin"
    _assert_unauthorised(client, f"{header_b64}.{b64url_json(claims)}.{signature}")


def test_alg_none_token_is_unauthorised(client: Client) -> None:
    created = create(client)
    header, claims = jwt_parts(created.access_token.token)
    header["alg"] = "none"
    _assert_unauthorised(client, f"{b64url_json(header)}.{b64url_json(claims)}.")


def test_hs256_signed_with_public_key_is_unauthorised(client: Client) -> None:
    created = create(client)
    header, claims = jwt_parts(created.access_token.token)
    public_pem = next(key.public_key_pem for key in client.get_signing_keys().keys if key.kid == header["kid"])
    header["alg"] = "HS256"
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    _assert_unauthorised(client, f"{signing_input}.{b64url_encode(mac)}")


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA"])
def test_garbage_access_token_is_unauthorised(client: Client, token: str) -> None:
    _assert_unauthorised(client, token)


def _assert_invalid_argument(error: pytest.ExceptionInfo) -> None:
    assert error.value.code == pb.INVALID_ARGUMENT, f"{error.value.code_name}: {error.value.message}"
    assert error.value.message != ""


@pytest.mark.parametrize("claim", PROTECTED_CLAIMS)
def test_custom_claim_colliding_with_protected_claim_is_invalid(client: Client, claim: str) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.create_session(new_user(), {claim: "mine"})
    _assert_invalid_argument(error)


@pytest.mark.parametrize("payload", ['{"role": ', "not json", "[1, 2]", '"text"', "42", "null"])
def test_access_token_payload_that_is_not_a_json_object_is_invalid(client: Client, payload: str) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.create_session(new_user(), payload)
    _assert_invalid_argument(error)


def test_malformed_session_data_is_invalid(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.create_session(new_user(), None, "{broken")
    _assert_invalid_argument(error)


def test_empty_user_id_is_invalid(client: Client) -> None:
    with pytest.raises(SidecarStatusError) as error:
        client.create_session("", {"role": "x"})
    _assert_invalid_argument(error)


def test_update_payload_colliding_with_sub_is_invalid(client: Client) -> None:
    created = create(client)
    with pytest.raises(SidecarStatusError) as error:
        client.update_access_token_payload(created.session.handle, {"sub": "someone-else"})
    _assert_invalid_argument(error)


def test_regenerate_with_colliding_claim_is_invalid(client: Client) -> None:
    created = create(client)
    with pytest.raises(SidecarStatusError) as error:
        client.regenerate_access_token(created.access_token.token, {"sessionHandle": "forged"})
    _assert_invalid_argument(error)


def test_reasons_and_messages_never_echo_tokens(client: Client) -> None:
    created = create(client)
    forged = created.access_token.token[:-6] + "AAAAAA"
    verified = client.verify_session(forged)
    assert forged.split(".")[2] not in verified.reason and forged.split(".")[1] not in verified.reason
    bogus_refresh = created.refresh_token.token[:-6] + "AAAAAA"
    refreshed = client.refresh_session(bogus_refresh)
    assert bogus_refresh not in refreshed.reason
    for part in bogus_refresh.split("."):
        if len(part) > 12 and part != created.session.handle:
            assert part not in refreshed.reason
