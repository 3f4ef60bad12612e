"""The OpenAPI 3.1 document, generated from the code's own models.

A view declares its contract with ``@operation(...)``; ``/openapi.json``
walks the URL map and collects those declarations, so an endpoint appears in
the document by being written, and its schemas are the very pydantic models
that validate its requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel

from hub.auth.scopes import SCOPE_DESCRIPTIONS

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("openapi", __name__)

_PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


class ProblemModel(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str


def operation(
    *,
    summary: str,
    tag: str,
    request: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | str] | None = None,
    query: type[BaseModel] | None = None,
    request_example: Any = None,
    response_example: Any = None,
    description: str | None = None,
    operation_id: str | None = None,
    media_type: str = "application/json",
    error: tuple[str, type[BaseModel]] | None = None,
) -> Callable[[F], F]:
    """Attach the OpenAPI description of a view to the view itself.

    Put it below ``@require``: the required scope is read from that decorator.
    ``media_type`` names the success bodies' media type and ``error`` the
    (media type, model) of its errors, for the TAXII views, which answer in
    TAXII's own media type and error messages rather than RFC 9457.
    """

    def wrap(view: F) -> F:
        view._openapi = {  # type: ignore[attr-defined]
            "summary": summary,
            "tag": tag,
            "request": request,
            "responses": responses or {},
            "query": query,
            "request_example": request_example,
            "response_example": response_example,
            "description": description,
            "operation_id": operation_id,
            "media_type": media_type,
            "error": error,
        }
        return view

    return wrap


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        name = model.__name__
        if name not in self.schemas:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in schema.pop("$defs", {}).items():
                self.schemas.setdefault(def_name, definition)
            self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}


def _parameters(rule_path: str, query: type[BaseModel] | None) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(rule_path)
    ]
    if query is not None:
        schema = query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": {k: v for k, v in prop.items() if k != "title"},
                    "description": prop.get("description", ""),
                }
            )
    return params


_PUBLIC = object()


def _operation(view: Any, meta: dict[str, Any], rule_path: str, comps: _Components) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": meta["summary"], "tags": [meta["tag"]]}
    if meta.get("operation_id"):
        op["operationId"] = meta["operation_id"]
    if meta["description"]:
        op["description"] = meta["description"]
    params = _parameters(rule_path, meta["query"])
    if params:
        op["parameters"] = params
    # The scope comes from @require itself, so the document cannot disagree with the code.
    scope = getattr(view, "_required_scope", _PUBLIC)
    if scope is _PUBLIC:
        op["security"] = []
    else:
        op["security"] = [{"oauth2": [scope] if scope else []}]
    if meta["request"] is not None:
        media: dict[str, Any] = {"schema": comps.ref(meta["request"])}
        if meta["request_example"] is not None:
            media["example"] = meta["request_example"]
        op["requestBody"] = {"required": True, "content": {"application/json": media}}
    responses: dict[str, Any] = {}
    for status, body in meta["responses"].items():
        if isinstance(body, str):
            responses[str(status)] = {"description": body}
            continue
        media = {"schema": comps.ref(body)}
        if meta["response_example"] is not None and 200 <= status < 300:
            media["example"] = meta["response_example"]
        responses[str(status)] = {"description": body.__doc__ or "OK", "content": {meta["media_type"]: media}}
    responses["default"] = {
        "description": "An RFC 9457 problem",
        "content": {"application/problem+json": {"schema": comps.ref(ProblemModel)}},
    }
    if meta.get("error"):
        error_media, error_model = meta["error"]
        responses["default"] = {
            "description": error_model.__doc__ or "An error",
            "content": {error_media: {"schema": comps.ref(error_model)}},
        }
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
            paths.setdefault(path, {})[method.lower()] = _operation(view, meta, rule.rule, comps)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tangkal hub",
            "version": "1",
            "description": "Signed fraud-number exchange between operators, OTT providers and the ministry. "
            "The wire contract is docs/protocol.md.",
        },
        "paths": paths,
        "components": {
            "schemas": comps.schemas,
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": _scopes()}},
                }
            },
        },
    }


def _scopes() -> dict[str, str]:
    return dict(SCOPE_DESCRIPTIONS)


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(build_document())
