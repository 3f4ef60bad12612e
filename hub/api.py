"""Request-reading helpers every blueprint shares.

They enforce the judging order of PROTOCOL.md section 1: a view first
authenticates (its decorator), then calls these, which check size and media
type (413, 415) before parsing the body and query (400).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from hub.problems import TOO_LARGE, Problem
from keys.wire import MAX_BODY_BYTES

M = TypeVar("M", bound=BaseModel)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def parse_json_bytes(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate members.

    Duplicate members are refused because a signature over JCS bytes would
    otherwise cover a different object than the one another parser sees.
    """
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_members)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Problem("invalid-json", f"The body is not valid UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise Problem("invalid-json", "The body nests too deeply.") from None


def read_json() -> Any:
    """The request body as JSON, after the 413 and 415 checks."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Problem("too-large", TOO_LARGE)
    if request.mimetype != "application/json":
        raise Problem(
            "unsupported-media-type",
            f"Send the body as application/json, not {request.mimetype or 'nothing'}.",
        )
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise Problem("too-large", TOO_LARGE) from None
    if len(raw) > MAX_BODY_BYTES:
        # A chunked body has no Content-Length: the stream stops one byte past the limit
        # (MAX_CONTENT_LENGTH, config.py), and that byte says the body was larger.
        raise Problem("too-large", TOO_LARGE)
    return parse_json_bytes(raw)


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``{"pointer", "message"}`` (RFC 6901 pointers)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        pointer = "".join(f"/{part}" for part in err["loc"])
        out.append({"pointer": pointer or "/", "message": err["msg"]})
    return out


def describe(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first['pointer']}: {first['message']}{more}"


def validate_signed_with_number(model: type[BaseModel], item: Any, member: str) -> None:
    """A signed object's shape (``invalid-record`` naming every bad field), leaving a bad number to the caller.

    When a scalar ``<member>/number`` is the only thing wrong, the caller's
    ``check_e164`` answers with the number's own slug and the E.164 form it
    probably meant; an array or object is no number at all, only a malformed
    object (and would not even hash for check_e164's cache).
    """
    try:
        model.model_validate(item)
    except ValidationError as exc:
        errors = validation_errors(exc)
        only_number = [e["pointer"] for e in errors] == [f"/{member}/number"]
        if not only_number or isinstance(item[member]["number"], (list, dict)):
            raise Problem("invalid-record", describe(errors), errors=errors) from None


def validate(model: type[M], data: Any, slug: str = "invalid-request") -> M:
    """``data`` as ``model``, or a problem naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc)
        raise Problem(slug, describe(errors), errors=errors) from None


def query_model(model: type[M]) -> M:
    """The query string as ``model`` (400 ``invalid-request`` when it does not fit)."""
    return validate(model, request.args.to_dict())
