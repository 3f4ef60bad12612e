"""An in-memory rate-limit storage whose expiry timer is started under a lock.

limits 5.8.0's MemoryStorage can start the same expiry Timer from two threads
("threads can only be started once"), which turned into a 500 on whatever
request was being counted (found by tests/test_concurrency.py under threaded
gunicorn workers). Production uses Redis (RATELIMIT_STORAGE_URI); this is the
embedded default, ``locked-memory://``, until limits ships its own fix.
"""

from __future__ import annotations

import threading
from typing import Any

from limits.storage import MemoryStorage


class LockedMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["locked-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the name-mangled private method
        with self._timer_lock:
            if not self.timer.is_alive():
                self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
                self.timer.daemon = True
                self.timer.start()
