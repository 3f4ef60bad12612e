"""What the national-scale benchmarks share: a hub under gunicorn, a lean client, fills, baselines.

Issue 10 measures the hub from outside, as a partner sees it: each script
builds a throwaway migrated hub (``_common.bench_hub``: a SQLite file in a
temporary folder, or a fresh PostgreSQL schema), registers partners through
``hub.admin``, starts gunicorn on it with 1 or 2 workers (``serve``), and
talks HTTP/1.1 keep-alive to it (``Client``: ``http.client``, the thinnest
client the standard library has, so the client's own cost stays small next
to the hub's; the client runs on the same 2 cores).

States are filled through the API (``fill_api``: signed batches of 1000,
exactly what a partner sends) or, for the 1,000,000-record states, through
the hub's own write path in bulk (``fill_bulk``): candidates are built the
way ``hub.records.ingest`` builds them (checked against it for a sample),
then stored by ``RecordJudge.store``, the function a push calls inside its
write transaction, 5,000 at a time. The rows, log leaves, Merkle nodes and
stored receipts are therefore the service's own; ``check_fill`` then pulls
a sample through the API and verifies signatures, receipts and the log
root.

``--hub-root DIR`` serves another checkout of the hub (say, the commit
before a change, unpacked with ``git archive``) on the same kind of
database, so before and after figures come from the same script.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson  # noqa: E402
from _common import ROOT, BenchHub
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from keys.b64 import b64u_encode  # noqa: E402
from keys.jcs import canonicalize  # noqa: E402
from tests.support import PartnerCreds, basic_auth, free_port, register_partner  # noqa: E402
from tests.support import record_body as support_record_body  # noqa: E402

# --- serving --------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    host: str
    port: int
    workers: int
    proc: subprocess.Popen[bytes]
    log_path: Path


def hub_env(hub: BenchHub, workers: int, threads: int = 4) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": hub.url,
        "HUB_KEYS_DIR": str(hub.app.config["HUB_KEYS_DIR"]),
        "TANGKAL_INSTANCE": str(hub.tmp / "instance"),
        "SCHEDULER_ENABLED": "0",
        "RATELIMIT_DEFAULT": "100000000 per minute",
        "RATELIMIT_TOKEN": "100000 per minute",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
    }


@contextlib.contextmanager
def serve(hub: BenchHub, workers: int, root: Path = ROOT, threads: int = 4) -> Iterator[Served]:
    """gunicorn (``root``'s gunicorn.conf.py and wsgi:app) on ``hub``'s database, stopped on exit."""
    port = free_port()
    env = hub_env(hub, workers, threads)
    env["HOST"], env["PORT"] = "127.0.0.1", str(port)
    env["PYTHONPATH"] = str(root)
    log_path = hub.tmp / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", "127.0.0.1", port, workers, proc, log_path)
    try:
        _wait_ready(served)
        yield served
    finally:
        proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: nothing is in flight any more
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_ready(served: Served, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited {served.proc.returncode}: {served.log_path.read_text()[-2000:]}")
        try:
            c = Client(served)
            # every worker must be up: ask more times than there are workers
            if all(c.get("/readyz")[0] == 200 for _ in range(served.workers * 4)):
                c.close()
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"hub not ready after {timeout} s: {served.log_path.read_text()[-2000:]}")


class Client:
    """One keep-alive HTTP/1.1 connection (``http.client``); reconnects once if the server closed it."""

    def __init__(self, served: Served, timeout: float = 300.0) -> None:
        self.host, self.port, self.timeout = served.host, served.port, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        hdrs = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return self.request("GET", path, None, headers)

    def post_json(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return self.request("POST", path, body, {**headers, "Content-Type": "application/json"})

    def close(self) -> None:
        self.conn.close()


def token(served: Served, creds: PartnerCreds) -> dict[str, str]:
    """Bearer headers for ``creds`` (client_secret_basic)."""
    c = Client(served)
    status, data = c.request(
        "POST",
        "/oauth/token",
        b"grant_type=client_credentials",
        {**basic_auth(creds), "Content-Type": "application/x-www-form-urlencoded"},
    )
    c.close()
    if status != 200:
        raise RuntimeError(f"token refused: {status} {data[:300]!r}")
    return {"Authorization": "Bearer " + json.loads(data)["access_token"]}


# --- timing ---------------------------------------------------------------------------


def percentile(xs: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    rank = max(1, min(len(s), int(-(-q * len(s) // 100))))
    return s[rank - 1]


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.wall if self.wall else float("nan")

    @property
    def p50_ms(self) -> float:
        return percentile(self.seconds, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.seconds, 99) * 1000


def sequential(call: Callable[[int], None], count: int) -> Latencies:
    """``call(i)`` ``count`` times back to back; each call's latency and the wall time."""
    out = Latencies()
    t_start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        call(i)
        out.seconds.append(time.perf_counter() - t0)
    out.wall = time.perf_counter() - t_start
    return out


def concurrently(calls: Sequence[Callable[[], Any]]) -> tuple[float, list[Any]]:
    """Run each callable in its own thread, started together; wall time and results."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(calls) + 1)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return wall, results


def healthz_baseline(served: Served, count: int) -> Latencies:
    c = Client(served)
    for _ in range(20):
        c.get("/healthz")

    def call(_: int) -> None:
        status, _body = c.get("/healthz")
        if status != 200:
            raise RuntimeError(f"healthz answered {status}")

    out = sequential(call, count)
    c.close()
    return out


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start"


def load_note() -> str:
    load = os.getloadavg()[0]
    busy = " (the machine is busy: figures may be disturbed, run again when it is quiet)" if load > 1.5 else ""
    return f"1-minute load average {load:.2f}{busy}"


# --- partners -------------------------------------------------------------------------

#: bench_hub overrides for every live benchmark: partners' client secrets hashed with cheap Argon2id
#: parameters (the hash names them, so the served hub verifies them as it would any other), since
#: registering partners is not what is measured
HUB_OVERRIDES = {"SECRET_HASH_FAST": True}


@dataclass
class World:
    ministry: PartnerCreds
    telkomsel: PartnerCreds
    indosat: PartnerCreds
    otts: list[PartnerCreds]

    @property
    def all(self) -> list[PartnerCreds]:
        return [self.ministry, self.telkomsel, self.indosat, *self.otts]


def register_world(hub: BenchHub, otts: int = 2) -> World:
    """The ministry, two operators with their carriers, ``otts`` OTT providers (hub.admin)."""
    app = hub.app
    return World(
        ministry=register_partner(app, "kominfo", "ministry"),
        telkomsel=register_partner(app, "telkomsel", "operator", ["Telkomsel"]),
        indosat=register_partner(app, "indosat", "operator", ["Indosat Ooredoo Hutchison"]),
        otts=[register_partner(app, f"ott-{chr(ord('a') + i)}", "ott") for i in range(otts)],
    )


# --- records --------------------------------------------------------------------------

#: Telkomsel, Indosat and XL mobile prefixes: every 8-digit tail after them is a valid number
#: (checked for a sample by ``Numbers.check``).
PREFIXES = ("+62812", "+62813", "+62821", "+62815", "+62857", "+62817", "+62859")
HOT_EVERY = 1000  # one record in HOT_EVERY is about the same, often-reported number


class Numbers:
    """Numbers for records: nearly all distinct, one hot number reported again and again."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.hot = "+6281299999999"

    def next(self, i: int) -> str:
        if i % HOT_EVERY == HOT_EVERY - 1:
            return self.hot
        return self.rng.choice(PREFIXES) + f"{self.rng.randrange(10**8):08d}"


def fast_canonical(obj: Any) -> bytes:
    """JCS of the benchmark's own record bodies (ASCII keys, strings and small integers only).

    For such values RFC 8785 is exactly sorted keys without whitespace, which
    orjson writes 30 times faster than the rfc8785 package; ``check_canonical``
    compares the two on a sample of every fill.
    """
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def check_canonical(samples: Sequence[Any]) -> None:
    for s in samples:
        if fast_canonical(s) != canonicalize(s):
            raise RuntimeError(f"the benchmark's canonical form differs from RFC 8785 for {s!r}")


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def record_body(issuer: str, number: str, issued: str) -> dict[str, Any]:
    """tests.support's valid block, observed and issued at ``issued``."""
    return support_record_body(issuer, number, observed_at=issued, issued_at=issued)


def analyze(hub: BenchHub) -> None:
    """PostgreSQL after a bulk load: what autovacuum would have done (planner statistics, visibility map)."""
    if hub.dialect != "postgresql":
        return
    import sqlalchemy as sa

    engine = sa.create_engine(hub.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM (ANALYZE)"))
    engine.dispose()


def sign_fast(creds: PartnerCreds, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The signed envelope and the JCS bytes of its record member."""
    message = fast_canonical(body)
    key: Ed25519PrivateKey = creds.private_key
    sig = {"alg": "Ed25519", "kid": creds.kid, "value": b64u_encode(key.sign(message))}
    return {"record": body, "signature": sig}, message


def signed_batches(creds: PartnerCreds, numbers: Numbers, count: int, size: int, start: int = 0) -> list[bytes]:
    """Push bodies of ``size`` signed records each (``count`` records in all), signed before any clock starts."""
    issued = iso(datetime.now(UTC) - timedelta(minutes=1))
    out: list[bytes] = []
    samples: list[Any] = []
    for b in range(0, count, size):
        records = []
        for i in range(start + b, start + min(count, b + size)):
            env, _ = sign_fast(creds, record_body(creds.id, numbers.next(i), issued))
            records.append(env)
        samples.append(records[0])
        out.append(orjson.dumps({"records": records}))
    check_canonical(samples[:5])
    return out


def push_batch(client: Client, headers: dict[str, str], body: bytes) -> int:
    status, data = client.post_json("/v1/records", body, headers)
    if status != 200:
        raise RuntimeError(f"push answered {status}: {data[:300]!r}")
    results = orjson.loads(data)["results"]
    bad = [r for r in results if r["status"] != "accepted"]
    if bad:
        raise RuntimeError(f"{len(bad)} items not accepted; first: {bad[0]}")
    return len(results)


def fill_api(served: Served, creds: PartnerCreds, numbers: Numbers, count: int, start: int = 0) -> float:
    """Push ``count`` records through the API in batches of 1000; seconds taken (signing excluded)."""
    headers = token(served, creds)
    client = Client(served)
    bodies = signed_batches(creds, numbers, count, 1000, start)
    t0 = time.perf_counter()
    for body in bodies:
        push_batch(client, headers, body)
    client.close()
    return time.perf_counter() - t0


def fill_bulk(hub: BenchHub, world: World, numbers: Numbers, count: int, start: int = 0, chunk: int = 5000) -> float:
    """``count`` records stored by the push's own write path (``RecordJudge.store``), ``chunk`` per transaction.

    The issuer is the ministry; candidates carry what ``_judge_alone`` and
    ``with_database`` would give them (checked for a sample). Receipts are
    signed by the store as in a push. Returns the seconds taken.
    """
    from hub.db import db
    from hub.records import ingest
    from hub.records.numbers import check_e164
    from hub.records.routing import RoutingTable

    issuer = world.ministry
    with hub.app.app_context():
        routing = RoutingTable.load()
        info_by_prefix: dict[str, Any] = {}
        judge = ingest.RecordJudge(_caller(issuer))
        t0 = time.perf_counter()
        issued = iso(datetime.now(UTC) - timedelta(minutes=1))
        for base in range(start, start + count, chunk):
            batch: list[ingest.Candidate] = []
            for i in range(base, min(start + count, base + chunk)):
                number = numbers.next(i)
                info = _info(number, info_by_prefix)
                body = record_body(issuer.id, number, issued)
                env, message = sign_fast(issuer, body)
                c = _candidate(len(batch), env, message, info)
                c.assignees = routing.for_block(info)
                batch.append(c)
            if base == start:
                _check_candidates(batch[:20], judge, check_e164)
            judge.anomalies = []
            judge.store(batch)
            db.session.commit()
        return time.perf_counter() - t0


def _caller(creds: PartnerCreds) -> Any:
    from hub.auth.protect import Caller

    scopes = frozenset({"records:write", "records:read"})
    return Caller(creds.id, creds.kind, creds.client_id, scopes, "bench", 0)


def _info(number: str, cache: dict[str, Any]) -> Any:
    """NumberInfo without phonenumbers' per-number cost: the same for every tail of a prefix (checked)."""
    from hub.records.numbers import NumberInfo

    prefix = number[:6] if number != "+6281299999999" else number
    base = cache.get(prefix)
    if base is None:
        from hub.records.numbers import check_e164

        base = cache[prefix] = check_e164(number)
    return NumberInfo(e164=number, region=base.region, carrier=base.carrier)


def _candidate(index: int, env: dict[str, Any], message: bytes, info: Any) -> Any:
    from hub.records import ingest
    from keys.timefmt import parse_ts

    body = env["record"]
    issued_at = parse_ts(body["issued_at"])
    leaf = b'{"record":' + message + b',"signature":' + fast_canonical(env["signature"]) + b"}"
    return ingest.Candidate(
        index,
        env,
        body,
        env["signature"]["kid"],
        info,
        message,
        leaf,
        issued_at,
        issued_at + timedelta(days=365),
    )


def _check_candidates(batch: list[Any], judge: Any, check_e164: Callable[[str], Any]) -> None:
    """The bulk candidates equal what the push's own first stage makes of the same envelopes."""
    for c in batch:
        ref = judge.alone(c.index, c.envelope)
        for name in ("kid", "record_bytes", "leaf", "issued_at", "in_force_until"):
            if getattr(ref, name) != getattr(c, name):
                raise RuntimeError(f"bulk candidate differs from the push's in {name}")
        if check_e164(c.info.e164) != c.info:
            raise RuntimeError(f"bulk number info differs for {c.info.e164}")


def check_fill(served: Served, world: World, expected_size: int, sample: int = 20) -> None:
    """The signed log head has the expected size; a pulled sample verifies (records, receipts)."""
    from keys.jwk import jwk_to_public_key
    from keys.signing import verify_object

    c = Client(served)
    status, data = c.get("/.well-known/jwks.json")
    hub_keys = {k["kid"]: jwk_to_public_key(k) for k in json.loads(data)["keys"]}
    headers = token(served, world.ministry)
    status, data = c.get("/v1/log/head", headers)
    head = json.loads(data)
    if status != 200 or head["tree_head"]["size"] != expected_size:
        raise RuntimeError(f"log head {status} {data[:200]!r}, expected size {expected_size}")
    verify_object(head, "tree_head", hub_keys[head["signature"]["kid"]])
    rng = random.Random(7)
    partner_keys: dict[str, Any] = {}
    for after in sorted(rng.sample(range(max(1, expected_size - 2)), min(sample, max(1, expected_size - 2)))):
        status, data = c.get(f"/v1/records?after={after}&limit=2", headers)
        if status != 200:
            raise RuntimeError(f"pull answered {status}")
        for item in json.loads(data)["items"]:
            issuer = item["record"]["issuer"]
            if issuer not in partner_keys:
                _, kd = c.get(f"/v1/partners/{issuer}/keys")
                partner_keys[issuer] = {k["kid"]: jwk_to_public_key(k) for k in json.loads(kd)["keys"]}
            message = verify_object(
                {"record": item["record"], "signature": item["signature"]},
                "record",
                partner_keys[issuer][item["signature"]["kid"]],
            )
            verify_object(item["receipt"], "receipt", hub_keys[item["receipt"]["signature"]["kid"]])
            r = item["receipt"]["receipt"]
            if r["sha256"] != hashlib.sha256(message).hexdigest() or r["seq"] != item["seq"]:
                raise RuntimeError(f"receipt does not match record {item['record']['id']}")
    c.close()


def stats_line(name: str, lat: Latencies) -> list[str]:
    return [name, f"{lat.rate:,.0f}", f"{lat.p50_ms:.2f}", f"{lat.p99_ms:.2f}", str(len(lat.seconds))]


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")
