"""Partner-side checks of what the hub signs: receipts, tree heads, log inclusion.

A partner keeps the hub's JWKS (``GET /.well-known/jwks.json``) and with it
proves to itself, and to anyone it shows the objects to, that the hub
received exactly what was pushed (the receipt's hash) and logged it (the
inclusion proof against a signed tree head). Bodies are also shape-checked
here, because the checks below read their members.
"""

from __future__ import annotations

import re
from typing import Any

from keys.errors import EnvelopeError, InclusionProofError, ReceiptMismatch
from keys.jcs import canonicalize, sha256_hex
from keys.jwk import key_from_jwks
from keys.merkle import leaf_hash, verify_inclusion
from keys.signing import split_envelope, verify_object

RECEIPT_MEMBERS = frozenset({"object_id", "kind", "sha256", "seq", "log_index", "received_at", "hub"})
RECEIPT_KINDS = frozenset({"record", "ack", "number_event"})
TREE_HEAD_MEMBERS = frozenset({"size", "root_hash", "timestamp"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_sha256_hex(value: object) -> bool:
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None


def verify_signed(envelope: dict[str, Any], kind: str, hub_jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify a hub-signed object with the key its ``signature.kid`` names; return the body.

    Raises :class:`EnvelopeError` (shape), :class:`UnknownKid` (kid not in the
    JWKS), :class:`KeyFormatError` (bad JWKS entry), :class:`SignatureInvalid`.
    """
    body, signature = split_envelope(envelope, kind)
    verify_object(envelope, kind, key_from_jwks(hub_jwks, signature["kid"]))
    return body


def check_receipt_body(receipt: dict[str, Any]) -> None:
    """A receipt body has exactly the protocol's members, of the protocol's types."""
    if set(receipt) != RECEIPT_MEMBERS:
        missing = sorted(RECEIPT_MEMBERS - set(receipt))
        extra = sorted(set(receipt) - RECEIPT_MEMBERS)
        raise EnvelopeError(f"receipt members: missing {missing}, unexpected {extra}")
    if receipt["kind"] not in RECEIPT_KINDS:
        raise EnvelopeError(f"receipt kind must be one of {sorted(RECEIPT_KINDS)}, not {receipt['kind']!r}")
    if not _is_sha256_hex(receipt["sha256"]):
        raise EnvelopeError("receipt sha256 must be 64 lowercase hex characters")
    if not _is_count(receipt["seq"]) or not _is_count(receipt["log_index"]):
        raise EnvelopeError("receipt seq and log_index must be non-negative integers")
    for name in ("object_id", "received_at", "hub"):
        if not isinstance(receipt[name], str) or not receipt[name]:
            raise EnvelopeError(f"receipt {name} must be a non-empty string")


def verify_receipt(
    receipt_envelope: dict[str, Any],
    hub_jwks: dict[str, Any],
    signed_object: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify a hub receipt and, given the pushed object, that it describes that object.

    With ``signed_object`` (the whole ``{"record"|"ack": ..., "signature": ...}``)
    checks that it is of the receipt's ``kind``, that its id is the receipt's
    ``object_id`` and that the receipt's ``sha256`` is the SHA-256 of the JCS
    bytes of its ``record``/``ack`` member; raises :class:`ReceiptMismatch`
    otherwise. The partner's own signature on the object is not checked here.
    Returns the receipt body.
    """
    receipt = verify_signed(receipt_envelope, "receipt", hub_jwks)
    check_receipt_body(receipt)
    if signed_object is not None:
        check_describes(receipt, signed_object)
    return receipt


def check_describes(receipt: dict[str, Any], signed_object: dict[str, Any]) -> None:
    """The receipt names this object and hashes its exact JCS bytes (else :class:`ReceiptMismatch`)."""
    kind = receipt["kind"]
    if not isinstance(signed_object, dict) or kind not in signed_object:
        raise ReceiptMismatch(f"the receipt is for a {kind}, the object is not a signed {kind}")
    body, _signature = split_envelope(signed_object, kind)
    if body.get("id") != receipt["object_id"]:
        raise ReceiptMismatch(f"the receipt is for {receipt['object_id']!r}, the object is {body.get('id')!r}")
    if sha256_hex(canonicalize(body)) != receipt["sha256"]:
        raise ReceiptMismatch(f"the receipt's sha256 is not the hash of this {kind}: its content differs")


def _check_tree_head_body(tree_head: dict[str, Any]) -> None:
    if not isinstance(tree_head, dict) or set(tree_head) != TREE_HEAD_MEMBERS:
        raise EnvelopeError("a tree head has exactly the members size, root_hash, timestamp")
    if not _is_count(tree_head["size"]):
        raise EnvelopeError("tree head size must be a non-negative integer")
    if not _is_sha256_hex(tree_head["root_hash"]):
        raise EnvelopeError("tree head root_hash must be 64 lowercase hex characters")
    if not isinstance(tree_head["timestamp"], str) or not tree_head["timestamp"]:
        raise EnvelopeError("tree head timestamp must be a non-empty string")


def verify_tree_head(envelope: dict[str, Any], hub_jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify a signed tree head (``GET /v1/log/head``) and return its body."""
    tree_head = verify_signed(envelope, "tree_head", hub_jwks)
    _check_tree_head_body(tree_head)
    return tree_head


def verify_entry_inclusion(
    signed_object: dict[str, Any],
    index: int,
    tree_head: dict[str, Any],
    path_hex: list[str],
) -> None:
    """Check that ``signed_object`` is leaf ``index`` of the tree ``tree_head`` describes.

    ``tree_head`` is the body returned by :func:`verify_tree_head` (already
    verified); ``path_hex`` is the ``path`` of ``GET /v1/log/inclusion``. The
    leaf data is the JCS bytes of the whole signed object, as PROTOCOL.md §7
    says. Raises :class:`InclusionProofError` (also for a malformed path),
    :class:`EnvelopeError` for a malformed tree head.
    """
    _check_tree_head_body(tree_head)
    if not isinstance(path_hex, list) or not all(_is_sha256_hex(p) for p in path_hex):
        raise InclusionProofError("inclusion path must be a list of 64-character lowercase hex hashes")
    verify_inclusion(
        index,
        tree_head["size"],
        leaf_hash(canonicalize(signed_object)),
        [bytes.fromhex(p) for p in path_hex],
        bytes.fromhex(tree_head["root_hash"]),
    )
