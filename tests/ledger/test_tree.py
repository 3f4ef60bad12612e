"""hub.ledger.tree against a straightforward RFC 9162 §2.1 recomputation.

The reference below is the RFC's recursive definitions (MTH, PATH, PROOF /
SUBPROOF) over the full leaf list, written independently of the module under
test and of keys.merkle; only a memo on MTH keeps it fast enough to check
every index of every size up to a few hundred leaves.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger.tree import (
    DictStore,
    MissingNode,
    NodeKey,
    TreeRangeError,
    consistency_path,
    inclusion_path,
    nodes_for_append,
    root_hash,
)

# --- RFC 9162 §2.1, written out -------------------------------------------------


def rfc_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def rfc_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """MTH, PATH and PROOF over D = leaf hashes, ranges given as [lo, hi)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.d = list(leaf_hashes)
        self.memo: dict[tuple[int, int], bytes] = {}

    def mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.d[lo]
        if (lo, hi) not in self.memo:
            k = largest_power_of_two_below(n)
            self.memo[(lo, hi)] = rfc_node(self.mth(lo, lo + k), self.mth(lo + k, hi))
        return self.memo[(lo, hi)]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]

    def complete_nodes(self, size: int) -> dict[NodeKey, bytes]:
        """Every complete aligned subtree of a tree of `size` leaves."""
        out = {}
        level = 0
        while (1 << level) <= size:
            for index in range(size >> level):
                out[(level, index)] = self.mth(index << level, (index + 1) << level)
            level += 1
        return out


# --- stores ---------------------------------------------------------------------


class SizedView:
    """Shows only the nodes a log of exactly `size` leaves would hold, and counts reads.

    Checking a smaller size against a bigger store through this view proves the
    functions never lean on nodes that would not exist yet at that size.
    """

    def __init__(self, store: DictStore, size: int) -> None:
        self.store, self.size = store, size
        self.calls = 0
        self.keys_read = 0

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.calls += 1
        self.keys_read += len(keys)
        visible = [(lv, ix) for lv, ix in keys if (ix + 1) << lv <= self.size]
        return self.store.get_nodes(visible)


def leaves(n: int, tag: str = "t") -> list[bytes]:
    return [rfc_leaf(f"{tag}-{i}".encode()) for i in range(n)]


def build(leaf_hashes: Sequence[bytes], batch_sizes: Sequence[int]) -> DictStore:
    """Append leaf_hashes in the given batch sizes (cycled), as the hub would."""
    store, size, i = DictStore(), 0, 0
    while size < len(leaf_hashes):
        batch = leaf_hashes[size : size + batch_sizes[i % len(batch_sizes)]]
        store.add(nodes_for_append(store, size, batch))
        size += len(batch)
        i += 1
    return store


def random_batches(seed: int, count: int = 64) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, 50) for _ in range(count)]


def read_bound(n: int) -> int:
    return 4 * math.ceil(math.log2(max(n, 2))) + 4


# --- known answers --------------------------------------------------------------

