"""Signing primitives shared by the hub and the partners' SDK.

JCS (RFC 8785), Ed25519 signed envelopes (PROTOCOL.md §2), JWK/JWKS and PEM
keys, key files, and RFC 9162 Merkle proof verification. This package imports
neither ``hub`` nor ``partners``: it is the common ground both stand on.
"""

from __future__ import annotations

from keys.b64 import b64u_decode, b64u_encode
from keys.errors import (
    CanonicalizationError,
    ConsistencyProofError,
    EnvelopeError,
    InclusionProofError,
    KeyFormatError,
    ProofError,
    ReceiptMismatch,
    SignatureInvalid,
    SigningError,
    UnknownKid,
)
from keys.jcs import canonicalize, sha256_hex
from keys.jwk import (
    jwk_to_public_key,
    jwks,
    key_from_jwks,
    load_public_key,
    public_jwk,
    public_key_pem,
    raw_public_bytes,
)
from keys.keyfiles import (
    generate_private_key,
    private_key_from_pem,
    private_key_to_pem,
    read_private_key,
    write_private_key,
    write_public_key,
)
from keys.merkle import (
    leaf_hash,
    node_hash,
    reference_consistency_path,
    reference_inclusion_path,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from keys.signing import ALG, sign_object, split_envelope, verify_bytes, verify_object
from keys.verify import (
    verify_entry_inclusion,
    verify_receipt,
    verify_signed,
    verify_tree_head,
)

__all__ = [
    "ALG",
    "CanonicalizationError",
    "ConsistencyProofError",
    "EnvelopeError",
    "InclusionProofError",
    "KeyFormatError",
    "ProofError",
    "ReceiptMismatch",
    "SignatureInvalid",
    "SigningError",
    "UnknownKid",
    "b64u_decode",
    "b64u_encode",
    "canonicalize",
    "generate_private_key",
    "jwk_to_public_key",
    "jwks",
    "key_from_jwks",
    "leaf_hash",
    "load_public_key",
    "node_hash",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_jwk",
    "public_key_pem",
    "raw_public_bytes",
    "read_private_key",
    "reference_consistency_path",
    "reference_inclusion_path",
    "root_from_leaf_hashes",
    "sha256_hex",
    "sign_object",
    "split_envelope",
    "verify_bytes",
    "verify_consistency",
    "verify_entry_inclusion",
    "verify_inclusion",
    "verify_object",
    "verify_receipt",
    "verify_signed",
    "verify_tree_head",
    "write_private_key",
    "write_public_key",
]
