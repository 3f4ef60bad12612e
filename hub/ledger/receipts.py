"""Hub-signed receipts for accepted records and acks (PROTOCOL.md section 4).

Receipts are not stored: every member comes from the accepted row, and
Ed25519 is deterministic, so a duplicate push gets back the very receipt
the first push did (as long as the hub key has not rotated since). The same
record is served to every partner it is routed to, so recently signed
receipts are kept in a small per-process cache rather than signed again.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app

from hub.signing import HubSigner, signer
from keys.timefmt import format_ts

RECEIPT_CACHE = 10_000


def seq_for(log_index: int) -> int:
    """Records and acks draw seq from the log counter; seq starts at 1."""
    return log_index + 1


@lru_cache(maxsize=RECEIPT_CACHE)
def _signed(
    by: HubSigner, kind: str, object_id: str, sha256: str, log_index: int, received_at: str, hub: str
) -> dict[str, Any]:
    body = {
        "object_id": object_id,
        "kind": kind,
        "sha256": sha256,
        "seq": seq_for(log_index),
        "log_index": log_index,
        "received_at": received_at,
        "hub": hub,
    }
    return by.sign("receipt", body)


def receipt(
    kind: str, object_id: str, sha256: str, log_index: int, received_at: datetime, by: HubSigner | None = None
) -> dict[str, Any]:
    """The signed receipt (callers must not modify it: it may be shared)."""
    return _signed(
        by or signer(), kind, object_id, sha256, log_index, format_ts(received_at), current_app.config["HUB_ID"]
    )
