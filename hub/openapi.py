"""The OpenAPI 3.1 document, generated from the code's own models.

A view declares its contract with ``@operation(...)``; ``/openapi.json``
walks the URL map and collects those declarations, so an endpoint appears in
the document by being written, and its schemas are the very pydantic models
that validate its requests.

What integrators' generators (openapi-generator for Java, Go, Kotlin) need
from it, and why each is here:

- a unique ``operationId`` per operation, or methods come out named after
  the path (``v1RecordsPost``);
- ``servers`` (the hub's URL) and an absolute ``tokenUrl``, or generated
  clients point at nothing;
- request bodies with their real media type (the token endpoint's form), and
  the CSV's ``text/csv``, or generated methods take no arguments and return
  nothing;
- errors as they are sent: RFC 9457 ``application/problem+json`` for the
  API, RFC 6749 ``{"error": ...}`` for the OAuth endpoints;
- schemas that are valid JSON Schema 2020-12 (no ``default: null`` on a
  member that may not be null) and examples that pass their own schemas.

``tests/test_openapi.py`` validates the document with openapi-spec-validator
and every example against its schema; ``tests/test_openapi_fuzz.py`` runs
schemathesis against a live hub; ``scripts/generate_clients.py`` generates
and compiles a Java client from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.protect import hub_url
from hub.auth.scopes import SCOPE_DESCRIPTIONS
from keys.wire import HASH_PREFIX_PATTERN, PARTNER_ID_PATTERN, UUID_PATTERN, anchored

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("openapi", __name__)

_PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
FORM = "application/x-www-form-urlencoded"

#: Path parameters by name: one schema for each, wherever it appears.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "record_id": {"type": "string", "pattern": anchored(UUID_PATTERN), "description": "a record's id"},
    "report_id": {"type": "string", "pattern": anchored(UUID_PATTERN), "description": "a report's id"},
    "partner_id": {"type": "string", "pattern": anchored(PARTNER_ID_PATTERN), "description": "a partner's id"},
    "prefix": {
        "type": "string",
        "pattern": anchored(HASH_PREFIX_PATTERN),
        "description": "the first 5 lowercase hex characters of SHA-256 of an E.164 number",
    },
    "number": {
        "type": "string",
        "description": "an E.164 number exactly as phonenumbers formats it (+6281234567890); "
        "any other form is answered 400 invalid-number with the form it probably meant",
        "examples": ["+6281234567890"],
    },
}


#: The conformance vectors' objects (docs/conformance/), so the examples name real things.
PATH_EXAMPLES: dict[str, str] = {
    "record_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
    "partner_id": "telkomsel",
    "number": "+6281234567890",
    "prefix": "3f2a9",
    "report_id": "6aee2b48-f180-4687-b275-d8bd43835689",
}


class ProblemDetail(BaseModel):
    """One field's error: an RFC 6901 pointer into the request body and a message."""

    pointer: str
    message: str


