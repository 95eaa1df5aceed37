"""Offline verification: what a process that never calls the sidecar needs (docs/offline-verification.md).

The HTTP tests read SIDECAR_JWKS_URL (the sidecar's `sidecar.http.address` listener, e.g.
http://127.0.0.1:PORT/.well-known/jwks.json) and are skipped, with the reason shown, when it is unset. The JWKS
file test reads SIDECAR_JWKS_FILE. The unknown-kid tests need neither: they serve a trimmed key set themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, Optional, Tuple

import jwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from sessionsidecar import Client
from support import b64url_encode, b64url_json, create, jwt_parts

CLAIMS = {"role": "auditor", "level": 7}

# joserfc refuses header parameters it does not know; the access token's header carries the private "version".
JOSERFC_REGISTRY = JWSRegistry(
    header_registry={"version": HeaderParameter("SuperTokens access-token version", "str")},
    algorithms=["RS256"],
)


# ---------------------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def jwks_url() -> str:
    """SIDECAR_JWKS_URL, or a visible skip when it is not set."""
    url = os.environ.get("SIDECAR_JWKS_URL")
    if not url:
        pytest.skip(
            "SIDECAR_JWKS_URL is not set (point it at the sidecar's sidecar.http.address listener, "
            "e.g. http://127.0.0.1:PORT/.well-known/jwks.json, to run this test)"
        )
    return url


def http_request(url: str, method: str = "GET", body: Optional[bytes] = None) -> Tuple[int, Any, bytes]:
    """(status, headers, body) of one request; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def max_age(cache_control: str) -> int:
    """The max-age directive of a Cache-Control value (e.g. "public, max-age=120")."""
    match = re.search(r"(?:^|,)\s*max-age\s*=\s*(\d+)\s*(?:,|$)", cache_control, re.IGNORECASE)
    assert match, f"no max-age in Cache-Control: {cache_control!r}"
    return int(match.group(1))


def kids(jwks: Dict[str, Any]) -> set:
    return {jwk["kid"] for jwk in jwks["keys"]}


def joserfc_decode(token: str, jwks: Dict[str, Any]) -> Dict[str, Any]:
    """Verify with joserfc against the whole set (RS256 only), then check exp, which decode does not."""
    decoded = jose_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"], registry=JOSERFC_REGISTRY)
    jose_jwt.JWTClaimsRegistry(exp={"essential": True}).validate(decoded.claims)
    return decoded.claims


class _JWKSHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def serve_jwks() -> Iterator[Any]:
    """A function that serves a given JWK Set over loopback HTTP and returns its URL."""
    servers = []

    def serve(jwks: Dict[str, Any]) -> str:
        handler = type("Handler", (_JWKSHandler,), {"body": json.dumps(jwks).encode()})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------------------
# Over HTTP (sidecar.http.address)


@pytest.mark.parametrize("use_static_key", [False, True], ids=["dynamic", "static"])
def test_pyjwk_client_verifies_access_token(client: Client, jwks_url: str, use_static_key: bool) -> None:
    created = create(client, access_token_payload=CLAIMS, use_static_key=use_static_key)
    token = created.access_token.token
    jwks_client = jwt.PyJWKClient(jwks_url)
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == jwt_parts(token)[0]["kid"]
    # Passing the PyJWK (not .key) binds the key's own alg: the header's alg must equal it.
    claims = jwt.decode(token, signing_key, algorithms=["RS256"], options={"require": ["exp", "sub"]})
    assert claims["sub"] == created.session.user_id
    assert claims["sessionHandle"] == created.session.handle
    assert claims["role"] == "auditor"
    assert signing_key.key_id.startswith("s-" if use_static_key else "d-")


@pytest.mark.parametrize("use_static_key", [False, True], ids=["dynamic", "static"])
def test_joserfc_verifies_with_key_set_fetched_over_http(
    client: Client, jwks_url: str, use_static_key: bool,
) -> None:
    created = create(client, access_token_payload=CLAIMS, use_static_key=use_static_key)
    status, _headers, body = http_request(jwks_url)
    assert status == 200
    claims = joserfc_decode(created.access_token.token, json.loads(body))
    assert claims["sub"] == created.session.user_id
    assert claims["level"] == 7


def test_http_jwks_headers_match_get_signing_keys(client: Client, jwks_url: str) -> None:
    before = client.get_signing_keys()
    status, headers, body = http_request(jwks_url)
    after = client.get_signing_keys()
    assert status == 200
    assert headers.get_content_type() == "application/json", headers.get("Content-Type")
    cache_control = headers.get("Cache-Control")
    assert cache_control, "the JWKS response carries no Cache-Control"
    age = max_age(cache_control)
    assert age >= 1, cache_control
    # The two socket reads bracket the HTTP one; max-age only counts down (or resets on a change) between them.
    expected = {before.cache_max_age_s, after.cache_max_age_s}
    assert any(abs(age - value) <= 2 for value in expected), (cache_control, expected)
    served = json.loads(body)
    assert kids(served) in (kids(json.loads(before.jwks_json)), kids(json.loads(after.jwks_json)))


