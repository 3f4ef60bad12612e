"""Hub-signed receipts for accepted records and acks (PROTOCOL.md section 4).

Receipts are not stored: every member comes from the accepted row, and
Ed25519 is deterministic, so a duplicate push gets back the very receipt
the first push did (as long as the hub key has not rotated since).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from hub.signing import HubSigner, signer
from keys.timefmt import format_ts


def seq_for(log_index: int) -> int:
    """Records and acks draw seq from the log counter; seq starts at 1."""
    return log_index + 1


def receipt(
    kind: str, object_id: str, sha256: str, log_index: int, received_at: datetime, by: HubSigner | None = None
) -> dict[str, Any]:
    body = {
        "object_id": object_id,
        "kind": kind,
        "sha256": sha256,
        "seq": seq_for(log_index),
        "log_index": log_index,
        "received_at": format_ts(received_at),
        "hub": current_app.config["HUB_ID"],
    }
    return (by or signer()).sign("receipt", body)
