"""Helpers for tests that drive real hub processes from real client processes.

``tests/support.py`` starts hubs (``LiveHub``); this module adds what the
concurrency and crash tests share: partner credentials that survive a trip
to another process, valid numbers spread over Indonesia's carriers, a
pusher that runs as its own process (``python -m tests.live_support push``),
a patient pull loop, and a hard kill of a hub's whole process tree.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import requests
from phonenumbers import carrier as pn_carrier

from keys.keyfiles import private_key_from_pem, private_key_to_pem
from tests.support import ROOT, LiveHub, PartnerCreds, basic_auth, bearer, record_body

#: Settings every live hub of these tests runs with. The rate limit is raised
#: because the tests pull with tiny pages as fast as they can: they test the
#: cursor, not the limiter (a 429 is still handled, by waiting).
LIVE_SETTINGS = {"HUB_URL": "http://hub.test", "RATELIMIT_DEFAULT": "1000000 per minute"}

REQUEST_TIMEOUT = 30.0

# National prefixes (after +62) and the home network phonenumbers names for
# them; checked against phonenumbers by ``tests/test_concurrency.py``.
TELKOMSEL_PREFIXES = ("811", "812", "813", "821", "822", "852", "853")
INDOSAT_PREFIXES = ("814", "815", "816", "856", "857", "858")
XL_PREFIXES = ("817", "818", "859", "877")
SMARTFREN_PREFIXES = ("881", "888")
FOREIGN = ("+659", "+6012")  # Singapore, Malaysia: routed to OTT partners only


def live_env(hub_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**hub_env, **LIVE_SETTINGS, **extra}


# --------------------------------------------------------------------------
# Credentials that can be handed to another process


@dataclass
class PartnerSpec:
    id: str
    kind: str
    client_id: str
    client_secret: str
    kid: str
    private_key_pem: str
    carriers: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, creds: PartnerCreds) -> PartnerSpec:
        pem = private_key_to_pem(creds.private_key).decode()
        return cls(creds.id, creds.kind, creds.client_id, creds.client_secret, creds.kid, pem, list(creds.carriers))

    def creds(self) -> PartnerCreds:
        key = private_key_from_pem(self.private_key_pem.encode())
        return PartnerCreds(self.id, self.kind, self.client_id, self.client_secret, self.kid, key, list(self.carriers))


def fetch_token(url: str, creds: PartnerCreds) -> str:
    resp = requests.post(
        url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(creds),
        timeout=REQUEST_TIMEOUT,
    )
    if resp.status_code != 200:
        raise RuntimeError(f"token refused by {url}: {resp.status_code} {resp.text}")
    return str(resp.json()["access_token"])


# --------------------------------------------------------------------------
# Numbers and records


def _valid(e164: str) -> bool:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(parsed)
        and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
    )


#: How a pusher spreads its numbers over home networks, by default.
DEFAULT_MIX = {"telkomsel": 0.35, "indosat": 0.3, "xl": 0.15, "smartfren": 0.1, "foreign": 0.1}
_PREFIXES = {
    "telkomsel": TELKOMSEL_PREFIXES,
    "indosat": INDOSAT_PREFIXES,
    "xl": XL_PREFIXES,
    "smartfren": SMARTFREN_PREFIXES,
}


def random_number(rng: random.Random, mix: dict[str, float] | None = None) -> str:
    """A valid E.164 number whose home network is drawn from ``mix`` (weights by network)."""
    weights = mix or DEFAULT_MIX
    networks = sorted(weights)
    while True:
        network = rng.choices(networks, [weights[n] for n in networks])[0]
        if network == "foreign":
            candidate = rng.choice(FOREIGN) + f"{rng.randrange(10**7):07d}"
        else:
            candidate = "+62" + rng.choice(_PREFIXES[network]) + f"{rng.randrange(10**8):08d}"
        if _valid(candidate):
            return candidate


def home_carrier(e164: str) -> str | None:
    """The carrier phonenumbers names for a number (the protocol's routing key)."""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) != "ID":
        return None
    return pn_carrier.name_for_number(parsed, "en") or None


def signed_records(
    creds: PartnerCreds, count: int, rng: random.Random, mix: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    return [creds.sign("record", record_body(creds.id, random_number(rng, mix))) for _ in range(count)]


# --------------------------------------------------------------------------
# A pusher in its own process


@dataclass
class PushPlan:
    partner: PartnerSpec
    hubs: list[str]
    sizes: list[int]  # one batch of each size, in order
    seed: int
    offset: int = 0  # which hub the first batch goes to (round-robin from there)
    pause: float = 0.0  # mean seconds between batches (randomized), to spread pushes over time
    mix: dict[str, float] | None = None  # home networks of the numbers (DEFAULT_MIX if None)


def push_main(plan_path: str, out_path: str) -> int:
    """Push one batch per ``plan.sizes`` entry, round-robin over the hubs; write every result.

    Prints ``ready`` once it holds a token and waits for a line on stdin, so
    the parent can start every pusher at the same moment. A 429 is waited
    out; a 5xx is never acceptable, but the batch is sent again (pushing the
    same batch twice is safe) and the answer is noted in ``server_errors`` for
    the parent to fail on. Anything else ends the run with ``error`` set.
    """
    raw = json.loads(Path(plan_path).read_text())
    plan = PushPlan(**{**raw, "partner": PartnerSpec(**raw["partner"])})
    creds = plan.partner.creds()
    rng = random.Random(plan.seed)
    batches = [signed_records(creds, size, rng, plan.mix) for size in plan.sizes]
    token = fetch_token(plan.hubs[0], creds)
    print("ready", flush=True)
    sys.stdin.readline()
    out: dict[str, Any] = {"partner": creds.id, "batches": [], "server_errors": [], "error": None}
    session = requests.Session()
    started = time.monotonic()
    try:
        for i, batch in enumerate(batches):
            if i and plan.pause:
                time.sleep(rng.uniform(0, 2 * plan.pause))
            url = plan.hubs[(plan.offset + i) % len(plan.hubs)]
            retried = False
            for _attempt in range(20):
                try:
                    resp = session.post(
                        url + "/v1/records", json={"records": batch}, headers=bearer(token), timeout=REQUEST_TIMEOUT
                    )
                except requests.ConnectionError:
                    # A kept-alive connection the hub closed while idle (gunicorn's keepalive is 2 s;
                    # this pusher alternates hubs and pauses): sent again, as any client would,
                    # since pushing the same batch twice is safe.
                    retried = True
                    continue
                if resp.status_code == 429:
                    time.sleep(min(float(resp.headers.get("Retry-After", "1")), 2.0))
                elif resp.status_code >= 500:
                    out["server_errors"].append(f"batch {i} on {url}: {resp.status_code} {resp.text[:300]}")
                    retried = True
                    time.sleep(0.05)
                else:
                    break
            if resp.status_code != 200:
                out["error"] = f"batch {i} on {url}: {resp.status_code} {resp.text[:2000]}"
                break
            out["batches"].append({"hub": url, "records": batch, "results": resp.json()["results"], "retried": retried})
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.monotonic() - started
    Path(out_path).write_text(json.dumps(out))
    return 0


def write_plan(path: Path, plan: PushPlan) -> None:
    path.write_text(json.dumps({**asdict(plan), "partner": asdict(plan.partner)}))


def start_pusher(plan_path: Path, out_path: Path, log_path: Path) -> subprocess.Popen[str]:
    """Start ``push_main`` in its own Python process; it prints ``ready``, then waits for a line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "tests.live_support", "push", str(plan_path), str(out_path)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )


# --------------------------------------------------------------------------
# Pulling


def get_json(
    session: requests.Session,
    url: str,
    token: str,
    deadline: float,
    server_errors: list[str] | None = None,
    **params: Any,
) -> requests.Response:
    """GET with a deadline; waits out 429s, returns any other answer.

    With ``server_errors``, a 5xx is noted there and the request sent again
    (at most 5 times): a 500 is always a bug, but the caller may want to
    finish checking what it came for and fail on the list at the end.
    """
    attempts = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"GET {url} {params} still unanswered at the deadline")
        try:
            resp = session.get(url, params=params, headers=bearer(token), timeout=REQUEST_TIMEOUT)
        except requests.ConnectionError:
            if attempts >= 5:
                raise
            attempts += 1  # a dropped keep-alive connection: the same cursor again is safe
            time.sleep(0.05)
            continue
        if resp.status_code == 429:
            time.sleep(min(float(resp.headers.get("Retry-After", "1")), 2.0))
        elif resp.status_code >= 500 and server_errors is not None and attempts < 5:
            server_errors.append(f"GET {url} {params}: {resp.status_code} {resp.text[:300]}")
            attempts += 1
            time.sleep(0.05)
        else:
            return resp


def pull_all(
    session: requests.Session,
    url: str,
    token: str,
    deadline: float,
    limit: int = 1000,
    server_errors: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Everything visible, from after=0 until has_more is false."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        resp = get_json(session, url + "/v1/records", token, deadline, server_errors, after=after, limit=limit)
        if resp.status_code != 200:
            raise AssertionError(f"pull after={after}: {resp.status_code} {resp.text}")
        page = resp.json()
        items += page["items"]
        after = page["next_after"]
        if not page["has_more"]:
            return items


# --------------------------------------------------------------------------
# Killing a hub the hard way


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :].split()[0] in ("Z", "X")


def kill_hard(hub: LiveHub, timeout: float = 10.0) -> list[int]:
    """SIGKILL the gunicorn master and its workers, as a power cut would.

    ``LiveHub.kill()`` alone kills only the master; its workers would notice
    the orphaning a second later and finish their requests gracefully, which
    is no crash at all. The master dies first so it cannot fork replacements.
    """
    workers = _children(hub.proc.pid)
    os.kill(hub.proc.pid, signal.SIGKILL)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    hub.kill()  # reaps the master
    hub.log.close()
    deadline = time.monotonic() + timeout
    while not all(_gone(p) for p in workers):
        if time.monotonic() > deadline:
            raise RuntimeError(f"hub workers {workers} survived SIGKILL")
        time.sleep(0.05)
    return workers


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "push":
        sys.exit(push_main(sys.argv[2], sys.argv[3]))
    sys.exit(f"usage: {sys.argv[0]} push <plan.json> <out.json>")
