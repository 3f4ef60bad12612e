"""The OpenAPI document's example objects: conformance vectors (docs/conformance/), defined once.

Real signatures by the published test keys, so the examples pass their own
schemas and verify; ``tests/test_openapi.py`` keeps them equal to the
vectors. A leaf module: every capability's schemas may use it without
importing another capability.
"""

from __future__ import annotations

from typing import Any

HUB_KID = "tangkal-20261128-9a8b7c"

RECORD: dict[str, Any] = {
    "record": {
        "id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
        "issuer": "kominfo",
        "number": "+6281234567890",
        "action": "block",
        "category": "scam",
        "channels": ["voice", "sms", "messaging"],
        "reason": "Impersonates a bank; 17 verified complaints",
        "evidence": {"complaints": 17, "ref": "ADN-2026-000123"},
        "confidence": 90,
        "observed_at": "2026-11-27T08:00:00Z",
        "issued_at": "2026-11-28T10:00:00Z",
        "expires_at": "2027-11-28T00:00:00Z",
        "supersedes": None,
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "kominfo-2026-01",
        "value": "SvrTIAjccy2haB0SwxYiMPS1rUKWzsgXkP5zwHS4gTGh6b-qoFjWR0un8qea4f3NXShd8fNzkbYMGZirJXuQAQ",
    },
}

ACK: dict[str, Any] = {
    "ack": {
        "id": "5b0e4f7a-3c1d-4e2f-8a9b-1c2d3e4f5a6b",
        "record_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
        "partner": "telkomsel",
        "outcome": "blocked",
        "reason": None,
        "acted_at": "2026-11-28T12:00:00Z",
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "telkomsel-2026-01",
        "value": "PUzWVMjqL-RDy93HWsJHpxHDoG9T1eeQ53-ZH2cX5_GJaC8231Unv1S0GSMnpxcCQ-PYflJjFbE_kgpjFQpdDA",
    },
}

ATTESTATION: dict[str, Any] = {
    "attestation": {
        "id": "2f1e0d9c-8b7a-4695-a4b3-c2d1e0f9a8b7",
        "partner": "telkomsel",
        "as_of": "2026-11-28T13:00:00Z",
        "blocked_count": 1,
        "blocked_set_sha256": "62397bbd6a8c9ae53bc914a6017300eb6b13af5be20e4cc9ad2dc3d61ecb24cd",
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "telkomsel-2026-01",
        "value": "egF2o7dUfemTwyDOMSklYRd9cm0ygiFryuOYtF2UAiVZlSjCl8ouleHYaIAG3ry-d_Uh0n5qj2XK8Iq1Jg-0Dw",
    },
}


NUMBER_EVENT: dict[str, Any] = {
    "number_event": {
        "id": "7a2d9c41-6e8b-4f1a-b3c5-9d0e2f4a6b18",
        "operator": "telkomsel",
        "number": "+6285612345678",
        "event": "reassigned",
        "effective_at": "2026-12-01T00:00:00Z",
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "telkomsel-2026-01",
        "value": "IacbPDCz5H4pvkg9JQyumm9Rgdw9eUYKHvmObK4XnLClGJ3Ud0YapQ3EASxkdEExOjnalU-gwxcuwmR1IdoWCw",
    },
}


def _receipt(kind: str, object_id: str, sha256: str, index: int, received_at: str, value: str) -> dict[str, Any]:
    body = {
        "object_id": object_id,
        "kind": kind,
        "sha256": sha256,
        "seq": index + 1,
        "log_index": index,
        "received_at": received_at,
        "hub": "tangkal",
    }
    return {"receipt": body, "signature": {"alg": "Ed25519", "kid": HUB_KID, "value": value}}


RECORD_RECEIPT = _receipt(
    "record",
    RECORD["record"]["id"],
    "d391dbed933fb342912ea5177b4688124a17c7c125c2fd10e305b923878945a3",
    0,
    "2026-11-28T10:00:01.250Z",
    "PVwszzD5nCSDZFHu-iUVS76SD28Dv25RfRQt1Ha4Gwfo-F6OJPboZQXyIjhrMBmI-4jd5WXh6Y1kj6J6nQ_qBA",
)
ACK_RECEIPT = _receipt(
    "ack",
    ACK["ack"]["id"],
    "52417b66cf556c4524efa766f7f903ac81b75aace5fed705156b979d2cb57800",
    2,
    "2026-11-28T12:00:03.100Z",
    "yPs-NTl8l-rQKo7LPcPlPHsSL7gv7MwUe4VBd4t3CQNMcP9U-DQUVaKeOBtqM7FHblkJMeLWLfqay88vALmwDQ",
)

NUMBER_EVENT_RECEIPT = _receipt(
    "number_event",
    NUMBER_EVENT["number_event"]["id"],
    "ec6730e07b0f1554735bab30de753bcfaecc5b255544373322640fadc706de97",
    4,
    "2026-12-01T00:05:00Z",
    "4wRketWkByRDXfTnY1dxZfR9vgqVajknJtGxBSxPaQP5VGyHiyuvpFbXty3I3ZlEhvuXRlT-SNfFcFAFBCDnDA",
)

#: The log of docs/conformance/log.json at size 5, and proofs in it.
TREE_HEAD: dict[str, Any] = {
    "tree_head": {
        "size": 5,
        "root_hash": "83e84b39113ba98418da4cd3fc24dff5c12eb30e41a40af7f0ddbc19c0f0edd0",
        "timestamp": "2026-12-01T00:05:00.010Z",
    },
    "signature": {
        "alg": "Ed25519",
        "kid": HUB_KID,
        "value": "iQNH3r-ZPGCA53h9F6ptm80OBfrg2hElDUZh9SdR22vxURELWYhGLnJ3ixAEEx22Phqr1hjdLMsePQpqTfuIBg",
    },
}
_LEAF_1 = "890df64ed3c0ba66ea3f643e3963a5cf1fdc8d1c28f15de3b9432982e7fb4697"  # MTH of leaves 0 and 1
_LEAF_3 = "6a124f7f8901c681c345442e55e2300290e2d4390b15c7f586989a06ebe5d464"
_LEAF_4 = "99f73fdbb70e68ced99eb541a5c8634a783be998aead4ab22bd60605285ca2bc"
INCLUSION: dict[str, Any] = {"index": 2, "size": 5, "path": [_LEAF_3, _LEAF_1, _LEAF_4]}
CONSISTENCY: dict[str, Any] = {
    "first": 3,
    "second": 5,
    "path": ["843f71fe3dfb6b457482fb483dba9fa33da7a5cfe94bde4f2ab24e968d85945b", _LEAF_3, _LEAF_1, _LEAF_4],
}
