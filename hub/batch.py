"""The outer shape of a batch push (records, acks), shared by both.

A bad batch (not an object, a member other than the one expected, 0 or
over 1000 items, two identical items) is a 400 for the whole request; a bad
item inside a good batch is judged on its own and never spoils the others.
"""

from __future__ import annotations

from typing import Any

from hub.problems import Problem
from keys.jcs import canonicalize
from keys.errors import CanonicalizationError

MAX_BATCH = 1000


def read_batch(body: Any, member: str) -> list[Any]:
    if not isinstance(body, dict) or set(body) != {member}:
        found = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise Problem("invalid-request", f'The body must be {{"{member}": [...]}}; found {found}.')
    items = body[member]
    if not isinstance(items, list):
        raise Problem("invalid-request", f"{member} must be an array.")
    if not 1 <= len(items) <= MAX_BATCH:
        raise Problem("invalid-request", f"A batch holds 1 to {MAX_BATCH} items, not {len(items)}.")
    seen: dict[bytes, int] = {}
    for i, item in enumerate(items):
        try:
            key = canonicalize(item)
        except CanonicalizationError:
            continue  # judged (and rejected) as an item
        if key in seen:
            raise Problem(
                "invalid-request",
                f"{member}[{i}] repeats {member}[{seen[key]}]; arrays hold no duplicates.",
            )
        seen[key] = i
    return items