def test_http_jwks_body_equals_socket_jwks(client: Client, jwks_url: str) -> None:
    for _attempt in range(3):
        socket_jwks = json.loads(client.get_signing_keys().jwks_json)
        _status, _headers, body = http_request(jwks_url)
        if json.loads(body) == socket_jwks:
            return
        time.sleep(1)  # a rotation between the two reads; try again
    assert json.loads(body) == socket_jwks


def test_http_post_is_405(jwks_url: str) -> None:
    status, headers, _body = http_request(jwks_url, method="POST", body=b"{}")
    assert status == 405
    allow = headers.get("Allow")
    if allow is not None:
        assert "GET" in allow and "POST" not in allow, allow


def test_http_unknown_path_is_404(jwks_url: str) -> None:
    parts = urllib.parse.urlsplit(jwks_url)
    for path in ("/.well-known/jwks", "/", "/.well-known/jwks.json/extra", "/jwks.json"):
        status, _headers, _body = http_request(urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", "")))
        assert status == 404, path


def test_pyjwk_client_refuses_token_with_unpublished_kid(client: Client, jwks_url: str) -> None:
    token = create(client).access_token.token
    _header_segment, payload_segment, signature = token.split(".")
    header = jwt_parts(token)[0]
    header["kid"] = "d-1"  # a dynamic kid the sidecar never published
    forged = ".".join((b64url_json(header), payload_segment, signature))
    with pytest.raises(jwt.PyJWKClientError):
        jwt.PyJWKClient(jwks_url, cooldown_duration=0).get_signing_key_from_jwt(forged)


# ---------------------------------------------------------------------------------------------------------
# The JWKS file (sidecar.jwksFile)


def test_jwks_file_equals_socket_jwks_json(client: Client, jwks_file_path: str) -> None:
    for _attempt in range(3):
        socket_jwks = json.loads(client.get_signing_keys().jwks_json)
        with open(jwks_file_path, encoding="utf-8") as handle:
            file_jwks = json.load(handle)
        if file_jwks == socket_jwks:
            break
        time.sleep(1)  # the file is rewritten right after a key change; give it a moment
    assert kids(file_jwks) == kids(socket_jwks)
    assert file_jwks == socket_jwks


# ---------------------------------------------------------------------------------------------------------
# A key set without the token's kid (no sidecar HTTP listener needed)


@pytest.mark.parametrize("use_static_key", [False, True], ids=["dynamic", "static"])
def test_pyjwk_client_rejects_token_whose_kid_is_missing_from_jwks(
    client: Client, serve_jwks: Any, use_static_key: bool,
) -> None:
    token = create(client, use_static_key=use_static_key).access_token.token
    kid = jwt_parts(token)[0]["kid"]
    jwks = json.loads(client.get_signing_keys().jwks_json)
    trimmed = {"keys": [jwk for jwk in jwks["keys"] if jwk["kid"] != kid]}
    assert trimmed["keys"], "the set should still hold other keys"
    assert len(trimmed["keys"]) == len(jwks["keys"]) - 1

    # The full set verifies the token, so the rejection below is about the missing kid only.
    full_client = jwt.PyJWKClient(serve_jwks(jwks))
    jwt.decode(token, full_client.get_signing_key_from_jwt(token), algorithms=["RS256"])

    trimmed_client = jwt.PyJWKClient(serve_jwks(trimmed), cooldown_duration=0)
    with pytest.raises(jwt.PyJWKClientError, match="Unable to find a signing key"):
        trimmed_client.get_signing_key_from_jwt(token)


def test_pyjwt_key_set_lookup_fails_and_other_keys_do_not_verify(client: Client) -> None:
    token = create(client).access_token.token
    kid = jwt_parts(token)[0]["kid"]
    jwks = json.loads(client.get_signing_keys().jwks_json)
    trimmed = jwt.PyJWKSet.from_dict({"keys": [jwk for jwk in jwks["keys"] if jwk["kid"] != kid]})
    with pytest.raises(KeyError):
        trimmed[kid]
    # A verifier that ignored the kid and tried the keys it has would still not accept the token.
    for other in trimmed.keys:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, other, algorithms=["RS256"])


def test_joserfc_rejects_token_whose_kid_is_missing_from_jwks(client: Client) -> None:
    token = create(client).access_token.token
    kid = jwt_parts(token)[0]["kid"]
    jwks = json.loads(client.get_signing_keys().jwks_json)
    trimmed = {"keys": [jwk for jwk in jwks["keys"] if jwk["kid"] != kid]}
    with pytest.raises(InvalidKeyIdError):
        joserfc_decode(token, trimmed)


def test_pyjwt_refuses_hs256_with_the_public_key_as_secret(client: Client) -> None:
    """The classic key-confusion forgery: a verifier pinned to RS256 never runs HMAC."""
    token = create(client).access_token.token
    header, claims = jwt_parts(token)
    jwks = json.loads(client.get_signing_keys().jwks_json)
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    header["alg"] = "HS256"
    forged_input = b64url_json(header) + "." + b64url_json(claims)
    forged = forged_input + "." + b64url_encode(
        hmac.new(json.dumps(jwk).encode(), forged_input.encode(), hashlib.sha256).digest()
    )
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(forged, jwt.PyJWK(jwk), algorithms=["RS256"])
