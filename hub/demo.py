"""``flask --app wsgi demo``: a small, believable Tangkal world with weeks of history.

Who it makes: the ministry ``kominfo``; four operators (``telkomsel``,
``indosat``, ``xl`` with carriers XL and AXIS, ``smartfren``); three OTT
providers (``whatsapp``, ``telegram``, ``signal``). Each gets an OAuth client
and a generated Ed25519 key, registered through the admin commands
(``partner add``, ``partner add-key``); the private keys and credentials are
written to ``instance/demo/`` (mode 0600, with a ``<partner>.env`` per
partner for ``python -m partners``), so the walkthrough can act as any of
them.

What it does: a few hundred blocks from the ministry and some from
operators and OTT providers over the past weeks (realistic Indonesian
numbers on every network, a few foreign ones), partners syncing on their own
cadence and acking most assignments within the SLA, some late, some never
(overdue), some ``rejected`` or ``not_applicable`` with reasons; a few
unblocks (appeals upheld); numbers reported again after their operator
acked ``blocked`` (the re-report anomaly); operators recycling a few blocked
numbers (a ``disconnected`` event back-filled from their quarantine, then
``reassigned``), whose blocks the hub lifts with its own unblocks, and a
late complaint about such a number's earlier subscriber that the hub
refuses (``number-reassigned``); weekly attestations that match, but for
one operator's last one; and the daily reports of each finished day, when
the hub has reports.

How: partners are registered with ``hub.admin`` (what ``partner add`` and
``partner add-key`` run), and every object goes through the hub's own
functions, exactly as the HTTP views call them (``hub.records.ingest.push``,
``hub.acks.ingest.push``, ``hub.numbers.ingest.push``, ``hub.records.views.pull``,
``hub.acks.attest.attest``, ``hub.reports.service.ensure``), inside an app
context. Those stamp ``received_at``, ``assigned_at``, ``delivered_at``,
``acted_at`` with the hub's clock (hub.clock), so to lay down weeks of
history the demo freezes the app's clock at each simulated moment and lets
it run again at the end. Records' own ``issued_at``/``observed_at`` are
simply written in the past, as a partner replaying old data would.

Running it twice is safe: when the demo partners exist it says so in one
line and does nothing.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import random
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import click
import phonenumbers
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask.cli import with_appcontext

from hub import admin
from hub.acks import ingest as acks
from hub.acks.attest import attest
from hub.auth.models import Partner
from hub.auth.protect import Caller
from hub.auth.scopes import SCOPES_BY_KIND
from hub.clock import Clock, clock_of
from hub.db import db
from hub.numbers import ingest as number_events
from hub.records import ingest, views
from hub.reports import periods, service
from hub.signing import ensure_key
from keys.jwk import public_jwk
from keys.keyfiles import generate_private_key, write_atomically, write_private_key
from keys.signing import sign_object
from keys.timefmt import format_ts

WIB = timezone(timedelta(hours=7), "WIB")


@dataclass(frozen=True)
class Profile:
    """How a partner behaves: who it is, how often it syncs, how it acks."""

    id: str
    kind: str
    name: str
    carriers: tuple[str, ...] = ()
    sync_hours: float = 2.0
    on_time: float = 0.9  # share acked within the SLA; the rest late or never
    never: float = 0.03
    blocked: float = 0.9  # share of block acks that are "blocked"
    rejected: float = 0.02
    not_applicable: tuple[str, ...] = ("Number already deactivated before the block",)


PROFILES = (
    Profile("kominfo", "ministry", "Kementerian Komdigi"),
    Profile(
        "telkomsel",
        "operator",
        "Telkomsel",
        ("Telkomsel",),
        3,
        0.95,
        0.01,
        0.93,
        0.02,
        ("MSISDN already churned and quarantined", "Prepaid number expired before the block"),
    ),
    Profile(
        "indosat",
        "operator",
        "Indosat Ooredoo Hutchison",
        ("Indosat Ooredoo Hutchison",),
        4,
        0.88,
        0.03,
        0.9,
        0.03,
        ("MSISDN already churned and quarantined",),
    ),
    Profile(
        "xl", "operator", "XL Axiata", ("XL", "AXIS"), 4, 0.85, 0.05, 0.9, 0.03, ("Number not provisioned on our HLR",)
    ),
    Profile(
        "smartfren",
        "operator",
        "Smartfren",
        ("Smartfren",),
        8,
        0.65,
        0.15,
        0.9,
        0.02,
        ("Number not provisioned on our network",),
    ),
    Profile("whatsapp", "ott", "WhatsApp", (), 1, 0.97, 0.01, 0.72, 0.01, ("No WhatsApp account on this number",)),
    Profile("telegram", "ott", "Telegram", (), 2, 0.9, 0.04, 0.45, 0.01, ("No Telegram account on this number",)),
    Profile("signal", "ott", "Signal", (), 6, 0.75, 0.12, 0.2, 0.0, ("No Signal account registered on this number",)),
)
PREFIXES = {  # local prefixes by the carrier phonenumbers names, and how often scams come from each
    "Telkomsel": (("0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853"), 0.42),
    "Indosat Ooredoo Hutchison": (
        ("0814", "0815", "0816", "0855", "0856", "0857", "0858", "0895", "0896", "0897"),
        0.25,
    ),
    "XL": (("0817", "0818", "0819", "0859", "0877", "0878"), 0.14),
    "AXIS": (("0831", "0832", "0833", "0838"), 0.06),
    "Smartfren": (("0881", "0882", "0883", "0887", "0888", "0889"), 0.09),
}
FOREIGN = ("+6011", "+6012", "+85510", "+63917")  # Malaysia, Cambodia, the Philippines: OTT only
SCAMS = (  # category, channels, reason
    ("scam", ("voice", "sms", "messaging"), "Poses as BRI customer service and asks for the OTP code"),
    ("scam", ("messaging",), "Fake J&T parcel-tracking APK sent over chat; drains m-banking"),
    ("scam", ("voice", "messaging"), "Part-time job task scam (like-and-subscribe), asks for deposits"),
    ("scam", ("voice",), "Claims a relative was arrested and demands a transfer"),
    ("scam", ("messaging",), "Fake investment group promising 30% monthly returns"),
    ("phishing", ("sms",), "SMS links to a fake BCA login page"),
    ("phishing", ("sms", "messaging"), "Fake BPJS Kesehatan refund link collecting NIK and card data"),
    ("phishing", ("messaging",), "Wedding-invitation .apk that steals SMS"),
    ("impersonation", ("voice", "messaging"), "Impersonates a police officer (video call in uniform)"),
    ("impersonation", ("voice",), "Impersonates PLN staff to collect fake arrears"),
    ("impersonation", ("messaging",), "Uses a regional head's photo to ask for donations"),
    ("account_takeover", ("messaging",), "Hijacks chat accounts by asking victims to forward the verification code"),
    ("spam", ("sms",), "Illegal online-loan (pinjol) offers sent in bulk"),
    ("spam", ("voice",), "Robocalls promoting illegal online gambling (judol)"),
    ("other", ("voice", "sms"), "Harassing debt collection for an illegal lender"),
)
WEIGHTS = (14, 8, 7, 6, 5, 9, 6, 5, 7, 3, 2, 5, 8, 6, 2)
#: The operator whose last attestation does not match what it acked.
LAGGARD = "smartfren"
#: When, as fractions of the demo's days, operators give a blocked number to a new subscriber.
RECYCLE_AT = (0.5, 0.7, 0.85)
#: Indonesia's quarantine before a number whose subscription ended is given out again.
QUARANTINE = timedelta(days=60)


@dataclass
class Actor:
    """A demo partner as the simulation drives it."""

    profile: Profile
    client_id: str
    client_secret: str
    kid: str
    key: Ed25519PrivateKey
    cursor: int = 0
    due: list[tuple[datetime, dict[str, Any], str]] = field(default_factory=list)  # planned acks, with the number
    blocked: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # record id -> (number, acked at)

    @property
    def caller(self) -> Caller:
        return Caller(self.profile.id, self.profile.kind, self.client_id, SCOPES_BY_KIND[self.profile.kind], "demo", 0)

    def sign(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_object(kind, body, self.key, self.kid)


def _register(profile: Profile, out: Path, hub_url: str) -> Actor:
    """What ``partner add`` and ``partner add-key`` do (hub.admin), plus the partner's own key and .env file."""
    creds = admin.add_partner(profile.id, profile.kind, profile.name, profile.carriers)
    key = generate_private_key()
    kid = f"{profile.id}-demo-1"
    key_path = out / f"{profile.id}.key"
    write_private_key(key_path, key)
    jwk = json.dumps(public_jwk(key.public_key(), kid), indent=2) + "\n"
    write_atomically(out / f"{profile.id}.pub.jwk", jwk.encode())
    admin.add_partner_key(profile.id, kid, key.public_key())
    env = {
        "TANGKAL_HUB_URL": hub_url,
        "TANGKAL_PARTNER": profile.id,
        "TANGKAL_CLIENT_ID": creds.client_id,
        "TANGKAL_CLIENT_SECRET": creds.client_secret,
        "TANGKAL_KEY": str(key_path.resolve()),
        "TANGKAL_KID": kid,
    }
    text = "".join(f"{k}={v}\n" for k, v in env.items())
    write_atomically(out / f"{profile.id}.env", text.encode(), mode=0o600, exact_mode=True)
    return Actor(profile, creds.client_id, creds.client_secret, kid, key)


