"""Appending to the log and reading it back, over the SQL node store.

``reserve`` is the only serialization point of the hub's write path: it
bumps the counter row inside the caller's transaction and returns where the
caller's entries start. Everything else here is O(log n) reads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from hub import clock
from hub.auth.models import HubKey
from hub.db import db
from hub.ledger import tree
from hub.ledger.models import Counter, LogEntry, MerkleNode
from hub.signing import signer
from keys.merkle import leaf_hash
from keys.timefmt import format_ts

LOG_COUNTER = "log"
HEADS = "tangkal.tree-heads"


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


#: The protocol's precision: consecutive writers' acceptance times differ by at least this.
TICK = timedelta(milliseconds=1)


def reserve_with_time(session: Session, count: int) -> tuple[int, datetime]:
    """``reserve``, and the acceptance time of the reserved entries, taken under the counter lock.

    Taken after the lock, never before: the time a writer read before it
    queued could be earlier than that of a writer that committed ahead of
    it, and a reader that goes on from the last acceptance time it saw
    (TAXII's ``added_after``) would miss the later commit. So the time is
    at least one millisecond (the protocol's precision) after the previous
    entry's, even if this instance's clock is behind another's: acceptance
    times strictly increase with the log index, from one write transaction
    to the next (a transaction's entries share one time).
    """
    start = reserve(session, count)
    return start, monotonic_after(previous_received_at(session, start), clock.now())


def previous_received_at(session: Session, start: int) -> datetime | None:
    """The acceptance time of the entry just before ``start`` (committed: its writer held the lock before us)."""
    if start == 0:
        return None
    found: datetime | None = session.scalar(select(LogEntry.received_at).where(LogEntry.idx == start - 1))
    return found


def monotonic_after(previous: datetime | None, now: datetime) -> datetime:
    """Now, or one tick after ``previous`` when the clock has not moved past it (the monotonic rule)."""
    if previous is None or now > previous:
        return now
    return previous + TICK


@dataclass(frozen=True)
class Entry:
    kind: str
    object_id: str
    data: bytes  # JCS bytes of the whole signed object


def append(session: Session, start: int, entries: Sequence[Entry], received_at: datetime) -> None:
    """Insert the leaves at ``start``.. and every subtree they complete."""
    if not entries:
        return
    conn = session.connection()  # Core executemany: the ORM's bulk path costs as much again in Python
    conn.execute(
        insert(LogEntry.__table__),
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
    conn.execute(insert(MerkleNode.__table__), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in rows])


def size(session: Session | None = None) -> int:
    """The committed log size."""
    s = session or db.session()
    return int(s.connection().execute(_SIZE).scalar_one())


_SIZE = select(Counter.value).where(Counter.name == LOG_COUNTER)


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


def init_log(app: Flask) -> None:
    app.extensions[HEADS] = _HeadCache()


def _cache() -> _HeadCache:
    found = current_app.extensions.get(HEADS)
    if not isinstance(found, _HeadCache):
        raise RuntimeError("the app has no tree-head cache (create_app installs one)")
    return found


def _head_timestamp(n: int) -> datetime:
    """When the log reached size ``n``: the acceptance time of its last leaf.

    Derived, never stored: every instance and every later request sign the
    same timestamp for the same size, and reading a head writes nothing.
    The empty log's moment is the hub's first key (its birth).
    """
    if n == 0:
        first = db.session.scalar(select(func.min(HubKey.created_at)))
        return first if first is not None else datetime(1970, 1, 1, tzinfo=UTC)
    at = db.session.scalar(select(LogEntry.received_at).where(LogEntry.idx == n - 1))
    if at is None:
        raise tree.TreeRangeError(f"size {n} is beyond the log")
    return at


def signed_head(at_size: int | None = None) -> dict[str, Any]:
    """The signed tree head of the log at ``at_size`` (default: now); cached per size and key."""
    n = size() if at_size is None else at_size
    current = signer()
    cache = _cache()
    cached = cache.by_size.get((n, current.kid))
    if cached is not None:
        return cached
    root = tree.root_hash(SqlNodeStore(db.session()), n).hex()
    envelope = current.sign("tree_head", {"size": n, "root_hash": root, "timestamp": format_ts(_head_timestamp(n))})
    with cache.lock:
        if len(cache.by_size) > 64:
            cache.by_size.clear()
        cache.by_size[(n, current.kid)] = envelope
    return envelope


def inclusion(index: int, at_size: int) -> list[str]:
    return [h.hex() for h in tree.inclusion_path(SqlNodeStore(db.session()), index, at_size)]


def consistency(first: int, second: int) -> list[str]:
    return [h.hex() for h in tree.consistency_path(SqlNodeStore(db.session()), first, second)]


def entries(start: int, end: int) -> list[str]:
    """The leaves' JCS texts in ``[start, end)``."""
    rows = db.session.execute(
        select(LogEntry.data).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
    ).scalars()
    return list(rows)
