"""Signed objects: ``{"<kind>": {...}, "signature": {"alg", "kid", "value"}}``.

PROTOCOL.md §2: the signature is Ed25519 (RFC 8032) over the JCS bytes of the
``<kind>`` member alone. Both sides use these functions, so an envelope the
hub accepts is exactly one a partner's SDK produces, and the shape rules
(no member missing, none extra, at either level) are written once.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from keys.b64 import b64u_decode, b64u_encode
from keys.errors import (
    CanonicalizationError,
    EnvelopeError,
    KeyFormatError,
    SignatureInvalid,
)
from keys.jcs import canonicalize

ALG = "Ed25519"
SIGNATURE_LENGTH = 64
SIGNATURE_MEMBERS = frozenset({"alg", "kid", "value"})


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not kind or kind == "signature":
        raise EnvelopeError(f"invalid object kind {kind!r}")


def _describe_members(found: set[str], expected: set[str], where: str) -> str:
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    parts = []
    if missing:
        parts.append("missing " + ", ".join(repr(m) for m in missing))
    if extra:
        parts.append("unexpected " + ", ".join(repr(m) for m in extra))
    return f"{where}: " + "; ".join(parts)


def split_envelope(envelope: dict[str, Any], kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the envelope's shape and return ``(body, signature)``.

    Does no cryptography and needs no key, so the hub can refuse a malformed
    object (``invalid-record``) before it looks the signer's key up. Checks:
    the envelope has exactly ``kind`` and ``signature``; the body is an
    object; ``signature`` has exactly ``alg``, ``kid``, ``value``; ``alg`` is
    ``"Ed25519"``; ``kid`` is a non-empty string; ``value`` is canonical
    unpadded base64url of 64 bytes. Raises :class:`EnvelopeError`.
    """
    _check_kind(kind)
    if not isinstance(envelope, dict):
        raise EnvelopeError(f"a signed {kind} must be a JSON object")
    expected = {kind, "signature"}
    if set(envelope) != expected:
        raise EnvelopeError(_describe_members(set(envelope), expected, f"signed {kind}"))
    body = envelope[kind]
    signature = envelope["signature"]
    if not isinstance(body, dict):
        raise EnvelopeError(f"member {kind!r} must be a JSON object")
    if not isinstance(signature, dict):
        raise EnvelopeError("member 'signature' must be a JSON object")
    if set(signature) != SIGNATURE_MEMBERS:
        raise EnvelopeError(_describe_members(set(signature), set(SIGNATURE_MEMBERS), "signature"))
    if signature["alg"] != ALG:
        raise EnvelopeError(f"signature alg must be {ALG!r}, not {signature['alg']!r}")
    kid = signature["kid"]
    if not isinstance(kid, str) or not kid:
        raise EnvelopeError("signature kid must be a non-empty string")
    try:
        raw = b64u_decode(signature["value"])
    except KeyFormatError as exc:
        raise EnvelopeError(f"signature value: {exc}") from exc
    if len(raw) != SIGNATURE_LENGTH:
        raise EnvelopeError(f"signature value must decode to {SIGNATURE_LENGTH} bytes, not {len(raw)}")
    return body, signature


def verify_bytes(public_key: Ed25519PublicKey, message: bytes, signature: bytes) -> None:
    """Verify a raw Ed25519 signature; raise :class:`SignatureInvalid` if it fails.

    A signature of the wrong length is simply invalid (it cannot verify), not
    a format error: this is the primitive under every other check.
    """
    if not isinstance(public_key, Ed25519PublicKey):
        raise KeyFormatError("public_key must be an Ed25519 public key")
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != SIGNATURE_LENGTH:
        raise SignatureInvalid(f"an Ed25519 signature is {SIGNATURE_LENGTH} bytes")
    try:
        public_key.verify(bytes(signature), bytes(message))
    except InvalidSignature as exc:
        raise SignatureInvalid("Ed25519 signature does not verify") from exc


def sign_object(kind: str, body: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """Sign ``body`` and return ``{kind: body, "signature": {...}}``.

    ``body`` is placed in the envelope as given (not copied): mutating it
    afterwards invalidates the signature. Raises :class:`CanonicalizationError`
    if ``body`` has no JCS form, :class:`EnvelopeError` for a bad kind, body
    or kid, and :class:`KeyFormatError` for a key that is not Ed25519.
    """
    _check_kind(kind)
    if not isinstance(body, dict):
        raise EnvelopeError(f"the {kind} body must be a dict")
    if not isinstance(kid, str) or not kid:
        raise EnvelopeError("kid must be a non-empty string")
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFormatError("private_key must be an Ed25519 private key")
    signature = private_key.sign(canonicalize(body))
    return {kind: body, "signature": {"alg": ALG, "kid": kid, "value": b64u_encode(signature)}}


def verify_object(envelope: dict[str, Any], kind: str, public_key: Ed25519PublicKey) -> bytes:
    """Check shape and signature of a signed object; return the body's JCS bytes.

    The caller chooses ``public_key`` (normally by ``signature.kid``, see
    :func:`split_envelope`). Returning the canonical bytes spares the hub a
    second canonicalization when it hashes the object for the receipt.
    Raises :class:`EnvelopeError` for a malformed envelope (including a body
    JCS cannot express) and :class:`SignatureInvalid` when it does not verify.
    """
    body, signature = split_envelope(envelope, kind)
    try:
        message = canonicalize(body)
    except CanonicalizationError as exc:
        raise EnvelopeError(f"the {kind} cannot be canonicalized: {exc}") from exc
    verify_bytes(public_key, message, b64u_decode(signature["value"]))
    return message