class ProblemModel(BaseModel):
    """RFC 9457 problem details (``application/problem+json``); ``type`` is ``urn:tangkal:problem:<slug>``."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(pattern=r"^urn:tangkal:problem:[a-z-]+$", examples=["urn:tangkal:problem:invalid-request"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[ProblemDetail] | None = Field(None, description="every field that failed, for a malformed body")
    suggestion: str | None = Field(None, description="invalid-number: the E.164 form the partner probably meant")


class OAuthError(BaseModel):
    """An RFC 6749 section 5.2 error, as the OAuth endpoints answer them (not a problem object)."""

    error: str = Field(
        description="invalid_request, invalid_client, invalid_grant, unauthorized_client, "
        "unsupported_grant_type, invalid_scope (RFC 6749 section 5.2), unsupported_token_type (RFC 7009)",
        examples=["invalid_client"],
    )
    error_description: str | None = None
    error_uri: str | None = None


EXAMPLE_PROBLEM: dict[str, Any] = {
    "type": "urn:tangkal:problem:invalid-request",
    "title": "Invalid request",
    "status": 400,
    "detail": "limit: Input should be less than or equal to 1000",
}

EXAMPLE_OAUTH_ERROR: dict[str, Any] = {
    "error": "invalid_client",
    "error_description": "The client id or secret is wrong.",
}


def operation(
    *,
    summary: str,
    tag: str,
    operation_id: str | None = None,
    request: type[BaseModel] | None = None,
    request_media: str = JSON,
    responses: dict[int, type[BaseModel] | str] | None = None,
    response_media: str = JSON,
    query: type[BaseModel] | None = None,
    request_example: Any = None,
    response_example: Any = None,
    description: str | None = None,
    oauth: bool = False,
    error: tuple[str, type[BaseModel]] | None = None,
) -> Callable[[F], F]:
    """Attach the OpenAPI description of a view to the view itself.

    Put it below ``@require``: the required scope is read from that
    decorator. ``operation_id`` names the generated clients' method (default:
    the Flask endpoint in camelCase). ``response_example`` is the first 2xx
    response's example. Success bodies are ``response_media`` (a response
    given as a string is a body of that media type, e.g. ``text/csv``,
    described by the string). ``oauth`` marks the OAuth endpoints, whose
    errors are RFC 6749's; ``error`` gives another (media type, model) for
    every error, for the TAXII views, which answer in TAXII's media type and
    error messages rather than RFC 9457.
    """

    def wrap(view: F) -> F:
        view._openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "tag": tag,
            "operation_id": operation_id,
            "request": request,
            "request_media": request_media,
            "responses": responses or {},
            "response_media": response_media,
            "query": query,
            "request_example": request_example,
            "response_example": response_example,
            "description": description,
            "oauth": oauth,
            "error": error,
        }
        return view

    return wrap


def _allows_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []) if isinstance(s, dict))


def clean_schema(node: Any) -> Any:
    """Pydantic's JSON Schema made valid for OpenAPI 3.1 validators.

    A member whose Python default is None but which may not be null on the
    wire (``Evidence.digest``: absent or a hash, never null) comes out with
    ``default: null``, which its own schema refuses; such a default says
    nothing true about the wire, so it is dropped.
    """
    if isinstance(node, list):
        return [clean_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: clean_schema(v) for k, v in node.items()}
    if "default" in out and out["default"] is None and not _allows_null(out):
        del out["default"]
    return out


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        name = str(model.model_config.get("title") or model.__name__)
        if name not in self.schemas:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in schema.pop("$defs", {}).items():
                self.schemas.setdefault(def_name, clean_schema(definition))
            self.schemas[name] = clean_schema(schema)
        return {"$ref": f"#/components/schemas/{name}"}


def _parameters(rule_path: str, query: type[BaseModel] | None) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(rule_path):
        param: dict[str, Any] = {"name": name, "in": "path", "required": True}
        param["schema"] = PATH_PARAMETERS.get(name, {"type": "string"})
        if name in PATH_EXAMPLES:
            param["example"] = PATH_EXAMPLES[name]
        params.append(param)
    if query is not None:
        schema = clean_schema(query.model_json_schema())
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            }
            if prop.get("description"):
                param["description"] = prop["description"]
            params.append(param)
    return params


_PUBLIC = object()


def _operation_id(endpoint: str, meta: dict[str, Any]) -> str:
    if meta["operation_id"]:
        return str(meta["operation_id"])
    words = re.split(r"[._]", endpoint)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def _errors(meta: dict[str, Any], comps: _Components, protected: bool) -> dict[str, Any]:
    if meta.get("error"):
        media_type, model = meta["error"]
        own = {media_type: {"schema": comps.ref(model)}}
        mine: dict[str, Any] = {"401": {"description": "No, bad, expired or revoked token", "content": own}}
        if not protected:
            mine = {}
        mine["default"] = {"description": (model.__doc__ or "An error").strip().splitlines()[0], "content": own}
        return mine
    problem = {"schema": comps.ref(ProblemModel), "example": EXAMPLE_PROBLEM}
    if not meta["oauth"]:
        out: dict[str, Any] = {}
        if protected:
            out["401"] = {
                "description": "No, bad, expired or revoked token (with WWW-Authenticate)",
                "content": {PROBLEM_JSON: problem},
            }
            out["403"] = {"description": "The token lacks the scope or the right", "content": {PROBLEM_JSON: problem}}
        out["default"] = {"description": "An RFC 9457 problem", "content": {PROBLEM_JSON: problem}}
        return out
    oauth = {"schema": comps.ref(OAuthError), "example": EXAMPLE_OAUTH_ERROR}
    return {
        "400": {
            "description": "An RFC 6749 section 5.2 error; a problem for a body that is too large or a wrong host",
            "content": {JSON: oauth, PROBLEM_JSON: problem},
        },
        "401": {
            "description": "invalid_client: the client id or secret (or the client assertion) is wrong",
            "content": {JSON: oauth},
        },
        "default": {
            "description": "An RFC 9457 problem (413, 429 with Retry-After, 5xx)",
            "content": {PROBLEM_JSON: problem},
        },
    }


def _operation(endpoint: str, view: Any, meta: dict[str, Any], rule_path: str, comps: _Components) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": _operation_id(endpoint, meta),
        "summary": meta["summary"],
        "tags": [meta["tag"]],
    }
    if meta["description"]:
        op["description"] = meta["description"]
    params = _parameters(rule_path, meta["query"])
    if params:
        op["parameters"] = params
    # The scope comes from @require itself, so the document cannot disagree with the code.
    scope = getattr(view, "_required_scope", _PUBLIC)
    protected = scope is not _PUBLIC
    op["security"] = [{"oauth2": [scope] if scope else []}] if protected else []
    if meta["request"] is not None:
        media: dict[str, Any] = {"schema": comps.ref(meta["request"])}
        if meta["request_example"] is not None:
            media["example"] = meta["request_example"]
        op["requestBody"] = {"required": True, "content": {meta["request_media"]: media}}
    responses: dict[str, Any] = {}
    example_given = False
    for status, body in meta["responses"].items():
        success = 200 <= status < 300
        if isinstance(body, str):
            text: dict[str, Any] = {"schema": {"type": "string"}}
            if meta["response_example"] is not None and success and not example_given:
                text["example"] = meta["response_example"]
                example_given = True
            responses[str(status)] = {"description": body, "content": {meta["response_media"]: text}}
            continue
        media = {"schema": comps.ref(body)}
        if meta["response_example"] is not None and success and not example_given:
            media["example"] = meta["response_example"]
            example_given = True
        responses[str(status)] = {
            "description": (body.__doc__ or "OK").strip().splitlines()[0],
            "content": {meta["response_media"]: media},
        }
    responses.update(_errors(meta, comps, protected))
    op["responses"] = responses
    return op


def build_document() -> dict[str, Any]:
    comps = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        view = current_app.view_functions.get(rule.endpoint)
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, view, meta, rule.rule, comps)
    url = hub_url()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tangkal hub",
            "version": "1.1",
            "description": "Signed fraud-number exchange between operators, OTT providers and the ministry. "
            "The wire contract is PROTOCOL 1.1 with the hub's notes in docs/protocol.md; signing conformance "
            "vectors (RFC 8785 bytes, Ed25519 signatures, receipts, proofs) are in docs/conformance/.",
        },
        "servers": [{"url": url, "description": "this hub (HUB_URL)"}],
        "paths": paths,
        "components": {
            "schemas": comps.schemas,
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 client credentials (RFC 6749 section 4.4). Client authentication: "
                    "client_secret_basic, client_secret_post or private_key_jwt (RFC 7523, Ed25519).",
                    "flows": {"clientCredentials": {"tokenUrl": url + "/oauth/token", "scopes": _scopes()}},
                }
            },
        },
    }


def _scopes() -> dict[str, str]:
    return dict(SCOPE_DESCRIPTIONS)


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(build_document())
