"""Hub-signed receipts for accepted records and acks (PROTOCOL.md section 4).

Every member of a receipt comes from the accepted row, and Ed25519 is
deterministic. A record's receipt is signed once, in its push's write
transaction, and stored with the row (``records.receipt``, the JCS bytes of
the whole signed receipt): the push answers with it, a duplicate push gets
it back, and a pull splices its bytes into the page instead of signing again
per item and per partner. A stored receipt whose key has since been retired
(it leaked) is signed again with the current key when served (``usable``);
so are acks' receipts, which are not stored, and records accepted before
receipts were stored. Those are kept in a small per-process cache, since
the same record is served to every partner it is routed to.
"""

from __future__ import annotations

import json
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


def _body(kind: str, object_id: str, sha256: str, log_index: int, received_at: str, hub: str) -> dict[str, Any]:
    return {
        "object_id": object_id,
        "kind": kind,
        "sha256": sha256,
        "seq": seq_for(log_index),
        "log_index": log_index,
        "received_at": received_at,
        "hub": hub,
    }


@lru_cache(maxsize=RECEIPT_CACHE)
def _signed(
    by: HubSigner, kind: str, object_id: str, sha256: str, log_index: int, received_at: str, hub: str
) -> tuple[dict[str, Any], bytes]:
    return by.sign_canonical("receipt", _body(kind, object_id, sha256, log_index, received_at, hub))


def receipt(
    kind: str, object_id: str, sha256: str, log_index: int, received_at: datetime, by: HubSigner | None = None
) -> dict[str, Any]:
    """The signed receipt (callers must not modify it: it may be shared)."""
    return receipt_with_bytes(kind, object_id, sha256, log_index, received_at, by)[0]


def receipt_with_bytes(
    kind: str, object_id: str, sha256: str, log_index: int, received_at: datetime, by: HubSigner | None = None
) -> tuple[dict[str, Any], bytes]:
    """The signed receipt and its JCS bytes, signed now with ``by`` (default: the current key)."""
    return _signed(
        by or signer(), kind, object_id, sha256, log_index, format_ts(received_at), current_app.config["HUB_ID"]
    )


def issue(kind: str, object_id: str, sha256: str, log_index: int, received_at: datetime, by: HubSigner) -> bytes:
    """The JCS bytes of a new signed receipt, to be stored with its row (not cached: each is signed once)."""
    body = _body(kind, object_id, sha256, log_index, format_ts(received_at), current_app.config["HUB_ID"])
    return by.sign_canonical("receipt", body)[1]


def usable(stored: str | None, retired: frozenset[str]) -> bool:
    """True when a stored receipt may be served as it is: there is one, and its key is not retired.

    The receipt's envelope has one ``kid`` member (its signature's), so a
    substring test on the canonical bytes is exact.
    """
    if stored is None:
        return False
    return not any(f'"kid":{json.dumps(kid, ensure_ascii=False)}' in stored for kid in retired)
