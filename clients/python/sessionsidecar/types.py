"""Typed results: one frozen dataclass per result message, built from the generated protobuf messages.

Field names follow the contract (proto/sessionsidecar/v1/sidecar.proto). A message field the sidecar left
unset is None (e.g. `RefreshSessionResult.refresh_token` inside the rotation grace period); strings stay
strings (`anti_csrf_token` is ``""`` when the session has none). Tokens, cookie values and Set-Cookie headers
are left out of ``repr()`` so that logging a result never logs a credential.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, Type, TypeVar

from .errors import SidecarProtocolError
from .v1 import sidecar_pb2 as pb

__all__ = [
    "Cookie", "CreateSessionResult", "Health", "KeyKind", "ListSessionsResult", "RefreshOutcome",
    "RefreshSessionResult", "RegenerateAccessTokenResult", "RevokeSessionsResult", "Session", "SessionInfo",
    "SigningKey", "SigningKeys", "Token", "VerifyOutcome", "VerifySessionResult",
]

E = TypeVar("E", bound=enum.Enum)


class VerifyOutcome(enum.Enum):
    """VerifySession's outcome. The wire's zero (OUTCOME_UNSPECIFIED) is refused, never mapped to a member."""

    OK = 1
    TRY_REFRESH_TOKEN = 2
    UNAUTHORISED = 3


class RefreshOutcome(enum.Enum):
    """RefreshSession's outcome."""

    OK = 1
    UNAUTHORISED = 2
    TOKEN_THEFT_DETECTED = 3


class KeyKind(enum.Enum):
    """A signing key's kind: rotating (``d-`` kids) or the long-lived static key (``s-`` kids)."""

    DYNAMIC = 1
    STATIC = 2


def _enum(kind: Type[E], number: int, what: str) -> E:
    """The member of `kind` for a wire number; an unset (0) or unknown number breaks the contract."""
    try:
        return kind(number)
    except ValueError:
        raise SidecarProtocolError(f"the sidecar sent {what} {number}, which this client does not know") from None


def _json_object(text: str) -> Dict[str, Any]:
    """A JSON-object string as a dict (``""`` means ``{}``)."""
    return json.loads(text) if text else {}


@dataclass(frozen=True)
class Token:
    """An access or refresh token and when it expires (milliseconds since the Unix epoch)."""

    token: str = field(repr=False)
    expires_at_ms: int

    @classmethod
    def from_pb(cls, message: pb.Token) -> "Token":
        return cls(token=message.token, expires_at_ms=message.expires_at_ms)


@dataclass(frozen=True)
class Cookie:
    """A ready-to-send cookie; `set_cookie_header` is the complete value of a ``Set-Cookie`` header."""

    name: str
    value: str = field(repr=False)
    path: str
    domain: str
    expires_at_ms: int
    http_only: bool
    secure: bool
    same_site: str
    set_cookie_header: str = field(repr=False)

    @classmethod
    def from_pb(cls, message: pb.Cookie) -> "Cookie":
        return cls(
            name=message.name, value=message.value, path=message.path, domain=message.domain,
            expires_at_ms=message.expires_at_ms, http_only=message.http_only, secure=message.secure,
            same_site=message.same_site, set_cookie_header=message.set_cookie_header,
        )


def _cookies(messages: Any) -> Tuple[Cookie, ...]:
    return tuple(Cookie.from_pb(message) for message in messages)


def _token(holder: Any, name: str) -> Optional[Token]:
    return Token.from_pb(getattr(holder, name)) if holder.HasField(name) else None


@dataclass(frozen=True)
class Session:
    """A session as an access token describes it."""

    handle: str
    user_id: str
    #: The access token's whole payload (protected claims and the app's own) as a JSON object. Left out of
    #: repr() like the tokens: it carries the refresh token's hash.
    access_token_payload_json: str = field(repr=False)
    #: When the access token expires (milliseconds since the Unix epoch).
    expires_at_ms: int

    @property
    def access_token_payload(self) -> Dict[str, Any]:
        """`access_token_payload_json`, parsed."""
        return _json_object(self.access_token_payload_json)

    @classmethod
    def from_pb(cls, message: pb.Session) -> "Session":
        return cls(
            handle=message.handle, user_id=message.user_id,
            access_token_payload_json=message.access_token_payload_json, expires_at_ms=message.expires_at_ms,
        )


def _session(holder: Any) -> Optional[Session]:
    return Session.from_pb(holder.session) if holder.HasField("session") else None


@dataclass(frozen=True)
class CreateSessionResult:
    session: Session
    access_token: Token
    refresh_token: Token
    #: Set when the session was created with enable_anti_csrf, else "".
    anti_csrf_token: str = field(repr=False)
    cookies: Tuple[Cookie, ...]

    @classmethod
    def from_pb(cls, message: pb.CreateSessionResponse) -> "CreateSessionResult":
        return cls(
            session=Session.from_pb(message.session), access_token=Token.from_pb(message.access_token),
            refresh_token=Token.from_pb(message.refresh_token), anti_csrf_token=message.anti_csrf_token,
            cookies=_cookies(message.cookies),
        )


