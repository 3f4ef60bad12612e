"""The OAuth endpoints' forms and answers, for the OpenAPI document.

authlib reads and judges these requests itself; the models only describe
them, so generated clients (openapi-generator) get a token method that takes
its form members, and know the RFC 6749 error they may get back.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

#: RFC 6749 section 3.3: scope tokens of printable ASCII but space, double quote and backslash, one space apart.
SCOPE_PATTERN = r"^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenForm(BaseModel):
    """``application/x-www-form-urlencoded``. Send the client id and secret with HTTP Basic
    (client_secret_basic), as form members (client_secret_post), or a client assertion (private_key_jwt)."""

    grant_type: Literal["client_credentials"]
    scope: str | None = Field(
        None,
        pattern=SCOPE_PATTERN,
        description="space-separated; a subset of the partner's scopes (all of them when absent)",
    )
    client_id: str | None = Field(None, description="client_secret_post, or with a client assertion")
    client_secret: str | None = Field(None, description="client_secret_post")
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"] | None = Field(
        None, description="private_key_jwt (RFC 7523)"
    )
    client_assertion: str | None = Field(
        None,
        description="private_key_jwt: a JWT signed with one of the partner's registered keys (alg Ed25519 or EdDSA, "
        "kid in the header, aud the hub's URL or its token endpoint, jti never reused, at most 3600 s)",
    )


class RevokeForm(BaseModel):
    """RFC 7009: the token to revoke; the client authenticates as for the token endpoint."""

    token: str
    token_type_hint: Literal["access_token"] | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"] | None = None
    client_assertion: str | None = None


class IntrospectForm(RevokeForm):
    """RFC 7662: the token to look at (ministry clients only)."""


class Revoked(BaseModel):
    """Revoked, or not the caller's (RFC 7009 answers 200 and changes nothing)."""


class Introspection(BaseModel):
    """RFC 7662: ``active`` false for an expired, revoked or unknown token, else its claims."""

    active: bool
    token_type: Literal["Bearer"] | None = None
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    partner: str | None = None
    iss: str | None = None
    aud: str | None = None
    exp: int | None = None
    iat: int | None = None
    jti: str | None = None


EXAMPLE_TOKEN_FORM: dict[str, Any] = {"grant_type": "client_credentials", "scope": "records:read records:write"}
EXAMPLE_TOKEN: dict[str, Any] = {
    "access_token": "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZDI1NTE5Iiwia2lkIjoidGFuZ2thbC0yMDI2MTEyOC05YThiN2MifQ.eyJ...",
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "records:read records:write",
}
EXAMPLE_REVOKE_FORM: dict[str, Any] = {"token": EXAMPLE_TOKEN["access_token"], "token_type_hint": "access_token"}
EXAMPLE_INTROSPECTION: dict[str, Any] = {
    "active": True,
    "token_type": "Bearer",
    "scope": "records:read records:write",
    "client_id": "tk_3q2f8Yc1mQ",
    "sub": "tk_3q2f8Yc1mQ",
    "partner": "telkomsel",
    "iss": "https://hub.tangkal.go.id",
    "aud": "https://hub.tangkal.go.id",
    "exp": 1795860900,
    "iat": 1795860000,
    "jti": "0b6a2f1c9d8e4f7a",
}
EXAMPLE_JWK: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "Ok5kqd8DKc4HmE0-phoBI33PkWHK2k3wpoP1q41crDA",
    "kid": "tangkal-20261128-9a8b7c",
    "alg": "Ed25519",
    "use": "sig",
}
EXAMPLE_METADATA: dict[str, Any] = {
    "issuer": "https://hub.tangkal.go.id",
    "token_endpoint": "https://hub.tangkal.go.id/oauth/token",
    "revocation_endpoint": "https://hub.tangkal.go.id/oauth/revoke",
    "introspection_endpoint": "https://hub.tangkal.go.id/oauth/introspect",
    "jwks_uri": "https://hub.tangkal.go.id/.well-known/jwks.json",
    "grant_types_supported": ["client_credentials"],
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
    "token_endpoint_auth_signing_alg_values_supported": ["Ed25519", "EdDSA"],
    "scopes_supported": ["acks:write", "attestations:write", "log:read", "records:read", "records:write"],
    "service_documentation": "https://hub.tangkal.go.id/openapi.json",
}
