"""RFC 9457 problem details: the one shape every error of the hub takes.

A partner's engineer integrating from another language matches on ``type``
(``urn:tangkal:problem:<slug>``), so slugs are part of the wire contract
(PROTOCOL.md section 1) and live in one table here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from keys.wire import MAX_BODY_BYTES

log = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "urn:tangkal:problem:"
TOO_LARGE = f"The request body is over the {MAX_BODY_BYTES // (1024 * 1024)} MiB limit."
PROBLEM_MEDIA_TYPE = "application/problem+json"

#: slug -> (status when it answers a whole request, title)
SLUGS: dict[str, tuple[int, str]] = {
    "invalid-json": (400, "Body is not valid JSON"),
    "invalid-request": (400, "Invalid request"),
    "invalid-number": (400, "Invalid phone number"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "too-large": (413, "Request body too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "rate-limited": (429, "Too many requests"),
    "internal-error": (500, "Internal error"),
    "unavailable": (503, "Service unavailable"),
    # per item of a batch
    "invalid-record": (400, "Invalid signed object"),
    "unknown-key": (400, "Unknown signing key"),
    "revoked-key": (400, "Revoked signing key"),
    "invalid-signature": (400, "Invalid signature"),
    "issuer-mismatch": (403, "Issuer mismatch"),
    "not-assigned": (403, "Not assigned"),
    "invalid-transition": (409, "Invalid transition"),
    "not-home-operator": (403, "Not the number's home operator"),
    "number-reassigned": (409, "Number reassigned since"),
}

_STATUS_SLUG = {
    400: "invalid-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
    503: "unavailable",
}


class Problem(Exception):
    """An error the hub answers as ``application/problem+json``.

    Raise it anywhere inside a request; the app's handler renders it. Inside a
    batch, ``as_dict()`` gives the per-item ``error`` member instead.
    """

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        if slug not in SLUGS:
            raise ValueError(f"unknown problem slug {slug!r}")
        super().__init__(detail)
        self.slug = slug
        self.detail = detail
        self.status = status if status is not None else SLUGS[slug][0]
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def title(self) -> str:
        return SLUGS[self.slug][1]

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extensions)
        return body

    def response(self) -> Response:
        resp = Response(json.dumps(self.as_dict()), status=self.status, mimetype=PROBLEM_MEDIA_TYPE)
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


def unauthorized(detail: str, error: str = "invalid_token") -> Problem:
    """401 with the RFC 6750 challenge partners' HTTP clients look for."""
    challenge = f'Bearer realm="tangkal", error="{error}", error_description="{detail}"'
    if error == "":
        challenge = 'Bearer realm="tangkal"'
    return Problem("unauthorized", detail, headers={"WWW-Authenticate": challenge})


def _from_http_exception(exc: HTTPException) -> Problem:
    status = exc.code or 500
    slug = _STATUS_SLUG.get(status, "internal-error" if status >= 500 else "invalid-request")
    detail = exc.description or SLUGS[slug][1]
    if status == 413:
        detail = TOO_LARGE
    headers: dict[str, str] = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # type: ignore[attr-defined]
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="tangkal"'
    return Problem(slug, detail, status=status, headers=headers)


def register_error_handlers(app: Flask) -> None:
    """Every error leaves the hub as a problem, never as an HTML page."""

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return _from_http_exception(exc).response()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return Problem("internal-error", "The hub failed to answer; the error was logged.").response()
