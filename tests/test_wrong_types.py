"""Every member of every signed object, given each JSON type it may not have.

A partner's mistake is never a 500 and never half-stored: each wrong-typed
item of a batch is rejected on its own (``invalid-record``; a scalar number
may be ``invalid-number``), and the good item beside it is accepted.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.records_world import TSEL, World
from tests.support import ack_body, attestation_body, record_body

#: One value of each JSON type.
SAMPLES: dict[str, Any] = {
    "string": "x",
    "integer": 7,
    "float": 1.5,
    "boolean": True,
    "null": None,
    "array": ["x"],
    "object": {"x": 1},
}

#: member path -> the JSON types it may hold
RECORD = {
    ("id",): {"string"},
    ("issuer",): {"string"},
    ("number",): {"string"},
    ("action",): {"string"},
    ("category",): {"string"},
    ("channels",): {"array"},
    ("reason",): {"string"},
    ("evidence",): {"object"},
    ("evidence", "complaints"): {"integer"},
    ("evidence", "digest"): {"string"},
    ("evidence", "ref"): {"string"},
    ("confidence",): {"integer"},
    ("observed_at",): {"string"},
    ("issued_at",): {"string"},
    ("expires_at",): {"string", "null"},
    ("supersedes",): {"string", "null"},
}
ACK = {
    ("id",): {"string"},
    ("record_id",): {"string"},
    ("partner",): {"string"},
    ("outcome",): {"string"},
    ("reason",): {"string", "null"},
    ("acted_at",): {"string"},
}
ATTESTATION = {
    ("id",): {"string"},
    ("partner",): {"string"},
    ("as_of",): {"string"},
    ("blocked_count",): {"integer"},
    ("blocked_set_sha256",): {"string"},
}
SIGNATURE = {("alg",): {"string"}, ("kid",): {"string"}, ("value",): {"string"}}


def _set(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def _variants(members: dict[tuple[str, ...], set[str]]) -> list[tuple[tuple[str, ...], str]]:
    return [(path, kind) for path, allowed in members.items() for kind in SAMPLES if kind not in allowed]


def _envelopes(who: Any, kind: str, body: dict[str, Any], members: dict[tuple[str, ...], set[str]]) -> list[Any]:
    """The signed body with each member wrong, then its signature's members wrong, then the envelope's own."""
    body = {**body, "evidence": {"complaints": 3, "digest": "0" * 64, "ref": "ADN-1"}} if kind == "record" else body
    out = [who.sign(kind, _set(body, path, SAMPLES[t])) for path, t in _variants(members)]
    good = who.sign(kind, body)
    out += [{**good, "signature": _set(good["signature"], path, SAMPLES[t])} for path, t in _variants(SIGNATURE)]
    out += [{**good, kind: SAMPLES[t]} for t in SAMPLES if t != "object"]
    out += [{**good, "signature": SAMPLES[t]} for t in SAMPLES if t != "object"]
    out += [SAMPLES[t] for t in SAMPLES if t != "object"]
    return out


def _slugs(results: list[dict[str, Any]]) -> list[str]:
    return [r["error"]["type"].rsplit(":", 1)[-1] if r["status"] == "rejected" else r["status"] for r in results]


def test_every_record_member_of_the_wrong_type_is_rejected_alone(world: World):
    body = record_body("kominfo", TSEL)
    bad = _envelopes(world.kominfo, "record", body, RECORD)
    good = world.kominfo.sign("record", record_body("kominfo", TSEL))
    results = world.push(world.kominfo, *bad, good)
    slugs = _slugs(results)
    assert slugs[-1] == "accepted"
    numbers = [
        i for i, (path, t) in enumerate(_variants(RECORD)) if path == ("number",) and t not in ("array", "object")
    ]
    for i, slug in enumerate(slugs[:-1]):
        allowed = {"invalid-record", "invalid-number"} if i in numbers else {"invalid-record"}
        assert slug in allowed, (i, bad[i], results[i])
    assert len(slugs) > 100


def test_every_ack_member_of_the_wrong_type_is_rejected_alone(world: World):
    block = world.block(world.kominfo, TSEL)
    rid = block["record"]["id"]
    bad = _envelopes(world.telkomsel, "ack", ack_body("telkomsel", rid), ACK)
    good = world.telkomsel.sign("ack", ack_body("telkomsel", rid))
    results = world.ack(world.telkomsel, *bad, good)
    slugs = _slugs(results)
    assert slugs[-1] == "accepted"
    assert set(slugs[:-1]) == {"invalid-record"}, [(b, r) for b, r in zip(bad, results) if r["status"] != "rejected"]


@pytest.mark.parametrize("case", range(len(_variants(ATTESTATION)) + len(_variants(SIGNATURE)) + 3 * 6))
def test_every_attestation_member_of_the_wrong_type_is_refused(world: World, case: int):
    bad = _envelopes(world.telkomsel, "attestation", attestation_body("telkomsel", []), ATTESTATION)[case]
    resp = world.client.post(
        "/v1/attestations", data=json.dumps(bad), content_type="application/json", headers=world.auth(world.telkomsel)
    )
    assert resp.status_code == 400, (bad, resp.get_data(as_text=True))
    assert resp.get_json()["type"] == "urn:tangkal:problem:invalid-record"
