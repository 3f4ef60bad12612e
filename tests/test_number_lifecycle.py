"""Number lifecycle (PROTOCOL.md section 10): operators' events, the hub's unblocks, the guard, the questions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.canonical import canonicalize
from hub.ledger.log import TICK, monotonic_after
from keys.jwk import key_from_jwks
from keys.merkle import leaf_hash
from keys.signing import verify_object
from keys.timefmt import format_ts
from keys.verify import verify_receipt
from tests.records_world import FOREIGN, ISAT, TSEL, TSEL2, XL, World
from tests.support import PartnerCreds, ack_body, record_body


def ts(moment: datetime) -> str:
    return format_ts(moment)


def event_body(operator: str, number: str, event: str = "reassigned", at: datetime | None = None) -> dict:
    at = at or datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    return {"id": str(uuid.uuid4()), "operator": operator, "number": number, "event": event, "effective_at": ts(at)}


def push_events(world: World, who: PartnerCreds, *envelopes: Any, query: str = "") -> Any:
    return world.client.post(
        f"/v1/number-events{query}", json={"number_events": list(envelopes)}, headers=world.auth(who)
    )


def one_event(world: World, who: PartnerCreds, body: dict) -> dict:
    resp = push_events(world, who, who.sign("number_event", body))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    (result,) = resp.get_json()["results"]
    return result


def block_at(world: World, who: PartnerCreds, number: str, at: datetime, observed: datetime | None = None) -> dict:
    return world.block(who, number, issued_at=ts(at), observed_at=ts(observed or at))


def slug(result: dict) -> str:
    return str(result["error"]["type"].rsplit(":", 1)[-1])


@pytest.fixture
def frozen(clock):
    """The hub's clock stopped at a whole second (tokens were issued just before: the clock only moves on)."""
    clock.freeze(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1))
    return clock


def test_event_is_accepted_with_a_receipt_and_a_log_leaf(world: World, frozen) -> None:
    env = world.telkomsel.sign("number_event", event_body("telkomsel", TSEL, "disconnected"))
    resp = push_events(world, world.telkomsel, env)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    result = resp.get_json()["results"][0]
    assert result["status"] == "accepted", result
    jwks = world.client.get("/.well-known/jwks.json").get_json()
    receipt = verify_receipt(result["receipt"], jwks, env)
    assert receipt["kind"] == "number_event" and receipt["seq"] == receipt["log_index"] + 1
    entries = world.client.get(
        f"/v1/log/entries?start={receipt['log_index']}&end={receipt['log_index'] + 1}",
        headers=world.auth(world.kominfo),
    ).get_json()["entries"]
    assert entries == [env]
    again = push_events(world, world.telkomsel, env).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["receipt"] == result["receipt"]


def test_a_number_event_in_the_log_is_readable_by_its_operator_and_the_ministry_only(world: World, frozen) -> None:
    """PROTOCOL 1.1 section 7: another partner gets the leaf hash, and the root still recomputes."""
    env = world.telkomsel.sign("number_event", event_body("telkomsel", TSEL, "disconnected"))
    (result,) = push_events(world, world.telkomsel, env).get_json()["results"]
    index = verify_receipt(result["receipt"], world.client.get("/.well-known/jwks.json").get_json(), env)["log_index"]

    def entry(who: PartnerCreds) -> dict:
        resp = world.client.get(f"/v1/log/entries?start={index}&end={index + 1}", headers=world.auth(who))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        (only,) = resp.get_json()["entries"]
        return only

    assert entry(world.telkomsel) == env
    assert entry(world.kominfo) == env
    hidden = [entry(who) for who in (world.indosat, world.whatsapp, world.telegram)]
    expected = leaf_hash(canonicalize(env)).hex()
    assert hidden == [{"leaf_hash": expected}] * 3


