"""RFC 8785 (JCS) bytes fast, for the hub's hot paths.

``keys.jcs.canonicalize`` (the rfc8785 package, pure Python) is the
definition; a push paid for it twice per record and once per receipt, about
a third of the push's time (bench/profile_requests.py push). For the JSON
the hub meets nearly always (object keys in ASCII, strings, integers within
+/-(2**53 - 1), booleans, null, arrays) RFC 8785 is exactly "keys sorted,
no whitespace, strings escaped as ECMAScript's JSON.stringify does", which
is what orjson writes with ``OPT_SORT_KEYS``: the same short escapes
(``\\b \\t \\n \\f \\r``), ``\\u00xx`` in lowercase for the other control
characters, everything else as raw UTF-8. Anything else (a float, a big
integer, a non-ASCII key, whose UTF-16 sort order may differ, a lone
surrogate) goes to ``keys.jcs.canonicalize``, with its errors.
tests/test_canonical.py checks the two agree on generated JSON.
"""

from __future__ import annotations

from typing import Any

import orjson

from keys.jcs import canonicalize as reference

MAX_SAFE_INTEGER = 2**53 - 1


def _plain(value: Any) -> bool:
    """True when RFC 8785 of ``value`` is orjson's sorted compact form."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


def canonicalize(value: Any) -> bytes:
    """``keys.jcs.canonicalize(value)``, the same bytes, mostly without its cost.

    Raises ``keys.errors.CanonicalizationError`` where the reference does.
    """
    if _plain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate: the reference says what is wrong
    return reference(value)


def canonicalize_known(value: Any) -> bytes:
    """RFC 8785 of a value whose shape is already known to be plain, without walking it.

    For what a strict pydantic model has validated (its own ASCII member
    names, strict integers, no floats) and what the hub builds itself from
    strings and integers (receipts): sorted orjson is then exactly RFC 8785.
    An integer beyond +/-(2**53 - 1) is not (orjson refuses it here), and
    goes to the reference, which raises.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError:
        return reference(value)