@dataclass(frozen=True)
class VerifySessionResult:
    outcome: VerifyOutcome
    #: Why the outcome is not OK (e.g. "access token expired"); empty when OK.
    reason: str
    #: The verified session; None unless the outcome is OK.
    session: Optional[Session]

    @property
    def ok(self) -> bool:
        return self.outcome is VerifyOutcome.OK

    @classmethod
    def from_pb(cls, message: pb.VerifySessionResponse) -> "VerifySessionResult":
        return cls(
            outcome=_enum(VerifyOutcome, message.outcome, "VerifySession outcome"), reason=message.reason,
            session=_session(message),
        )


@dataclass(frozen=True)
class RefreshSessionResult:
    outcome: RefreshOutcome
    reason: str
    #: On OK the refreshed session; on TOKEN_THEFT_DETECTED the revoked session's handle and user id.
    session: Optional[Session]
    access_token: Optional[Token]
    #: None when a previous refresh token was used inside the rotation grace period: keep the current one.
    refresh_token: Optional[Token]
    anti_csrf_token: str = field(repr=False)
    cookies: Tuple[Cookie, ...]

    @property
    def ok(self) -> bool:
        return self.outcome is RefreshOutcome.OK

    @classmethod
    def from_pb(cls, message: pb.RefreshSessionResponse) -> "RefreshSessionResult":
        return cls(
            outcome=_enum(RefreshOutcome, message.outcome, "RefreshSession outcome"), reason=message.reason,
            session=_session(message), access_token=_token(message, "access_token"),
            refresh_token=_token(message, "refresh_token"), anti_csrf_token=message.anti_csrf_token,
            cookies=_cookies(message.cookies),
        )


@dataclass(frozen=True)
class RevokeSessionsResult:
    revoked_session_handles: Tuple[str, ...]

    @classmethod
    def from_pb(cls, message: pb.RevokeSessionsResponse) -> "RevokeSessionsResult":
        return cls(revoked_session_handles=tuple(message.revoked_session_handles))


@dataclass(frozen=True)
class ListSessionsResult:
    session_handles: Tuple[str, ...]

    @classmethod
    def from_pb(cls, message: pb.ListSessionsResponse) -> "ListSessionsResult":
        return cls(session_handles=tuple(message.session_handles))


@dataclass(frozen=True)
class SessionInfo:
    """GetSession's result: what the database holds for a session."""

    session_handle: str
    user_id: str
    session_data_json: str
    #: The app's own access-token claims (what the next access token will carry besides the protected claims).
    access_token_payload_json: str
    created_at_ms: int
    #: When the session (its refresh token) expires.
    expires_at_ms: int

    @property
    def session_data(self) -> Dict[str, Any]:
        return _json_object(self.session_data_json)

    @property
    def access_token_payload(self) -> Dict[str, Any]:
        return _json_object(self.access_token_payload_json)

    @classmethod
    def from_pb(cls, message: pb.GetSessionResponse) -> "SessionInfo":
        return cls(
            session_handle=message.session_handle, user_id=message.user_id,
            session_data_json=message.session_data_json,
            access_token_payload_json=message.access_token_payload_json, created_at_ms=message.created_at_ms,
            expires_at_ms=message.expires_at_ms,
        )


@dataclass(frozen=True)
class RegenerateAccessTokenResult:
    session: Optional[Session]
    #: None when the given access token had expired: only the stored payload changed.
    access_token: Optional[Token]
    cookies: Tuple[Cookie, ...]

    @classmethod
    def from_pb(cls, message: pb.RegenerateAccessTokenResponse) -> "RegenerateAccessTokenResult":
        return cls(session=_session(message), access_token=_token(message, "access_token"),
                   cookies=_cookies(message.cookies))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    kind: KeyKind
    public_key_pem: str
    created_at_ms: int
    #: After this instant no token signed by the key is still valid and the key is no longer published.
    expires_at_ms: int

    @classmethod
    def from_pb(cls, message: pb.SigningKey) -> "SigningKey":
        return cls(
            kid=message.kid, alg=message.alg, kind=_enum(KeyKind, message.kind, "signing key kind"),
            public_key_pem=message.public_key_pem, created_at_ms=message.created_at_ms,
            expires_at_ms=message.expires_at_ms,
        )


@dataclass(frozen=True)
class SigningKeys:
    """GetSigningKeys' result, and each item of watch_signing_keys()."""

    #: An RFC 7517 JWK Set holding every public key a verifier may meet.
    jwks_json: str
    keys: Tuple[SigningKey, ...]
    #: Seconds until the key set next changes; a verifier may cache the set this long.
    cache_max_age_s: int

    @property
    def jwks(self) -> Dict[str, Any]:
        """`jwks_json`, parsed."""
        return _json_object(self.jwks_json)

    @classmethod
    def from_pb(cls, message: pb.GetSigningKeysResponse) -> "SigningKeys":
        return cls(jwks_json=message.jwks_json, keys=tuple(SigningKey.from_pb(key) for key in message.keys),
                   cache_max_age_s=message.cache_max_age_s)


@dataclass(frozen=True)
class Health:
    serving: bool
    version: str
    database_reachable: bool

    @classmethod
    def from_pb(cls, message: pb.HealthResponse) -> "Health":
        return cls(serving=message.serving, version=message.version,
                   database_reachable=message.database_reachable)