def test_who_may_report_what(world: World, frozen) -> None:
    T0 = frozen.now()
    tsel, isat = world.telkomsel, world.indosat
    # another operator's number
    assert slug(one_event(world, isat, event_body("indosat", TSEL))) == "not-home-operator"
    # a number of a network no operator of the hub runs, and a foreign one
    assert slug(one_event(world, tsel, event_body("telkomsel", XL))) == "not-home-operator"
    assert slug(one_event(world, tsel, event_body("telkomsel", FOREIGN))) == "not-home-operator"
    # an event in another operator's name
    assert slug(one_event(world, tsel, event_body("indosat", ISAT))) == "issuer-mismatch"
    # ahead of the clock (more than five minutes), and just within
    ahead = one_event(world, tsel, event_body("telkomsel", TSEL, at=T0 + timedelta(minutes=6)))
    assert slug(ahead) == "invalid-record" and "ahead" in ahead["error"]["detail"]
    assert one_event(world, tsel, event_body("telkomsel", TSEL, at=T0 + timedelta(minutes=4)))["status"] == "accepted"
    # a local number is no E.164 number: the hub names the form meant
    bad = one_event(world, tsel, event_body("telkomsel", "081234567890"))
    assert slug(bad) == "invalid-number" and bad["error"]["suggestion"] == TSEL
    bad = one_event(world, tsel, {**event_body("telkomsel", TSEL), "event": "ported"})
    assert slug(bad) == "invalid-record"
    # another partner's key
    forged = world.indosat.sign("number_event", event_body("telkomsel", TSEL), kid=world.telkomsel.kid)
    assert push_events(world, tsel, forged).get_json()["results"][0]["error"]["type"].endswith("invalid-signature")


@pytest.mark.parametrize("who", ["whatsapp", "kominfo"])
def test_only_operators_hold_numbers_write(world: World, who: str) -> None:
    creds = getattr(world, who)
    resp = push_events(world, creds, creds.sign("number_event", event_body(who, TSEL)))
    assert resp.status_code == 403 and resp.get_json()["type"].endswith(":forbidden")


def test_dry_run_stores_nothing(world: World, frozen) -> None:
    T0 = frozen.now()
    block_at(world, world.kominfo, TSEL, T0 - timedelta(days=3))
    env = world.telkomsel.sign("number_event", event_body("telkomsel", TSEL, at=T0 - timedelta(days=1)))
    (result,) = push_events(world, world.telkomsel, env, query="?dry_run=true").get_json()["results"]
    assert result == {"id": env["number_event"]["id"], "status": "valid"}
    view = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.kominfo)).get_json()
    assert view["blocked"] is True and view["reassigned_at"] is None


def test_disconnected_leaves_blocks_in_force(world: World, frozen) -> None:
    T0 = frozen.now()
    block_at(world, world.kominfo, TSEL, T0 - timedelta(days=3))
    result = one_event(world, world.telkomsel, event_body("telkomsel", TSEL, "disconnected", T0 - timedelta(days=1)))
    assert result["status"] == "accepted"
    view = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp)).get_json()
    assert view["blocked"] is True and view["reassigned_at"] is None and view["record_count"] == 1


def _hub_unblocks(items: list[dict]) -> list[dict]:
    return [i for i in items if i["record"]["action"] == "unblock"]


