"""Signed acks by id, for record look-ups (filled in by the acks capability)."""

from __future__ import annotations

from typing import Any


def acks_by_id(ack_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The signed ack objects for ``ack_ids``; none exist until acks are accepted."""
    if not ack_ids:
        return {}
    raise NotImplementedError("acks are not accepted yet")
