"""OAuth 2.0 client credentials against the hub (PROTOCOL.md section 3), via authlib.

authlib's requests integration keeps the token and fetches a new one when it
is about to expire (``client_credentials`` has no refresh token: "refresh"
means asking again). This module supplies what authlib leaves to us:

* ``private_key_jwt`` with an Ed25519 assertion. authlib's stock
  ``PrivateKeyJWT`` would sign RS256 and lets a ``claims`` dict leak its
  ``jti`` into the next assertion; the hub refuses a reused ``jti`` (replay),
  so every assertion here is built fresh: ``alg`` ``Ed25519`` named
  explicitly (joserfc refuses it otherwise), ``kid`` in the header, a new
  random ``jti``, a one-minute life.
* The assertion's ``aud``: the hub accepts its public URL or its token
  endpoint, and behind a proxy the public URL is not the one we connect to,
  so it is read from the server metadata (RFC 8414 ``token_endpoint``).
* A token endpoint answer that is no token (a 429 or 5xx problem, an RFC
  6749 error) becomes a typed error instead of being stored as the token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from keys.keyfiles import private_key_to_pem
from partners.errors import ConfigError, HubProblem, problem_from_response

SECRET_BASIC = "client_secret_basic"
PRIVATE_KEY_JWT = "private_key_jwt"
ASSERTION_LIFETIME = 60
ASSERTION_ALG = "Ed25519"

__all__ = ["ASSERTION_TYPE", "Credentials", "build_session", "token_problem"]


@dataclass(frozen=True)
class Credentials:
    """How this client proves who it is: a client secret, or its Ed25519 key and kid.

    The secret and key are kept out of ``repr`` so a logged object never
    shows them.
    """

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    private_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    kid: str | None = None
    method: str | None = None

    @property
    def auth_method(self) -> str:
        """``client_secret_basic`` when a secret is given (unless told otherwise), else ``private_key_jwt``."""
        if self.method:
            return self.method
        return SECRET_BASIC if self.client_secret else PRIVATE_KEY_JWT

    def check(self) -> None:
        """Raise :class:`ConfigError` unless the chosen method has what it needs."""
        if not self.client_id:
            raise ConfigError("no client id (set TANGKAL_CREDENTIALS or TANGKAL_CLIENT_ID)")
        method = self.auth_method
        if method == SECRET_BASIC and not self.client_secret:
            raise ConfigError(
                "client_secret_basic needs a client secret (set TANGKAL_CREDENTIALS or TANGKAL_CLIENT_SECRET)"
            )
        if method == PRIVATE_KEY_JWT and (self.private_key is None or not self.kid):
            raise ConfigError(
                "no client secret, and private_key_jwt needs the partner's key and kid "
                "(set TANGKAL_CREDENTIALS or TANGKAL_CLIENT_SECRET, or TANGKAL_KEY and TANGKAL_KID)"
            )
        if method not in (SECRET_BASIC, PRIVATE_KEY_JWT):
            raise ConfigError(f"unknown client authentication method {method!r}")


class Ed25519ClientAssertion(PrivateKeyJWT):  # type: ignore[misc]  # authlib is untyped
    """RFC 7523 ``private_key_jwt`` with a fresh Ed25519 assertion per token request."""

    alg = ASSERTION_ALG

    def __init__(self, kid: str, audience: Callable[[], str]) -> None:
        super().__init__(token_endpoint=None, alg=ASSERTION_ALG)
        self.kid = kid
        self.audience = audience

    def sign(self, auth: Any, token_endpoint: str) -> str:
        now = int(time.time())
        claims = {
            "iss": auth.client_id,
            "sub": auth.client_id,
            "aud": self.audience(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "jti": secrets.token_urlsafe(24),
        }
        header = {"alg": ASSERTION_ALG, "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, auth.client_secret, algorithms=[ASSERTION_ALG])


def token_problem(resp: requests.Response) -> HubProblem:
    """The typed error for a token endpoint answer that carries no token (RFC 6749 errors included)."""
    return problem_from_response(resp, oauth=True)


def _refuse_non_token(resp: requests.Response) -> requests.Response:
    """authlib hook: raise instead of storing a problem object as the token."""
    if resp.status_code != 200:
        raise token_problem(resp)
    return resp


def build_session(
    token_url: str,
    credentials: Credentials,
    audience: Callable[[], str],
    scope: str | None,
    leeway: int,
) -> OAuth2Session:
    """An authlib session that fetches (and re-fetches) client-credentials tokens by itself."""
    credentials.check()
    common: dict[str, Any] = {
        "scope": scope,
        "token_endpoint": token_url,
        "grant_type": "client_credentials",
        "leeway": leeway,
    }
    if credentials.auth_method == PRIVATE_KEY_JWT:
        if credentials.private_key is None or credentials.kid is None:  # checked above; narrows types
            raise ConfigError("private_key_jwt needs a key and a kid")
        key = OKPKey.import_key(private_key_to_pem(credentials.private_key), {"kid": credentials.kid})
        session = OAuth2Session(credentials.client_id, key, token_endpoint_auth_method=PRIVATE_KEY_JWT, **common)
        session.register_client_auth_method(Ed25519ClientAssertion(credentials.kid, audience))
    else:
        session = OAuth2Session(
            credentials.client_id, credentials.client_secret, token_endpoint_auth_method=SECRET_BASIC, **common
        )
    session.register_compliance_hook("access_token_response", _refuse_non_token)
    return session