def test_reassigned_lifts_exactly_the_blocks_issued_before_it(world: World, frozen, app) -> None:
    T0 = frozen.now()
    effective = T0 - timedelta(days=1)
    early_ministry = block_at(world, world.kominfo, TSEL, T0 - timedelta(days=30))
    early_ott = block_at(world, world.whatsapp, TSEL, T0 - timedelta(days=20))
    later = block_at(world, world.telegram, TSEL, T0 - timedelta(hours=2))  # issued after effective_at
    other = block_at(world, world.kominfo, TSEL2, T0 - timedelta(days=30))  # another number
    frozen.advance(timedelta(seconds=5))
    event = event_body("telkomsel", TSEL, at=effective)
    result = one_event(world, world.telkomsel, event)
    assert result["status"] == "accepted"
    accepted_at = result["receipt"]["receipt"]["received_at"]

    jwks = world.client.get("/.well-known/jwks.json").get_json()
    lifted = {early_ministry["record"]["id"], early_ott["record"]["id"]}
    hub_id = app.config["HUB_ID"]
    for who in (world.telkomsel, world.whatsapp, world.telegram, world.kominfo):
        unblocks = _hub_unblocks(world.pull_all(who))
        # every partner assigned a block gets its hub unblock exactly once; the ministry sees them all
        expected = lifted if who is not world.kominfo else lifted
        assert sorted(u["record"]["supersedes"] for u in unblocks) == sorted(expected), who.id
        for u in unblocks:
            body = u["record"]
            assert body["issuer"] == hub_id and body["number"] == TSEL
            assert body["reason"] == f"number reassigned (event {event['id']})"
            assert body["evidence"] == {"complaints": 0, "ref": event["id"]}
            assert body["observed_at"] == event["effective_at"] and body["issued_at"] == accepted_at
            assert body["category"] == "scam" and body["channels"] == ["voice", "sms", "messaging"]
            verify_object(
                {"record": body, "signature": u["signature"]}, "record", key_from_jwks(jwks, u["signature"]["kid"])
            )
            verify_receipt(u["receipt"], jwks, {"record": body, "signature": u["signature"]})
            if who is not world.kominfo:
                assert u["assignment"]["status"] == "delivered"
    # a second pull from the start brings nothing new twice
    again = _hub_unblocks(world.pull_all(world.whatsapp))
    assert len(again) == 2

    view = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.kominfo)).get_json()
    assert view["reassigned_at"] == event["effective_at"]
    assert view["blocked"] is True  # the later block stays
    in_force = [
        i["record"]["id"]
        for i in view["records"]
        if i["record"]["action"] == "block"
        and world.client.get(f"/v1/records/{i['record']['id']}", headers=world.auth(world.kominfo)).status_code == 200
    ]
    assert set(in_force) == lifted | {later["record"]["id"]}
    other_view = world.client.get(f"/v1/numbers/{TSEL2}", headers=world.auth(world.kominfo)).get_json()
    assert other_view["blocked"] is True and other_view["reassigned_at"] is None
    assert other["record"]["id"] not in {
        u["record"]["supersedes"] for u in _hub_unblocks(world.pull_all(world.kominfo))
    }

    # the assigned operator acknowledges the hub's unblock like any other
    unblock = next(u for u in _hub_unblocks(world.pull_all(world.telkomsel)))
    (ack,) = world.ack(
        world.telkomsel, world.telkomsel.sign("ack", ack_body("telkomsel", unblock["record"]["id"], "unblocked"))
    )
    assert ack["status"] == "accepted", ack
    # a second reassignment finds nothing more to lift before it... except the later block
    frozen.advance(timedelta(seconds=5))
    second = one_event(world, world.telkomsel, event_body("telkomsel", TSEL, at=T0))
    assert second["status"] == "accepted"
    view = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.kominfo)).get_json()
    assert view["blocked"] is False and view["reassigned_at"] == ts(T0)
    assert len(_hub_unblocks(world.pull_all(world.telegram))) == 3


def test_stale_and_fresh_complaints_after_reassignment(world: World, frozen) -> None:
    T0 = frozen.now()
    effective = T0 - timedelta(days=1)
    assert one_event(world, world.telkomsel, event_body("telkomsel", TSEL, at=effective))["status"] == "accepted"
    stale = world.kominfo.sign(
        "record", record_body("kominfo", TSEL, observed_at=ts(effective - timedelta(days=2)), issued_at=ts(T0))
    )
    (result,) = world.push(world.kominfo, stale)
    assert result["status"] == "rejected" and slug(result) == "number-reassigned"
    assert result["error"]["status"] == 409
    # the guard holds in a dry run too
    resp = world.client.post("/v1/records?dry_run=true", json={"records": [stale]}, headers=world.auth(world.kominfo))
    assert slug(resp.get_json()["results"][0]) == "number-reassigned"
    fresh = world.kominfo.sign(
        "record", record_body("kominfo", TSEL, observed_at=ts(effective + timedelta(hours=1)), issued_at=ts(T0))
    )
    (result,) = world.push(world.kominfo, fresh)
    assert result["status"] == "accepted"
    # another number is not concerned
    (result,) = world.push(
        world.kominfo,
        world.kominfo.sign(
            "record", record_body("kominfo", TSEL2, observed_at=ts(effective - timedelta(days=2)), issued_at=ts(T0))
        ),
    )
    assert result["status"] == "accepted"


