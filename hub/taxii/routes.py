"""The TAXII 2.1 API root (PROTOCOL.md section 11): discovery, the API root, the blocks collection.

Read-only, behind the hub's bearer tokens with ``records:read``; what a
partner sees is exactly what it may pull (hub/taxii/feed.py). Every answer,
errors included, is ``application/taxii+json;version=2.1``: the hub's RFC
9457 problems (from ``@require``, the rate limiter or anywhere else) are
rewritten into TAXII error messages on the way out, keeping their status and
headers (``WWW-Authenticate``, ``Retry-After``).

Reading through TAXII marks no assignment delivered: see docs/protocol.md
("TAXII and the SLA"). Every read of objects, one object, its versions or
the manifest is written to the audit trail (PROTOCOL 1.1 section 9, "TAXII
pages"), last, right before the answer leaves: one row per request with the
STIX ids served and, where the answer shows the objects, the records behind
them by seq, as a pull is recorded (an object's versions and the manifest
show ids and timestamps, never a number).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel
from werkzeug.exceptions import MethodNotAllowed, NotFound

from hub.audit import service as audit
from hub.auth.protect import current_caller, hub_url, require
from hub.openapi import operation
from hub.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX, Problem
from hub.taxii import feed, stix
from hub.taxii.schemas import (
    EXAMPLE_ENVELOPE,
    EXAMPLE_MANIFEST,
    EXAMPLE_VERSIONS,
    TAXII_MEDIA_TYPE,
    ApiRoot,
    Collection,
    Collections,
    Discovery,
    Envelope,
    Manifest,
    ObjectQuery,
    ObjectsQuery,
    TaxiiError,
    Versions,
    VersionsQuery,
)
from keys.wire import MAX_BODY_BYTES

bp = Blueprint("taxii", __name__, url_prefix="/taxii2")

COLLECTION_ID = "ef3d5533-f082-4dc4-9c23-330d766def3f"
COLLECTION_ALIAS = "blocks"
_ACCEPTED = ("application/taxii+json", "application/*", "*/*")
_ERROR = (TAXII_MEDIA_TYPE, TaxiiError)
F = TypeVar("F", bound=Callable[..., Any])


@bp.record_once
def _warm(_state: Any) -> None:
    """One-time costs at app start (in gunicorn's master, before it forks), not on a subscriber's first page."""
    stix.warm()


def _operation(
    operation_id: str,
    summary: str,
    model: type[BaseModel],
    example: Any,
    query: type[BaseModel] | None = None,
    description: str | None = None,
) -> Callable[[F], F]:
    """``@operation`` for a TAXII view: TAXII's media type, TAXII error messages, tag taxii."""
    return operation(
        summary=summary,
        tag="taxii",
        query=query,
        responses={200: model},
        response_example=example,
        description=description,
        operation_id=operation_id,
        response_media=TAXII_MEDIA_TYPE,
        error=_ERROR,
    )


# --- media types and errors ---------------------------------------------------------------------------------------


def _accepts_taxii(header: str | None) -> bool:
    """Whether ``Accept`` allows TAXII 2.1 (a missing header allows anything, RFC 9110 section 12.5.1)."""
    if header is None or not header.strip():
        return True
    for item in header.split(","):
        kind, *params = (p.strip() for p in item.split(";"))
        values = dict(p.partition("=")[::2] for p in params if "=" in p)
        try:
            if float(values.get("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        version = values.get("version", "").strip('"')
        if kind.lower() in _ACCEPTED and version in ("", "2.1"):
            return True
    return False


def _check_accept() -> None:
    if not _accepts_taxii(request.headers.get("Accept")):
        raise Problem(
            "invalid-request",
            f"This TAXII server answers {TAXII_MEDIA_TYPE}; the Accept header allows none of it.",
            status=406,
        )


def _respond(body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    resp = Response(data, status=200, headers=headers or {})
    resp.headers["Content-Type"] = TAXII_MEDIA_TYPE
    return resp


@bp.after_request
def _taxii_errors(resp: Response) -> Response:
    """Every problem the hub raised for a TAXII URL leaves as a TAXII error message."""
    if resp.mimetype != PROBLEM_MEDIA_TYPE:
        return resp
    problem = json.loads(resp.get_data())
    slug = str(problem.get("type", "")).removeprefix(PROBLEM_TYPE_PREFIX)
    title = problem.get("title", "Error")
    if resp.status_code == 406:  # the problem table has no slug of its own for it
        title, slug = "Not acceptable", "not-acceptable"
    error = {
        "title": title,
        "description": problem.get("detail", ""),
        "error_code": slug,
        "http_status": str(resp.status_code),
    }
    resp.set_data(json.dumps(error, separators=(",", ":")))
    resp.headers["Content-Type"] = TAXII_MEDIA_TYPE
    return resp


def _bad_query(exc: feed.FeedError) -> Problem:
    return Problem("invalid-request", str(exc))


# --- the resources -----------------------------------------------------------------------------------------------


def _api_root_url() -> str:
    return f"{hub_url()}/taxii2/api/"


@bp.get("/")
@require("records:read")
@_operation(
    "taxiiDiscovery",
    "TAXII discovery: the hub's one API root",
    Discovery,
    {
        "title": "Tangkal",
        "description": "Signed fraud-number records as STIX 2.1",
        "default": "https://hub.example/taxii2/api/",
        "api_roots": ["https://hub.example/taxii2/api/"],
    },
)
def discovery() -> Response:
    _check_accept()
    root = _api_root_url()
    return _respond(
        {
            "title": "Tangkal",
            "description": "The Tangkal hub's signed fraud-number records as STIX 2.1 (read-only).",
            "default": root,
            "api_roots": [root],
        }
    )


@bp.get("/api/")
@require("records:read")
@_operation(
    "taxiiApiRoot",
    "The TAXII API root",
    ApiRoot,
    {
        "title": "Tangkal blocks",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": MAX_BODY_BYTES,
    },
)
def api_root() -> Response:
    _check_accept()
    return _respond(
        {
            "title": "Tangkal blocks",
            "description": "Blocked numbers as STIX indicators, each carrying its issuer's signed record.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": MAX_BODY_BYTES,
        }
    )


def _collection() -> dict[str, Any]:
    return {
        "id": COLLECTION_ID,
        "title": "blocks",
        "description": "Every block and unblock you may pull: an indicator per block (revoked once lifted), "
        "a phone-number observable per number, and the extension definitions.",
        "alias": COLLECTION_ALIAS,
        "can_read": True,
        "can_write": False,
        "media_types": [feed.STIX_MEDIA_TYPE],
    }


@bp.get("/api/collections/")
@require("records:read")
@_operation(
    "taxiiCollections",
    "The API root's collections: blocks",
    Collections,
    {
        "collections": [
            {
                "id": COLLECTION_ID,
                "title": "blocks",
                "can_read": True,
                "can_write": False,
                "media_types": [feed.STIX_MEDIA_TYPE],
            }
        ]
    },
)
def collections() -> Response:
    _check_accept()
    return _respond({"collections": [_collection()]})


def _known_collection(collection_id: str) -> None:
    if collection_id not in (COLLECTION_ID, COLLECTION_ALIAS):
        raise Problem("not-found", f"No collection {collection_id}; this API root has one, {COLLECTION_ID}.")


@bp.get("/api/collections/<collection_id>/")
@require("records:read")
@_operation(
    "taxiiCollection",
    "The blocks collection",
    Collection,
    {
        "id": COLLECTION_ID,
        "title": "blocks",
        "can_read": True,
        "can_write": False,
        "media_types": [feed.STIX_MEDIA_TYPE],
    },
)
def collection(collection_id: str) -> Response:
    _check_accept()
    _known_collection(collection_id)
    return _respond(_collection())


def _paging() -> tuple[feed.Position, int]:
    token = request.args.get("next")
    try:
        after = feed.Position.from_token(token) if token is not None else feed.BEFORE_ALL
        return after, feed.parse_limit(request.args.get("limit"))
    except feed.FeedError as exc:
        raise _bad_query(exc) from None


def _filters(*, by_id: bool = False) -> feed.Filters:
    try:
        return feed.parse_filters(request.args.to_dict(), by_id=by_id)
    except feed.FeedError as exc:
        raise _bad_query(exc) from None


def _date_headers(entries: list[feed.Entry]) -> dict[str, str]:
    if not entries:
        return {}
    return {
        "X-TAXII-Date-Added-First": stix.stix_ts(entries[0].date_added),
        "X-TAXII-Date-Added-Last": stix.stix_ts(entries[-1].date_added),
    }


def _envelope(page: feed.Page, member: str, items: list[bytes]) -> bytes:
    head = json.dumps({"more": page.more, "next": page.next.token()}, separators=(",", ":"))
    if not items:
        return head.encode()
    return head[:-1].encode() + f',"{member}":['.encode() + b",".join(items) + b"]}"


def _audit(entries: list[feed.Entry], *, records: bool) -> None:
    """The audit row of this read (it commits): the STIX ids served and, when the answer shows the objects
    themselves (``records``), the records behind them by seq, as a pull's page is recorded: the trail then
    lists their ids and numbers. An object's versions and the manifest show ids and timestamps, never a
    number, so they name no record."""
    audit.record(
        current_caller(),
        count=len(entries),
        ids=list(dict.fromkeys(e.id for e in entries)),
        items=[_Served(e.seq, e.record_id, e.number) for e in entries if e.record_id and e.number] if records else (),
    )


class _Served(NamedTuple):
    """A record behind a served object, as the audit trail takes it (hub.audit.service.ReadItem)."""

    seq: int
    id: str
    number: str


def _objects_response(page: feed.Page) -> Response:
    body = _envelope(page, "objects", [e.render() for e in page.entries])
    _audit(page.entries, records=True)
    return _respond(body, _date_headers(page.entries))


@bp.get("/api/collections/<collection_id>/objects/")
@require("records:read")
@_operation(
    "taxiiGetObjects",
    "Objects of the blocks collection you may see, oldest first, paged with next",
    Envelope,
    EXAMPLE_ENVELOPE,
    query=ObjectsQuery,
    description="Page with next: every object version you may pull arrives at most once (exactly once "
    "with match[version]=all), on any number of hub instances. next is also given when more is false: "
    "keep it to go on later from exactly where you stopped.",
)
def objects(collection_id: str) -> Response:
    _check_accept()
    _known_collection(collection_id)
    after, limit = _paging()
    return _objects_response(feed.page(current_caller(), _filters(), after, limit))


@bp.get("/api/collections/<collection_id>/manifest/")
@require("records:read")
@_operation(
    "taxiiGetManifest",
    "The manifest of the objects you may see: id, date_added, version, media type",
    Manifest,
    EXAMPLE_MANIFEST,
    query=ObjectsQuery,
)
def manifest(collection_id: str) -> Response:
    _check_accept()
    _known_collection(collection_id)
    after, limit = _paging()
    page = feed.page(current_caller(), _filters(), after, limit)
    body = _envelope(page, "objects", [json.dumps(e.manifest()).encode() for e in page.entries])
    _audit(page.entries, records=False)
    return _respond(body, _date_headers(page.entries))


def _object_versions(collection_id: str, object_id: str) -> list[feed.Entry]:
    _known_collection(collection_id)
    entries = feed.object_entries(current_caller(), object_id)
    if not entries:
        raise Problem("not-found", f"No object {object_id} that you may see.")
    return entries


@bp.get("/api/collections/<collection_id>/objects/<object_id>/")
@require("records:read")
@_operation(
    "taxiiGetObject",
    "One object: its versions you may see (match[version] defaults to last)",
    Envelope,
    EXAMPLE_ENVELOPE,
    query=ObjectQuery,
)
def one_object(collection_id: str, object_id: str) -> Response:
    _check_accept()
    entries = _object_versions(collection_id, object_id)
    after, limit = _paging()
    return _objects_response(feed.object_page(entries, _filters(by_id=True), after, limit))


@bp.get("/api/collections/<collection_id>/objects/<object_id>/versions/")
@require("records:read")
@_operation(
    "taxiiGetObjectVersions",
    "The versions of one object you may see, oldest first",
    Versions,
    EXAMPLE_VERSIONS,
    query=VersionsQuery,
)
def versions(collection_id: str, object_id: str) -> Response:
    _check_accept()
    entries = _object_versions(collection_id, object_id)
    after, limit = _paging()
    given = _filters(by_id=True)
    every = feed.Filters(added_after=given.added_after, versions=feed.VersionMatch(all=True), spec_ok=given.spec_ok)
    page = feed.object_page(entries, every, after, limit)
    body = _envelope(page, "versions", [json.dumps(stix.stix_ts(e.version)).encode() for e in page.entries])
    _audit(page.entries, records=False)
    return _respond(body, _date_headers(page.entries))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@require("records:read")
def elsewhere(rest: str) -> Response:
    """Anything else under /taxii2/: TAXII's 404, or 405 for writing to the read-only collection.

    Authenticated first, like every TAXII URL (PROTOCOL.md section 1's order).
    """
    if request.method == "GET":
        raise NotFound(f"No TAXII resource at /taxii2/{rest}.")
    raise MethodNotAllowed(["GET", "HEAD"], f"The TAXII API of this hub is read-only; {request.method} is not allowed.")
