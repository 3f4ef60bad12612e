"""OAuth endpoints, server metadata and the public key sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, cast

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import Blueprint, Response, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.models import Partner, PartnerKey
from hub.auth.protect import current_caller, hub_url, require
from hub.auth.schemas import (
    EXAMPLE_INTROSPECTION,
    EXAMPLE_JWK,
    EXAMPLE_METADATA,
    EXAMPLE_REVOKE_FORM,
    EXAMPLE_TOKEN,
    EXAMPLE_TOKEN_FORM,
    IntrospectForm,
    Introspection,
    Revoked,
    RevokeForm,
    TokenForm,
)
from hub.auth.scopes import SCOPE_DESCRIPTIONS
from hub.auth.server import ASSERTION_ALGS, AUTH_METHODS, authorization_server
from hub.db import db
from hub.openapi import FORM, operation
from hub.problems import Problem
from hub.ratelimit import limiter
from hub.signing import published_jwks
from keys.timefmt import format_ts

bp = Blueprint("auth", __name__)


class TokenResponse(BaseModel):
    """An RFC 9068 access token (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class JWK(BaseModel):
    model_config = ConfigDict(extra="allow")
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["Ed25519"]


class JWKSet(BaseModel):
    """A JSON Web Key Set (RFC 7517)."""

    keys: list[JWK]


class PartnerJWK(JWK):
    status: Literal["active", "revoked"]
    revoked_at: str | None = Field(description="RFC 3339 UTC, null while active")


class PartnerKeySet(BaseModel):
    """A partner's public keys, active and revoked."""

    keys: list[PartnerJWK]


class ServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata."""

    model_config = ConfigDict(extra="allow")
    issuer: str
    token_endpoint: str
    jwks_uri: str


def _oauth_errors(call: Callable[[], Response]) -> Response:
    """authlib raises some errors (plain HTTP to a public host) before its own handling."""
    try:
        return call()
    except InsecureTransportError as error:
        error.description = (
            "The OAuth endpoints need HTTPS. Behind a TLS-terminating proxy, set PROXY_FIX_X_FOR so the hub "
            "trusts its X-Forwarded-Proto."
        )
        return cast(Response, authorization_server().handle_error_response(None, error))
    except OAuth2Error as error:
        return cast(Response, authorization_server().handle_error_response(None, error))


def _limit_token_endpoint() -> str:
    return str(current_app.config["RATELIMIT_TOKEN"])


@bp.post("/oauth/token")
@limiter.limit(_limit_token_endpoint)
@operation(
    summary="Get an access token (client_credentials; RFC 6749 §4.4)",
    tag="oauth",
    operation_id="getToken",
    request=TokenForm,
    request_media=FORM,
    request_example=EXAMPLE_TOKEN_FORM,
    responses={200: TokenResponse},
    response_example=EXAMPLE_TOKEN,
    oauth=True,
    description="Form-encoded. Client authentication: client_secret_basic, client_secret_post or "
    "private_key_jwt (RFC 7523, Ed25519 or EdDSA). Errors follow RFC 6749 §5.2.",
)
def token() -> Response:
    return _oauth_errors(lambda: authorization_server().create_token_response())


@bp.post("/oauth/revoke")
@operation(
    summary="Revoke an access token (RFC 7009)",
    tag="oauth",
    operation_id="revokeToken",
    request=RevokeForm,
    request_media=FORM,
    request_example=EXAMPLE_REVOKE_FORM,
    responses={200: Revoked},
    response_example={},
    oauth=True,
    description="Works at once on every hub instance. Revoking a token that is not the caller's answers 200 "
    "and changes nothing.",
)
def revoke() -> Response:
    return _oauth_errors(lambda: authorization_server().create_endpoint_response("revocation"))


@bp.post("/oauth/introspect")
@operation(
    summary="Introspect a token (RFC 7662); ministry clients only",
    tag="oauth",
    operation_id="introspectToken",
    request=IntrospectForm,
    request_media=FORM,
    request_example=EXAMPLE_REVOKE_FORM,
    responses={200: Introspection},
    response_example=EXAMPLE_INTROSPECTION,
    oauth=True,
)
def introspect() -> Response:
    return _oauth_errors(lambda: authorization_server().create_endpoint_response("introspection"))


@bp.get("/.well-known/oauth-authorization-server")
@operation(
    summary="Authorization server metadata (RFC 8414)",
    tag="oauth",
    operation_id="getServerMetadata",
    responses={200: ServerMetadata},
    response_example=EXAMPLE_METADATA,
)
def metadata() -> Response:
    url = hub_url()
    return jsonify(
        {
            "issuer": url,
            "token_endpoint": url + "/oauth/token",
            "revocation_endpoint": url + "/oauth/revoke",
            "introspection_endpoint": url + "/oauth/introspect",
            "jwks_uri": url + "/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
            "scopes_supported": sorted(SCOPE_DESCRIPTIONS),
            "service_documentation": url + "/openapi.json",
        }
    )


@bp.get("/.well-known/jwks.json")
@operation(
    summary="The hub's public keys, old ones included",
    tag="keys",
    operation_id="getHubKeys",
    responses={200: JWKSet},
    response_example={"keys": [EXAMPLE_JWK]},
)
def hub_jwks() -> Response:
    resp = jsonify(published_jwks())
    resp.cache_control.public = True
    resp.cache_control.max_age = 60
    return resp


@bp.get("/v1/partners/<partner_id>/keys")
@operation(
    summary="A partner's public keys with their status",
    tag="keys",
    operation_id="getPartnerKeys",
    responses={200: PartnerKeySet},
    response_example={"keys": [{**EXAMPLE_JWK, "kid": "telkomsel-2026-01", "status": "active", "revoked_at": None}]},
)
def partner_keys(partner_id: str) -> Response:
    if db.session.get(Partner, partner_id) is None:
        raise Problem("not-found", f"No partner {partner_id!r}.")
    rows = PartnerKey.query.filter_by(partner_id=partner_id).order_by(PartnerKey.created_at).all()
    keys: list[dict[str, Any]] = []
    for row in rows:
        jwk = dict(row.jwk)
        jwk["status"] = row.status
        jwk["revoked_at"] = format_ts(row.revoked_at) if row.revoked_at else None
        keys.append(jwk)
    return jsonify({"keys": keys})


class WhoAmI(BaseModel):
    """The partner and scopes an access token stands for."""

    partner: str
    kind: Literal["operator", "ott", "ministry"]
    client_id: str
    scope: str
    expires_at: str


@bp.get("/v1/whoami")
@require(None)
@operation(
    summary="Who the access token stands for",
    tag="oauth",
    operation_id="whoami",
    responses={200: WhoAmI},
    response_example={
        "partner": "telkomsel",
        "kind": "operator",
        "client_id": "tk_3q2f8Yc1mQ",
        "scope": "acks:write attestations:write log:read numbers:write records:read records:write",
        "expires_at": "2026-11-28T10:15:00Z",
    },
)
def whoami() -> Response:

    caller = current_caller()
    return jsonify(
        {
            "partner": caller.partner_id,
            "kind": caller.kind,
            "client_id": caller.client_id,
            "scope": " ".join(sorted(caller.scopes)),
            "expires_at": format_ts(datetime.fromtimestamp(caller.expires_at, UTC)),
        }
    )