def _ask(world: World, number: str, since: str, who: PartnerCreds | None = None) -> Any:
    return world.client.get(f"/v1/numbers/{number}/reassigned?since={since}", headers=world.auth(who or world.whatsapp))


def test_the_three_answers_single_and_batch(world: World, frozen) -> None:
    # nothing recorded yet: no_data
    first = _ask(world, TSEL, "2026-06-01")
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {
        "number": TSEL,
        "since": "2026-05-31T17:00:00Z",
        "answer": "no_data",
        "reassigned_at": None,
    }
    effective = datetime(2026, 11, 1, tzinfo=UTC)
    one_event(world, world.telkomsel, event_body("telkomsel", TSEL2, "disconnected", datetime(2026, 9, 1, tzinfo=UTC)))
    one_event(world, world.telkomsel, event_body("telkomsel", TSEL, at=effective))
    for who in (world.whatsapp, world.telkomsel, world.kominfo):
        yes = _ask(world, TSEL, "2026-10-01", who).get_json()
        assert yes["answer"] == "yes" and yes["reassigned_at"] == ts(effective)
    assert _ask(world, TSEL, ts(effective)).get_json()["answer"] == "yes"  # at or after
    assert _ask(world, TSEL, "2026-11-01T00:00:00.001Z").get_json()["answer"] == "no"
    assert _ask(world, ISAT, "2026-10-01").get_json() == {
        "number": ISAT,
        "since": "2026-09-30T17:00:00Z",
        "answer": "no",
        "reassigned_at": None,
    }
    # before the earliest effective_at the hub holds: no_data
    assert _ask(world, TSEL, "2026-08-01").get_json()["answer"] == "no_data"
    bad = _ask(world, TSEL, "yesterday")
    assert bad.status_code == 400 and bad.get_json()["type"].endswith("invalid-request")
    assert _ask(world, "081234567890", "2026-10-01").get_json()["type"].endswith("invalid-number")
    assert world.client.get(f"/v1/numbers/{TSEL}/reassigned", headers=world.auth(world.whatsapp)).status_code == 400

    queries = [
        {"number": TSEL, "since": "2026-10-01"},
        {"number": ISAT, "since": "2026-10-01T00:00:00Z"},
        {"number": TSEL, "since": "2026-01-01"},
        {"number": "0812", "since": "2026-10-01"},
        {"number": TSEL2, "since": "never"},
        {"number": TSEL2},
    ]
    resp = world.client.post("/v1/numbers/reassigned", json={"queries": queries}, headers=world.auth(world.whatsapp))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answers = resp.get_json()["answers"]
    assert [a.get("answer") for a in answers] == ["yes", "no", "no_data", None, None, None]
    assert [a["number"] for a in answers] == [TSEL, ISAT, TSEL, "0812", TSEL2, TSEL2]
    assert [slug(a) for a in answers[3:]] == ["invalid-number", "invalid-request", "invalid-request"]
    for body in (
        {"queries": []},
        {"queries": [queries[0]] * 2},
        {"questions": queries},
        {"queries": [queries[0]] * 1001},
    ):
        resp = world.client.post("/v1/numbers/reassigned", json=body, headers=world.auth(world.whatsapp))
        assert resp.status_code == 400, body


def test_configured_start_of_records(world: World, frozen, app) -> None:
    app.config["NUMBER_EVENTS_SINCE"] = "2026-01-01"
    assert _ask(world, TSEL, "2026-06-01").get_json()["answer"] == "no"
    assert _ask(world, TSEL, "2025-12-31T16:59:59Z").get_json()["answer"] == "no_data"


