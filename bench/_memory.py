"""Peak memory of a block of code: Python's own (tracemalloc) and the process's RSS.

Shared by the report and attestation benchmarks.
"""

from __future__ import annotations

import ctypes
import gc
import resource
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _malloc_trim() -> None:
    """Give freed heap back to the OS, so the RSS at the start is a fair baseline."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status_kb(name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class MemWatch:
    """Peak Python memory (tracemalloc, when ``trace``) and peak RSS increase of a block."""

    trace: bool = False
    py_peak: int = 0  # bytes
    rss_delta: int = 0  # KiB
    rss_method: str = ""

    def __enter__(self) -> MemWatch:
        gc.collect()
        _malloc_trim()
        self._rss0 = _status_kb("VmRSS")
        self._hwm = self._rss0 is not None and _reset_hwm()
        self._maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if self.trace:
            tracemalloc.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.trace:
            self.py_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if self._hwm:
            self.rss_delta = max(0, (_status_kb("VmHWM") or 0) - (self._rss0 or 0))
            self.rss_method = "VmHWM"
        else:
            self.rss_delta = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self._maxrss0)
            self.rss_method = "ru_maxrss"
