"""Number lifecycle (PROTOCOL.md section 10): operators' events, the hub's unblocks, the guard, the questions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.ledger.log import TICK, monotonic_after
from keys.jwk import key_from_jwks
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
