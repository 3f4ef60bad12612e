"""The hub's one clock: every "now" the hub reads comes from here.

Acceptance times, assignment and delivery marks, token ``iat``/``exp`` and
their checks, report periods and the scheduler's catch-up all ask
:func:`now` (or :func:`epoch_seconds`), which reads the :class:`Clock` the
current app owns. Tests and the demo move that clock (``freeze``,
``advance``) instead of sleeping or patching module attributes, so there is
exactly one thing to move and nothing can be left reading real time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app

from keys.timefmt import JAKARTA

__all__ = ["JAKARTA", "Clock", "clock_of", "epoch_seconds", "init_clock", "now"]

EXTENSION = "tangkal.clock"


def truncate_ms(moment: datetime) -> datetime:
    """The protocol's precision: timestamps carry at most milliseconds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class Clock:
    """Real UTC time, optionally frozen at a moment or shifted by an offset.

    Thread-safe: gunicorn's threaded workers and a test's server thread read
    it while a test moves it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Now, in UTC, truncated to the millisecond the protocol allows."""
        with self._lock:
            moment = self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset
        return truncate_ms(moment)

    def freeze(self, at: datetime) -> None:
        """Stop the clock at ``at`` (aware) until ``advance``, another ``freeze`` or ``resume``."""
        if at.tzinfo is None:
            raise ValueError("freeze() needs an aware datetime")
        with self._lock:
            self._frozen = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back): a frozen clock stays frozen, a running one keeps running."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def resume(self) -> None:
        """Real time again, with no offset."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)


def init_clock(app: Flask, clock: Clock | None = None) -> Clock:
    app.extensions[EXTENSION] = clock or Clock()
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def clock_of(app: Flask) -> Clock:
    found = app.extensions.get(EXTENSION)
    if not isinstance(found, Clock):
        raise RuntimeError("the app has no clock (create_app installs one)")
    return found


def now() -> datetime:
    """The current app's now (UTC, milliseconds)."""
    return clock_of(current_app).now()


def epoch_seconds() -> int:
    """The current app's now as integer seconds since the epoch (JWT ``iat``, ``exp``)."""
    return int(now().timestamp())
