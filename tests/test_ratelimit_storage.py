"""The embedded rate-limit storage restarts its expiry timer under a lock.

limits 5.8.0's own MemoryStorage can start one Timer from two threads; the
race window is too narrow to reproduce on demand, so this checks that every
restart goes through our lock, and that counting stays exact under threads.
"""

from __future__ import annotations

import threading
import time

from limits.storage import storage_from_string


class _CountingLock:
    def __init__(self) -> None:
        self.inner = threading.Lock()
        self.entered = 0

    def __enter__(self) -> None:
        self.inner.acquire()
        self.entered += 1

    def __exit__(self, *exc: object) -> None:
        self.inner.release()


def test_locked_memory_storage_restarts_its_timer_under_the_lock():
    from hub.ratelimit import LockedMemoryStorage

    storage = storage_from_string("locked-memory://")
    assert isinstance(storage, LockedMemoryStorage)
    lock = _CountingLock()
    storage._timer_lock = lock
    errors: list[str] = []

    def worker() -> None:
        for i in range(200):
            if i % 50 == 0:
                time.sleep(0.02)  # let the 10 ms timer die so threads restart it
            try:
                storage.incr(f"k{i % 3}", 60)
            except RuntimeError as exc:
                errors.append(str(exc))

    pool = [threading.Thread(target=worker) for _ in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert lock.entered == 8 * 200
    assert sum(storage.get(f"k{i}") for i in range(3)) == 8 * 200