class World:
    """The simulation: an event queue in time order, run against the hub's functions."""

    def __init__(
        self,
        actors: dict[str, Actor],
        clock: Clock,
        start: datetime,
        end: datetime,
        rng: random.Random,
        life_rng: random.Random | None = None,
    ) -> None:
        self.actors, self.clock, self.start, self.end, self.rng = actors, clock, start, end, rng
        #: the numbers' lifecycle draws from its own generator, so the rest of a seed's world stays as it was
        self.life_rng = life_rng or random.Random(0)
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.order = 0
        self.used: set[str] = set()
        self.blocks: dict[str, tuple[str, str, datetime]] = {}  # ministry block id -> (number, carrier, accepted at)
        self.lifted: dict[str, datetime] = {}
        self.by_number: dict[str, list[str]] = {}  # number -> every block accepted for it
        self.recycled: dict[str, datetime] = {}  # number -> when it was reassigned
        self.stats: dict[str, int] = {
            "records": 0,
            "unblocks": 0,
            "rereports": 0,
            "acks": 0,
            "late_or_never": 0,
            "attestations": 0,
            "mismatches": 0,
            "reports": 0,
            "recycled": 0,
            "lifted_by_hub": 0,
            "stale_refused": 0,
        }

    # -- scheduling -------------------------------------------------------------
    def at(self, when: datetime, action: Callable[[], None]) -> None:
        if self.start <= when <= self.end:
            self.order += 1
            heapq.heappush(self.queue, (when, self.order, action))

    def run(self) -> None:
        while self.queue:
            when, _order, action = heapq.heappop(self.queue)
            self.clock.freeze(when)
            action()
        db.session.remove()

    def wib(self, day: int, hour: float) -> datetime:
        midnight = datetime.combine(self.start.astimezone(WIB).date(), datetime.min.time(), WIB)
        return (midnight + timedelta(days=day, hours=hour)).astimezone(UTC)

    # -- numbers and records ----------------------------------------------------
    def number(self, carrier: str | None = None) -> tuple[str, str | None]:
        names = list(PREFIXES)
        while True:
            if carrier is None and self.rng.random() < 0.03:
                raw, home = self.rng.choice(FOREIGN) + f"{self.rng.randrange(10**7):07d}", None
            else:
                home = carrier or self.rng.choices(names, [PREFIXES[n][1] for n in names])[0]
                raw = self.rng.choice(PREFIXES[home][0]) + f"{self.rng.randrange(10**8):08d}"[: self.rng.choice((7, 8))]
            parsed = phonenumbers.parse(raw, "ID")
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if phonenumbers.is_valid_number(parsed) and e164 not in self.used:
                self.used.add(e164)
                return e164, home

    def body(
        self,
        issuer: str,
        number: str,
        category: str,
        channels: tuple[str, ...],
        reason: str,
        complaints: int,
        rng: random.Random | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        now = self.clock.now()
        rng = rng or self.rng
        body: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "issuer": issuer,
            "number": number,
            "action": "block",
            "category": category,
            "channels": list(channels),
            "reason": reason,
            "evidence": {"complaints": complaints, "ref": f"ADN-{now:%Y}-{rng.randrange(10**6):06d}"},
            "confidence": rng.randrange(70, 99),
            "observed_at": format_ts(now - timedelta(hours=rng.uniform(2, 72))),
            "issued_at": format_ts(now),
            "expires_at": None,
            "supersedes": None,
        }
        body.update(extra)
        return body

    def push(self, actor: Actor, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = ingest.push(actor.caller, [actor.sign("record", b) for b in bodies])
        for body, result in zip(bodies, results, strict=True):
            if result["status"] != "accepted":
                raise click.ClickException(f"demo record refused: {result.get('error')}")
            self.stats["records"] += 1
            if body["action"] == "block":
                self.by_number.setdefault(body["number"], []).append(body["id"])
        return results

    # -- what happens ------------------------------------------------------------
    def ministry_batch(self) -> None:
        bodies = []
        for _ in range(self.rng.randint(3, 9)):
            category, channels, reason = self.rng.choices(SCAMS, WEIGHTS)[0]
            number, home = self.number()
            bodies.append(self.body("kominfo", number, category, channels, reason, self.rng.randint(3, 80)))
            self.blocks[bodies[-1]["id"]] = (number, home or "", self.clock.now())
        self.push(self.actors["kominfo"], bodies)

    def partner_batch(self, actor: Actor) -> None:
        own = actor.profile.carriers[0] if actor.profile.carriers else None
        reasons = {
            "operator": (
                "spam",
                ("voice", "sms"),
                "SIM box detected: thousands of short outgoing calls a day, no incoming",
            ),
            "ott": ("account_takeover", ("messaging",), "Banned after user reports of OTP-phishing messages"),
        }
        category, channels, reason = reasons[actor.profile.kind]
        bodies = [
            self.body(actor.profile.id, self.number(own)[0], category, channels, reason, self.rng.randint(5, 40))
            for _ in range(self.rng.randint(1, 3))
        ]
        self.push(actor, bodies)

    def unblock(self) -> None:
        now = self.clock.now()
        old = [
            rid for rid, (_n, _c, t) in self.blocks.items() if rid not in self.lifted and now - t > timedelta(days=2)
        ]
        if not old:
            return
        target = self.rng.choice(sorted(old))
        number = self.blocks[target][0]
        reason = self.rng.choice(
            (
                "Appeal upheld: the number was recycled to a new subscriber",
                "Appeal upheld: complaints traced to caller-ID spoofing of this number",
            )
        )
        body = self.body(
            "kominfo", number, "other", ("voice", "sms", "messaging"), reason, 0, action="unblock", supersedes=target
        )
        self.push(self.actors["kominfo"], [body])
        self.lifted[target] = self.clock.now()
        self.stats["unblocks"] += 1

    def rereport(self) -> None:
        """A new block for a number whose operator said it blocked it: the anomaly the reports show."""
        by_operator = {
            actor.profile.id: sorted(rid for rid in actor.blocked if rid in self.blocks and rid not in self.lifted)
            for actor in self.actors.values()
            if actor.profile.kind == "operator"
        }
        operators = sorted(pid for pid, rids in by_operator.items() if rids)
        if not operators:
            return
        number = self.blocks[self.rng.choice(by_operator[self.rng.choice(operators)])][0]
        body = self.body(
            "kominfo",
            number,
            "scam",
            ("voice", "sms"),
            "Complaints continue after the operator's block",
            self.rng.randint(5, 20),
        )
        self.push(self.actors["kominfo"], [body])
        self.stats["rereports"] += 1

    def recycle(self) -> None:
        """An operator's monthly export: a blocked number, quarantined since its subscription ended, has a new owner.

        The ``disconnected`` event is back-filled (it took effect before
        the quarantine); the ``reassigned`` one takes effect now, so every
        block on the number, issued before it, is lifted by the hub's own
        unblocks, which the partners pull and ack like any other.
        """
        now = self.clock.now()
        homes = {c: a for a in self.actors.values() if a.profile.kind == "operator" for c in a.profile.carriers}
        candidates = sorted(
            rid
            for rid, (number, carrier, _t) in self.blocks.items()
            if carrier in homes and rid not in self.lifted and number not in self.recycled
        )
        if not candidates:
            return
        number, carrier, _t = self.blocks[self.life_rng.choice(candidates)]
        operator = homes[carrier]
        disconnected = (
            now - QUARANTINE - timedelta(days=self.life_rng.uniform(1, 20), hours=self.life_rng.uniform(0, 12))
        )
        bodies = [
            {
                "id": str(uuid.UUID(int=self.life_rng.getrandbits(128), version=4)),
                "operator": operator.profile.id,
                "number": number,
                "event": event,
                "effective_at": format_ts(when),
            }
            for event, when in (("disconnected", disconnected), ("reassigned", now))
        ]
        results = number_events.push(operator.caller, [operator.sign("number_event", b) for b in bodies])
        for result in results:
            if result["status"] != "accepted":
                raise click.ClickException(f"demo number event refused: {result.get('error')}")
        self.recycled[number] = now
        for rid in self.by_number.get(number, []):
            if rid not in self.lifted:
                self.lifted[rid] = now
                self.stats["lifted_by_hub"] += 1
        self.stats["recycled"] += 1
        self.at(now + timedelta(days=self.life_rng.uniform(1, 2)), partial(self.stale_complaint, number))

    def stale_complaint(self, number: str) -> None:
        """A complaint about the number's earlier subscriber, filed late: the hub refuses it (``number-reassigned``)."""
        observed = self.recycled[number] - timedelta(days=self.life_rng.uniform(2, 6))
        category, channels, reason = self.life_rng.choices(SCAMS, WEIGHTS)[0]
        body = self.body("kominfo", number, category, channels, reason, self.life_rng.randint(2, 6), rng=self.life_rng)
        body["observed_at"] = format_ts(observed)
        (result,) = ingest.push(self.actors["kominfo"].caller, [self.actors["kominfo"].sign("record", body)])
        slug = str((result.get("error") or {}).get("type", "")).rsplit(":", 1)[-1]
        if result["status"] != "rejected" or slug != "number-reassigned":
            raise click.ClickException(f"a stale complaint about a reassigned number was not refused: {result}")
        self.stats["stale_refused"] += 1

    def sync(self, actor: Actor) -> None:
        """A partner's periodic job: pull what is new, plan its acks, send the acks now due."""
        while True:
            page = views.pull(actor.caller, actor.cursor, 1000)
            for item in page["items"]:
                if item["assignment"] is not None:
                    self.plan_ack(actor, item["record"])
            actor.cursor = page["next_after"]
            if not page["has_more"]:
                break
        now = self.clock.now()
        due = [(body, number) for when, body, number in actor.due if when <= now]
        actor.due = [entry for entry in actor.due if entry[0] > now]
        if due:
            results = acks.push(actor.caller, [actor.sign("ack", body) for body, _number in due])
            for (body, number), result in zip(due, results, strict=True):
                if result["status"] != "accepted":
                    raise click.ClickException(f"demo ack refused: {result.get('error')}")
                if body["outcome"] == "blocked":
                    actor.blocked[body["record_id"]] = (number, now)
            self.stats["acks"] += len(due)
        self.at(now + timedelta(hours=actor.profile.sync_hours * self.rng.uniform(0.8, 1.2)), partial(self.sync, actor))

    def plan_ack(self, actor: Actor, record: dict[str, Any]) -> None:
        p, rng = actor.profile, self.rng
        roll = rng.random()
        if roll > 1 - p.never:
            self.stats["late_or_never"] += 1
            return  # never acked: overdue in the reports
        late = roll > p.on_time
        self.stats["late_or_never"] += int(late)
        delay = timedelta(hours=rng.uniform(26, 60) if late else rng.uniform(0.2, 20))
        if record["action"] == "unblock":
            was_blocked = record["supersedes"] in actor.blocked
            outcome, reason = (
                ("unblocked", None) if was_blocked else ("not_applicable", "Nothing was blocked for this number")
            )
            actor.blocked.pop(record["supersedes"], None)
        else:
            pick = rng.random()
            if pick < p.blocked:
                outcome, reason = "blocked", None
            elif pick < p.blocked + p.rejected:
                outcome, reason = "rejected", "Registered corporate line (bank call centre); escalated to the ministry"
            else:
                outcome, reason = "not_applicable", rng.choice(p.not_applicable)
        acted = self.clock.now() + delay
        body = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "record_id": record["id"],
            "partner": p.id,
            "outcome": outcome,
            "reason": reason,
            "acted_at": format_ts(acted),
        }
        actor.due.append((acted, body, record["number"]))

    def attest(self, actor: Actor, wrong: bool = False) -> None:
        """What the partner blocks now; ``wrong``: its switch lost one rule and holds one it was never sent."""
        now = self.clock.now()
        numbers = sorted({n for rid, (n, t) in actor.blocked.items() if t <= now and rid not in self.lifted})
        if wrong:
            numbers = numbers[1:] + [self.number(actor.profile.carriers[0] if actor.profile.carriers else None)[0]]
        body = {
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "partner": actor.profile.id,
            "as_of": format_ts(now),
            "blocked_count": len(numbers),
            "blocked_set_sha256": hashlib.sha256("\n".join(numbers).encode()).hexdigest(),
        }
        result, _status = attest(actor.caller, actor.sign("attestation", body))
        self.stats["attestations"] += 1
        self.stats["mismatches"] += int(not result["match"])

    def report(self, day: int) -> None:
        day_date = self.start.astimezone(WIB).date() + timedelta(days=day)
        service.ensure(periods.daily(day_date))
        self.stats["reports"] += 1

    # -- the plan ----------------------------------------------------------------
    def plan(self, days: int) -> None:
        rng = self.rng
        for actor in self.actors.values():
            if actor.profile.kind != "ministry":
                self.at(self.start + timedelta(minutes=rng.uniform(5, 60)), partial(self.sync, actor))
        for day in range(days + 1):
            weekend = self.wib(day, 12).astimezone(WIB).weekday() >= 5
            for _ in range(rng.randint(1, 2) if weekend else rng.randint(2, 4)):
                self.at(self.wib(day, rng.uniform(8, 18)), self.ministry_batch)
            for actor in self.actors.values():
                if actor.profile.id in ("telkomsel", "xl", "whatsapp", "telegram") and rng.random() < 0.15:
                    self.at(self.wib(day, rng.uniform(9, 17)), partial(self.partner_batch, actor))
            if day % 7 == 6:
                for actor in self.actors.values():
                    if actor.profile.kind != "ministry":
                        self.at(self.wib(day, 22), partial(self.attest, actor, self.wrong(actor, day, days)))
            self.at(self.wib(day + 1, 0.1), partial(self.report, day))
        for fraction in (0.3, 0.45, 0.6, 0.75, 0.85):
            self.at(self.wib(int(days * fraction), rng.uniform(9, 16)), self.unblock)
        for fraction in (0.4, 0.65, 0.9):
            self.at(self.wib(int(days * fraction), rng.uniform(10, 15)), self.rereport)
        for fraction in RECYCLE_AT:
            self.at(self.wib(int(days * fraction), self.life_rng.uniform(9, 11)), self.recycle)
        final = self.end - timedelta(minutes=5)
        for actor in self.actors.values():
            if actor.profile.kind != "ministry" and actor.profile.id != LAGGARD:
                self.at(final, partial(self.attest, actor))

    def wrong(self, actor: Actor, day: int, days: int) -> bool:
        """The laggard's last weekly attestation that a daily report covers is the one that does not match."""
        last_weekly = max((d for d in range(days + 1) if d % 7 == 6 and self.wib(d, 24) <= self.end), default=-1)
        return actor.profile.id == LAGGARD and day == last_weekly