def test_monotonic_acceptance_times() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert monotonic_after(None, now) == now
    assert monotonic_after(now - TICK, now) == now
    assert monotonic_after(now, now) == now + TICK  # another transaction at the same millisecond
    assert monotonic_after(now + timedelta(seconds=2), now) == now + timedelta(seconds=2) + TICK  # a clock behind


def test_report_counts_the_events_that_took_effect_in_the_period(world: World, frozen, token) -> None:
    T0 = frozen.now()
    block_at(world, world.kominfo, TSEL, T0 - timedelta(days=30))
    block_at(world, world.whatsapp, TSEL, T0 - timedelta(days=20))
    tsel = world.telkomsel
    one_event(world, tsel, event_body("telkomsel", TSEL2, "disconnected", T0 - timedelta(days=3)))
    one_event(world, tsel, event_body("telkomsel", TSEL, "disconnected", T0 - timedelta(days=40)))  # before the period
    one_event(world, tsel, event_body("telkomsel", TSEL, "reassigned", T0 - timedelta(days=2)))
    period = {"kind": "adhoc", "start": ts(T0 - timedelta(days=7)), "end": ts(T0 + timedelta(minutes=1))}
    resp = world.client.post("/v1/reports", json=period, headers=world.auth(world.kominfo))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    report = resp.get_json()["report"]
    assert report["number_events"] == {"disconnected": 1, "reassigned": 1, "blocks_lifted": 2}
    # the hub's unblocks are assigned like any unblock: the operator and both OTT providers, one each per block
    row = {r["partner"]: r for r in report["partners"]}
    assert row["telkomsel"]["assigned"] == 4 and row["whatsapp"]["assigned"] == 4
    # and counted against the SLA: a day later the unacked hub unblocks are overdue like any unblock
    frozen.advance(timedelta(hours=25))
    world.tokens["kominfo"] = token(world.kominfo)  # the first one expired meanwhile
    later = {"kind": "adhoc", "start": ts(T0 - timedelta(days=7)), "end": ts(T0 + timedelta(hours=25))}
    report = world.client.post("/v1/reports", json=later, headers=world.auth(world.kominfo)).get_json()["report"]
    overdue_unblocks = [i for i in report["overdue"]["items"] if i["action"] == "unblock"]
    assert sorted(i["partner"] for i in overdue_unblocks) == [
        "telegram",
        "telegram",
        "telkomsel",
        "telkomsel",
        "whatsapp",
        "whatsapp",
    ]


def test_console_history_shows_the_lifecycle_and_verifies_the_hubs_unblocks(world: World, frozen, app) -> None:
    from hub.console.history import VALID, history

    T0 = frozen.now()
    block_at(world, world.kominfo, TSEL, T0 - timedelta(days=30))
    frozen.advance(timedelta(seconds=1))
    event = event_body("telkomsel", TSEL, at=T0 - timedelta(days=1))
    one_event(world, world.telkomsel, event)
    with app.app_context():
        events, truncated = history(TSEL)
    assert not truncated
    lifecycle = [e for e in events if e.kind == "lifecycle"]
    assert [(e.summary["event"], e.summary["blocks_lifted"], e.verdict.status) for e in lifecycle] == [
        ("reassigned", 1, VALID)
    ]
    records = [e for e in events if e.kind == "record"]
    assert [(e.summary["action"], e.partner, e.verdict.status) for e in records] == [
        ("block", "kominfo", VALID),
        ("unblock", app.config["HUB_ID"], VALID),
    ]
    # shown when it took effect (a day back), before the hub received the block it lifted
    assert [e.kind for e in events if e.kind in ("record", "lifecycle")] == ["lifecycle", "record", "record"]
    # and the console's number page shows it (in its default language, Indonesian)
    from tests.console_support import add_staff, enrol

    staff = app.test_client()
    add_staff(app, "analis@kominfo.go.id")
    enrol(app, staff, "analis@kominfo.go.id")
    page = staff.get(f"/console/numbers?q={TSEL}").get_data(as_text=True)
    assert 'class="ev-lifecycle"' in page and "nomor dialihkan ke pelanggan baru" in page
    assert "blokir yang dicabut oleh hub: 1" in page


