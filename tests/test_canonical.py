"""hub.canonical gives exactly keys.jcs's RFC 8785 bytes, and its errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.canonical import canonicalize, canonicalize_known
from keys.errors import CanonicalizationError
from keys.jcs import canonicalize as reference

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)


def _agrees_with_rfc8785(fn, value):
    """``fn(value)`` is the rfc8785 package's bytes, or raises where it raises."""
    try:
        expected = reference(value)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            fn(value)
        return
    assert fn(value) == expected


json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_same_bytes_or_same_error_as_rfc8785(value):
    _agrees_with_rfc8785(canonicalize, value)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": '\u0000\u001f\b\t\n\f\r"\\/\u007f\u2028\u00e9\U0001f600'},
        {"\u00e9": 1, "\U0001f600": 2, "\uffff": 3},  # non-ASCII keys: sorted by UTF-16 code units
        {"n": 2**53 - 1, "m": -(2**53 - 1)},
        {"big": 2**53},  # beyond JCS's integers
        {"f": 1.0, "g": 1e21},
        {"s": "\ud800"},  # a lone surrogate
    ],
)
def test_edges(value):
    _agrees_with_rfc8785(canonicalize, value)


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(plain_values)
def test_known_plain_values_get_rfc8785_bytes(value):
    _agrees_with_rfc8785(canonicalize_known, value)  # a lone surrogate is the one error here


def test_known_values_refuse_integers_jcs_cannot_hold():
    with pytest.raises(CanonicalizationError):
        canonicalize_known({"n": 2**53})
