"""Which log entries a caller may read in full (PROTOCOL 1.1 section 7).

``GET /v1/log/entries`` gives an entry the caller may not see as
``{"leaf_hash": "<hex>"}`` in its place, so anyone can still recompute the
root while nobody reads another partner's records or ack reasons through the
log. The ministry sees every entry.

The ledger does not know what a leaf is about (it may not import records or
acks: tests/test_layering.py), so each capability that appends leaves
registers the rule for its own kind here, with ``@rule("<kind>")``:

- ``record`` (hub.records.views): the caller's own records and those
  assigned to it, the same rule as ``GET /v1/records/<id>``;
- ``ack`` (hub.acks.visibility): the caller's own acks and acks about
  records it issued;
- ``number_event`` (hub.numbers.visibility): the caller's own events
  (PROTOCOL 1.1 section 10).

A kind without a rule is hidden from every caller but the ministry: a new
kind of leaf is never leaked by default.

A rule is a SELECT of the visible ``log_index`` values in ``[start, end)``,
reached through the kind's own ``log_index`` key and joined on the rows' own
keys (never ``x IN (all of a partner's rows)``), so a page costs one
statement whose work is bounded by the page, however long the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, union_all

from hub.auth.protect import Caller
from hub.db import db

#: (caller, start, end) -> SELECT of one column: the log indexes in [start, end) the caller may see
Rule = Callable[[Caller, int, int], Select[Any]]

_RULES: dict[str, Rule] = {}


def rule(kind: str) -> Callable[[Rule], Rule]:
    """Register the visibility rule of the leaves of ``kind`` (one rule per kind)."""

    def register(fn: Rule) -> Rule:
        _RULES[kind] = fn
        return fn

    return register


def kinds_with_rules() -> frozenset[str]:
    return frozenset(_RULES)


def visible_indices(caller: Caller, start: int, end: int) -> set[int] | None:
    """The indexes in ``[start, end)`` the caller may read in full; None means all of them (the ministry)."""
    if caller.is_ministry:
        return None
    if start >= end or not _RULES:
        return set()
    selects = [make(caller, start, end) for make in _RULES.values()]
    statement = selects[0] if len(selects) == 1 else union_all(*selects)
    return {int(i) for i in db.session.execute(statement).scalars()}
