"""PROTOCOL.md section 7: the transparency log over HTTP and over the real
SQL node store, checked against an independent RFC 9162 recomputation."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys.jcs import canonicalize
from keys.merkle import (
    leaf_hash,
    reference_consistency_path,
    reference_inclusion_path,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from keys.verify import verify_entry_inclusion, verify_tree_head
from tests.records_world import TSEL, World
from tests.support import record_body


def _get(w: World, path: str):
    return w.client.get(path, headers=w.auth(w.whatsapp))


def _push_n(w: World, n: int) -> list[dict]:
    envs = [w.kominfo.sign("record", record_body("kominfo", f"+62812{i:08d}")) for i in range(n)]
    results = w.push(w.kominfo, *envs)
    assert {r["status"] for r in results} == {"accepted"}
    return envs


def test_head_inclusion_consistency_and_entries_verify(world: World):
    jwks = world.client.get("/.well-known/jwks.json").get_json()
    envs = _push_n(world, 5)
    head5 = verify_tree_head(_get(world, "/v1/log/head").get_json(), jwks)
    assert head5["size"] == 5 and head5["timestamp"].endswith("Z")
    more = [world.kominfo.sign("record", record_body("kominfo", f"+62813{i:08d}")) for i in range(8)]
    world.push(world.kominfo, *more)
    envs += more
    head = verify_tree_head(_get(world, "/v1/log/head").get_json(), jwks)
    assert head["size"] == 13
    entries = _get(world, "/v1/log/entries?start=0&end=13").get_json()
    assert entries["start"] == 0 and entries["end"] == 13
    assert entries["entries"] == envs
    for i, env in enumerate(envs):
        proof = _get(world, f"/v1/log/inclusion?index={i}&size=13").get_json()
        assert proof["index"] == i and proof["size"] == 13
        verify_entry_inclusion(env, i, head, proof["path"])
    cons = _get(world, "/v1/log/consistency?first=5&second=13").get_json()
    verify_consistency(
        5,
        13,
        bytes.fromhex(head5["root_hash"]),
        bytes.fromhex(head["root_hash"]),
        [bytes.fromhex(h) for h in cons["path"]],
    )
    same = _get(world, "/v1/log/consistency?first=13&second=13").get_json()
    assert same == {"first": 13, "second": 13, "path": []}


def test_head_timestamp_is_when_that_size_was_first_signed(world: World, make_app):
    import time

    _push_n(world, 2)
    first = _get(world, "/v1/log/head").get_json()["tree_head"]
    time.sleep(0.01)
    # another instance (no shared cache) signs the same size with the same timestamp
    other = make_app().test_client()
    again = other.get("/v1/log/head", headers=world.auth(world.whatsapp)).get_json()["tree_head"]
    assert again == first
    _push_n(world, 1)
    grown = _get(world, "/v1/log/head").get_json()["tree_head"]
    assert grown["size"] == 3 and grown["timestamp"] >= first["timestamp"] and grown["root_hash"] != first["root_hash"]


def test_leaf_is_the_jcs_of_the_whole_signed_object(world: World):
    (env,) = _push_n(world, 1)
    head = _get(world, "/v1/log/head").get_json()["tree_head"]
    assert head["root_hash"] == leaf_hash(canonicalize(env)).hex()


def test_empty_log_head(world: World):
    head = _get(world, "/v1/log/head").get_json()["tree_head"]
    assert head["size"] == 0 and head["root_hash"] == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/log/inclusion?index=3&size=3",
        "/v1/log/inclusion?index=0&size=4",
        "/v1/log/inclusion?index=-1&size=2",
        "/v1/log/inclusion?size=2",
        "/v1/log/consistency?first=0&second=2",
        "/v1/log/consistency?first=3&second=2",
        "/v1/log/consistency?first=1&second=4",
        "/v1/log/entries?start=4",
        "/v1/log/entries?start=2&end=1",
        "/v1/log/entries?start=x",
    ],
)
def test_out_of_range_is_400(world: World, path):
    _push_n(world, 3)
    resp = _get(world, path)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"


def test_entries_stop_at_1000_and_at_the_log_size(world: World):
    _push_n(world, 1000)
    world.push(world.kominfo, world.kominfo.sign("record", record_body("kominfo", TSEL)))
    page = _get(world, "/v1/log/entries?start=0&end=5000").get_json()
    assert page["end"] == 1000 and len(page["entries"]) == 1000
    tail = _get(world, "/v1/log/entries?start=1000&end=5000").get_json()
    assert tail["end"] == 1001 and len(tail["entries"]) == 1
    assert _get(world, "/v1/log/entries?start=1001").get_json() == {"start": 1001, "end": 1001, "entries": []}


def test_log_needs_log_read(world: World):
    from tests.support import basic_auth, bearer

    tok = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "records:read"},
        headers=basic_auth(world.whatsapp),
    ).get_json()["access_token"]
    assert world.client.get("/v1/log/head", headers=bearer(tok)).status_code == 403


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8))
def test_sql_store_proofs_match_rfc9162_recomputation(app, batches):
    """Random batch splits appended through the hub's own SQL path."""
    from hub.clock import now
    from hub.db import db
    from hub.ledger import log, tree
    from hub.ledger.models import Counter, LogEntry, MerkleNode

    with app.app_context():
        db.session.query(MerkleNode).delete()
        db.session.query(LogEntry).delete()
        db.session.query(Counter).filter_by(name="log").update({"value": 0})
        db.session.commit()
        leaves: list[bytes] = []
        for n in batches:
            start = log.reserve(db.session, n)
            data = [f"leaf-{start + i}".encode() for i in range(n)]
            log.append(
                db.session, start, [log.Entry("record", f"id-{start + i}", d) for i, d in enumerate(data)], now()
            )
            db.session.commit()
            leaves += [leaf_hash(d) for d in data]
            size = len(leaves)
            store = log.SqlNodeStore(db.session)
            root = tree.root_hash(store, size)
            assert root == root_from_leaf_hashes(leaves)
            for i in {0, size // 2, size - 1}:
                path = tree.inclusion_path(store, i, size)
                assert path == reference_inclusion_path(leaves, i)
                verify_inclusion(i, size, leaves[i], path, root)
            for first in {1, size // 2 or 1, size}:
                path = tree.consistency_path(store, first, size)
                assert path == reference_consistency_path(leaves, first)
                verify_consistency(first, size, root_from_leaf_hashes(leaves[:first]), root, path)


def test_node_reads_are_index_probes_not_scans(app):
    """Regression: a row-value IN made SQLite scan merkle_nodes on every proof and append."""
    from sqlalchemy.dialects import postgresql, sqlite  # noqa: F401

    from hub.db import db
    from hub.ledger.log import node_select

    with app.app_context():
        stmt = node_select([(0, 5), (3, 1), (7, 0)])
        conn = db.session.connection()
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
            assert "SCAN merkle_nodes" not in plan, plan
        else:
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
            assert "Seq Scan" not in plan or "Index" in plan, plan
