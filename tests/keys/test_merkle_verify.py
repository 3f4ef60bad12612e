"""RFC 9162 §2.1 verification against the RFC's own recursive definitions."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    ConsistencyProofError,
    InclusionProofError,
    leaf_hash,
    node_hash,
    reference_consistency_path,
    reference_inclusion_path,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

EXAMPLES = settings(max_examples=12, deadline=None, database=None)


def make_leaves(size: int, seed: bytes) -> list[bytes]:
    """Distinct leaf hashes (so a wrong index can never be right by symmetry)."""
    return [leaf_hash(seed + i.to_bytes(4, "big")) for i in range(size)]


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[(bit // 8) % len(changed)] ^= 1 << (bit % 8)
    return bytes(changed)


def test_empty_tree_root() -> None:
    # RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string.
    assert root_from_leaf_hashes([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_small_trees_by_hand() -> None:
    a, b, c = leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")
    assert a == hashlib.sha256(b"\x00a").digest()
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root_from_leaf_hashes([a]) == a
    assert root_from_leaf_hashes([a, b]) == node_hash(a, b)
    assert root_from_leaf_hashes([a, b, c]) == node_hash(node_hash(a, b), c)
    assert reference_inclusion_path([a, b, c], 2) == [node_hash(a, b)]
    assert reference_inclusion_path([a, b, c], 0) == [b, c]
    assert reference_consistency_path([a, b, c], 2) == [c]
    assert reference_consistency_path([a, b, c], 1) == [b, c]


def test_rfc_9162_example_tree() -> None:
    # RFC 9162 §2.1.5: the 7-leaf tree of the example figures.
    leaves = make_leaves(7, b"rfc")
    d, a, b, j, i, k = leaves[3], leaves[0], leaves[1], leaves[5], leaves[4], leaves[6]
    c = leaves[2]
    assert reference_inclusion_path(leaves, 0) == [b, node_hash(c, d), node_hash(node_hash(i, j), k)]
    assert reference_inclusion_path(leaves, 3) == [c, node_hash(a, b), node_hash(node_hash(i, j), k)]
    assert reference_inclusion_path(leaves, 4) == [j, k, node_hash(node_hash(a, b), node_hash(c, d))]
    assert reference_inclusion_path(leaves, 6) == [
        node_hash(i, j),
        node_hash(node_hash(a, b), node_hash(c, d)),
    ]
    assert reference_consistency_path(leaves, 3) == [c, d, node_hash(a, b), node_hash(node_hash(i, j), k)]
    assert reference_consistency_path(leaves, 4) == [node_hash(node_hash(i, j), k)]
    assert reference_consistency_path(leaves, 6) == [
        node_hash(i, j),
        k,
        node_hash(node_hash(a, b), node_hash(c, d)),
    ]


def check_inclusion_for_every_index(leaves: list[bytes], bit: int) -> None:
    size = len(leaves)
    root = root_from_leaf_hashes(leaves)
    for index in range(size):
        path = reference_inclusion_path(leaves, index)
        verify_inclusion(index, size, leaves[index], path, root)
        for position in range(len(path)):
            corrupted = list(path)
            corrupted[position] = flip(path[position], bit + position)
            with pytest.raises(InclusionProofError):
                verify_inclusion(index, size, leaves[index], corrupted, root)
        for wrong in {index - 1, index + 1, size, index ^ 1} - {index}:
            if wrong >= 0:
                with pytest.raises(InclusionProofError):
                    verify_inclusion(wrong, size, leaves[index], path, root)
        with pytest.raises(InclusionProofError):
            verify_inclusion(index, size, leaves[index], path, flip(root, bit))
        with pytest.raises(InclusionProofError):
            verify_inclusion(index, size, flip(leaves[index], bit), path, root)
        with pytest.raises(InclusionProofError):
            verify_inclusion(index, size, leaves[index], [*path, root], root)
        if path:
            with pytest.raises(InclusionProofError):
                verify_inclusion(index, size, leaves[index], path[:-1], root)


def check_consistency_for_every_first(leaves: list[bytes], bit: int) -> None:
    second = len(leaves)
    second_root = root_from_leaf_hashes(leaves)
    for first in range(1, second + 1):
        first_root = root_from_leaf_hashes(leaves[:first])
        path = reference_consistency_path(leaves, first)
        verify_consistency(first, second, first_root, second_root, path)
        assert (path == []) == (first == second)
        for position in range(len(path)):
            corrupted = list(path)
            corrupted[position] = flip(path[position], bit + position)
            with pytest.raises(ConsistencyProofError):
                verify_consistency(first, second, first_root, second_root, corrupted)
        with pytest.raises(ConsistencyProofError):
            verify_consistency(first, second, flip(first_root, bit), second_root, path)
        with pytest.raises(ConsistencyProofError):
            verify_consistency(first, second, first_root, flip(second_root, bit), path)
        if first < second:
            with pytest.raises(ConsistencyProofError):
                verify_consistency(first, second, first_root, second_root, [])
            with pytest.raises(ConsistencyProofError):
                verify_consistency(first, second, first_root, second_root, [*path, second_root])
            for wrong_first in {first - 1, first + 1} - {0, second}:
                with pytest.raises(ConsistencyProofError):
                    verify_consistency(wrong_first, second, first_root, second_root, path)


@EXAMPLES
@given(size=st.integers(1, 300), seed=st.binary(max_size=8), bit=st.integers(0, 255))
def test_inclusion_paths_verify_and_corruptions_fail(size: int, seed: bytes, bit: int) -> None:
    check_inclusion_for_every_index(make_leaves(size, seed), bit)


@EXAMPLES
@given(size=st.integers(1, 300), seed=st.binary(max_size=8), bit=st.integers(0, 255))
def test_consistency_paths_verify_and_corruptions_fail(size: int, seed: bytes, bit: int) -> None:
    check_consistency_for_every_first(make_leaves(size, seed), bit)


@pytest.mark.parametrize("size", range(1, 34))
def test_every_small_tree_exhaustively(size: int) -> None:
    leaves = make_leaves(size, b"small")
    check_inclusion_for_every_index(leaves, size)
    check_consistency_for_every_first(leaves, size)


def test_root_matches_incremental_definition() -> None:
    # MTH(D[0:n]) computed recursively equals the tree built by pairing levels
    # left to right (the promotion rule of an unbalanced right edge).
    leaves = make_leaves(300, b"level")
    level = list(leaves)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    assert root_from_leaf_hashes(leaves) == level[0]


def test_malformed_inclusion_arguments() -> None:
    leaves = make_leaves(5, b"m")
    root = root_from_leaf_hashes(leaves)
    path = reference_inclusion_path(leaves, 2)
    for args in [
        (-1, 5, leaves[2], path, root),
        (2, 0, leaves[2], path, root),
        (True, 5, leaves[2], path, root),
        (2, 5, leaves[2][:31], path, root),
        (2, 5, leaves[2], path, root.hex()),
        (2, 5, leaves[2], [p.hex() for p in path], root),
        (2, 5, leaves[2], "path", root),
    ]:
        with pytest.raises(InclusionProofError):
            verify_inclusion(*args)  # type: ignore[arg-type]
    with pytest.raises(InclusionProofError):
        reference_inclusion_path(leaves, 5)


def test_consistency_edge_cases() -> None:
    leaves = make_leaves(8, b"c")
    root = root_from_leaf_hashes(leaves)
    # Equal sizes: empty path and equal roots only.
    verify_consistency(8, 8, root, root, [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(8, 8, root, flip(root, 3), [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(8, 8, root, root, [root])
    # The empty tree and reversed sizes are refused.
    with pytest.raises(ConsistencyProofError):
        verify_consistency(0, 8, root_from_leaf_hashes([]), root, [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(0, 0, root_from_leaf_hashes([]), root_from_leaf_hashes([]), [])
    first_root = root_from_leaf_hashes(leaves[:3])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(8, 3, root, first_root, reference_consistency_path(leaves, 3))
    with pytest.raises(ConsistencyProofError):
        reference_consistency_path(leaves, 0)
    with pytest.raises(ConsistencyProofError):
        reference_consistency_path(leaves, 9)
