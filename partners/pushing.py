"""A push of a whole input file: rows to signed objects to batches to a summary.

Shared by ``python -m partners push`` (records), ``ack`` (acks) and
``events push`` (number events). The
rules that make a run safe to repeat live here:

* a row whose id was already accepted in an earlier run (the journal says
  so) is sent exactly as it was signed then, so the hub answers ``duplicate``
  with the original receipt;
* a row repeating an earlier row of the same run is not sent again (the hub
  refuses a batch holding the same object twice) and counts as duplicate;
* a record the hub calls ``conflict`` although its id was derived from its
  content was, in all likelihood, accepted by a run whose journal line was
  lost (a crash mid-batch): it is looked up, and if the stored record says
  the same but for its signing time, it counts as duplicate with the stored
  receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from partners.client import HubClient
from partners.errors import HubProblem
from partners.inputs import Row
from partners.journal import Journal, entry
from partners.rejects import Rejects
from partners.results import DUPLICATE, REJECTED, PushResult, Summary

#: The member holding the signing time, per kind; a number event has none (it is all facts).
SIGNING_TIME = {"record": "issued_at", "ack": "acted_at", "number_event": None}


def facts(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A body without its id and signing time (and an ``observed_at`` that merely copies it)."""
    stamp = SIGNING_TIME[kind]
    out = {k: v for k, v in body.items() if k not in ("id", stamp)}
    if kind == "record" and body.get("observed_at") == body.get("issued_at"):
        out.pop("observed_at", None)
    return out


@dataclass
class Pending:
    line: int
    signed: dict[str, Any]
    raw: dict[str, str] | None = None


@dataclass
class PushRun:
    """One input file's push; ``report`` gets one line per problem (already prefixed with the line)."""

    client: HubClient
    kind: str
    journal: Journal
    report: Callable[[str], None]
    batch_size: int = 1000
    dry_run: bool = False
    rejects: Rejects = field(default_factory=lambda: Rejects(None))
    summary: Summary = field(default_factory=Summary)
    _earlier: dict[str, dict[str, Any]] = field(default_factory=dict)
    _seen: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def run(self, rows: Iterable[Row[dict[str, Any]]], advance: Callable[[int], None]) -> Summary:
        """Push every row; ``advance(n)`` is called as rows are done (for a progress bar).

        One batch is in flight while the next is read and signed: the hub
        spends about as long judging and storing a batch as this process
        spends preparing one, so overlapping them nearly halves a long push.
        Only one request is ever outstanding, so batches are stored in file
        order (an unblock may lift a block from the batch before) and the
        answers are handled here, in order, before the next batch is sent.
        """
        self._earlier = self.journal.accepted(self.kind)
        self.summary.dry_run = self.dry_run
        send = self.client.sender(self.kind)

        def push(signed: list[dict[str, Any]]) -> list[PushResult]:
            return send(signed, dry_run=self.dry_run)

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tangkal-push")
        in_flight: tuple[list[Pending], Future[list[PushResult]]] | None = None
        try:
            for batch in self._batches(rows, advance):
                if in_flight is not None:
                    self._finish(*in_flight)
                    advance(len(in_flight[0]))
                in_flight = (batch, pool.submit(push, [p.signed for p in batch]))
            if in_flight is not None:
                self._finish(*in_flight)
                advance(len(in_flight[0]))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            self.rejects.close()
        return self.summary

    def _batches(self, rows: Iterable[Row[dict[str, Any]]], advance: Callable[[int], None]) -> Iterator[list[Pending]]:
        batch: list[Pending] = []
        for pending in self._prepare(rows, advance):
            batch.append(pending)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _prepare(self, rows: Iterable[Row[dict[str, Any]]], advance: Callable[[int], None]) -> Iterator[Pending]:
        for row in rows:
            if row.error is not None or row.value is None:
                self.report(f"line {row.line}: {row.error} (skipped)")
                self.summary.reject("bad-row")
                self.rejects.add(row.line, "bad-row", str(row.error), row.raw)
                advance(1)
                continue
            value = row.value
            signed = value if self.kind in value and "signature" in value else self._sign(value)
            body = signed.get(self.kind)
            body = body if isinstance(body, dict) else {}
            object_id = str(body.get("id"))
            earlier = self._seen.get(object_id)
            if earlier is not None:
                first, first_facts = earlier
                if first_facts == facts(self.kind, body):
                    self.report(f"line {row.line}: the same {self.kind} as line {first} ({object_id}); sent once")
                    self.summary.duplicate += 1
                else:
                    self.report(f"line {row.line}: id {object_id} is line {first}'s, with other content (skipped)")
                    self.summary.reject("conflict")
                    self.rejects.add(
                        row.line, "conflict", f"id {object_id} is line {first}'s, with other content", row.raw
                    )
                advance(1)
                continue
            self._seen[object_id] = (row.line, facts(self.kind, body))
            yield Pending(row.line, signed, row.raw)

    def _sign(self, body: dict[str, Any]) -> dict[str, Any]:
        earlier = self._earlier.get(body["id"])
        if earlier is not None and facts(self.kind, earlier[self.kind]) == facts(self.kind, body):
            return earlier
        return self.client.sign(self.kind, body)

    def _finish(self, batch: list[Pending], answer: Future[list[PushResult]]) -> None:
        """Wait for a batch's answer; report, count and journal it."""
        results = answer.result()
        lines = []
        for pending, result in zip(batch, results, strict=True):
            if result.status == REJECTED and result.error is not None and result.error.slug == "conflict":
                result = self._resolve_conflict(result)
            if result.status == REJECTED and result.error is not None:
                self.report(f"line {pending.line}: rejected: {result.error.slug}: {result.error.detail}")
                self.rejects.add(pending.line, result.error.slug, result.error.detail, pending.raw)
            self.summary.add(result)
            lines.append(entry(result, pending.line))
        if not self.dry_run:  # a dry run was given no receipts to keep
            self.journal.append(lines)

    def _resolve_conflict(self, result: PushResult) -> PushResult:
        """A conflicting record that the hub holds with the same facts is a duplicate from an earlier run."""
        if self.kind != "record" or result.id is None:
            return result
        try:
            stored = self.client.get_record(result.id)
        except HubProblem:
            return result
        ours = result.signed["record"]
        if facts("record", stored["record"]) != facts("record", ours):
            return result
        signed = {"record": stored["record"], "signature": stored["signature"]}
        return PushResult(
            result.id,
            DUPLICATE,
            signed,
            receipt=stored["receipt"],
            note="accepted in an earlier run (another issued_at); stored receipt",
        )
