"""HTTP endpoints of the number lifecycle (PROTOCOL.md section 10)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from hub.api import query_model, read_json
from hub.auth.protect import current_caller, require
from hub.batch import read_batch
from hub.metrics import count_items
from hub.numbers import ingest, questions
from hub.numbers import visibility as _visibility  # noqa: F401  (registers the log's rule for number events)
from hub.numbers.schemas import (
    EXAMPLE_ANSWER,
    EXAMPLE_BATCH_REQUEST,
    EXAMPLE_BATCH_RESPONSE,
    EXAMPLE_PUSH_REQUEST,
    EXAMPLE_PUSH_RESPONSE,
    NumberEventsRequest,
    PushResponse,
    ReassignedAnswer,
    ReassignedBatchResponse,
    ReassignedQuery,
    ReassignedRequest,
)
from hub.openapi import operation
from hub.problems import Problem
from hub.records.schemas import PushQuery

bp = Blueprint("numbers", __name__)


@bp.post("/v1/number-events")
@require("numbers:write")
@operation(
    summary="Report your numbers' disconnections and reassignments (1 to 1000 signed events)",
    tag="numbers",
    operation_id="pushNumberEvents",
    query=PushQuery,
    request=NumberEventsRequest,
    responses={200: PushResponse},
    request_example=EXAMPLE_PUSH_REQUEST,
    response_example=EXAMPLE_PUSH_RESPONSE,
    description="Operators only, for the numbers whose home network is theirs. Results exactly as for records: "
    "accepted (with a receipt of kind number_event), duplicate or rejected. A reassigned event lifts every block "
    "on the number issued before effective_at that is still in force: the hub issues and routes an unblock for "
    "each. A disconnected event changes no block. With dry_run=true nothing is stored, logged, signed or lifted.",
)
def push_events() -> Response:
    items = read_batch(read_json(), "number_events")
    dry_run = query_model(PushQuery).dry_run
    results = ingest.push(current_caller(), items, dry_run=dry_run)
    count_items("number_event", results, dry_run=dry_run)
    return jsonify({"results": results})


@bp.get("/v1/numbers/<path:number>/reassigned")
@require("records:read")
@operation(
    summary="Has the number been given to a new subscriber since a date? (yes, no, no_data)",
    tag="numbers",
    operation_id="getReassigned",
    query=ReassignedQuery,
    responses={200: ReassignedAnswer},
    response_example=EXAMPLE_ANSWER,
    description="yes: a reassigned event took effect at or after since (reassigned_at the latest); no: none did; "
    "no_data: since is before the hub began recording number lifecycle events. A date alone means 00:00 "
    "Asia/Jakarta that day. Answered from an index.",
)
def reassigned(number: str) -> Response:
    since = query_model(ReassignedQuery).since
    (answer,) = questions.answer([questions.question(number, since)])
    return jsonify(answer)


@bp.post("/v1/numbers/reassigned")
@require("records:read")
@operation(
    summary="Ask about 1 to 1000 numbers at once whether they were reassigned since a date",
    tag="numbers",
    operation_id="askReassigned",
    request=ReassignedRequest,
    responses={200: ReassignedBatchResponse},
    request_example=EXAMPLE_BATCH_REQUEST,
    response_example=EXAMPLE_BATCH_RESPONSE,
    description="Answers in the order asked, each as the single question's; a bad question is answered in place "
    "with its problem ({number, error}) and spoils nothing else.",
)
def reassigned_batch() -> Response:
    items = read_batch(read_json(), "queries")
    asked: list[tuple[int, questions.Question]] = []
    answers: list[dict[str, Any] | None] = [None] * len(items)
    for i, item in enumerate(items):
        try:
            asked.append((i, _question(item)))
        except Problem as problem:
            number = item.get("number") if isinstance(item, dict) else None
            answers[i] = {"number": number, "error": problem.as_dict()}
    for (i, _q), answer in zip(asked, questions.answer([q for _i, q in asked])):
        answers[i] = answer
    return jsonify({"answers": answers})


def _question(item: Any) -> questions.Question:
    if not isinstance(item, dict) or set(item) != {"number", "since"}:
        found = sorted(item) if isinstance(item, dict) else type(item).__name__
        raise Problem("invalid-request", f'A question is {{"number": ..., "since": ...}}; found {found}.')
    return questions.question(item["number"], item["since"])
