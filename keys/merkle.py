"""RFC 9162 §2.1 Merkle tree hashes and proof verification (the partner's side).

The hub keeps an append-only log of every accepted record and ack
(PROTOCOL.md §7). With these functions a partner checks, without trusting the
hub, that an object is in a signed tree head (inclusion) and that a newer head
extends an older one (consistency). The verifiers follow the RFC's algorithm
text step by step (§2.1.3.2, §2.1.4.2) so they can be reviewed against it.
All hashes here are raw 32-byte values; hex is the callers' business.

The ``reference_*`` generators are the RFC's recursive definitions (§2.1.3.1,
§2.1.4.1), O(n) per proof: a yardstick for tests on both sides, not for the hub.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from keys.errors import ConsistencyProofError, InclusionProofError, ProofError

HASH_LENGTH = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH of a one-leaf tree: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k, for n > 1."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) over leaf hashes, for end > start."""
    n = end - start
    if n == 1:
        return hashes[start]
    k = _largest_power_of_two_below(n)
    return node_hash(_mth(hashes, start, start + k), _mth(hashes, start + k, end))


def root_from_leaf_hashes(hashes: list[bytes]) -> bytes:
    """Merkle Tree Hash of the leaves with these hashes; SHA-256("") when empty."""
    if not hashes:
        return EMPTY_ROOT
    return _mth(hashes, 0, len(hashes))


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_hashes(error: type[ProofError], named: dict[str, bytes], path: Sequence[bytes]) -> None:
    for name, value in named.items():
        if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_LENGTH:
            raise error(f"{name} must be {HASH_LENGTH} raw bytes")
    if not isinstance(path, (list, tuple)):
        raise error("path must be a list of hashes")
    for position, value in enumerate(path):
        if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_LENGTH:
            raise error(f"path[{position}] must be {HASH_LENGTH} raw bytes")


def verify_inclusion(index: int, size: int, leaf_hash: bytes, path: list[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises :class:`InclusionProofError` on any failure,
    including malformed arguments. ``size`` must come from a verified tree
    head: the proof binds the leaf to ``root``, the signature binds the size.
    """
    if not _is_size(index) or not _is_size(size):
        raise InclusionProofError("index and size must be non-negative integers")
    _check_hashes(InclusionProofError, {"leaf hash": leaf_hash, "root": root}, path)
    # 1. Compare leaf_index against tree_size. If leaf_index is greater than
    #    or equal to tree_size, then fail the proof verification.
    if index >= size:
        raise InclusionProofError(f"leaf index {index} is not in a tree of size {size}")
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = index, size - 1
    # 3. Set r to hash.
    r = bytes(leaf_hash)
    # 4. For each value p in the inclusion_path array:
    for p in path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise InclusionProofError("inclusion path is longer than the tree is deep")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn
            #     equally until either LSB(fn) is set or fn is 0.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        # Otherwise: Set r to HASH(0x01 || r || p).
        else:
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0
    #    and r and the root_hash are equal, then the log has proven the
    #    inclusion of hash. Otherwise, fail the proof verification.
    if sn != 0:
        raise InclusionProofError("inclusion path is shorter than the tree is deep")
    if not hmac.compare_digest(r, bytes(root)):
        raise InclusionProofError("inclusion path does not lead to the root hash")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> None:
    """Check that the tree (``second``, ``second_root``) extends (``first``, ``first_root``).

    RFC 9162 §2.1.4.2. ``first`` must be at least 1 (the hub answers 400 for
    ``first=0``; every tree trivially extends the empty one). When ``first``
    equals ``second`` the path must be empty and the roots equal; otherwise
    the path must be non-empty. Raises :class:`ConsistencyProofError`.
    """
    if not _is_size(first) or not _is_size(second):
        raise ConsistencyProofError("tree sizes must be non-negative integers")
    _check_hashes(ConsistencyProofError, {"first root": first_root, "second root": second_root}, path)
    if first == 0:
        raise ConsistencyProofError("no consistency proof from the empty tree (first must be at least 1)")
    if first > second:
        raise ConsistencyProofError(f"first size {first} is larger than second size {second}")
    if first == second:
        if path:
            raise ConsistencyProofError("a proof between trees of equal size must be empty")
        if not hmac.compare_digest(bytes(first_root), bytes(second_root)):
            raise ConsistencyProofError("trees of equal size have different root hashes")
        return
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not path:
        raise ConsistencyProofError("consistency path is empty")
    # 2. If first is an exact power of 2, then prepend first_hash to the
    #    consistency_path array.
    steps = list(path)
    if first & (first - 1) == 0:
        steps.insert(0, bytes(first_root))
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until
    #    LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = bytes(steps[0])
    # 6. For each subsequent value c in the consistency_path array:
    for c in steps[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise ConsistencyProofError("consistency path is longer than the tree is deep")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn
            #     equally until either LSB(fn) is set or fn is 0.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        # Otherwise: Set sr to HASH(0x01 || sr || c).
        else:
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    if sn != 0:
        raise ConsistencyProofError("consistency path is shorter than the tree is deep")
    if not hmac.compare_digest(fr, bytes(first_root)):
        raise ConsistencyProofError("consistency path does not lead to the first root hash")
    if not hmac.compare_digest(sr, bytes(second_root)):
        raise ConsistencyProofError("consistency path does not lead to the second root hash")


def _path(hashes: Sequence[bytes], m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]) of §2.1.3.1, m relative to start."""
    n = end - start
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [*_path(hashes, m, start, start + k), _mth(hashes, start + k, end)]
    return [*_path(hashes, m - k, start + k, end), _mth(hashes, start, start + k)]


def reference_inclusion_path(leaf_hashes: list[bytes], index: int) -> list[bytes]:
    """Inclusion path of leaf ``index`` by RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    if not _is_size(index) or index >= len(leaf_hashes):
        raise InclusionProofError(f"no leaf {index!r} in a tree of size {len(leaf_hashes)}")
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def _subproof(hashes: Sequence[bytes], m: int, start: int, end: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of §2.1.4.1, m relative to start."""
    n = end - start
    if m == n:
        return [] if b else [_mth(hashes, start, end)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(hashes, m, start, start + k, b), _mth(hashes, start + k, end)]
    return [*_subproof(hashes, m - k, start + k, end, False), _mth(hashes, start, start + k)]


def reference_consistency_path(leaf_hashes: list[bytes], first: int) -> list[bytes]:
    """Consistency proof from the first ``first`` leaves to all of them, §2.1.4.1 PROOF(m, D[n]).

    Defined for 0 < first <= len(leaf_hashes); ``first == len`` gives the
    empty proof, as the hub answers for ``first`` equal to ``second``.
    """
    if not _is_size(first) or not 0 < first <= len(leaf_hashes):
        raise ConsistencyProofError(f"no consistency proof from size {first!r} to size {len(leaf_hashes)}")
    return _subproof(leaf_hashes, first, 0, len(leaf_hashes), True)
