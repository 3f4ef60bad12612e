"""Tangkal partner SDK and CLI: what an operator's or OTT provider's engineers install.

``HubClient`` talks to the hub over OAuth 2.0 (client secret or
``private_key_jwt`` with the partner's Ed25519 key), pushes signed records,
acks and (operators) number lifecycle events in retried, idempotent
batches, pulls with a cursor, looks numbers up (also k-anonymously), asks
whether numbers were reassigned, attests, and verifies every receipt,
tree head and proof the hub hands back. ``python -m partners`` is the same
as a command line.

This package depends on ``keys`` (the signing primitives shared with the
hub) and never on ``hub``: a partner installs it without the hub's code.
"""

from __future__ import annotations

from partners.client import HubClient
from partners.errors import (
    AuthError,
    ConfigError,
    Conflict,
    Forbidden,
    HubProblem,
    HubUnreachable,
    InputError,
    InvalidRequest,
    ItemRejected,
    NotFound,
    PartnerError,
    RateLimited,
    ServerError,
    VerificationFailed,
)
from partners.results import AttestationResult, PullPage, PushResult, Reassignment, Summary
from partners.retry import RetryPolicy

__all__ = [
    "AttestationResult",
    "AuthError",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "HubClient",
    "HubProblem",
    "HubUnreachable",
    "InputError",
    "InvalidRequest",
    "ItemRejected",
    "NotFound",
    "PartnerError",
    "PullPage",
    "PushResult",
    "RateLimited",
    "Reassignment",
    "RetryPolicy",
    "ServerError",
    "Summary",
    "VerificationFailed",
]
