"""Typed failures of the partner SDK.

A partner's integration code must decide what to do with a failure without
parsing messages: retry later (the hub is down), fix its credentials (401),
ask for a scope (403), fix its data (a rejected item), or raise the alarm (a
receipt or proof from the hub does not verify). Every error here carries
what decides that, and the hub's problem ``slug`` (PROTOCOL.md section 1)
where the hub gave one. Nothing from ``requests`` or ``authlib`` escapes the
SDK: the transport turns them into these, and :func:`problem_from_response`
is the one place that reads the hub's error answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partners.retry import parse_retry_after

if TYPE_CHECKING:
    import requests

PROBLEM_TYPE_PREFIX = "urn:tangkal:problem:"


class PartnerError(Exception):
    """Base class of everything the SDK raises on purpose."""


class ConfigError(PartnerError):
    """Missing or unusable configuration: no hub URL, no credentials, an unreadable key file."""


class InputError(PartnerError):
    """An input file cannot be used at all (unreadable, wrong columns); bad rows are reported, not raised."""


class HubUnreachable(PartnerError):
    """No answer from the hub after the retries: connection refused, timeouts, DNS."""


class VerificationFailed(PartnerError):
    """Something the hub signed does not verify: a receipt, a tree head, a proof, a record's signature.

    This is never a transient condition: either the hub misbehaves or the data
    was tampered with on the way. It is kept apart from every other failure so
    that nobody retries it into silence.
    """


class HubProblem(PartnerError):
    """An RFC 9457 problem the hub answered (or an RFC 6749 error of its token endpoint).

    ``slug`` is the part after ``urn:tangkal:problem:`` (for token endpoint
    errors, the OAuth ``error`` code such as ``invalid_client``); ``body`` is
    the whole problem object as received, for logging.
    """

    def __init__(self, slug: str, status: int, detail: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"{slug} ({status}): {detail}" if status else f"{slug}: {detail}")
        self.slug = slug
        self.status = status
        self.detail = detail
        self.body: dict[str, Any] = body or {}


class AuthError(HubProblem):
    """401, or the token endpoint refused the client (bad secret, unknown key, replayed assertion)."""


class Forbidden(HubProblem):
    """403: a valid token without the scope or the right."""


class NotFound(HubProblem):
    """404: absent, or not visible to this partner."""


class InvalidRequest(HubProblem):
    """400, 413, 415 for a whole request: the SDK or its caller sent something malformed."""


class Conflict(HubProblem):
    """409 for a whole request."""


class RateLimited(HubProblem):
    """429 still answered after the retries allowed; ``retry_after`` is the hub's last hint in seconds."""

    def __init__(
        self, slug: str, status: int, detail: str, body: dict[str, Any] | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(slug, status, detail, body)
        self.retry_after = retry_after


class ServerError(HubProblem):
    """5xx still answered after the retries allowed."""


class ItemRejected(HubProblem):
    """One item of a batch (a record, an ack) or an attestation the hub refused.

    Found in :class:`partners.results.PushResult.error` rather than raised,
    because the rest of the batch went through; ``raise`` it where one
    rejection should stop the caller.
    """


_BY_SLUG: dict[str, type[HubProblem]] = {
    "unauthorized": AuthError,
    "forbidden": Forbidden,
    "not-found": NotFound,
    "invalid-json": InvalidRequest,
    "invalid-request": InvalidRequest,
    "invalid-number": InvalidRequest,
    "too-large": InvalidRequest,
    "unsupported-media-type": InvalidRequest,
    "method-not-allowed": InvalidRequest,
    "conflict": Conflict,
    "rate-limited": RateLimited,
    "internal-error": ServerError,
    "unavailable": ServerError,
}
_BY_STATUS: dict[int, type[HubProblem]] = {
    400: InvalidRequest,
    401: AuthError,
    403: Forbidden,
    404: NotFound,
    405: InvalidRequest,
    409: Conflict,
    413: InvalidRequest,
    415: InvalidRequest,
    429: RateLimited,
}


def slug_of(problem: dict[str, Any]) -> str:
    """The slug of a problem object's ``type``, or ``unknown`` for a foreign type."""
    kind = problem.get("type")
    if isinstance(kind, str) and kind.startswith(PROBLEM_TYPE_PREFIX):
        return kind[len(PROBLEM_TYPE_PREFIX) :]
    return "unknown"


def problem_class(slug: str, status: int) -> type[HubProblem]:
    """The family a whole-request problem belongs to: by slug first, else by status."""
    found = _BY_SLUG.get(slug) or _BY_STATUS.get(status)
    if found is not None:
        return found
    return ServerError if status >= 500 else HubProblem


def problem_from_response(resp: requests.Response, *, oauth: bool = False) -> HubProblem:
    """The typed problem an error answer of the hub stands for.

    An RFC 9457 problem object (``type`` ``urn:tangkal:problem:<slug>``) is
    typed by its slug, else by its status. With ``oauth`` (the token
    endpoint), an RFC 6749 section 5.2 body (``error``, ``error_description``)
    is the client being refused: :class:`AuthError`, or :class:`ServerError`
    for a 5xx. Anything else (a proxy's HTML, an empty body, foreign JSON) is
    typed by its status, with the slug ``http-<status>`` to say the hub gave
    none. A :class:`RateLimited` carries the ``Retry-After`` hint.
    """
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    status = resp.status_code
    if oauth and "type" not in body and "error" in body:
        slug = str(body["error"])
        detail = str(body.get("error_description") or slug)
        return (ServerError if status >= 500 else AuthError)(slug, status, detail, body)
    slug = slug_of(body) if "type" in body else f"http-{status}"
    detail = str(body.get("detail") or resp.reason or f"HTTP {status}")
    cls = problem_class(slug, status)
    if cls is RateLimited:
        return RateLimited(slug, status, detail, body, retry_after=parse_retry_after(resp.headers.get("Retry-After")))
    return cls(slug, status, detail, body)


def item_rejected(error: Any) -> ItemRejected:
    """The per-item ``error`` member of a batch result as an :class:`ItemRejected`."""
    body = error if isinstance(error, dict) else {"detail": str(error)}
    status = body.get("status")
    return ItemRejected(slug_of(body), status if isinstance(status, int) else 0, str(body.get("detail", "")), body)
