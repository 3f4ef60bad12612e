"""The hub's Merkle tree (RFC 9162 §2.1) over stored complete subtrees.

The log only grows at its right edge, so a complete, aligned subtree
(level, index) -- the hash of leaves [index*2**level, (index+1)*2**level) --
never changes once its last leaf has arrived. Storing each one once, as
Certificate Transparency logs do, turns every hash the RFC's recursion asks
for into a right fold of at most log2(n) stored nodes: heads, inclusion and
consistency proofs are O(log n) reads, never a rebuild.

Against SQL each ``get_nodes`` call is a round trip, so every function first
works out all the keys it needs, fetches them in a single call, then combines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from keys.merkle import EMPTY_ROOT, HASH_LENGTH
from keys.merkle import node_hash as _node_hash

NodeKey = tuple[int, int]  # (level, index)
NodeRow = tuple[int, int, bytes]  # (level, index, hash), as stored


class NodeStore(Protocol):
    """Where complete subtree hashes live (SQL in the hub, a dict in tests)."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Batch read; keys the store lacks are simply absent from the result."""
        ...


class MissingNode(Exception):
    """The store lacks a node it must hold for a tree of the asked size.

    This is the hub's fault (a corrupt store, or a size beyond what was
    appended), never the client's, so it is kept apart from TreeRangeError.
    """

    def __init__(self, keys: Iterable[NodeKey]) -> None:
        self.keys = sorted(keys)
        shown = ", ".join(f"({lv}, {ix})" for lv, ix in self.keys[:8])
        more = f" and {len(self.keys) - 8} more" if len(self.keys) > 8 else ""
        super().__init__(f"tree store lacks node(s) {shown}{more}")


class TreeRangeError(ValueError):
    """An index, size, first or second out of range; the message suits a 400."""


def _split(n: int) -> int:
    """The RFC's k: the largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_int(name: str, value: int) -> None:
    # bool is an int, and a float would slip through the shifts below.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TreeRangeError(f"{name} must be an integer, not {value!r}")


def _range_keys(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees covering [start, end), largest (leftmost) first.

    Every range the RFC's recursion visits starts at a multiple of the power
    of two at or above its length, so the binary digits of its length, high
    to low, are exactly its aligned complete subtrees, and MTH of the range
    is their right fold (each split peels off the largest power of two).
    """
    keys: list[NodeKey] = []
    pos, length = start, end - start
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            keys.append((level, pos >> level))
            pos += 1 << level
    return keys


def _fetch(store: NodeStore, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """One get_nodes call for all keys; MissingNode unless every one came back."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    got = store.get_nodes(wanted)
    missing = [k for k in wanted if k not in got]
    if missing:
        raise MissingNode(missing)
    return got


def _fold(keys: Sequence[NodeKey], nodes: dict[NodeKey, bytes]) -> bytes:
    """Right fold, matching MTH's split: H(a, H(b, H(c, d)))."""
    acc = nodes[keys[-1]]
    for key in reversed(keys[:-1]):
        acc = _node_hash(nodes[key], acc)
    return acc


def _range_hashes(store: NodeStore, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each RFC-visited range, with all nodes fetched in one call."""
    per_range = [_range_keys(a, b) for a, b in ranges]
    nodes = _fetch(store, (k for keys in per_range for k in keys))
    return [_fold(keys, nodes) for keys in per_range]


def nodes_for_append(store: NodeStore, size: int, leaf_hashes: Sequence[bytes]) -> list[NodeRow]:
    """Every new (level, index, hash) row when leaf_hashes join a tree of `size`.

    Only the right edge of the old tree (its complete subtrees, one per set
    bit of size) can gain a sibling, so that is all we read, in one call.
    Rows come level 0 first; a node is listed once, when it becomes complete.
    """
    _check_int("size", size)
    if size < 0:
        raise TreeRangeError(f"size {size} is negative")
    for h in leaf_hashes:
        if not isinstance(h, bytes) or len(h) != HASH_LENGTH:
            raise ValueError(f"a leaf hash must be {HASH_LENGTH} bytes, got {h!r}")
    if not leaf_hashes:
        return []
    new_size = size + len(leaf_hashes)
    edge = [(lv, (size >> lv) - 1) for lv in range(size.bit_length()) if size >> lv & 1]
    known = dict(_fetch(store, edge))
    rows: list[NodeRow] = []
    for offset, h in enumerate(leaf_hashes):
        known[(0, size + offset)] = h
        rows.append((0, size + offset, h))
    level = 0
    # A level gains nodes only if every level below it did, so stop at the first that doesn't.
    while new_size >> (level + 1) > size >> (level + 1):
        parent = level + 1
        for index in range(size >> parent, new_size >> parent):
            h = _node_hash(known[(level, 2 * index)], known[(level, 2 * index + 1)])
            known[(parent, index)] = h
            rows.append((parent, index, h))
        level = parent
    return rows


def root_hash(store: NodeStore, size: int) -> bytes:
    """MTH of the first `size` leaves, from popcount(size) stored nodes."""
    _check_int("size", size)
    if size < 0:
        raise TreeRangeError(f"size {size} is negative")
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes(store, [(0, size)])[0]


def inclusion_path(store: NodeStore, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf's sibling first.

    Walks the RFC's recursion top-down, noting the sibling range at each
    split; only the first right-hand sibling can be an incomplete subtree,
    so the path costs at most about 2*log2(size) node reads.
    """
    _check_int("index", index)
    _check_int("size", size)
    if size <= 0:
        raise TreeRangeError(f"size {size} must be positive")
    if not 0 <= index < size:
        raise TreeRangeError(f"index {index} is not in [0, {size})")
    siblings: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo += k
    return _range_hashes(store, siblings[::-1])


def consistency_path(store: NodeStore, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1; [] when first == second.

    SUBPROOF unrolled: `whole` is the RFC's b flag, true while the range
    still starts at leaf 0, i.e. while the old root itself is not needed.
    """
    _check_int("first", first)
    _check_int("second", second)
    if first <= 0:
        raise TreeRangeError(f"first {first} must be positive")
    if first > second:
        raise TreeRangeError(f"first {first} is above second {second}")
    ranges: list[tuple[int, int]] = []
    lo, hi, whole = 0, second, True
    while hi != first:  # the RFC's m < n, with m = first - lo, n = hi - lo
        k = _split(hi - lo)
        if first - lo <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole = False
    if not whole:
        ranges.append((lo, hi))
    return _range_hashes(store, ranges[::-1])


class DictStore:
    """An in-memory NodeStore for tests and the benchmark."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}

    def add(self, rows: Iterable[NodeRow]) -> None:
        """Insert rows; a node rewritten with another hash is refused: the log is append-only."""
        for level, index, h in rows:
            old = self.nodes.setdefault((level, index), h)
            if old != h:
                raise ValueError(f"node ({level}, {index}) already holds another hash")

    def __len__(self) -> int:
        return len(self.nodes)
