"""Which scopes each kind of partner may hold (PROTOCOL.md section 3).

The table is the single source: the token endpoint grants from it and the
resource decorator checks against the token's scopes, so a kind that may not
do something never holds a token that says it can.
"""

from __future__ import annotations

import re

PARTNER_KINDS = ("operator", "ott", "ministry")

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "records:write": "push fraud-number records",
    "records:read": "pull and look up records (assigned and own; all for the ministry)",
    "acks:write": "acknowledge own assignments",
    "attestations:write": "attest what the partner has blocked",
    "log:read": "read the transparency log",
    "reports:read": "read reconciliation reports",
    "reports:write": "request ad-hoc reports",
    "audit:read": "read the audit trail of who read what (the ministry)",
    "numbers:write": "report the operator's own numbers' disconnections and reassignments",
}

SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    "operator": frozenset(
        {"records:write", "records:read", "acks:write", "log:read", "attestations:write", "numbers:write"}
    ),
    "ott": frozenset({"records:write", "records:read", "acks:write", "log:read", "attestations:write"}),
    "ministry": frozenset({"records:write", "records:read", "reports:read", "reports:write", "log:read", "audit:read"}),
}


#: RFC 6749 section 3.3: scope tokens of %x21 / %x23-5B / %x5D-7E, separated by single spaces (use with fullmatch)
SCOPE_RE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*")


def scope_string(scopes: frozenset[str] | set[str]) -> str:
    """Space-separated and sorted, so equal grants print equally."""
    return " ".join(sorted(scopes))
