"""The OAuth 2.0 authorization server (authlib), as PROTOCOL.md section 3 has it.

authlib does the protocol; this module supplies what it leaves to us and
corrects three of its defaults that the protocol forbids: a requested scope
beyond the partner's is ``invalid_scope`` (authlib would drop it silently),
access tokens are RFC 9068 JWTs signed Ed25519 with the kid in the header
and a 15 minute life (not 10 days), and client assertions verify only with
the algorithms named here (joserfc refuses Ed25519 unless told).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientCredentialsGrant,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7523.client import InvalidClientError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub import clock
from hub.auth.models import OAuthClient, PartnerKey, RevokedToken, UsedAssertion
from hub.auth.protect import decode_access_token, hub_url, is_revoked
from hub.auth.scopes import SCOPE_RE, scope_string
from hub.auth.secrets import check_secret, hash_secret
from hub.db import db
from hub.signing import signer
from keys.keyfiles import private_key_to_pem

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ASSERTION_ALGS = ["Ed25519", "EdDSA"]


class Client:
    """authlib's view of an :class:`OAuthClient` row."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.client_id
        self.partner = row.partner

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def check_client_secret(self, client_secret: str) -> bool:
        return check_secret(self.row.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.partner.allowed_scopes
        requested = set(scope_to_list(scope) or [])
        return scope_string(requested & allowed if requested else allowed)


class UnknownClient:
    """Stands in for a client id that does not exist or is disabled (PROTOCOL 1.1 section 3).

    authlib answers an unknown id at once with its own words ("does not
    exist"), and a wrong secret after an Argon2 verification: a probe could
    tell which ids exist by the message and by the time (30 times faster).
    This stand-in fails the same way a real client with a wrong secret does,
    after an Argon2 verification against a hash made with the same
    parameters, and a client assertion for it fails verification like one
    signed with the wrong key.
    """

    partner = None

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        check_secret(_dummy_hash(), client_secret)
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return False

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_response_type(self, response_type: str) -> bool:
        return False

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return ""


#: Argon2id hashes of a random secret, by SECRET_HASH_FAST: what an unknown client's secret is checked against
_DUMMY_HASHES: dict[bool, str] = {}


def _dummy_hash() -> str:
    fast = bool(current_app.config.get("SECRET_HASH_FAST", False))
    if fast not in _DUMMY_HASHES:
        _DUMMY_HASHES[fast] = hash_secret(generate_token(32))
    return _DUMMY_HASHES[fast]


def _query_client(client_id: str) -> Client | UnknownClient:
    row = db.session.get(OAuthClient, client_id) if isinstance(client_id, str) else None
    if row is None or row.disabled:
        return UnknownClient(str(client_id))
    return Client(row)


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]  # authlib is untyped
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_token_request(self) -> None:
        scope = self.request.payload.scope
        if scope is not None and not SCOPE_RE.fullmatch(scope):
            # Never echoed: authlib refuses an error description holding such characters (a 500 before).
            raise InvalidScopeError(
                description="scope is a space-separated list of scope tokens (RFC 6749 section 3.3)."
            )
        super().validate_token_request()
        requested = set(scope_to_list(self.request.payload.scope) or [])
        beyond = requested - self.request.client.partner.allowed_scopes
        if beyond:
            raise InvalidScopeError(description=f"Scope beyond this partner's: {scope_string(beyond)}")


#: PROTOCOL.md section 3 (1.1): an assertion may live up to an hour, authlib's default.
MAX_ASSERTION_LIFETIME = 3600
#: Seconds of clock difference tolerated between a partner and the hub on assertion times.
ASSERTION_LEEWAY = 30


def _check_assertion_lifetime(claims: dict[str, Any]) -> None:
    """A short-lived assertion only: a leaked one must not work years later."""
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or isinstance(iat, bool) or isinstance(exp, bool):
        raise InvalidClientError(description="The client assertion needs integer iat and exp claims.")
    now = clock.epoch_seconds()
    if exp - now > MAX_ASSERTION_LIFETIME or exp - iat > MAX_ASSERTION_LIFETIME:
        raise InvalidClientError(description=f"A client assertion lives at most {MAX_ASSERTION_LIFETIME} seconds.")


