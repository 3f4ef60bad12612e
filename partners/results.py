"""What the hub answered, as typed values the caller can count and store.

A push answers per item (PROTOCOL.md section 4): ``accepted`` and
``duplicate`` carry a hub receipt (already verified by the client),
``rejected`` an :class:`~partners.errors.ItemRejected`. :class:`Summary`
is the tally the CLI prints at the end of a run: accepted, duplicate, and
rejected by slug, because "412 rejected" tells an operator nothing while
"invalid-number 400, not-assigned 12" tells them what to fix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from partners.errors import ItemRejected

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"
#: A dry run's answer for an item the hub would accept (nothing stored, no receipt).
VALID = "valid"


@dataclass
class PushResult:
    """One item's answer. ``signed`` is the envelope that was sent (what the receipt describes)."""

    id: str | None
    status: str
    signed: dict[str, Any]
    receipt: dict[str, Any] | None = None
    error: ItemRejected | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in (ACCEPTED, DUPLICATE, VALID)

    @property
    def receipt_body(self) -> dict[str, Any] | None:
        return self.receipt["receipt"] if self.receipt else None


@dataclass
class PullPage:
    """One page of ``GET /v1/records``; every item's receipt and issuer signature verified."""

    items: list[dict[str, Any]]
    next_after: int
    has_more: bool


@dataclass(frozen=True)
class AttestationResult:
    id: str
    match: bool
    expected_count: int
    attested_count: int
    new: bool


#: The Reassigned Numbers Database's answers (PROTOCOL.md section 10).
YES = "yes"
NO = "no"
NO_DATA = "no_data"
ANSWERS = (YES, NO, NO_DATA)


@dataclass(frozen=True)
class Reassignment:
    """The hub's answer to "was this number given to a new subscriber since then?".

    ``answer`` is ``yes`` (``reassigned_at`` the latest reassignment at or
    after ``since``), ``no``, or ``no_data`` (the hub has no lifecycle events
    from that far back: ask the operator). In a batch, a question the hub
    (or the SDK, for a number that is no number) could not answer has
    ``answer`` None and its problem in ``error``; ``number`` is then the
    text as asked.
    """

    number: str
    since: str
    answer: str | None
    reassigned_at: str | None = None
    error: ItemRejected | None = None

    @property
    def reassigned(self) -> bool:
        return self.answer == YES


@dataclass
class Summary:
    """Counts of a run: the CLI's last line and its exit code."""

    accepted: int = 0
    duplicate: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    valid: int = 0
    dry_run: bool = False

    def add(self, result: PushResult) -> None:
        if result.status == ACCEPTED:
            self.accepted += 1
        elif result.status == VALID:
            self.valid += 1
        elif result.status == DUPLICATE:
            self.duplicate += 1
        else:
            self.reject(result.error.slug if result.error else "unknown")

    def reject(self, slug: str) -> None:
        """Count a rejection, by the hub or locally (a bad input row: slug ``bad-row``)."""
        self.rejected[slug] += 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def line(self, noun: str) -> str:
        total = self.accepted + self.valid + self.duplicate + self.rejected_total
        first = f"{self.valid:,} valid" if self.dry_run else f"{self.accepted:,} accepted"
        noun = noun.removesuffix("s") if total == 1 else noun
        text = f"{total:,} {noun}: {first}, {self.duplicate:,} duplicate, {self.rejected_total:,} rejected"
        if self.rejected:
            text += " (" + ", ".join(f"{slug} {n:,}" for slug, n in sorted(self.rejected.items())) + ")"
        if self.dry_run:
            text += "; dry run: the hub judged them and stored nothing"
        return text
