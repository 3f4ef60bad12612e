"""SIGKILL in the middle of pushes (PROTOCOL.md sections 4 and 7).

"accepted: stored durably before the response is sent": a hub process killed
with SIGKILL (master and workers, as a power cut would) while batches are in
flight, then restarted on the same database, must still hold every record it
gave a receipt for, with its assignments and log leaf; its log must be
whole (gap-free, provable, consistent with a head signed before the crash);
and a batch cut off mid-flight is there wholly or not at all, so pushing it
again is safe.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from keys.jcs import canonicalize
from keys.merkle import leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion
from keys.verify import verify_receipt, verify_tree_head
from tests.live_support import (
    REQUEST_TIMEOUT,
    fetch_token,
    get_json,
    home_carrier,
    kill_hard,
    live_env,
    pull_all,
    signed_records,
)
from tests.support import LiveHub, PartnerCreds, bearer

pytestmark = pytest.mark.slow

TELKOMSEL = "Telkomsel"
INDOSAT = "Indosat Ooredoo Hutchison"
BATCH = 200
MIN_ANSWERED = 2  # batches each pusher has had answered before the kill
DEADLINE_SECONDS = 90.0
INCLUSION_SAMPLE = 40


@pytest.fixture
def hubs(app, hub_env):
    """Live hubs of this test; whatever is still running is stopped before the tables are emptied."""
    started: list[LiveHub] = []

    def start() -> LiveHub:
        hub = LiveHub(live_env(hub_env), workers=2)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


@dataclass
class Pusher:
    creds: PartnerCreds
    url: str
    token: str
    answered: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = field(default_factory=list)
    unanswered: list[list[dict[str, Any]]] = field(default_factory=list)
    in_flight: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    server_errors: list[str] = field(default_factory=list)  # 5xx answers; the batch was sent again
    durations: list[float] = field(default_factory=list)

    def run(self, stop: threading.Event, deadline: float, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                batch = signed_records(self.creds, BATCH, rng)
                while True:
                    self.in_flight.set()
                    began = time.monotonic()
                    try:
                        resp = session.post(
                            self.url + "/v1/records",
                            json={"records": batch},
                            headers=bearer(self.token),
                            timeout=REQUEST_TIMEOUT,
                        )
                    except requests.RequestException:
                        self.unanswered.append(batch)  # the hub died under it
                        return
                    finally:
                        self.in_flight.clear()
                    if resp.status_code < 500 or len(self.server_errors) >= 5:
                        break
                    # never acceptable, but pushing a batch again is safe: noted, failed on at the end
                    self.server_errors.append(f"push: {resp.status_code} {resp.text[:300]}")
                if resp.status_code != 200:
                    self.error = f"{resp.status_code} {resp.text[:1000]}"
                    return
                self.durations.append(time.monotonic() - began)
                self.answered.append((batch, resp.json()["results"]))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()


def _get(url: str, token: str, path: str, deadline: float, errors: list[str], **params: Any) -> dict[str, Any]:
    with requests.Session() as s:
        resp = get_json(s, url + path, token, deadline, errors, **params)
    assert resp.status_code == 200, f"GET {path} {params}: {resp.status_code} {resp.text[:500]}"
    return resp.json()


def test_sigkill_mid_push_loses_nothing_that_was_receipted(register, hubs, capsys):
    kominfo = register("kominfo", "ministry")
    telkomsel = register("telkomsel", "operator", [TELKOMSEL])
    indosat = register("indosat", "operator", [INDOSAT])
    register("whatsapp", "ott")
    operator_of = {TELKOMSEL: "telkomsel", INDOSAT: "indosat"}
    deadline = time.monotonic() + DEADLINE_SECONDS

    server_errors: list[str] = []  # 5xx answers met along the way (each retried), failed on at the end
    hub = hubs()
    pushers = [Pusher(c, hub.url, fetch_token(hub.url, c)) for c in (kominfo, telkomsel, indosat)]
    ministry_token = pushers[0].token
    stop = threading.Event()
    threads = [
        threading.Thread(target=p.run, args=(stop, deadline, n), name=f"pusher-{p.creds.id}", daemon=True)
        for n, p in enumerate(pushers)
    ]
    for t in threads:
        t.start()

    def wait_for(condition: Any, poll: float) -> None:
        while not condition():
            alive = all(t.is_alive() for t in threads)
            assert time.monotonic() < deadline and alive, f"pushers: {[p.error for p in pushers]}"
            time.sleep(poll)

    try:
        # A head signed before the crash: the log after it must extend it.
        wait_for(lambda: min(len(p.answered) for p in pushers) >= 1, 0.05)
        head_before = _get(hub.url, ministry_token, "/v1/log/head", deadline, server_errors)
        wait_for(lambda: min(len(p.answered) for p in pushers) >= MIN_ANSWERED, 0.02)
        # Kill at a random moment inside a request, anywhere from parsing to commit to answer.
        typical = sorted(d for p in pushers for d in p.durations)[len(pushers) * MIN_ANSWERED // 2]
        wait_for(lambda: all(p.in_flight.is_set() for p in pushers), 0.001)
        time.sleep(random.uniform(0.0, typical))
    except BaseException:
        stop.set()
        raise
    killed_at = time.monotonic()
    try:
        kill_hard(hub)
        for t in threads:  # each pusher ends on its first refused or cut request
            t.join(timeout=REQUEST_TIMEOUT + 5)
    finally:
        stop.set()
    assert not any(t.is_alive() for t in threads), "a pusher hangs after the kill"
    assert [p.error for p in pushers] == [None] * len(pushers)

    hub = hubs()  # a new hub process on the same database
    restarted_at = time.monotonic()
    jwks = requests.get(hub.url + "/.well-known/jwks.json", timeout=REQUEST_TIMEOUT).json()
    token = fetch_token(hub.url, kominfo)

    # --- every receipt returned before the crash is a valid hub receipt ------
    receipted: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # id -> (envelope, receipt body)
    for p in pushers:
        for batch, results in p.answered:
            assert len(results) == len(batch)
            for envelope, result in zip(batch, results):
                assert result["status"] in ("accepted", "duplicate") and result["id"] == envelope["record"]["id"], (
                    result
                )
                body = verify_receipt(result["receipt"], jwks, envelope)
                receipted[envelope["record"]["id"]] = (envelope, body)
    in_flight = [batch for p in pushers for batch in p.unanswered]
    pushed = {e["record"]["id"]: e for p in pushers for b, _ in p.answered for e in b}
    pushed.update({e["record"]["id"]: e for b in in_flight for e in b})

    # --- what the restarted hub holds -----------------------------------------
    with requests.Session() as s:
        items = pull_all(s, hub.url, token, deadline, server_errors=server_errors)
    present = {item["record"]["id"]: item for item in items}
    assert len(present) == len(items), "the ministry's pull repeats a record"
    assert set(present) <= set(pushed), "the hub holds a record nobody pushed"
    missing = sorted(set(receipted) - set(present))
    assert not missing, f"{len(missing)} receipted records lost in the crash, e.g. {missing[:5]}"

    def expected_assignees(number: str) -> set[str]:
        operator = operator_of.get(home_carrier(number) or "")
        return {"whatsapp"} | ({operator} if operator else set())

    def look_up(rid: str) -> dict[str, Any]:
        return _get(hub.url, token, f"/v1/records/{rid}", deadline, server_errors)

    with ThreadPoolExecutor(8) as pool:
        details = dict(zip(present, pool.map(look_up, present)))
    for rid, detail in details.items():
        envelope = pushed[rid]
        assert {"record": detail["record"], "signature": detail["signature"]} == envelope, rid
        receipt = detail["receipt"]["receipt"]
        if rid in receipted:
            body = receipted[rid][1]
            assert (receipt["seq"], receipt["log_index"]) == (body["seq"], body["log_index"]), rid
        assert receipt["seq"] == present[rid]["seq"] == receipt["log_index"] + 1, rid
        assert {a["partner"] for a in detail["assignments"]} == expected_assignees(envelope["record"]["number"]), rid

    # --- the log is whole -----------------------------------------------------
    head = verify_tree_head(_get(hub.url, token, "/v1/log/head", deadline, server_errors), jwks)
    size = head["size"]
    entries: list[dict[str, Any]] = []
    while len(entries) < size:
        page = _get(hub.url, token, "/v1/log/entries", deadline, server_errors, start=len(entries))
        assert page["start"] == len(entries) and page["end"] > page["start"], page["end"]
        entries += page["entries"]
    assert len(entries) == size == len(present), (len(entries), size, len(present))
    assert sorted(item["seq"] for item in items) == list(range(1, size + 1)), "seqs have gaps"
    for rid, item in present.items():
        index = item["receipt"]["receipt"]["log_index"]
        assert entries[index] == {"record": item["record"], "signature": item["signature"]}, rid
    leaves = [leaf_hash(canonicalize(e)) for e in entries]
    assert root_from_leaf_hashes(leaves).hex() == head["root_hash"], "the signed root is not the root of the entries"
    sample = {0, size - 1} | set(random.sample(range(size), min(INCLUSION_SAMPLE, size)))
    for index in sorted(sample):
        proof = _get(hub.url, token, "/v1/log/inclusion", deadline, server_errors, index=index, size=size)
        verify_inclusion(
            index, size, leaves[index], [bytes.fromhex(h) for h in proof["path"]], bytes.fromhex(head["root_hash"])
        )
    before = verify_tree_head(head_before, jwks)
    consistency = _get(
        hub.url, token, "/v1/log/consistency", deadline, server_errors, first=before["size"], second=size
    )
    verify_consistency(
        before["size"],
        size,
        bytes.fromhex(before["root_hash"]),
        bytes.fromhex(head["root_hash"]),
        [bytes.fromhex(h) for h in consistency["path"]],
    )

    # --- a batch cut off by the kill is all there or not at all ----------------
    outcomes = []
    for batch in in_flight:
        ids = [e["record"]["id"] for e in batch]
        here = [rid in present for rid in ids]
        assert all(here) or not any(here), f"batch cut by the kill is partly stored: {sum(here)} of {len(ids)}"
        outcomes.append("stored" if all(here) else "absent")
        # pushing it again is safe: the same receipts if it was stored, fresh ones if not
        issuer = next(p for p in pushers if batch in p.unanswered)
        resp = requests.post(
            hub.url + "/v1/records",
            json={"records": batch},
            headers=bearer(fetch_token(hub.url, issuer.creds)),
            timeout=REQUEST_TIMEOUT,
        )
        assert resp.status_code == 200, resp.text
        results = resp.json()["results"]
        assert {r["status"] for r in results} == {"duplicate" if all(here) else "accepted"}
        for envelope, result in zip(batch, results):
            body = verify_receipt(result["receipt"], jwks, envelope)
            if all(here):
                assert body["seq"] == present[envelope["record"]["id"]]["seq"]
            else:
                assert body["seq"] > size
    assert in_flight, "the kill landed between requests: no batch was in flight"

    with capsys.disabled():
        print(
            f"\n[crash] {len(receipted)} receipted records in {sum(len(p.answered) for p in pushers)} batches of {BATCH}; "
            f"killed {killed_at - (deadline - DEADLINE_SECONDS):.1f}s in with {len(in_flight)} batch(es) in flight: "
            f"{', '.join(outcomes)}; log size after restart {size} (before the crash a head of {before['size']}); "
            f"restart took {restarted_at - killed_at:.1f}s, checks {time.monotonic() - restarted_at:.1f}s"
        )
    server_errors += [f"{p.creds.id} {e}" for p in pushers for e in p.server_errors]
    assert not server_errors, "the hub answered 5xx (each request was retried):\n" + "\n".join(server_errors)
