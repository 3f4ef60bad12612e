"""Appending to the log and reading it back, over the SQL node store.

``reserve`` is the only serialization point of the hub's write path: it
bumps the counter row inside the caller's transaction and returns where the
caller's entries start. Everything else here is O(log n) reads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import db, utcnow
from hub.ledger import tree
from hub.ledger.models import Counter, LogEntry, MerkleNode, TreeHead
from hub.signing import signer
from keys.merkle import leaf_hash
from keys.timefmt import format_ts

LOG_COUNTER = "log"


def node_select(keys: Sequence[tree.NodeKey]) -> Any:
    """One primary-key probe per key.

    Spelled as OR of equalities, not ``(level, idx) IN (...)``: SQLite plans
    the row-value IN as a scan of the whole table (found by
    bench/merkle_proofs.py), which would make every proof and every append
    O(n); PostgreSQL plans both forms as index probes.
    """
    return select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash).where(
        or_(*(and_(MerkleNode.level == level, MerkleNode.idx == idx) for level, idx in keys))
    )


class SqlNodeStore:
    """``tree.NodeStore`` over the ``merkle_nodes`` table: one query per call."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_nodes(self, keys: Sequence[tree.NodeKey]) -> dict[tree.NodeKey, bytes]:
        if not keys:
            return {}
        rows = self.session.execute(node_select(keys))
        return {(level, idx): bytes(h) for level, idx, h in rows}


def reserve(session: Session, count: int) -> int:
    """Take ``count`` log positions; returns the first. Holds the counter row lock until commit."""
    new_size = session.execute(
        update(Counter).where(Counter.name == LOG_COUNTER).values(value=Counter.value + count).returning(Counter.value)
    ).scalar_one()
    return int(new_size) - count


@dataclass(frozen=True)
class Entry:
    kind: str
    object_id: str
    data: bytes  # JCS bytes of the whole signed object


def append(session: Session, start: int, entries: Sequence[Entry], received_at: datetime) -> None:
    """Insert the leaves at ``start``.. and every subtree they complete."""
    if not entries:
        return
    session.execute(
        insert(LogEntry),
        [
            {
                "idx": start + i,
                "kind": e.kind,
                "object_id": e.object_id,
                "data": e.data.decode("utf-8"),
                "received_at": received_at,
            }
            for i, e in enumerate(entries)
        ],
    )
    rows = tree.nodes_for_append(SqlNodeStore(session), start, [leaf_hash(e.data) for e in entries])
    session.execute(insert(MerkleNode), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in rows])


def size(session: Session | None = None) -> int:
    """The committed log size."""
    s = session or db.session
    return int(s.execute(select(Counter.value).where(Counter.name == LOG_COUNTER)).scalar_one())


def size_at(moment: datetime) -> int:
    """How many entries had been accepted before ``moment`` (for reports)."""
    last = db.session.execute(
        select(LogEntry.idx).where(LogEntry.received_at < moment).order_by(LogEntry.idx.desc()).limit(1)
    ).scalar()
    return 0 if last is None else int(last) + 1


class _HeadCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_size: dict[tuple[int, str], dict[str, Any]] = {}


def _cache() -> _HeadCache:
    return current_app.extensions.setdefault("tangkal.heads", _HeadCache())


def signed_head(at_size: int | None = None) -> dict[str, Any]:
    """The signed tree head of the log at ``at_size`` (default: now).

    Its ``timestamp`` is when a head of that size was first signed, kept in
    ``tree_heads`` so every instance and every later request agree.
    """
    n = size() if at_size is None else at_size
    current = signer()
    cache = _cache()
    cached = cache.by_size.get((n, current.kid))
    if cached is not None:
        return cached
    row = db.session.get(TreeHead, n)
    if row is None:
        root = tree.root_hash(SqlNodeStore(db.session), n).hex()
        db.session.add(TreeHead(size=n, root_hash=root, timestamp=utcnow()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        row = db.session.get(TreeHead, n)
        if row is None:
            raise RuntimeError(f"tree head {n} vanished")
    envelope = current.sign("tree_head", {"size": n, "root_hash": row.root_hash, "timestamp": format_ts(row.timestamp)})
    with cache.lock:
        if len(cache.by_size) > 64:
            cache.by_size.clear()
        cache.by_size[(n, current.kid)] = envelope
    return envelope


def inclusion(index: int, at_size: int) -> list[str]:
    return [h.hex() for h in tree.inclusion_path(SqlNodeStore(db.session), index, at_size)]


def consistency(first: int, second: int) -> list[str]:
    return [h.hex() for h in tree.consistency_path(SqlNodeStore(db.session), first, second)]


def entries(start: int, end: int) -> list[str]:
    """The leaves' JCS texts in ``[start, end)``."""
    rows = db.session.execute(
        select(LogEntry.data).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
    ).scalars()
    return list(rows)
