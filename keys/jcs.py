"""RFC 8785 JSON Canonicalization Scheme and the hashes taken over it.

Signatures, receipts and Merkle leaves are all computed over JCS bytes, so the
hub and partners written in other languages agree on one byte string for one
JSON value. The ``rfc8785`` package does the work; this module only narrows
its failures (and the few Python errors it lets escape) to
:class:`~keys.errors.CanonicalizationError`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from keys.errors import CanonicalizationError


def canonicalize(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    ``obj`` is what :func:`json.loads` yields (dict, list, str, int, float,
    bool, None). Raises :class:`CanonicalizationError` for values JCS cannot
    express: NaN and infinities, integers outside +/-(2**53 - 1), non-string
    keys, lone surrogates, other Python types, or nesting too deep to walk.
    """
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(str(exc)) from exc
    except UnicodeError as exc:
        # rfc8785 sorts keys by their UTF-16 encoding, which fails on a lone
        # surrogate before its own check on string values can run.
        raise CanonicalizationError("input contains a lone surrogate") from exc
    except RecursionError as exc:
        raise CanonicalizationError("JSON value is nested too deeply") from exc


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``, the protocol's hash spelling."""
    return hashlib.sha256(data).hexdigest()
