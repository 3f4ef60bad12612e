"""HTTP endpoints of the records capability."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hub import clock
from hub.api import query_model, read_json
from hub.audit import service as audit
from hub.auth.protect import current_caller, require
from hub.batch import read_batch
from hub.db import db
from hub.metrics import count_items
from hub.openapi import operation
from hub.problems import Problem
from hub.records import ingest, views
from hub.records.models import Record
from hub.records.numbers import check_e164
from hub.records.schemas import (
    EXAMPLE_HASH_RANGE,
    EXAMPLE_NUMBER,
    EXAMPLE_PULL_RESPONSE,
    EXAMPLE_PUSH_REQUEST,
    EXAMPLE_PUSH_RESPONSE,
    EXAMPLE_RECORD_DETAIL,
    HashRange,
    NumberView,
    PullQuery,
    PullResponse,
    PushQuery,
    PushRequest,
    PushResponse,
    RecordDetail,
)
from keys.wire import HASH_PREFIX_RE

bp = Blueprint("records", __name__)


@bp.post("/v1/records")
@require("records:write")
@operation(
    summary="Push signed records (1 to 1000); each item is judged on its own",
    tag="records",
    operation_id="pushRecords",
    query=PushQuery,
    request=PushRequest,
    responses={200: PushResponse},
    request_example=EXAMPLE_PUSH_REQUEST,
    response_example=EXAMPLE_PUSH_RESPONSE,
    description="Answered 200 with one result per item, in order: accepted (with a hub-signed receipt), "
    "duplicate (the original receipt) or rejected (with a problem object). Nothing of a rejected item is stored. "
    "With dry_run=true each item is judged exactly the same way but nothing is stored, logged or signed: "
    "valid (no receipt), duplicate (the original receipt) or rejected.",
)
def push() -> Response:
    items = read_batch(read_json(), "records")
    dry_run = query_model(PushQuery).dry_run
    results = ingest.push(current_caller(), items, dry_run=dry_run)
    count_items("record", results, dry_run=dry_run)
    return jsonify({"results": results})


@bp.get("/v1/records")
@require("records:read")
@operation(
    summary="Pull the records you may see, after a cursor",
    tag="records",
    operation_id="pullRecords",
    query=PullQuery,
    responses={200: PullResponse},
    response_example=EXAMPLE_PULL_RESPONSE,
    description="Ascending seq. Pull from after=0 until has_more is false, then continue from next_after: "
    "every record visible to you arrives exactly once. The first pull marks your assignment delivered.",
)
def pull() -> Response:
    q = query_model(PullQuery)
    page = views.pull(current_caller(), q.after, q.limit)
    audit.record_items(current_caller(), page["items"])
    return jsonify(page)


@bp.get("/v1/records/<record_id>")
@require("records:read")
@operation(
    summary="One record; its issuer and the ministry also see every assignment",
    tag="records",
    operation_id="getRecord",
    responses={200: RecordDetail},
    response_example=EXAMPLE_RECORD_DETAIL,
)
def get_record(record_id: str) -> Response:
    caller = current_caller()
    record = db.session.get(Record, record_id)
    if record is None or not views.can_see(caller, record):
        raise Problem("not-found", f"No record {record_id} that you may see.")
    item = views.load_items(caller, Record.id == record.id, mark_delivered=False)[0]
    if caller.is_ministry or record.issuer == caller.partner_id:
        item["assignments"] = views.assignments_of(record.id)
    audit.record(caller, count=1, numbers=[record.number], ids=[record.id])  # named: a fetch is rare
    return jsonify(item)


@bp.get("/v1/numbers/<path:number>")
@require("records:read")
@operation(
    summary="A number's state: blocked while any block is in force; your newest 100 records of it",
    tag="numbers",
    operation_id="getNumber",
    responses={200: NumberView},
    response_example=EXAMPLE_NUMBER,
    description="records: the records of the number you may see, newest first (by seq), at most 100; "
    "record_count: how many you may see in all. Answered from the number's own index entries.",
)
def number(number: str) -> Response:
    info = check_e164(number)
    view = views.number_view(current_caller(), info, clock.now())
    audit.record(current_caller(), count=len(view["records"]), numbers=[info.e164], ids=[r.id for r in view["records"]])
    return jsonify(view)


@bp.get("/v1/numbers/hash-range/<prefix>")
@require("records:read")
@operation(
    summary="k-anonymous check: hashes of blocked numbers by a 5-hex prefix",
    tag="numbers",
    operation_id="getHashRange",
    responses={200: HashRange},
    response_example=EXAMPLE_HASH_RANGE,
    description="prefix: the first 5 lowercase hex characters of SHA-256 of the E.164 number. "
    "suffixes: the other 59 characters of every number blocked now whose hash starts so, sorted.",
)
def hash_range(prefix: str) -> Response:
    if not HASH_PREFIX_RE.fullmatch(prefix):
        raise Problem(
            "invalid-request", "The prefix is the first 5 lowercase hex characters of SHA-256 of an E.164 number."
        )
    suffixes = views.blocked_suffixes(prefix, clock.now())
    audit.record(current_caller(), count=len(suffixes), ids=[prefix])  # by its prefix, never a number
    return jsonify({"prefix": prefix, "suffixes": suffixes})
