"""Write the conformance vectors of docs/conformance/ (run from the repository root).

    .venv/bin/python docs/conformance/generate.py          # rewrite the files
    .venv/bin/python docs/conformance/generate.py --check  # exit 1 if a file would change

Everything is fixed: the test keys come from published seeds, the objects
and times are written out below, and Ed25519 (RFC 8032) is deterministic,
so each run writes the same bytes. ``tests/test_conformance.py`` runs
:func:`build` and compares it with the committed files, signs every vector
again with the partner SDK, and checks receipts, tree heads and proofs with
the SDK's verifiers and the hub's own Merkle tree.

Signing, hashing and the Merkle tree come from ``keys`` (the primitives the
hub and the SDK share); the test suite checks the results against the SDK,
the hub's own tree and a JCS string written out by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from hub import examples  # noqa: E402
from keys.jcs import canonicalize, sha256_hex  # noqa: E402
from keys.jwk import public_jwk  # noqa: E402
from keys.merkle import leaf_hash, reference_consistency_path, reference_inclusion_path, root_from_leaf_hashes  # noqa: E402
from keys.signing import sign_object  # noqa: E402

HERE = Path(__file__).resolve().parent

HUB_KID = "tangkal-20261128-9a8b7c"
MINISTRY_KID = "kominfo-2026-01"
OPERATOR_KID = "telkomsel-2026-01"
HUB_ID = "tangkal"

#: The test keys: NEVER use them for anything but checking a signer. Their
#: private seeds are SHA-256 of this text and the kid, published below.
SEED_TEXT = "tangkal conformance test key: "


def seed(kid: str) -> bytes:
    return hashlib.sha256((SEED_TEXT + kid).encode("ascii")).digest()


def private_key(kid: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed(kid))


# --- the objects -------------------------------------------------------------

#: The block, the ack and the attestation are the OpenAPI document's examples (hub.examples), so
#: the document shows real, verifiable objects; the generator signs them again and the test suite
#: checks the signatures are the same.
RECORD_BLOCK: dict[str, Any] = examples.RECORD["record"]
ACK: dict[str, Any] = examples.ACK["ack"]
#: Optional members left out (not null), a digest, and text that is not ASCII:
#: JCS keeps it as UTF-8 and escapes only what RFC 8785 says.
RECORD_UNICODE: dict[str, Any] = {
    "id": "3c9a7e52-41d8-4b6f-9e0a-5d2c8b7f1e34",
    "issuer": "telkomsel",
    "number": "+6285612345678",
    "action": "block",
    "category": "phishing",
    "channels": ["sms"],
    "reason": "SMS “hadiah undian” — tautan ke halaman BRI palsu 🎁\nkorban diminta OTP",
    "evidence": {"complaints": 3, "digest": hashlib.sha256(b"complaint bundle ADN-2026-000124").hexdigest()},
    "observed_at": "2026-11-28T09:30:00.250Z",
    "issued_at": "2026-11-28T10:01:00.500Z",
}
RECORD_UNBLOCK: dict[str, Any] = {
    "id": "e4b1c7d2-9a3f-4c5e-8b6d-2f1a0e9c8b77",
    "issuer": "kominfo",
    "number": "+6281234567890",
    "action": "unblock",
    "category": "scam",
    "channels": ["voice", "sms", "messaging"],
    "reason": "Appeal upheld: the number belongs to the bank's real call centre",
    "evidence": {"complaints": 0, "ref": "BANDING-2026-000007"},
    "observed_at": "2026-11-29T02:00:00Z",
    "issued_at": "2026-11-29T03:00:00Z",
    "expires_at": None,
    "supersedes": RECORD_BLOCK["id"],
}
NUMBER_EVENT: dict[str, Any] = {
    "id": "7a2d9c41-6e8b-4f1a-b3c5-9d0e2f4a6b18",
    "operator": "telkomsel",
    "number": "+6285612345678",
    "event": "reassigned",
    "effective_at": "2026-12-01T00:00:00Z",
}
ATTESTED_NUMBERS = ["+6281234567890"]
ATTESTATION: dict[str, Any] = examples.ATTESTATION["attestation"]
if (ATTESTATION["blocked_count"], ATTESTATION["blocked_set_sha256"]) != (
    len(ATTESTED_NUMBERS),
    hashlib.sha256("\n".join(sorted(ATTESTED_NUMBERS)).encode("ascii")).hexdigest(),
):
    raise SystemExit("hub.examples.ATTESTATION does not attest ATTESTED_NUMBERS")

#: The log, in order: (name, kind, body, signer's kid, received_at).
LOG: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("record-block", "record", RECORD_BLOCK, MINISTRY_KID, "2026-11-28T10:00:01.250Z"),
    ("record-unicode", "record", RECORD_UNICODE, OPERATOR_KID, "2026-11-28T10:01:02Z"),
    ("ack", "ack", ACK, OPERATOR_KID, "2026-11-28T12:00:03.100Z"),
    ("record-unblock", "record", RECORD_UNBLOCK, MINISTRY_KID, "2026-11-29T03:00:04Z"),
    ("number-event", "number_event", NUMBER_EVENT, OPERATOR_KID, "2026-12-01T00:05:00Z"),
]
#: When a head of each size was first signed.
HEAD_TIMES = [
    "2026-11-28T10:00:01.260Z",
    "2026-11-28T10:01:02.010Z",
    "2026-11-28T12:00:03.110Z",
    "2026-11-29T03:00:04.010Z",
    "2026-12-01T00:05:00.010Z",
]


def _hex(data: bytes) -> str:
    return data.hex()


def signed_vector(name: str, kind: str, body: dict[str, Any], kid: str, **extra: Any) -> dict[str, Any]:
    jcs = canonicalize(body)
    envelope = sign_object(kind, body, private_key(kid), kid)
    return {
        "name": name,
        "kind": kind,
        "kid": kid,
        **extra,
        "body": body,
        "jcs": jcs.decode("utf-8"),
        "jcs_hex": _hex(jcs),
        "sha256": sha256_hex(jcs),
        "signature": envelope["signature"]["value"],
        "envelope": envelope,
    }


def keys_document() -> dict[str, Any]:
    out = []
    for kid, role in ((MINISTRY_KID, "ministry kominfo"), (OPERATOR_KID, "operator telkomsel"), (HUB_KID, "the hub")):
        key = private_key(kid)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        out.append(
            {
                "kid": kid,
                "signer": role,
                "seed_hex": seed(kid).hex(),
                "private_key_pem": pem,
                "public_jwk": public_jwk(key.public_key(), kid),
            }
        )
    return {
        "about": "TEST KEYS, published on purpose: never register them anywhere. seed_hex is the 32-byte Ed25519 "
        "private key (RFC 8032), SHA-256 of the UTF-8 text '" + SEED_TEXT + "<kid>'.",
        "keys": out,
        "hub_jwks": {"keys": [public_jwk(private_key(HUB_KID).public_key(), HUB_KID)]},
    }


def signing_document() -> dict[str, Any]:
    vectors = [
        signed_vector("record-block", "record", RECORD_BLOCK, MINISTRY_KID),
        signed_vector("record-unicode", "record", RECORD_UNICODE, OPERATOR_KID),
        signed_vector("record-unblock", "record", RECORD_UNBLOCK, MINISTRY_KID),
        signed_vector("ack", "ack", ACK, OPERATOR_KID),
        signed_vector("attestation", "attestation", ATTESTATION, OPERATOR_KID, numbers=ATTESTED_NUMBERS),
        signed_vector("number-event", "number_event", NUMBER_EVENT, OPERATOR_KID),
    ]
    return {
        "about": "Each vector: body (the <kind> member), jcs (its RFC 8785 bytes as UTF-8 text, and jcs_hex), "
        "sha256 (hex of those bytes: what a receipt's sha256 says), signature (Ed25519 over jcs by the key kid of "
        "keys.json, base64url without padding) and the whole signed envelope.",
        "vectors": vectors,
    }


def log_document() -> dict[str, Any]:
    hub_key = private_key(HUB_KID)
    leaves, leaf_hashes, receipts = [], [], []
    for index, (name, kind, body, kid, received_at) in enumerate(LOG):
        envelope = sign_object(kind, body, private_key(kid), kid)
        data = canonicalize(envelope)
        lh = leaf_hash(data)
        leaf_hashes.append(lh)
        leaves.append(
            {"index": index, "name": name, "entry": envelope, "leaf_data_hex": _hex(data), "leaf_hash": _hex(lh)}
        )
        receipt_body = {
            "object_id": body["id"],
            "kind": kind,
            "sha256": sha256_hex(canonicalize(body)),
            "seq": index + 1,
            "log_index": index,
            "received_at": received_at,
            "hub": HUB_ID,
        }
        jcs = canonicalize(receipt_body)
        receipts.append(
            {
                "name": f"receipt-{name}",
                "body": receipt_body,
                "jcs": jcs.decode("utf-8"),
                "jcs_hex": _hex(jcs),
                "envelope": sign_object("receipt", receipt_body, hub_key, HUB_KID),
            }
        )
    heads, inclusion, consistency = [], [], []
    for size in range(1, len(leaf_hashes) + 1):
        prefix = leaf_hashes[:size]
        body = {"size": size, "root_hash": _hex(root_from_leaf_hashes(prefix)), "timestamp": HEAD_TIMES[size - 1]}
        jcs = canonicalize(body)
        heads.append(
            {
                "size": size,
                "body": body,
                "jcs": jcs.decode("utf-8"),
                "jcs_hex": _hex(jcs),
                "envelope": sign_object("tree_head", body, hub_key, HUB_KID),
            }
        )
        for index in range(size):
            path = [_hex(h) for h in reference_inclusion_path(prefix, index)]
            inclusion.append({"index": index, "size": size, "leaf_hash": _hex(prefix[index]), "path": path})
        for first in range(1, size + 1):
            path = [_hex(h) for h in reference_consistency_path(prefix, first)]
            consistency.append(
                {
                    "first": first,
                    "second": size,
                    "first_root": _hex(root_from_leaf_hashes(leaf_hashes[:first])),
                    "second_root": body["root_hash"],
                    "path": path,
                }
            )
    return {
        "about": "A log of five leaves (RFC 9162 section 2.1): a leaf's data is the JCS bytes of the whole signed "
        "object, its hash SHA-256(0x00 || data), a node SHA-256(0x01 || left || right). Receipts and tree heads "
        "are signed by the hub's test key; inclusion and consistency paths are what GET /v1/log/inclusion and "
        "/v1/log/consistency answer for that log.",
        "hub": HUB_ID,
        "leaves": leaves,
        "receipts": receipts,
        "tree_heads": heads,
        "inclusion": inclusion,
        "consistency": consistency,
    }


def dump(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build() -> dict[str, bytes]:
    """File name -> the bytes this generator writes."""
    return {
        "keys.json": dump(keys_document()),
        "signing.json": dump(signing_document()),
        "log.json": dump(log_document()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that would change")
    args = parser.parse_args(argv)
    changed = []
    for name, data in build().items():
        path = HERE / name
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(name)
        if not args.check:
            path.write_bytes(data)
    if args.check:
        print("up to date" if not changed else "would change: " + ", ".join(changed))
        return 1 if changed else 0
    print("wrote " + (", ".join(changed) if changed else "nothing (up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
