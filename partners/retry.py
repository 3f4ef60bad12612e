"""When to try a request again, and how long to wait first.

Every request the SDK sends is safe to repeat: record and ack ids are chosen
by the sender, so a batch the hub stored before the answer got lost comes
back as ``duplicate`` with its original receipt; an attestation sent again
answers its stored result; reads change nothing but a delivery timestamp
that is set once. What is retried is therefore decided by the failure only:
no connection or no answer, 429 (after its ``Retry-After``), and 5xx (with
exponential back-off and jitter, so a fleet of pullers does not hammer a
recovering hub in lockstep). The number of attempts and the total waiting
are bounded, so a dead hub ends a run instead of hanging it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: RFC 9110 delta-seconds: ASCII digits only
_DELTA_SECONDS = re.compile(r"[0-9]{1,10}", re.ASCII)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying; the defaults ride out a hub restart of about a minute."""

    attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 20.0
    max_total_wait: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): capped exponential, half jitter."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return float(ceiling / 2 + self.rng.uniform(0, ceiling / 2))


NO_RETRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or garbled."""
    if not value:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):  # [0-9], not isdigit(): "²" and other digits are not delta-seconds
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
