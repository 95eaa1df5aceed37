"""Signing keys: static/dynamic kids, the JWK Set, and verification by PyJWT and joserfc."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from sessionsidecar import Client, KeyKind, SigningKeys
from support import VERIFY, create, jwt_parts, outcome_name

CLAIMS = {"role": "reader", "n": 3}


def test_static_key_session_uses_s_kid_and_verifies(client: Client) -> None:
    created = create(client, access_token_payload=CLAIMS, use_static_key=True)
    header, _claims = jwt_parts(created.access_token.token)
    assert header["kid"].startswith("s-"), header
    assert header["alg"] == "RS256"
    verified = client.verify_session(created.access_token.token)
    assert verified.outcome == VERIFY.OK, outcome_name(verified) + " " + verified.reason


def test_get_signing_keys_lists_static_and_dynamic(signing_keys: SigningKeys) -> None:
    kinds = {key.kind for key in signing_keys.keys}
    assert KeyKind.STATIC in kinds
    assert KeyKind.DYNAMIC in kinds
    now_ms = time.time() * 1000
    for key in signing_keys.keys:
        prefix = "s-" if key.kind == KeyKind.STATIC else "d-"
        assert key.kid.startswith(prefix), key.kid
        assert key.alg == "RS256"
        assert key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
        serialization.load_pem_public_key(key.public_key_pem.encode())
        assert 0 < key.created_at_ms <= now_ms + 5000
        assert key.expires_at_ms > now_ms
    assert signing_keys.cache_max_age_s > 0
    # A verifier caching the set for cache_max_age_s must not outlive any key it holds.
    assert now_ms + signing_keys.cache_max_age_s * 1000 <= min(key.expires_at_ms for key in signing_keys.keys) + 5000


def test_jwks_json_is_a_jwk_set_of_the_listed_keys(signing_keys: SigningKeys) -> None:
    jwks = json.loads(signing_keys.jwks_json)
    assert isinstance(jwks.get("keys"), list) and jwks["keys"]
    for jwk in jwks["keys"]:
        assert jwk["kty"] == "RSA"
        assert jwk["n"] and jwk["e"]
    assert {jwk["kid"] for jwk in jwks["keys"]} == {key.kid for key in signing_keys.keys}


def _pyjwt_decode(token: str, jwks_json: str) -> dict:
    """Verify `token` with PyJWT using the key of its kid from `jwks_json`."""
    key_set = jwt.PyJWKSet.from_json(jwks_json)
    kid = jwt.get_unverified_header(token)["kid"]
    signing_key = next(key for key in key_set.keys if key.key_id == kid)
    return jwt.decode(token, signing_key.key, algorithms=["RS256"])


# joserfc rejects header parameters it does not know; the access token's header carries "version".
JOSERFC_REGISTRY = JWSRegistry(
    header_registry={"version": HeaderParameter("SuperTokens access-token version", "str")},
    algorithms=["RS256"],
)


def _joserfc_decode(token: str, jwks_json: str) -> dict:
    """Verify `token` with joserfc against the whole key set."""
    key_set = KeySet.import_key_set(json.loads(jwks_json))
    return jose_jwt.decode(token, key_set, algorithms=["RS256"], registry=JOSERFC_REGISTRY).claims


@pytest.mark.parametrize("use_static_key", [False, True], ids=["dynamic", "static"])
def test_pyjwt_verifies_access_token_with_served_jwks(client: Client, use_static_key: bool) -> None:
    created = create(client, access_token_payload=CLAIMS, use_static_key=use_static_key)
    claims = _pyjwt_decode(created.access_token.token, client.get_signing_keys().jwks_json)
    assert claims["sub"] == created.session.user_id
    assert claims["role"] == "reader"


@pytest.mark.parametrize("use_static_key", [False, True], ids=["dynamic", "static"])
def test_joserfc_verifies_access_token_with_served_jwks(client: Client, use_static_key: bool) -> None:
    created = create(client, access_token_payload=CLAIMS, use_static_key=use_static_key)
    claims = _joserfc_decode(created.access_token.token, client.get_signing_keys().jwks_json)
    assert claims["sessionHandle"] == created.session.handle
    assert claims["n"] == 3


@pytest.mark.parametrize("use_static_key", [False, True], ids=["dynamic", "static"])
def test_pyjwt_verifies_access_token_with_jwks_file(
    client: Client, jwks_file_path: str, use_static_key: bool,
) -> None:
    created = create(client, access_token_payload=CLAIMS, use_static_key=use_static_key)
    with open(jwks_file_path, encoding="utf-8") as handle:
        jwks_json = handle.read()
    claims = _pyjwt_decode(created.access_token.token, jwks_json)
    assert claims["sub"] == created.session.user_id


def test_jwks_file_matches_served_jwks(client: Client, jwks_file_path: str) -> None:
    with open(jwks_file_path, encoding="utf-8") as handle:
        from_file = json.load(handle)
    served = json.loads(client.get_signing_keys().jwks_json)
    assert {jwk["kid"] for jwk in from_file["keys"]} == {jwk["kid"] for jwk in served["keys"]}


def test_watch_signing_keys_starts_with_current_set(socket_path: str) -> None:
    with Client(socket_path, timeout=10.0) as watcher:
        current = watcher.get_signing_keys()
        stream = watcher.watch_signing_keys(timeout=10.0)
        first = next(stream)
        assert {key.kid for key in first.keys} == {key.kid for key in current.keys}
        assert json.loads(first.jwks_json)["keys"]
        # Other calls keep working on the same connection while the watch is open.
        assert watcher.health().serving is True
        stream.close()
