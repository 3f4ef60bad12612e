"""``HubClient``: everything a partner does with the hub, each answer verified.

One object per partner process. It holds the OAuth session (tokens fetched
and re-fetched by authlib), the hub's and partners' public keys, and the
retry policy. Every receipt it returns has been checked against the hub's
JWKS and the object it describes; every pulled or looked-up record against
its receipt and its issuer's key; every tree head and proof against the
hub's key and the log's hashes. A check that fails raises
:class:`~partners.errors.VerificationFailed`: the SDK never hands out
something it could not verify.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.jcs import canonicalize
from keys.merkle import leaf_hash
from keys.timefmt import format_ts
from partners import builders
from partners.auth import Credentials
from partners.errors import ConfigError, HubProblem, ItemRejected, VerificationFailed, item_rejected
from partners.fields import BadField, since_value, timestamp
from partners.numbers import BadNumber, number_sha256, to_e164
from partners.results import (
    ACCEPTED,
    ANSWERS,
    DUPLICATE,
    REJECTED,
    VALID,
    AttestationResult,
    PullPage,
    PushResult,
    Reassignment,
)
from partners.retry import RetryPolicy
from partners.transport import DEFAULT_TIMEOUT, Transport
from partners.trust import Trust

MAX_BATCH = 1000
MAX_PULL = 1000


class HubClient:
    """A partner's connection to the hub (PROTOCOL.md sections 3-7).

    ``client_secret`` selects ``client_secret_basic``; without it,
    ``private_key`` and ``kid`` authenticate with ``private_key_jwt``. The
    same key signs records, acks and attestations. ``partner`` is read from
    ``/v1/whoami`` when not given.
    """

    def __init__(
        self,
        hub_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        private_key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
        partner: str | None = None,
        auth_method: str | None = None,
        scope: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        token_leeway: int = 30,
    ) -> None:
        credentials = Credentials(client_id, client_secret, private_key, kid, auth_method)
        self.transport = Transport(
            hub_url, credentials, scope=scope, retry=retry, timeout=timeout, token_leeway=token_leeway
        )
        self.trust = Trust(self.transport)
        self.private_key = private_key
        self.kid = kid
        self._partner = partner

    @property
    def session(self) -> Any:
        """The underlying authlib/requests session (mount adapters on it, e.g. for proxies)."""
        return self.transport.session

    # -- identity ------------------------------------------------------------
    def fetch_token(self) -> dict[str, Any]:
        """A fresh access token (``access_token``, ``expires_in``, ``scope``, ``expires_at``)."""
        return self.transport.fetch_token()

    def whoami(self) -> dict[str, Any]:
        result: dict[str, Any] = self.transport.get_json("/v1/whoami")
        return result

    @property
    def partner(self) -> str:
        """This client's partner id (asked of the hub once when not configured)."""
        if self._partner is None:
            self._partner = str(self.whoami()["partner"])
        return self._partner

    def sign(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Sign a body with this partner's key."""
        if self.private_key is None or not self.kid:
            raise ConfigError("signing needs the partner's private key and kid (TANGKAL_KEY, TANGKAL_KID)")
        return builders.sign(kind, body, self.private_key, self.kid)

    # -- push ----------------------------------------------------------------
    def push_records(self, signed: list[dict[str, Any]], dry_run: bool = False) -> list[PushResult]:
        """Push up to 1000 signed records in one request; results in order, receipts verified.

        ``dry_run``: the hub judges every record exactly as it would and keeps
        nothing; a record it would accept comes back ``valid`` (no receipt).
        """
        return self._push("/v1/records", "records", "record", signed, dry_run)

    def push_acks(self, signed: list[dict[str, Any]], dry_run: bool = False) -> list[PushResult]:
        """Push up to 1000 signed acks in one request; results in order, receipts verified (``dry_run`` as above)."""
        return self._push("/v1/acks", "acks", "ack", signed, dry_run)

    def push_number_events(self, signed: list[dict[str, Any]], dry_run: bool = False) -> list[PushResult]:
        """Push up to 1000 signed number events (operators, scope ``numbers:write``); receipts verified."""
        return self._push("/v1/number-events", "number_events", "number_event", signed, dry_run)

    def number_events(
        self, events: Iterable[dict[str, Any]], dry_run: bool = False, batch_size: int = MAX_BATCH
    ) -> list[PushResult]:
        """Sign and push this operator's number events (PROTOCOL.md section 10); one result per event, in order.

        Each event is a signed envelope (sent as it is) or a body
        ``{"number", "event", "effective_at"[, "id"]}``: ``number`` in any
        form phonenumbers reads with region ID (made E.164 here, before
        signing), ``event`` ``disconnected`` or ``reassigned``,
        ``effective_at`` a datetime, a protocol timestamp, or a date alone
        (``2026-12-01``: 00:00 Jakarta time). The id is derived from the
        event's content unless given, so sending the same events again is
        answered ``duplicate``. Events go in batches of up to 1000, one
        request at a time. A body that cannot become an event raises
        ``ValueError`` (:class:`~partners.numbers.BadNumber` for the number)
        before anything is sent; the hub's refusals are per item.
        """
        signed = [self._number_event(event) for event in events]
        out: list[PushResult] = []
        for batch in self.push_batches(signed, "number_event", batch_size, dry_run=dry_run):
            out.extend(batch)
        return out

    def _number_event(self, event: dict[str, Any]) -> dict[str, Any]:
        if "number_event" in event and "signature" in event:
            return event
        unknown = set(event) - {"id", "operator", "number", "event", "effective_at"}
        if unknown:
            raise ValueError(f"a number event has no member {', '.join(sorted(unknown))}")
        if event.get("operator") not in (None, self.partner):
            raise ValueError(f"operator {event['operator']!r} is not this client's partner ({self.partner!r})")
        when = event.get("effective_at")
        try:
            effective_at = format_ts(when) if isinstance(when, datetime) else timestamp(when, "effective_at")
        except BadField as exc:
            raise ValueError(str(exc)) from None
        body = builders.number_event_body(
            self.partner,
            to_e164(str(event.get("number") or "")),
            str(event.get("event")),
            effective_at,
            event_id=event.get("id"),
        )
        return self.sign("number_event", body)

    def push_batches(
        self,
        signed: Iterable[dict[str, Any]],
        kind: str = "record",
        batch_size: int = MAX_BATCH,
        dry_run: bool = False,
    ) -> Iterator[list[PushResult]]:
        """Push any number of signed records (acks, number events) in batches, yielding each batch's results."""
        if not 1 <= batch_size <= MAX_BATCH:
            raise ConfigError(f"batch size must be 1 to {MAX_BATCH}, not {batch_size}")
        send = self.sender(kind)

        def push(batch: list[dict[str, Any]]) -> list[PushResult]:
            return send(batch, dry_run=dry_run)

        batch: list[dict[str, Any]] = []
        for envelope in signed:
            batch.append(envelope)
            if len(batch) == batch_size:
                yield push(batch)
                batch = []
        if batch:
            yield push(batch)

    def sender(self, kind: str) -> Callable[..., list[PushResult]]:
        """The one-batch push of ``kind`` (``record``, ``ack``, ``number_event``)."""
        senders = {"record": self.push_records, "ack": self.push_acks, "number_event": self.push_number_events}
        if kind not in senders:
            raise ConfigError(f"nothing is pushed of kind {kind!r}")
        return senders[kind]

    def _push(
        self, path: str, member: str, kind: str, signed: list[dict[str, Any]], dry_run: bool = False
    ) -> list[PushResult]:
        if not 1 <= len(signed) <= MAX_BATCH:
            raise ConfigError(f"a batch holds 1 to {MAX_BATCH} items, not {len(signed)}")
        _status, answer = self.transport.post_json(
            path, {member: signed}, params={"dry_run": "true"} if dry_run else None
        )
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(signed):
            raise VerificationFailed(f"{path} answered {len(results or [])} results for {len(signed)} items")
        out = []
        for envelope, result in zip(signed, results, strict=True):
            out.append(self._result(kind, envelope, result, dry_run))
        return out

    def _result(self, kind: str, envelope: dict[str, Any], result: dict[str, Any], dry_run: bool) -> PushResult:
        sent_id = envelope.get(kind, {}).get("id") if isinstance(envelope.get(kind), dict) else None
        status = result.get("status")
        if result.get("id") != sent_id:
            raise VerificationFailed(f"the hub answered for {result.get('id')!r} where {sent_id!r} was sent")
        if status == VALID and dry_run:
            return PushResult(sent_id, VALID, envelope)
        if status == ACCEPTED and dry_run:
            raise VerificationFailed(f"{kind} {sent_id} was accepted by a dry run: the hub ignored dry_run")
        if status in (ACCEPTED, DUPLICATE):
            receipt = result.get("receipt")
            if not isinstance(receipt, dict):
                raise VerificationFailed(f"{kind} {sent_id} was {status} without a receipt")
            self.trust.receipt(receipt, envelope)
            return PushResult(sent_id, status, envelope, receipt=receipt)
        if status == REJECTED:
            return PushResult(sent_id, REJECTED, envelope, error=item_rejected(result.get("error")))
        raise VerificationFailed(f"unknown status {status!r} for {kind} {sent_id}")

    # -- pull and look-ups ---------------------------------------------------
    def pull(self, after: int = 0, limit: int = 100) -> PullPage:
        """One page of the records visible to this partner with ``seq > after``, every item verified."""
        if not 1 <= limit <= MAX_PULL:
            raise ConfigError(f"limit must be 1 to {MAX_PULL}, not {limit}")
        page = self.transport.get_json("/v1/records", {"after": after, "limit": limit})
        items = page.get("items", [])
        for item in items:
            self.verify_item(item)
        seqs = [item["seq"] for item in items]
        if any(s <= after for s in seqs) or seqs != sorted(set(seqs)):
            raise VerificationFailed(f"pull after={after} answered seqs out of order or not after the cursor")
        next_after = int(page["next_after"])
        if items and next_after != seqs[-1]:
            raise VerificationFailed(f"pull after={after}: next_after {next_after} is not the last seq {seqs[-1]}")
        return PullPage(items, next_after, bool(page["has_more"]))

    def pull_all(self, after: int = 0, limit: int = MAX_PULL, prefetch: bool = True) -> Iterator[PullPage]:
        """Pages from ``after`` until ``has_more`` is false; the caller persists ``next_after``.

        With ``prefetch`` the next page is requested (and verified) in a
        background thread while the caller writes the current one: the hub
        takes about as long to serve a page as the caller to store it. Pages
        still come out strictly in order, and nothing is skipped if the
        caller stops early: its cursor is only what it wrote.
        """
        if not prefetch:
            while True:
                page = self.pull(after, limit)
                yield page
                after = page.next_after
                if not page.has_more:
                    return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tangkal-pull")
        try:
            upcoming = pool.submit(self.pull, after, limit)
            while True:
                page = upcoming.result()
                if page.has_more:
                    upcoming = pool.submit(self.pull, page.next_after, limit)
                yield page
                if not page.has_more:
                    return
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def verify_item(self, item: dict[str, Any]) -> None:
        """A pull-format item: the receipt describes the record, the issuer signed it, seq matches."""
        signed = {"record": item.get("record"), "signature": item.get("signature")}
        receipt = self.trust.record_item(signed, item.get("receipt", {}))
        if receipt["seq"] != item.get("seq"):
            raise VerificationFailed(
                f"record {receipt['object_id']}: item seq {item.get('seq')} is not the receipt's {receipt['seq']}"
            )
        for assignment in item.get("assignments") or []:
            ack = assignment.get("ack")
            if ack:
                self.trust.signed_by_partner(ack, "ack", str(assignment.get("partner")))

    def get_record(self, record_id: str) -> dict[str, Any]:
        """``GET /v1/records/<id>``, verified (assignments with their signed acks for issuer and ministry)."""
        item: dict[str, Any] = self.transport.get_json(f"/v1/records/{quote(record_id, safe='')}")
        self.verify_item(item)
        return item

    def number(self, number: str) -> dict[str, Any]:
        """``GET /v1/numbers/<e164>`` for a number in any form phonenumbers reads with region ID."""
        e164 = to_e164(number)
        view: dict[str, Any] = self.transport.get_json(f"/v1/numbers/{quote(e164, safe='+')}")
        for item in view.get("records", []):
            self.verify_item(item)
        return view

    def hash_range(self, prefix: str) -> list[str]:
        """``GET /v1/numbers/hash-range/<prefix>``: suffixes of the hashes of numbers blocked now."""
        answer = self.transport.get_json(f"/v1/numbers/hash-range/{quote(prefix, safe='')}")
        return list(answer.get("suffixes", []))

    def is_blocked(self, number: str) -> bool:
        """Whether a block is in force, without telling the hub which number (k-anonymity).

        Only the first 5 hex characters of the number's SHA-256 leave this
        process; the answer lists every blocked hash with that prefix (one
        hash in about a million starts so) and the match is made here. Raises
        :class:`~partners.numbers.BadNumber` for a number phonenumbers rejects.
        """
        digest = number_sha256(to_e164(number))
        return digest[5:] in set(self.hash_range(digest[:5]))

    # -- reassigned numbers (PROTOCOL.md section 10) ---------------------------
    def reassigned(self, number: str, since: str | date | datetime) -> Reassignment:
        """``GET /v1/numbers/<e164>/reassigned``: was ``number`` given to a new subscriber at or after ``since``?

        ``number`` in any form phonenumbers reads with region ID;
        ``since`` a datetime, a date (00:00 Jakarta time that day), or the
        text of either. Raises :class:`~partners.numbers.BadNumber` or
        ``ValueError`` for what cannot be asked.
        """
        e164, asked = to_e164(number), _since(since)
        answer = self.transport.get_json(f"/v1/numbers/{quote(e164, safe='+')}/reassigned", {"since": asked})
        return _reassignment(answer, e164, asked)

    def reassigned_batch(
        self, questions: Iterable[Any], since: str | date | datetime | None = None, batch_size: int = MAX_BATCH
    ) -> list[Reassignment]:
        """``POST /v1/numbers/reassigned`` for any number of questions; one answer each, in order.

        A question is a number (asked about ``since``), a ``(number, since)``
        pair or a ``{"number", "since"}`` mapping. Questions go 1000 (at most
        ``batch_size``) a request. A number that is no number is answered
        here with ``invalid-number`` in ``error`` and not sent; one the hub
        refuses carries its problem: neither spoils the others.
        """
        out: list[Reassignment] = []
        for batch in self.reassigned_batches(questions, since, batch_size):
            out.extend(batch)
        return out

    def reassigned_batches(
        self, questions: Iterable[Any], since: str | date | datetime | None = None, batch_size: int = MAX_BATCH
    ) -> Iterator[list[Reassignment]]:
        """As :meth:`reassigned_batch`, yielding each batch's answers as they come (for a progress bar)."""
        if not 1 <= batch_size <= MAX_BATCH:
            raise ConfigError(f"batch size must be 1 to {MAX_BATCH}, not {batch_size}")
        default = None if since is None else _since(since)
        batch: list[Reassignment | tuple[str, str]] = []
        for question in questions:
            batch.append(_question(question, default))
            if sum(isinstance(q, tuple) for q in batch) == batch_size:
                yield self._ask(batch)
                batch = []
        if batch:
            yield self._ask(batch)

    def _ask(self, batch: list[Reassignment | tuple[str, str]]) -> list[Reassignment]:
        """Send the askable questions of ``batch`` in one request; answers in ``batch``'s order."""
        # The hub refuses a request repeating a question (arrays hold no duplicates): ask each once.
        asked = list(dict.fromkeys(q for q in batch if isinstance(q, tuple)))
        answers: list[Any] = []
        if asked:
            _status, reply = self.transport.post_json(
                "/v1/numbers/reassigned", {"queries": [{"number": n, "since": s} for n, s in asked]}
            )
            answers = reply.get("answers") if isinstance(reply, dict) else None  # type: ignore[assignment]
            if not isinstance(answers, list) or len(answers) != len(asked):
                raise VerificationFailed(
                    f"/v1/numbers/reassigned answered {len(answers or [])} answers for {len(asked)} questions"
                )
        replies: dict[tuple[str, str], Reassignment] = {}
        for (number, when), reply_item in zip(asked, answers, strict=True):
            if isinstance(reply_item, dict) and "error" in reply_item:
                if reply_item.get("number") != number:
                    raise VerificationFailed(f"an answer for {reply_item.get('number')!r} where {number} was asked")
                replies[(number, when)] = Reassignment(number, when, None, error=item_rejected(reply_item["error"]))
            else:
                replies[(number, when)] = _reassignment(reply_item, number, when)
        return [q if isinstance(q, Reassignment) else replies[q] for q in batch]

    # -- attest --------------------------------------------------------------
    def attest(
        self, numbers: list[str], as_of: str | None = None, attestation_id: str | None = None
    ) -> AttestationResult:
        """Sign and send what this partner blocks (E.164 numbers); the hub says whether it matches."""
        body = builders.attestation_body(self.partner, numbers, as_of=as_of, attestation_id=attestation_id)
        try:
            status, answer = self.transport.post_json("/v1/attestations", self.sign("attestation", body))
        except HubProblem as exc:
            if exc.status in (400, 403, 409) and exc.slug not in ("forbidden", "invalid-json", "invalid-request"):
                raise ItemRejected(exc.slug, exc.status, exc.detail, exc.body) from None
            raise
        return AttestationResult(
            id=str(answer["id"]),
            match=bool(answer["match"]),
            expected_count=int(answer["expected_count"]),
            attested_count=body["blocked_count"],
            new=status == 201,
        )

    # -- reports (the ministry) ---------------------------------------------
    def reports(self, kind: str | None = None, since: str | None = None, limit: int = 100) -> Iterator[dict[str, Any]]:
        """``GET /v1/reports`` page after page: ``{"id", "kind", "period", "generated_at"}``, oldest period first.

        ``since`` is a protocol timestamp (periods starting at or after it).
        """
        params: dict[str, Any] | None = {
            "limit": limit,
            **({"kind": kind} if kind else {}),
            **({"since": since} if since else {}),
        }
        path = "/v1/reports"
        while True:
            page = self.transport.get_json(path, params)
            yield from page.get("items", [])
            nxt = page.get("next")
            if not nxt:
                return
            parsed = urlsplit(str(nxt))
            path, params = parsed.path, dict(parse_qsl(parsed.query))

    def report(self, report_id: str) -> dict[str, Any]:
        """The signed report (envelope), its signature and log head verified with the hub's keys."""
        envelope: dict[str, Any] = self.transport.get_json(f"/v1/reports/{quote(report_id, safe='')}")
        self.trust.report(envelope)
        return envelope

    def report_csv(self, report_id: str) -> tuple[str, str]:
        """The hub's per-partner CSV of a report: ``(file name the hub gives it, text)``."""
        resp = self.transport.request("GET", f"/v1/reports/{quote(report_id, safe='')}.csv")
        disposition = resp.headers.get("Content-Disposition", "")
        found = re.search(r'filename="([^"/\\]+)"', disposition)
        name = found.group(1) if found else f"tangkal-report-{report_id}.csv"
        resp.encoding = resp.encoding or "utf-8"
        return name, resp.text

    # -- transparency log ----------------------------------------------------
    def log_head(self) -> dict[str, Any]:
        """The signed tree head (envelope), its signature verified."""
        envelope: dict[str, Any] = self.transport.get_json("/v1/log/head")
        self.trust.tree_head(envelope)
        return envelope

    def log_entry(self, index: int) -> dict[str, Any]:
        """The signed object at leaf ``index``."""
        answer = self.transport.get_json("/v1/log/entries", {"start": index, "end": index + 1})
        entries = answer.get("entries", [])
        if len(entries) != 1:
            raise VerificationFailed(f"log entry {index}: the hub answered {len(entries)} entries")
        entry: dict[str, Any] = entries[0]
        return entry

    def verify_inclusion(
        self, signed_object: dict[str, Any], receipt_envelope: dict[str, Any], head: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Prove a receipted object is in the log: receipt, log entry, inclusion proof under a signed head.

        Checks the receipt describes ``signed_object``, that the log's leaf at
        the receipt's ``log_index`` is that very object, and that the leaf is
        in the tree of a verified head (the current one unless ``head`` is
        given). Returns the tree head body it was proven under.
        """
        receipt = self.trust.receipt(receipt_envelope, signed_object)
        index = receipt["log_index"]
        entry = self.log_entry(index)
        # (1.1) a leaf the caller may not read in full comes as its leaf hash: the object's own hash must match
        if entry != signed_object and entry != {"leaf_hash": leaf_hash(canonicalize(signed_object)).hex()}:
            raise VerificationFailed(
                f"log entry {index} is not the object the receipt for {receipt['object_id']} describes"
            )
        tree_head = self.trust.tree_head(head or self.log_head())
        if index >= tree_head["size"]:
            raise VerificationFailed(f"log index {index} is beyond the signed head's size {tree_head['size']}")
        proof = self.transport.get_json("/v1/log/inclusion", {"index": index, "size": tree_head["size"]})
        self.trust.inclusion(signed_object, index, tree_head, list(proof.get("path", [])))
        return tree_head

    def verify_consistency(
        self, first: dict[str, Any], second: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Prove the log at signed head ``second`` extends the one at signed head ``first``; returns both bodies."""
        a = self.trust.tree_head(first)
        b = self.trust.tree_head(second)
        if a["size"] > b["size"]:
            a, b = b, a
        if a["size"] == 0:
            return a, b  # every log extends the empty one
        path: list[str] = []
        if a["size"] != b["size"]:
            proof = self.transport.get_json("/v1/log/consistency", {"first": a["size"], "second": b["size"]})
            path = list(proof.get("path", []))
        self.trust.consistency(a, b, path)
        return a, b


def _since(value: str | date | datetime) -> str:
    """A question's ``since`` on the wire: a protocol timestamp, or a date as ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return since_value(value)
    except BadField as exc:
        raise ValueError(str(exc)) from None


def _question(question: Any, default: str | None) -> Reassignment | tuple[str, str]:
    """``(E.164, since)`` to send, or the answer the SDK gives itself to a question it cannot send."""
    if isinstance(question, dict):
        raw, when = question.get("number"), question.get("since")
    elif isinstance(question, (tuple, list)):
        raw, when = question[0], question[1] if len(question) > 1 else None
    else:
        raw, when = question, None
    text = str(raw) if raw is not None else ""
    asked = _since(when) if when is not None and when != "" else default
    if asked is None:
        raise ValueError(f"no since for {text!r}: give one per question or as since=")
    try:
        return to_e164(text), asked
    except BadNumber as exc:
        return Reassignment(text, asked, None, error=ItemRejected("invalid-number", 400, str(exc)))


def _reassignment(answer: Any, number: str, since: str) -> Reassignment:
    """A hub answer as a :class:`Reassignment`, checked against the question."""
    if not isinstance(answer, dict) or answer.get("number") != number or answer.get("answer") not in ANSWERS:
        raise VerificationFailed(f"the hub's reassignment answer for {number} is not one: {answer!r}"[:300])
    reassigned_at = answer.get("reassigned_at")
    if answer["answer"] == "yes" and not isinstance(reassigned_at, str):
        raise VerificationFailed(
            f"reassignment answer {answer['answer']!r} for {number} with reassigned_at {reassigned_at!r}"
        )
    return Reassignment(number, str(answer.get("since", since)), str(answer["answer"]), reassigned_at)