# -- Real concurrency: a block and a reassignment of the same number, pushed at once to live hubs


@pytest.fixture
def live_hubs(app, hub_env):
    """Two live hub processes on the session database (one on SQLite, whose writers queue on one file)."""
    from tests.live_support import live_env
    from tests.support import LiveHub

    started: list[Any] = []
    count = 2 if hub_env["DATABASE_URL"].startswith("postgresql") else 1
    try:
        for _ in range(count):
            started.append(LiveHub(live_env(hub_env), workers=1, threads=4))
        yield started
    finally:
        for hub in started:
            hub.stop()


ROUNDS = 12


def test_a_block_racing_a_reassignment_never_stays_in_force(register, live_hubs) -> None:
    """Each round pushes two blocks (issued before the reassignment) and the reassignment at the same moment,
    to different hub processes: whichever commits first, no block issued before it stays in force."""
    import random
    import threading

    import requests

    from tests.live_support import fetch_token, random_number
    from tests.support import bearer

    kominfo = register("kominfo", "ministry")
    whatsapp = register("whatsapp", "ott")
    telkomsel = register("telkomsel", "operator", ["Telkomsel"])
    urls = [h.url for h in live_hubs]
    tokens = {c.id: fetch_token(urls[0], c) for c in (kominfo, whatsapp, telkomsel)}
    rng = random.Random(13)
    numbers = [random_number(rng, {"telkomsel": 1.0}) for _ in range(ROUNDS)]
    outcomes: dict[str, list[tuple[str, dict]]] = {n: [] for n in numbers}
    problems: list[str] = []

    def push(url: str, who: PartnerCreds, path: str, member: str, envelope: dict, barrier: threading.Barrier) -> None:
        try:
            with requests.Session() as s:
                barrier.wait(timeout=30)
                resp = s.post(url + path, json={member: [envelope]}, headers=bearer(tokens[who.id]), timeout=60)
            if resp.status_code != 200:
                problems.append(f"{path}: {resp.status_code} {resp.text[:300]}")
                return
            outcomes[envelope[member[:-1]]["number"]].append((member, resp.json()["results"][0]))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            problems.append(f"{path}: {exc!r}")

    for i, number in enumerate(numbers):
        now = datetime.now(UTC)
        issued = ts(now - timedelta(seconds=2))
        blocks = [
            who.sign("record", record_body(who.id, number, issued_at=issued, observed_at=issued))
            for who in (kominfo, whatsapp)
        ]
        event = telkomsel.sign("number_event", event_body("telkomsel", number, at=now - timedelta(seconds=1)))
        barrier = threading.Barrier(3)
        threads = [
            threading.Thread(target=push, args=(urls[(i + k) % len(urls)], who, "/v1/records", "records", b, barrier))
            for k, (who, b) in enumerate(zip((kominfo, whatsapp), blocks))
        ]
        threads.append(
            threading.Thread(
                target=push,
                args=(urls[(i + 2) % len(urls)], telkomsel, "/v1/number-events", "number_events", event, barrier),
            )
        )
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
    assert problems == []

    orders = set()
    with requests.Session() as s:
        for number in numbers:
            results = dict((m, r) for m, r in outcomes[number] if m == "number_events")
            assert results["number_events"]["status"] == "accepted", outcomes[number]
            accepted = [r for m, r in outcomes[number] if m == "records" and r["status"] == "accepted"]
            refused = [r for m, r in outcomes[number] if m == "records" and r["status"] == "rejected"]
            assert len(accepted) + len(refused) == 2
            assert all(slug(r) == "number-reassigned" for r in refused), refused
            orders.add(len(accepted))
            view = s.get(f"{urls[0]}/v1/numbers/{number}", headers=bearer(tokens["kominfo"]), timeout=30).json()
            assert view["blocked"] is False, (number, outcomes[number], view)
            unblocks = [r for r in view["records"] if r["record"]["action"] == "unblock"]
            assert sorted(u["record"]["supersedes"] for u in unblocks) == sorted(r["id"] for r in accepted)
    print(f"rounds by blocks accepted before the reassignment: {sorted(orders)}")


