"""TAXII paging under real concurrency: every object version exactly once (PROTOCOL.md section 11).

Real gunicorn hubs on the session's database (on PostgreSQL two instances of
two workers, on SQLite one of two workers), pusher processes sending signed
batches, a thread lifting some blocks with unblocks, and subscribers reading
with the OASIS client taxii2-client in small pages: first one ``as_pages``
run from the start while the pushes land, then polling on from the last
``next`` until they have drained. What each subscriber may see is computed
from the push results and the routing rule, never read back from the hub.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Collection, as_pages

from hub.taxii import stix
from hub.taxii.routes import COLLECTION_ID
from keys.jwk import key_from_jwks
from keys.signing import verify_object
from tests.live_support import PartnerSpec, PushPlan, home_carrier, live_env, random_number, start_pusher, write_plan
from tests.support import LiveHub, PartnerCreds, bearer, record_body
from tests.test_concurrency import _wait_ready
from tests.test_taxii import Bearer

pytestmark = pytest.mark.slow

PAGE = 23  # small pages, so the paging races the pushes many times
DEADLINE_SECONDS = 300.0  # generous: on a loaded 2-core machine each worker builds its own STIX objects
TELKOMSEL = "Telkomsel"
SIGNED = stix.SIGNED_RECORD_EXTENSION
STATICS = {stix.AUTHOR_ID, stix.PHONE_NUMBER_EXTENSION, SIGNED}


@dataclass
class Subscriber:
    name: str
    partner: str
    version: str  # match[version]
    mode: str = "next"  # or "added_after": resume each poll from the last X-TAXII-Date-Added-Last
    objects: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0  # requests sent again after a dropped keep-alive connection
    problems: list[str] = field(default_factory=list)


def subscribe(sub: Subscriber, url: str, token: str, done: threading.Event, deadline: float) -> None:
    """One as_pages run from the start, then polling on from the last next until drained after the pushes."""
    try:
        collection = Collection(f"{url}/taxii2/api/collections/{COLLECTION_ID}/", auth=Bearer(token))

        def get_objects(**query: Any) -> dict[str, Any]:
            """Collection.get_objects, again on a dropped connection, as a TIP would: the same next is safe."""
            for attempt in range(3):
                try:
                    return collection.get_objects(**query)  # type: ignore[no-any-return]
                except requests.ConnectionError:
                    if attempt == 2:
                        raise
                    sub.retries += 1
                    time.sleep(0.1)
            raise AssertionError("unreachable")

        last: dict[str, Any] = {}
        for envelope in as_pages(get_objects, per_request=PAGE, version=sub.version):
            sub.requests += 1
            sub.objects += envelope.get("objects", [])
            last = envelope
        token_next = last["next"]
        while time.monotonic() < deadline:
            final = done.is_set()  # seen before the request: an empty answer after it ends the drain
            envelope = get_objects(limit=PAGE, next=token_next, version=sub.version)
            sub.requests += 1
            got = envelope.get("objects", [])
            if len(got) > PAGE:
                sub.problems.append(f"a page of {len(got)} objects, limit {PAGE}")
            sub.objects += got
            token_next = envelope["next"]
            if not envelope["more"]:
                if final:
                    return
                time.sleep(0.02)
        sub.problems.append(f"deadline passed after {sub.requests} requests")
    except Exception as exc:  # noqa: BLE001 - reported by the test
        sub.problems.append(f"{type(exc).__name__}: {exc}")


def subscribe_added_after(sub: Subscriber, url: str, token: str, done: threading.Event, deadline: float) -> None:
    """Poll as OpenCTI does: next while more, then a new poll from added_after = the last Date-Added-Last seen."""
    session = requests.Session()
    session.headers.update({"Accept": "application/taxii+json;version=2.1", **bearer(token)})
    objects_url = f"{url}/taxii2/api/collections/{COLLECTION_ID}/objects/"
    added_after: str | None = None
    try:
        while time.monotonic() < deadline:
            final = done.is_set()  # seen before the poll: a poll that finds nothing after it ends the drain
            query: dict[str, Any] = {"limit": PAGE, "match[version]": sub.version}
            if added_after is not None:
                query["added_after"] = added_after
            found = 0
            while True:
                resp = session.get(objects_url, params=query, timeout=60)
                resp.raise_for_status()
                sub.requests += 1
                body = resp.json()
                got = body.get("objects", [])
                if len(got) > PAGE:
                    sub.problems.append(f"a page of {len(got)} objects, limit {PAGE}")
                sub.objects += got
                found += len(got)
                if got:
                    added_after = resp.headers["X-TAXII-Date-Added-Last"]
                if not body["more"]:
                    break
                query["next"] = body["next"]
            if final and not found:
                return
            time.sleep(0.02)
        sub.problems.append(f"deadline passed after {sub.requests} requests")
    except Exception as exc:  # noqa: BLE001 - reported by the test
        sub.problems.append(f"{type(exc).__name__}: {exc}")


def unblock_some(url: str, creds: PartnerCreds, token: str, rounds: int, out: list[dict[str, Any]]) -> None:
    """The ministry blocks numbers and lifts some of them again while everything else runs."""
    rng = random.Random(7)
    session = requests.Session()
    pending: list[dict[str, Any]] = []
    for n in range(rounds):
        env = creds.sign("record", record_body(creds.id, random_number(rng)))
        batch = [env]
        if pending and n % 2:
            block = pending.pop(0)
            body = record_body(creds.id, block["record"]["number"], action="unblock", supersedes=block["record"]["id"])
            batch.append(creds.sign("record", body))
        resp = session.post(url + "/v1/records", json={"records": batch}, headers=bearer(token), timeout=30)
        resp.raise_for_status()
        for envelope, result in zip(batch, resp.json()["results"]):
            assert result["status"] == "accepted", result
            out.append(envelope)
        pending.append(env)
        time.sleep(0.01)


def test_taxii_pages_each_version_exactly_once_while_processes_push(register, app, hub_env, tmp_path, capsys):
    kominfo = register("kominfo", "ministry")
    telkomsel = register("telkomsel", "operator", [TELKOMSEL])
    indosat = register("indosat", "operator", ["Indosat Ooredoo Hutchison"])
    whatsapp = register("whatsapp", "ott")
    on_postgres = hub_env["DATABASE_URL"].startswith("postgresql")
    env = live_env(hub_env)
    hubs: list[LiveHub] = []
    try:
        for _ in range(2 if on_postgres else 1):
            hubs.append(LiveHub(env, workers=2))
        urls = [h.url for h in hubs]
        rng = random.Random(20261202)
        workload = [
            (kominfo, [rng.randint(1, 3) for _ in range(80)], 0.0),
            (telkomsel, [rng.randint(1, 3) for _ in range(80)], 0.0),
            (indosat, [rng.randint(1, 3) for _ in range(80)], 0.0),
            (kominfo, [40] * 20, 0.0),
        ]
        procs, outs = [], []
        for n, (creds, sizes, pause) in enumerate(workload):
            plan = PushPlan(PartnerSpec.of(creds), urls, sizes, seed=2000 + n, offset=n, pause=pause)
            plan_path, out_path = tmp_path / f"plan-{n}.json", tmp_path / f"out-{n}.json"
            write_plan(plan_path, plan)
            procs.append(start_pusher(plan_path, out_path, tmp_path / f"pusher-{n}.log"))
            outs.append(out_path)
        deadline = time.monotonic() + DEADLINE_SECONDS
        done = threading.Event()
        subs = [
            Subscriber("kominfo-all", "kominfo", "all"),
            Subscriber("telkomsel-all", "telkomsel", "all"),
            Subscriber("whatsapp-all", "whatsapp", "all"),
            Subscriber("whatsapp-last", "whatsapp", "last"),
            Subscriber("telkomsel-added-after", "telkomsel", "all", mode="added_after"),
        ]
        creds_of = {c.id: c for c in (kominfo, telkomsel, indosat, whatsapp)}
        unblocked: list[dict[str, Any]] = []
        _wait_ready(procs, deadline)
        threads = [
            threading.Thread(
                target=subscribe_added_after if s.mode == "added_after" else subscribe,
                args=(s, urls[i % len(urls)], hubs[0].token(creds_of[s.partner]), done, deadline),
                daemon=True,
            )
            for i, s in enumerate(subs)
        ]
        extra = threading.Thread(
            target=unblock_some, args=(urls[-1], kominfo, hubs[0].token(kominfo), 120, unblocked), daemon=True
        )
        for t in threads:
            t.start()
        for proc in procs:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        extra.start()
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        extra.join(timeout=max(1.0, deadline - time.monotonic()))
        done.set()
        for t in threads:
            t.join(timeout=max(1.0, deadline + 5 - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "a subscriber is still running past the deadline"

        # --- what was accepted, and who may see it ------------------------------
        envelopes: list[dict[str, Any]] = list(unblocked)
        for n, out_path in enumerate(outs):
            assert procs[n].returncode == 0, (tmp_path / f"pusher-{n}.log").read_text()
            out = json.loads(out_path.read_text())
            assert out["error"] is None, f"pusher {n}: {out['error']}\n" + _log_tails(hubs)
            for batch in out["batches"]:
                for envelope, result in zip(batch["records"], batch["results"]):
                    assert result["status"] in ("accepted", "duplicate"), result
                    envelopes.append(envelope)
        records = {e["record"]["id"]: e for e in envelopes}
        assert len(records) == len(envelopes) > 1000

        def may_see(partner: str, record: dict[str, Any]) -> bool:
            if partner in ("kominfo", "whatsapp") or record["issuer"] == partner:
                return True
            block = records[record["supersedes"]]["record"] if record["action"] == "unblock" else record
            return partner == "telkomsel" and home_carrier(block["number"]) == TELKOMSEL

        jwks = {pid: requests.get(f"{urls[0]}/v1/partners/{pid}/keys", timeout=10).json() for pid in creds_of}
        failures: list[str] = []
        for sub in subs:
            failures += [f"{sub.name}: {p}" for p in sub.problems]
            visible = [r["record"] for r in records.values() if may_see(sub.partner, r["record"])]
            lifted = {r["supersedes"] for r in visible if r["action"] == "unblock"}
            blocks = [r for r in visible if r["action"] == "block"]
            expected = Counter({stix.indicator_id(r["id"]): 1 + (r["id"] in lifted) for r in blocks})
            if sub.version == "last":
                expected = Counter({k: 1 for k in expected})  # at most once each; the last one is checked below
            expected.update({stix.phone_number_id(r["number"]) for r in blocks})
            expected.update(STATICS)
            got = Counter(o["id"] for o in sub.objects)
            versions = Counter((o["id"], o.get("modified")) for o in sub.objects)
            twice = [k for k, n in versions.items() if n > 1]
            if sub.version == "last":
                # a block lifted while the subscriber was reading may show both versions, each once
                over = {k: n for k, n in got.items() if n > expected.get(k, 0) + (k in _ids(lifted))}
                missing = set(expected) - set(got)
            else:
                over = {k: n for k, n in got.items() if n > expected.get(k, 0)}
                missing = {k for k in expected if got.get(k, 0) < expected[k]}
            if twice or over or missing:
                failures.append(
                    f"{sub.name}: {len(sub.objects)} objects in {sub.requests} requests; {len(twice)} versions twice, "
                    f"{len(over)} ids over, {len(missing)} missing (e.g. {sorted(missing)[:3]})"
                )
            final = {o["id"]: o for o in sub.objects}  # the last version each id arrived in
            for rid in lifted:
                obj = final.get(stix.indicator_id(rid))
                if obj is not None and not obj.get("revoked"):
                    failures.append(f"{sub.name}: {rid} was lifted but its last version is not revoked")
            for obj in random.Random(1).sample(sub.objects, min(60, len(sub.objects))):
                result = validate_instance(obj, ValidationOptions(version="2.1"))
                if not result.is_valid:
                    failures.append(f"{sub.name}: {obj['id']} is not valid STIX: {[str(e) for e in result.errors]}")
                if obj["type"] == "indicator":
                    env = obj["extensions"][SIGNED]["signed_record"]
                    verify_object(env, "record", key_from_jwks(jwks[env["record"]["issuer"]], env["signature"]["kid"]))
        with capsys.disabled():
            print(
                f"\n[taxii-live] {'postgresql' if on_postgres else 'sqlite'}: {len(records)} records "
                f"({sum(e['record']['action'] == 'unblock' for e in unblocked)} unblocks) to {len(hubs)} hub(s) x 2 workers; "
                + ", ".join(
                    f"{s.name} {len(s.objects)} objects/{s.requests} requests/{s.retries} retried" for s in subs
                )
            )
        assert not failures, "\n".join(failures)
    finally:
        for hub in hubs:
            hub.stop()


def _ids(record_ids: set[str]) -> set[str]:
    return {stix.indicator_id(r) for r in record_ids}


def _log_tails(hubs: list[LiveHub]) -> str:
    return "\n".join(f"--- {h.log.name}\n{Path(h.log.name).read_text()[-2000:]}" for h in hubs)
