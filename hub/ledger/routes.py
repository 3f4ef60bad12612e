"""Transparency log endpoints (PROTOCOL.md section 7)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, Field

from hub import examples
from hub.api import query_model
from hub.audit import service as audit
from hub.auth.protect import Caller, current_caller, require
from hub.ledger import log, visibility
from hub.openapi import operation
from hub.problems import Problem
from keys.merkle import leaf_hash
from keys.wire import MAX_QUERY_INT

bp = Blueprint("ledger", __name__)

MAX_ENTRIES = 1000


class TreeHeadBody(BaseModel):
    size: int
    root_hash: str
    timestamp: str


class SignedTreeHead(BaseModel):
    """The log's head, signed by the hub."""

    tree_head: TreeHeadBody
    signature: dict[str, str]


class InclusionQuery(BaseModel):
    index: Annotated[int, Field(ge=0, le=MAX_QUERY_INT)]
    size: Annotated[int, Field(ge=1, le=MAX_QUERY_INT)]


class InclusionProof(BaseModel):
    """RFC 9162 §2.1.3 audit path, hex hashes."""

    index: int
    size: int
    path: list[str]


class ConsistencyQuery(BaseModel):
    first: Annotated[int, Field(ge=1, le=MAX_QUERY_INT)]
    second: Annotated[int, Field(ge=1, le=MAX_QUERY_INT)]


class ConsistencyProof(BaseModel):
    """RFC 9162 §2.1.4 consistency path, hex hashes."""

    first: int
    second: int
    path: list[str]


class EntriesQuery(BaseModel):
    start: Annotated[int, Field(ge=0, le=MAX_QUERY_INT)]
    end: Annotated[int, Field(ge=0, le=MAX_QUERY_INT)] | None = None


class Entries(BaseModel):
    """The leaves' signed objects, in order; end is exclusive. (1.1) An entry the caller may not see
    is ``{"leaf_hash": "<hex>"}`` in its place; the ministry sees every entry."""

    start: int
    end: int
    entries: list[dict[str, Any]]


EXAMPLE_CONSISTENCY = examples.CONSISTENCY

EXAMPLE_ENTRIES: dict[str, Any] = {"start": 2, "end": 3, "entries": [examples.ACK]}


@bp.get("/v1/log/head")
@require("log:read")
@operation(
    summary="The signed tree head",
    tag="log",
    operation_id="getLogHead",
    responses={200: SignedTreeHead},
    response_example=examples.TREE_HEAD,
)
def head() -> Response:
    return jsonify(log.signed_head())


@bp.get("/v1/log/inclusion")
@require("log:read")
@operation(
    summary="Inclusion proof of leaf index in the tree of size",
    tag="log",
    operation_id="getInclusionProof",
    query=InclusionQuery,
    responses={200: InclusionProof},
    response_example=examples.INCLUSION,
)
def inclusion() -> Response:
    q = query_model(InclusionQuery)
    current = log.size()
    if q.size > current:
        raise Problem("invalid-request", f"size {q.size} is beyond the log's size {current}.")
    if q.index >= q.size:
        raise Problem("invalid-request", f"index {q.index} is not below size {q.size}.")
    return jsonify({"index": q.index, "size": q.size, "path": log.inclusion(q.index, q.size)})


@bp.get("/v1/log/consistency")
@require("log:read")
@operation(
    summary="Consistency proof between two tree sizes",
    tag="log",
    operation_id="getConsistencyProof",
    query=ConsistencyQuery,
    responses={200: ConsistencyProof},
    response_example=EXAMPLE_CONSISTENCY,
)
def consistency() -> Response:
    q = query_model(ConsistencyQuery)
    current = log.size()
    if q.first > q.second:
        raise Problem("invalid-request", f"first {q.first} is above second {q.second}.")
    if q.second > current:
        raise Problem("invalid-request", f"second {q.second} is beyond the log's size {current}.")
    return jsonify({"first": q.first, "second": q.second, "path": log.consistency(q.first, q.second)})


@bp.get("/v1/log/entries")
@require("log:read")
@operation(
    summary="The leaves' signed objects from start (end exclusive, at most 1000)",
    tag="log",
    operation_id="getLogEntries",
    query=EntriesQuery,
    responses={200: Entries},
    response_example=EXAMPLE_ENTRIES,
)
def entries() -> Response:
    q = query_model(EntriesQuery)
    current = log.size()
    if q.start > current:
        raise Problem("invalid-request", f"start {q.start} is beyond the log's size {current}.")
    wanted_end = q.end if q.end is not None else q.start + MAX_ENTRIES
    if wanted_end < q.start:
        raise Problem("invalid-request", f"end {wanted_end} is below start {q.start}.")
    end = min(wanted_end, q.start + MAX_ENTRIES, current)
    caller = current_caller()
    served = _entries_for(caller, q.start, end)
    audit.record(caller, count=len(served), numbers=audit.numbers_in(served), ids=[f"[{q.start},{end})"])
    return jsonify({"start": q.start, "end": end, "entries": served})


def _entries_for(caller: Caller, start: int, end: int) -> list[dict[str, Any]]:
    """The leaves in ``[start, end)``; one the caller may not see as its leaf hash (hub.ledger.visibility)."""
    visible = visibility.visible_indices(caller, start, end)
    out: list[dict[str, Any]] = []
    for idx, data in enumerate(log.entries(start, end), start):
        if visible is None or idx in visible:
            out.append(json.loads(data))
        else:
            out.append({"leaf_hash": leaf_hash(data.encode("utf-8")).hex()})
    return out