def serving_url() -> str:
    """The URL ``make run`` serves on: ``http://HOST:PORT`` (gunicorn.conf.py's rule), 127.0.0.1:5000 by default."""
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"  # listening everywhere: this machine reaches it on the loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT') or '5000'}"


def _shown(path: Path) -> str:
    """A path as the person who ran the command can type it: relative to where they are, when inside it."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def partner_cli() -> str:
    """How to run the partner CLI from here: ``tangkal`` when this Python installed it, else this Python ``-m partners``.

    ``python -m partners`` alone fails outside the repository's virtualenv;
    the interpreter running this command is the one that has the packages.
    """
    script = Path(sys.executable).with_name("tangkal")
    if script.is_file() and shutil.which("tangkal") == str(script):
        return "tangkal"
    return f"{_shown(Path(sys.executable))} -m partners"


@click.command("demo")
@click.option("--days", type=click.IntRange(3, 90), default=28, show_default=True, help="Weeks of history, in days.")
@click.option("--seed", type=int, default=2026, show_default=True, help="The same seed makes the same world.")
@click.option(
    "--hub-url",
    default=None,
    help="URL written into the partners' .env files [HUB_URL, else http://HOST:PORT as make run serves].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo partners' keys and credentials go [instance/demo].",
)
@with_appcontext
def demo_command(days: int, seed: int, hub_url: str | None, out_dir: Path | None) -> None:
    """Build a demo world (partners, weeks of records, acks, attestations, reports) in this hub's database."""
    ids = [p.id for p in PROFILES]
    existing = sorted(pid for pid in ids if db.session.get(Partner, pid) is not None)
    if len(existing) == len(ids):
        click.echo("the demo world already exists (partners " + ", ".join(ids) + "); nothing done")
        return
    if existing:
        raise click.ClickException(
            f"partners {', '.join(existing)} exist but were not all made by the demo; run it on an empty hub"
        )
    out = out_dir or Path(current_app.instance_path) / "demo"
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = (hub_url or current_app.config.get("HUB_URL") or serving_url()).rstrip("/")
    rng = random.Random(seed)
    clock = clock_of(current_app._get_current_object())  # type: ignore[attr-defined]
    end = clock.now() - timedelta(minutes=30)
    start = datetime.combine((end - timedelta(days=days)).astimezone(WIB).date(), datetime.min.time(), WIB)
    start_utc = start.astimezone(UTC)
    ensure_key(current_app._get_current_object())  # type: ignore[attr-defined]
    clock.freeze(start_utc)
    try:
        actors = {p.id: _register(p, out, url) for p in PROFILES}
        world = World(actors, clock, start_utc, end, rng, random.Random(seed + 13))
        world.plan(days)
        world.run()
    finally:
        clock.resume()
    s = world.stats
    click.echo(
        f"demo world ready: {len(actors)} partners, {s['records']:,} records ({s['unblocks']} unblocks, "
        f"{s['rereports']} re-reports), {s['acks']:,} acks ({s['late_or_never']} late or never), "
        f"{s['attestations']} attestations ({s['mismatches']} mismatch), {s['reports']} daily reports, "
        f"{s['recycled']} numbers reassigned ({s['lifted_by_hub']} block{'' if s['lifted_by_hub'] == 1 else 's'} "
        f"lifted by the hub, {s['stale_refused']} stale complaint{'' if s['stale_refused'] == 1 else 's'} refused)"
    )
    folder, cli = _shown(out), partner_cli()
    click.echo(f"credentials and keys (0600): {folder}/<partner>.env, {folder}/<partner>.key; hub URL {url}")
    click.echo(f"act as one (with the hub serving at {url}: make run):")
    click.echo(f"  (set -a; . {folder}/telkomsel.env; set +a; {cli} pull --out telkomsel.jsonl)")
    click.echo(f"  (set -a; . {folder}/kominfo.env; set +a; {cli} reports show latest)")
    if world.recycled:
        numbers = sorted(world.recycled)
        write_atomically(out / "recycled.txt", "".join(f"{n}\n" for n in numbers).encode())
        click.echo(f"numbers given to new subscribers (the hub lifted their blocks): {folder}/recycled.txt")
        click.echo(
            f"  (set -a; . {folder}/whatsapp.env; set +a; {cli} reassigned {folder}/recycled.txt "
            f"--since {start.date().isoformat()})"
        )
