"""The hub's error answers as typed problems, without a hub: one parser for both shapes.

Resource endpoints answer RFC 9457 ``application/problem+json``; the token
endpoint answers RFC 6749 section 5.2 ``{"error": ...}`` bodies (and problem
objects for 429 and 5xx). Proxies in front of either answer whatever they
like. Each shape must map to the same typed error from both callers
(``partners.transport`` for resource endpoints, ``partners.auth`` for the
token endpoint), except that only the token endpoint's ``error`` member is
read as an OAuth refusal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from partners import AuthError, Conflict, Forbidden, HubProblem, InvalidRequest, NotFound, RateLimited, ServerError
from partners.auth import token_problem
from partners.transport import problem_from_response

PROBLEM = "urn:tangkal:problem:"


def answer(
    status: int, body: Any = None, *, reason: str = "", raw: bytes | None = None, **headers: str
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp.reason = reason
    if raw is not None:
        resp._content = raw
    else:
        resp._content = b"" if body is None else json.dumps(body).encode()
    resp.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return resp


BOTH = pytest.mark.parametrize("parse", [problem_from_response, token_problem], ids=["resource", "token"])


@BOTH
@pytest.mark.parametrize(
    "status,slug,cls",
    [
        (404, "not-found", NotFound),
        (403, "forbidden", Forbidden),
        (401, "unauthorized", AuthError),
        (400, "invalid-number", InvalidRequest),
        (409, "conflict", Conflict),
        (503, "unavailable", ServerError),
        (500, "internal-error", ServerError),
        (422, "some-new-slug", HubProblem),  # unknown slug, unmapped status: the base class
        (502, "some-new-slug", ServerError),  # unknown slug, 5xx
        (400, "unauthorized", AuthError),  # the slug decides before the status
    ],
)
def test_problem_objects(parse: Any, status: int, slug: str, cls: type[HubProblem]) -> None:
    body = {"type": PROBLEM + slug, "title": "t", "status": status, "detail": "what went wrong"}
    problem = parse(answer(status, body, reason="Reason"))
    assert type(problem) is cls
    assert (problem.slug, problem.status, problem.detail, problem.body) == (slug, status, "what went wrong", body)


@BOTH
def test_rate_limited_carries_retry_after(parse: Any) -> None:
    body = {"type": PROBLEM + "rate-limited", "status": 429, "detail": "slow down"}
    problem = parse(answer(429, body, Retry_After="7"))
    assert isinstance(problem, RateLimited)
    assert (problem.slug, problem.retry_after, problem.detail) == ("rate-limited", 7.0, "slow down")
    assert parse(answer(429, body)).retry_after is None


@BOTH
def test_a_foreign_problem_type_is_unknown_and_typed_by_status(parse: Any) -> None:
    problem = parse(answer(404, {"type": "about:blank", "title": "Not Found"}, reason="Not Found"))
    assert type(problem) is NotFound
    assert (problem.slug, problem.detail) == ("unknown", "Not Found")


@BOTH
@pytest.mark.parametrize(
    "status,raw,cls",
    [
        (502, b"<html>Bad Gateway</html>", ServerError),
        (504, b"", ServerError),
        (404, b"[1, 2]", NotFound),  # JSON, but not an object
        (413, b'"too big"', InvalidRequest),
        (418, b"{}", HubProblem),
    ],
)
def test_bodies_without_a_problem_are_typed_by_status(parse: Any, status: int, raw: bytes, cls: type) -> None:
    problem = parse(answer(status, raw=raw, reason="Some Reason"))
    assert type(problem) is cls
    assert (problem.slug, problem.status, problem.detail, problem.body) == (f"http-{status}", status, "Some Reason", {})


@BOTH
def test_no_reason_and_no_detail(parse: Any) -> None:
    problem = parse(answer(502, raw=b""))
    assert problem.slug == "http-502" and problem.detail


@BOTH
def test_a_429_without_a_problem_is_still_rate_limited(parse: Any) -> None:
    problem = parse(answer(429, raw=b"<html>slow</html>", reason="Too Many Requests", Retry_After="3"))
    assert isinstance(problem, RateLimited) and problem.retry_after == 3.0
    assert (problem.slug, problem.detail) == ("http-429", "Too Many Requests")


@pytest.mark.parametrize(
    "status,body,cls,slug,detail",
    [
        (
            401,
            {"error": "invalid_client", "error_description": "bad secret"},
            AuthError,
            "invalid_client",
            "bad secret",
        ),
        (400, {"error": "invalid_grant"}, AuthError, "invalid_grant", "invalid_grant"),
        (400, {"error": "invalid_scope", "error_description": ""}, AuthError, "invalid_scope", "invalid_scope"),
        (500, {"error": "server_error", "error_description": "boom"}, ServerError, "server_error", "boom"),
    ],
)
def test_oauth_errors_of_the_token_endpoint(
    status: int, body: dict[str, Any], cls: type[HubProblem], slug: str, detail: str
) -> None:
    problem = token_problem(answer(status, body, reason="Bad Request"))
    assert type(problem) is cls
    assert (problem.slug, problem.status, problem.detail, problem.body) == (slug, status, detail, body)


def test_an_error_member_on_a_resource_endpoint_is_no_oauth_refusal() -> None:
    # A gateway's {"error": ...} in front of a resource endpoint: typed by its status, not as a refused client.
    problem = problem_from_response(answer(404, {"error": "no route"}, reason="Not Found"))
    assert type(problem) is NotFound
    assert (problem.slug, problem.detail) == ("http-404", "Not Found")