CT_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_certificate_transparency_vectors() -> None:
    store = build([rfc_leaf(bytes.fromhex(d)) for d in CT_DATA], [3, 1, 4])
    for size, want in enumerate(CT_ROOTS):
        assert root_hash(SizedView(store, size), size).hex() == want
    assert [h.hex() for h in inclusion_path(store, 0, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [h.hex() for h in inclusion_path(store, 5, 8)] == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert [h.hex() for h in consistency_path(store, 2, 8)] == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [h.hex() for h in consistency_path(store, 6, 8)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]


# --- every index, every first, sizes 1..300 -------------------------------------

SMALL = 300


@pytest.fixture(scope="module")
def small() -> tuple[DictStore, Reference]:
    hashes = leaves(SMALL, "small")
    return build(hashes, random_batches(1)), Reference(hashes)


def test_every_size_index_and_first_up_to_300(small: tuple[DictStore, Reference]) -> None:
    store, ref = small
    for n in range(1, SMALL + 1):
        view = SizedView(store, n)
        assert root_hash(view, n) == ref.mth(0, n), n
        for index in range(n):
            assert inclusion_path(view, index, n) == ref.path(index, 0, n), (index, n)
        for first in range(1, n + 1):
            assert consistency_path(view, first, n) == ref.proof(first, n), (first, n)
        assert view.keys_read <= (1 + 2 * n) * read_bound(n)


def test_store_holds_exactly_the_complete_subtrees(small: tuple[DictStore, Reference]) -> None:
    store, ref = small
    assert store.nodes == ref.complete_nodes(SMALL)


# --- powers of two and their neighbours, sampled ---------------------------------

EDGE_SIZES = sorted({(1 << e) + d for e in range(13) for d in (-1, 0, 1)} - {0})


@pytest.fixture(scope="module")
def medium() -> tuple[DictStore, Reference]:
    hashes = leaves(max(EDGE_SIZES), "medium")
    return build(hashes, random_batches(2)), Reference(hashes)


@pytest.mark.parametrize("n", EDGE_SIZES)
def test_edge_sizes_sampled(medium: tuple[DictStore, Reference], n: int) -> None:
    store, ref = medium
    rng = random.Random(n)
    picks = {0, 1, n // 2, n - 2, n - 1} | {rng.randrange(n) for _ in range(40)}
    view = SizedView(store, n)
    assert root_hash(view, n) == ref.mth(0, n)
    for i in sorted(p for p in picks if 0 <= p < n):
        assert inclusion_path(view, i, n) == ref.path(i, 0, n), (i, n)
        assert consistency_path(view, i + 1, n) == ref.proof(i + 1, n), (i + 1, n)


# --- appends --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 50), min_size=1, max_size=12),
    st.lists(st.integers(1, 50), min_size=1, max_size=12),
)
def test_batch_splits_give_identical_stores(a: list[int], b: list[int]) -> None:
    n = min(sum(a), sum(b))
    hashes = leaves(n, "split")
    one, other = build(hashes, a), build(hashes, b)
    assert one.nodes == other.nodes == Reference(hashes).complete_nodes(n)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_proofs_after_each_batch(batches: list[int], rng: random.Random) -> None:
    """The store as it stands right after each append answers correctly."""
    hashes = leaves(sum(batches), "grow")
    ref, store, size = Reference(hashes), DictStore(), 0
    for count in batches:
        view = SizedView(store, size)
        rows = nodes_for_append(view, size, hashes[size : size + count])
        assert view.calls <= 1 and view.keys_read == bin(size).count("1")
        store.add(rows)
        old, size = size, size + count
        assert root_hash(store, size) == ref.mth(0, size)
        i = rng.randrange(size)
        assert inclusion_path(store, i, size) == ref.path(i, 0, size)
        if old:
            assert consistency_path(store, old, size) == ref.proof(old, size)


def test_empty_batch_reads_nothing() -> None:
    view = SizedView(DictStore(), 0)
    assert nodes_for_append(view, 0, []) == [] and view.calls == 0


def test_bad_leaf_hash_is_refused() -> None:
    with pytest.raises(ValueError):
        nodes_for_append(DictStore(), 0, [b"short"])


def test_dict_store_refuses_rewrites() -> None:
    store = DictStore()
    store.add([(0, 0, b"a" * 32)])
    store.add([(0, 0, b"a" * 32)])  # idempotent
    with pytest.raises(ValueError):
        store.add([(0, 0, b"b" * 32)])


# --- O(log n) reads at 100,000 leaves --------------------------------------------

BIG = 100_000


@pytest.fixture(scope="module")
def big() -> tuple[DictStore, Reference]:
    hashes = leaves(BIG, "big")
    return build(hashes, [1000]), Reference(hashes)


def test_reads_are_logarithmic_at_100k(big: tuple[DictStore, Reference]) -> None:
    store, ref = big
    rng = random.Random(7)
    special = {0, 1, 2, BIG // 2, BIG - 2, BIG - 1}
    special |= {(1 << e) + d for e in range(17) for d in (-1, 0)}
    picks = sorted({p for p in special if p < BIG} | {rng.randrange(BIG) for _ in range(300)})
    bound = read_bound(BIG)
    worst = {"root": 0, "inclusion": 0, "consistency": 0}
    for n in (BIG, BIG - 1, 65_537, 65_536, 65_535):
        view = SizedView(store, n)
        assert root_hash(view, n) == ref.mth(0, n)
        worst["root"] = max(worst["root"], view.keys_read)
        for p in picks:
            for kind, call, want in (
                ("inclusion", lambda v, p=p, n=n: inclusion_path(v, p, n), lambda p=p, n=n: ref.path(p, 0, n)),
                (
                    "consistency",
                    lambda v, p=p, n=n: consistency_path(v, p + 1, n),
                    lambda p=p, n=n: ref.proof(p + 1, n),
                ),
            ):
                if p >= n:
                    continue
                view = SizedView(store, n)
                assert call(view) == want()
                assert view.keys_read <= bound and view.calls <= 3, (kind, p, n, view.keys_read)
                worst[kind] = max(worst[kind], view.keys_read)
    append_view = SizedView(store, BIG)
    nodes_for_append(append_view, BIG, leaves(1000, "more"))
    assert append_view.calls == 1 and append_view.keys_read == bin(BIG).count("1")
    print(f"\nreads at {BIG} leaves (bound {bound}): {worst}, append {append_view.keys_read}")


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s: root_hash(s, -1),
        lambda s: inclusion_path(s, 0, 0),
        lambda s: inclusion_path(s, -1, 5),
        lambda s: inclusion_path(s, 5, 5),
        lambda s: inclusion_path(s, 1.0, 5),
        lambda s: consistency_path(s, 0, 5),
        lambda s: consistency_path(s, 6, 5),
        lambda s: consistency_path(s, -3, 5),
        lambda s: consistency_path(s, True, 5),
        lambda s: nodes_for_append(s, -1, [b"\0" * 32]),
    ],
)
def test_range_errors(call) -> None:
    view = SizedView(build(leaves(5), [5]), 5)
    with pytest.raises(TreeRangeError):
        call(view)
    assert view.calls == 0


def test_range_error_is_a_value_error() -> None:
    assert issubclass(TreeRangeError, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: root_hash(s, 9),
        lambda s: inclusion_path(s, 0, 9),
        lambda s: consistency_path(s, 3, 9),
        lambda s: nodes_for_append(s, 7, [b"\0" * 32]),
    ],
)
def test_missing_nodes_are_reported(call) -> None:
    store = build(leaves(8), [8])
    del store.nodes[(0, 6)]  # corrupt: a leaf the right edge of size 7 needs
    with pytest.raises(MissingNode):
        call(SizedView(store, 8))
