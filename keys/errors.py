"""Typed failures of the signing primitives.

Every failure in ``keys`` is a :class:`SigningError`, so a caller that only
needs "this object cannot be trusted" catches one class, while the hub can map
each subclass to its own problem slug (``invalid-record``, ``invalid-signature``,
``unknown-key`` ...) without parsing messages.
"""

from __future__ import annotations


class SigningError(Exception):
    """Base class of every failure raised by the ``keys`` package."""


class CanonicalizationError(SigningError):
    """A value cannot be put in RFC 8785 (JCS) canonical form.

    Raised for NaN or infinite floats, integers beyond +/-(2**53 - 1), non-string
    object keys, lone surrogates and types JSON does not have: such a value has
    no single byte form, so nothing could be signed or verified over it.
    """


class KeyFormatError(SigningError):
    """A key, key file, JWK, JWKS or base64url text is malformed or unsafe."""


class UnknownKid(SigningError):
    """A JWKS holds no key with the requested ``kid``.

    Kept apart from :class:`KeyFormatError` because "we do not know this key"
    (``unknown-key``) is a different answer from "this key is garbage".
    """


class SignatureInvalid(SigningError):
    """An Ed25519 signature does not verify over the given bytes."""


class EnvelopeError(SigningError):
    """A signed object is not exactly ``{"<kind>": {...}, "signature": {...}}``.

    Covers missing or extra members at the envelope and ``signature`` levels,
    an ``alg`` other than ``Ed25519``, a ``value`` that is not canonical
    base64url of 64 bytes, and a body that cannot be canonicalized.
    """


class ReceiptMismatch(SigningError):
    """A correctly signed receipt does not describe the object it is paired with."""


class ProofError(SigningError):
    """A Merkle proof from the transparency log does not check out."""


class InclusionProofError(ProofError):
    """An RFC 9162 inclusion proof fails: the leaf is not in the tree as claimed."""


class ConsistencyProofError(ProofError):
    """An RFC 9162 consistency proof fails: the later tree does not extend the earlier."""
