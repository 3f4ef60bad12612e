"""The pull cursor on disk: where a puller is, written so that a crash cannot lie.

The hub promises that pulling on from the last ``next_after`` shows every
record exactly once (PROTOCOL.md section 4). Keeping that promise end to
end is the puller's job: the cursor must never get ahead of what was
written out (a record lost), and what was written out must never get
ahead of the cursor without the puller noticing (a record repeated).

So a puller writes a page to its output, fsyncs it, and only then saves
the cursor with the output's new length. The cursor file itself is
replaced atomically (a temp file in the same folder, fsync, ``os.replace``,
fsync of the folder), so after a crash it holds either the old or the new
state, never half of one. On start, an output longer than the cursor
says is the tail of a page whose cursor was never saved: it is cut off and
pulled again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from keys.keyfiles import write_atomically
from partners.errors import ConfigError


@dataclass
class Cursor:
    """A puller's position: the hub and partner it belongs to, ``after``, and the output it covers."""

    hub: str
    partner: str
    after: int = 0
    output: str | None = None
    offset: int = 0

    def check_owner(self, hub: str, partner: str, path: Path) -> None:
        """Refuse a cursor of another hub or partner: its ``after`` means nothing here."""
        if self.hub.rstrip("/") != hub.rstrip("/") or self.partner != partner:
            raise ConfigError(
                f"cursor {path} belongs to partner {self.partner!r} at {self.hub}, not {partner!r} at {hub}; "
                "use another --cursor file"
            )


def load(path: Path, hub: str, partner: str) -> Cursor:
    """The cursor in ``path``, or a fresh one at ``after=0`` when the file does not exist."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Cursor(hub=hub, partner=partner)
    except OSError as exc:
        raise ConfigError(f"cannot read cursor {path}: {exc.strerror}") from None
    try:
        data: Any = json.loads(raw)
        cursor = Cursor(
            hub=str(data["hub"]),
            partner=str(data["partner"]),
            after=int(data["after"]),
            output=data.get("output"),
            offset=int(data.get("offset", 0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cursor {path} is not a cursor file ({exc}); move it away to start over") from None
    cursor.check_owner(hub, partner, path)
    return cursor


def save(path: Path, cursor: Cursor) -> None:
    """Replace ``path`` with ``cursor`` atomically and durably."""
    data = (json.dumps(asdict(cursor), indent=2) + "\n").encode("utf-8")
    write_atomically(path, data)


def repair_output(cursor: Cursor) -> None:
    """Cut the output the cursor names back to the length it recorded (a crash's uncommitted tail)."""
    if not cursor.output or cursor.output == "-":
        return
    target = Path(cursor.output)
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        if cursor.offset:
            raise ConfigError(
                f"the cursor says {target} holds {cursor.offset} bytes of pulled records, but it is gone; "
                "restore it or start over with a new cursor"
            ) from None
        return
    if size < cursor.offset:
        raise ConfigError(
            f"{target} is shorter ({size} bytes) than the cursor recorded ({cursor.offset}); "
            "it was changed outside the puller"
        )
    if size > cursor.offset:
        with open(target, "r+b") as handle:
            handle.truncate(cursor.offset)
            handle.flush()
            os.fsync(handle.fileno())