ASSERTION_REFUSED = "Client assertion refused: it does not verify with a registered key of the client it names."

_THROWAWAY: list[KeySet] = []


def _throwaway_keys() -> KeySet:
    """A key set no client's assertion verifies with: what an unknown client (or one without keys) is checked against."""
    if not _THROWAWAY:
        key = OKPKey.generate_key("Ed25519", private=False)
        _THROWAWAY.append(KeySet.import_key_set({"keys": [key.as_dict(private=False)]}))
    return _THROWAWAY[0]


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]  # authlib is untyped
    """RFC 7523 client assertions signed by one of the partner's active keys."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        url = hub_url()
        return [url, url + "/oauth/token"]

    def resolve_client_public_key(self, client: Client | UnknownClient) -> KeySet:
        if isinstance(client, UnknownClient):
            return _throwaway_keys()  # verification fails as for a known client and a wrong key
        rows = db.session.scalars(
            select(PartnerKey).where(PartnerKey.partner_id == client.partner.id, PartnerKey.status == "active")
        ).all()
        if not rows:
            return _throwaway_keys()
        # Registered JWKs say alg Ed25519; assertions may also use the older
        # EdDSA name for the same algorithm, so drop the alg pin here.
        return KeySet.import_key_set({"keys": [{k: v for k, v in row.jwk.items() if k != "alg"} for row in rows]})

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGS)
        except (JoseError, ValueError) as exc:
            # One description whether the client exists or not (PROTOCOL 1.1 section 3).
            raise InvalidClientError(description=ASSERTION_REFUSED) from exc
        if "kid" not in token.header:
            raise InvalidClientError(description="The client assertion has no kid in its header.")
        _check_assertion_lifetime(token.claims)
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: dict[str, Any]) -> None:
        """authlib's checks (RFC 7523 section 3), timed by the hub's clock rather than the process's."""
        registry = jwt.JWTClaimsRegistry(
            now=clock.epoch_seconds,
            leeway=self.leeway,
            iss={"essential": True},
            sub={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise InvalidClientError(description=exc.description) from exc
        if claims["sub"] != claims["iss"]:
            raise InvalidClientError(description="Issuer and Subject MUST match.")
        if "jti" not in claims:
            raise InvalidClientError(description="Missing JWT ID.")
        if not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="JWT ID is used before.")

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Record the jti; a second insert of the same one is a replay."""
        if not isinstance(jti, str) or not jti or len(jti) > 255:
            return False
        # Remembered until the assertion could no longer be accepted anyway (exp plus the leeway).
        exp = datetime.fromtimestamp(int(claims["exp"]), UTC) + timedelta(seconds=self.leeway)
        db.session.add(UsedAssertion(client_id=str(claims["sub"]), jti=jti, expires_at=exp))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return False
        return True


class AccessTokens:
    """RFC 9068 access tokens, signed with the hub's current key."""

    def __call__(
        self,
        grant_type: str,
        client: Client,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        ttl = int(current_app.config["TOKEN_TTL_SECONDS"])
        granted = client.get_allowed_scope(scope)
        now = clock.epoch_seconds()
        url = hub_url()
        claims = {
            "iss": url,
            "aud": url,
            "sub": client.client_id,
            "client_id": client.client_id,
            "partner": client.partner.id,
            "scope": granted,
            "iat": now,
            "exp": now + ttl,
            "jti": generate_token(24),
        }
        current = signer()
        key = OKPKey.import_key(private_key_to_pem(current.private_key), {"kid": current.kid})
        header = {"alg": "Ed25519", "typ": "at+jwt", "kid": current.kid}
        token = jwt.encode(header, claims, key, algorithms=["Ed25519"])
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": granted}


class TokenView:
    """authlib's view of a decoded access token (for revoke and introspect)."""

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    def check_client(self, client: Client) -> bool:
        return self.claims.get("client_id") == client.client_id

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.claims["exp"]) - int(self.claims["iat"])

    def is_expired(self) -> bool:
        return int(self.claims["exp"]) <= clock.epoch_seconds()

    def is_revoked(self) -> bool:
        return is_revoked(self.claims["jti"])


def _query_token(token_string: str) -> TokenView | None:
    try:
        return TokenView(decode_access_token(token_string))
    except (JoseError, ValueError):
        return None


class Revocation(RevocationEndpoint):  # type: ignore[misc]  # authlib is untyped
    """RFC 7009. The jti goes into the shared table, so every instance refuses it at once."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def authenticate_token(self, request: Any, client: Client) -> TokenView | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # RFC 7009 §2.2: another client's token is answered 200 and left alone.
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _query_token(token_string)

    def revoke_token(self, token: TokenView, request: Any) -> None:
        jti = token.claims["jti"]
        if db.session.get(RevokedToken, jti) is not None:
            return
        expires = datetime.fromtimestamp(int(token.claims["exp"]), UTC)
        db.session.add(RevokedToken(jti=jti, expires_at=expires, revoked_at=clock.now()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]  # authlib is untyped
    """RFC 7662, for the ministry's clients only."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def authenticate_endpoint_client(self, request: Any) -> Client:
        """Refuse every other client before looking at the token.

        authlib calls ``check_permission`` only for an active token, so an
        operator would learn from ``{"active": false}`` that a token is dead.
        """
        client: Client = super().authenticate_endpoint_client(request)
        if client.partner.kind != "ministry":
            raise UnauthorizedClientError(description="Token introspection is for the ministry's clients.")
        return client

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _query_token(token_string)

    def check_permission(self, token: TokenView, client: Client, request: Any) -> bool:
        return True  # authenticate_endpoint_client admitted only the ministry

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        c = token.claims
        return {
            "active": True,
            "token_type": "Bearer",
            **{k: c[k] for k in ("scope", "client_id", "sub", "partner", "iss", "aud", "exp", "iat", "jti")},
        }


def _save_token(token: dict[str, Any], request: Any) -> None:
    """JWT access tokens are self-contained: nothing to store until revoked."""


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]  # authlib is untyped
    """authlib's server, refusing a request that authenticates its client in two ways at once."""

    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Any:
        used = client_auth_methods_used(request)
        if len(used) > 1:
            # RFC 6749 section 2.3: "The client MUST NOT use more than one authentication method in each request."
            raise InvalidRequestError(
                description="Use one client authentication method per request (RFC 6749 section 2.3), not "
                + " and ".join(used)
                + "."
            )
        return super().authenticate_client(request, methods, endpoint)


def client_auth_methods_used(request: Any) -> list[str]:
    """The client authentication methods a token, revocation or introspection request carries."""
    used = []
    if request.headers.get("Authorization", "").split(" ", 1)[0].lower() == "basic":
        used.append("client_secret_basic")
    form = request.form
    if form.get("client_secret") is not None:
        used.append("client_secret_post")
    if form.get("client_assertion") is not None or form.get("client_assertion_type") is not None:
        used.append("private_key_jwt")
    return used


def init_oauth(app: Flask) -> AuthorizationServer:
    """One authorization server per app (tests build many apps)."""
    authorization = HubAuthorizationServer()
    authorization.init_app(app, query_client=_query_client, save_token=_save_token)
    authorization.register_token_generator("default", AccessTokens())
    authorization.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT(leeway=ASSERTION_LEEWAY))
    authorization.register_grant(ClientCredentials)
    authorization.register_endpoint(Revocation)
    authorization.register_endpoint(Introspection)
    app.extensions["tangkal.oauth"] = authorization
    return authorization


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["tangkal.oauth"]
