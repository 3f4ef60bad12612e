"""Resource protection: ``@require("records:write")`` and nothing else.

Verifies the RFC 9068 access token the hub issued (Ed25519 only, named
explicitly because joserfc refuses the algorithm otherwise), checks the
shared revocation list, and the scope. A missing or bad token is 401 with a
``WWW-Authenticate`` challenge; a good token without the scope is 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from sqlalchemy import bindparam, exists, select

from hub import clock, origin
from hub.auth.models import OAuthClient, Partner, RevokedToken
from hub.auth.scopes import SCOPES_BY_KIND
from hub.db import db, reads
from hub.hotread import HotRead
from hub.problems import Problem, unauthorized
from hub.signing import token_keys

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_TOKEN_ALGS = ["Ed25519"]
#: Seconds of clock difference tolerated between hub instances on iat/exp.
TOKEN_LEEWAY = 5


@dataclass(frozen=True)
class Caller:
    """Who is calling, as the access token and the partner table say."""

    partner_id: str
    kind: str
    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: int

    @property
    def is_ministry(self) -> bool:
        return self.kind == "ministry"


def hub_url() -> str:
    """The hub's URL, fixed when it started (hub.origin); never taken from the request's Host."""
    return origin.hub_url()


class TokenKeyUnknown(ValueError):
    """The token names a kid that is not (or no longer) a key access tokens may be signed with."""


#: Tokens whose signature this process has verified: token -> (kid, claims). A hit
#: skips only the Ed25519 verification and the JOSE parsing (two fifths of
#: an authenticated look-up, bench/profile_requests.py): the kid must still
#: be accepted (a retired key's tokens fail within a second) and the claims
#: are checked again (expiry, issuer, audience) on every use.
_VERIFIED: dict[str, tuple[str, dict[str, Any]]] = {}
VERIFIED_CACHE = 4096


def decode_access_token(token: str) -> dict[str, Any]:
    """The verified claims of a hub access token, or ``JoseError``/``ValueError``.

    Does not consult the revocation list; ``is_revoked`` does. Retired keys
    are out of the key set within a second on every instance (hub.signing).
    """
    keyset, kids = token_keys()
    hit = _VERIFIED.get(token)
    if hit is not None:
        kid, claims = hit
        if kid not in kids:
            raise TokenKeyUnknown("the token is not signed with a key the hub accepts")
        _check_claims(claims)
        return claims
    header = jws.extract_compact(token.encode("ascii", "strict")).headers()
    token_kid = header.get("kid")
    if keyset is None or token_kid not in kids:
        raise TokenKeyUnknown("the token is not signed with a key the hub accepts")
    decoded = jwt.decode(token, keyset, algorithms=ACCESS_TOKEN_ALGS)
    if decoded.header.get("typ") != "at+jwt":
        raise ValueError("not an RFC 9068 access token")
    _check_claims(decoded.claims)
    if len(_VERIFIED) >= VERIFIED_CACHE:
        _VERIFIED.clear()
    _VERIFIED[token] = (str(token_kid), decoded.claims)
    return decoded.claims


def _check_claims(claims: dict[str, Any]) -> None:
    _claims_registry(hub_url()).validate(claims)


@functools.lru_cache(maxsize=8)
def _claims_registry(url: str) -> jwt.JWTClaimsRegistry:
    """What a hub access token must claim; ``now`` is read at each validation, so one registry per URL serves."""
    return jwt.JWTClaimsRegistry(
        now=clock.epoch_seconds,
        leeway=TOKEN_LEEWAY,
        iss={"essential": True, "value": url},
        aud={"essential": True, "value": url},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
        sub={"essential": True},
        client_id={"essential": True},
        partner={"essential": True},
        scope={"essential": True},
    )


def is_revoked(jti: str) -> bool:
    return db.session.get(RevokedToken, jti) is not None


def bearer_claims() -> dict[str, Any] | None:
    """The request's verified token claims (signature, expiry, audience), or None.

    Cached on ``g`` under the token itself: the rate limiter keys on the
    partner before the view runs, and ``authenticate`` then reuses the same
    verification (``g`` can outlive a request inside one app context, hence
    the token as part of the key).
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    cached = g.get("bearer_claims")
    if cached is not None and cached[0] == token:
        return cached[1]  # type: ignore[no-any-return]
    try:
        claims: dict[str, Any] | None = decode_access_token(token)
    except (JoseError, ValueError, UnicodeError):
        claims = None
    g.bearer_claims = (token, claims)
    return claims


def authenticate() -> Caller:
    """The caller of this request, or a 401 problem."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Send an access token: Authorization: Bearer <token>.", error="")
    claims = bearer_claims()
    if claims is None:
        raise unauthorized("The access token is invalid or expired.")
    # One statement: the revocation list, the client and its partner (a look-up's whole auth cost).
    row = _CLIENT_STATE.first(reads(), {"jti": claims["jti"], "client_id": claims["client_id"]})
    if row is None:  # no such client any more; the revocation list still says which 401 it is
        if is_revoked(claims["jti"]):
            raise unauthorized("The access token has been revoked.")
        raise unauthorized("The token's client has been disabled.")
    revoked, disabled, partner_id, kind = row
    if revoked:
        raise unauthorized("The access token has been revoked.")
    if disabled or partner_id != claims["partner"]:
        raise unauthorized("The token's client has been disabled.")
    return Caller(
        partner_id=partner_id,
        kind=kind,
        client_id=claims["client_id"],
        # What the kind allows today bounds what an older token says.
        scopes=frozenset(str(claims["scope"]).split()) & SCOPES_BY_KIND[kind],
        jti=claims["jti"],
        expires_at=int(claims["exp"]),
    )


#: (revoked, disabled, partner_id, kind) of the token's jti and client: on the driver's cursor (hub.hotread).
_CLIENT_STATE = HotRead(
    select(
        exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"),
        OAuthClient.disabled,
        OAuthClient.partner_id,
        Partner.kind,
    )
    .join(Partner, Partner.id == OAuthClient.partner_id)
    .where(OAuthClient.client_id == bindparam("client_id"))
)


def require(scope: str | None) -> Callable[[F], F]:
    """Protect a view: authenticated (401), holding ``scope`` (403).

    ``None`` asks for a valid token only (``/v1/whoami``).
    """

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            caller = authenticate()
            if scope is not None and scope not in caller.scopes:
                raise Problem("forbidden", f"This call needs the scope {scope!r}, which the token does not carry.")
            g.caller = caller
            return view(*args, **kwargs)

        inner._required_scope = scope  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap


def current_caller() -> Caller:
    caller = g.get("caller")
    if not isinstance(caller, Caller):
        raise RuntimeError("current_caller() outside a @require view")
    return caller