def test_acceptance_times_increase_along_the_log_under_concurrent_pushes(register, live_hubs) -> None:
    """Records, acks and number events pushed at once from several threads: along the log, each write
    transaction's acceptance time is later than the one before it, so TAXII's added_after misses nothing."""
    import random
    import threading

    import requests

    from keys.timefmt import parse_ts
    from tests.live_support import fetch_token, random_number
    from tests.support import bearer

    kominfo = register("kominfo", "ministry")
    telkomsel = register("telkomsel", "operator", ["Telkomsel"])
    urls = [h.url for h in live_hubs]
    tokens = {c.id: fetch_token(urls[0], c) for c in (kominfo, telkomsel)}
    receipts: list[dict] = []
    problems: list[str] = []
    barrier = threading.Barrier(4)

    def pusher(k: int) -> None:
        rng = random.Random(k)
        who = kominfo if k % 2 else telkomsel
        try:
            with requests.Session() as s:
                barrier.wait(timeout=30)
                for _ in range(15):
                    number = random_number(rng, {"telkomsel": 1.0})
                    if k == 0:
                        path, member = "/v1/number-events", "number_events"
                        env = who.sign("number_event", event_body(who.id, number, "disconnected"))
                    else:
                        path, member = "/v1/records", "records"
                        env = who.sign("record", record_body(who.id, number))
                    resp = s.post(urls[k % len(urls)] + path, json={member: [env]}, headers=bearer(tokens[who.id]))
                    (result,) = resp.json()["results"]
                    receipts.append(result["receipt"]["receipt"])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            problems.append(repr(exc))

    threads = [threading.Thread(target=pusher, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert problems == [] and len(receipts) == 60
    along = sorted(receipts, key=lambda r: r["log_index"])
    times = [parse_ts(r["received_at"]) for r in along]
    assert all(a < b for a, b in zip(times, times[1:])), [r["received_at"] for r in along]


def test_one_batch_of_events_lifts_each_block_once_and_leaves_expired_blocks_alone(world: World, frozen) -> None:
    T0 = frozen.now()
    live = block_at(world, world.kominfo, TSEL, T0 - timedelta(days=30))
    expired = world.block(
        world.whatsapp,
        TSEL,
        issued_at=ts(T0 - timedelta(days=60)),
        observed_at=ts(T0 - timedelta(days=60)),
        expires_at=ts(T0 - timedelta(days=40)),
    )
    frozen.advance(timedelta(seconds=1))
    tsel = world.telkomsel
    bodies = [
        event_body("telkomsel", TSEL, "disconnected", T0 - timedelta(days=10)),
        event_body("telkomsel", TSEL, "reassigned", T0 - timedelta(days=3)),
        event_body("telkomsel", TSEL, "reassigned", T0 - timedelta(days=2)),
    ]
    resp = push_events(world, tsel, *(tsel.sign("number_event", b) for b in bodies))
    assert [r["status"] for r in resp.get_json()["results"]] == ["accepted"] * 3
    unblocks = _hub_unblocks(world.pull_all(world.kominfo))
    assert [u["record"]["supersedes"] for u in unblocks] == [live["record"]["id"]]
    assert unblocks[0]["record"]["evidence"]["ref"] == bodies[1]["id"]  # the first reassignment of the batch
    assert expired["record"]["id"] not in {u["record"]["supersedes"] for u in unblocks}
    view = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.kominfo)).get_json()
    assert view["blocked"] is False and view["reassigned_at"] == bodies[2]["effective_at"]
    # receipts: one log leaf per event, then the hub's unblock
    indexes = [r["receipt"]["receipt"]["log_index"] for r in resp.get_json()["results"]]
    assert indexes == sorted(indexes) and unblocks[0]["receipt"]["receipt"]["log_index"] == indexes[-1] + 1
