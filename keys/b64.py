"""Strict base64url without padding (RFC 4648 §5, as RFC 7515 uses it).

Signatures and keys travel as base64url. The decoder is strict on purpose: if
it accepted padding, stray characters or set trailing bits, one signature would
have several spellings, and a signed object could be re-sent in a form that the
hub's duplicate check (same id, same content) would not recognise as the same.
Exactly one text decodes to a given byte string and it is the one we encode.
"""

from __future__ import annotations

import base64
import binascii
import re

from keys.errors import KeyFormatError

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)


def b64u_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without ``=`` padding."""
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing every non-canonical spelling.

    Raises :class:`KeyFormatError` for a non-string, padding, characters
    outside ``A-Z a-z 0-9 - _`` (whitespace included), an impossible length
    (one character left over) and trailing bits that are not zero.
    """
    if not isinstance(text, str):
        raise KeyFormatError(f"base64url value must be a string, not {type(text).__name__}")
    if "=" in text:
        raise KeyFormatError("base64url value must not be padded with '='")
    if _ALPHABET.fullmatch(text) is None:
        raise KeyFormatError("base64url value has characters outside A-Z a-z 0-9 - _")
    if len(text) % 4 == 1:
        raise KeyFormatError("base64url value has an impossible length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - alphabet checked above
        raise KeyFormatError(f"base64url value does not decode: {exc}") from exc
    if b64u_encode(data) != text:
        raise KeyFormatError("base64url value is not canonical (unused trailing bits are set)")
    return data
