"""The README's first hour, then docs/walkthrough.md on the same hub, run as written against a real hub.

The shell blocks are taken from the two documents as they are, in order, and
run by bash in the repository's root (``.venv/bin/...`` as a new user runs
them), with only the hub's address changed to the test hub's. Terminal 1's
``make run`` is the live hub (gunicorn); the walkthrough's demo section
needs a hub of its own and is left to tests/test_partners_demo.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import ROOT, LiveHub

pytestmark = pytest.mark.slow

DEFAULT_URL = "http://127.0.0.1:5000"


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, re.S)


def first_hour() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The first hour", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in shell_blocks(section) if not b.strip().startswith("make run")]
    assert len(blocks) == 2, "the first hour has terminal 2's two blocks"
    return "\n".join(blocks)


def walkthrough() -> str:
    text = (ROOT / "docs" / "walkthrough.md").read_text(encoding="utf-8")
    body = text.split("## 15.", 1)[0]  # the demo section wants an empty hub of its own
    blocks = [b for b in shell_blocks(body) if b.strip() != "make run"]
    assert len(blocks) > 15
    return "\n".join(blocks)


@pytest.fixture
def live(app: Any, hub_env: dict[str, str]) -> Iterator[LiveHub]:
    """A gunicorn hub on the test database (``app`` empties the tables afterwards)."""
    hub = LiveHub(hub_env)
    try:
        yield hub
    finally:
        hub.stop()


def test_the_first_hour_and_then_the_walkthrough_run_as_written(live: LiveHub, hub_env: dict[str, str]) -> None:
    script = "\n".join(
        [
            first_hour(),
            'echo "== first hour done"',
            walkthrough(),
            'echo "== walkthrough done"',
        ]
    ).replace(DEFAULT_URL, live.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TANGKAL_", "HUB_URL", "PYTHONPATH"))}
    env.update(hub_env)  # the admin commands (flask --app wsgi ...) work on the test hub's database and keys
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    out = done.stdout  # stderr merged in, in order
    assert "Traceback" not in out, out[-4000:]
    head, _, tail = out.partition("== first hour done")
    # the README: a token, who it stands for, a dry run, a push, the pull of that very record
    assert '"access_token"' in head and '"partner":"indosat"' in head.replace(" ", "")
    assert "1 record: 1 valid, 0 duplicate, 0 rejected; dry run" in head
    assert "1 record: 1 accepted, 0 duplicate, 0 rejected" in head and "1 record pulled (after 0 -> 1)" in head
    assert "+6285612345678" in head
    # the walkthrough after it, on the same hub: each step as the page says (the log is one leaf longer)
    assert "== walkthrough done" in tail, tail[-3000:]
    errors = [line for line in tail.splitlines() if line.startswith(("error:", "Error:"))]
    assert errors == [
        "error: the hub refused: forbidden (403): This call needs the scope 'acks:write', which the token does "
        "not carry.",
        "error: token: cannot reach http://127.0.0.1:5999: connection refused",
    ], errors
    assert "5 records: 4 accepted, 0 duplicate, 1 rejected (bad-row 1)" in tail
    assert "3 records pulled (after 0 -> 5)" in tail
    assert "3 acks: 3 accepted, 0 duplicate, 0 rejected" in tail
    assert "consistent: the log at size 8" in tail and "extends the log at size 5" in tail
    assert (
        tail.count("receipts verified: signed by the hub, matching their objects, included in the log of size 8") == 3
    )
    assert "1 of 5 receipts did NOT verify" in tail
    assert re.search(r"^True False$", tail, re.M) and "Indosat Ooredoo Hutchison True []" in tail
    # step 14: a number changes hands
    assert "4 number events: 3 accepted, 0 duplicate, 1 rejected (bad-row 1)" in tail
    assert re.search(
        r"^[0-9a-f-]{36},tangkal,\+6281398765432,unblock,phishing,sms,number reassigned \(event ", tail, re.M
    )
    assert "1 ack: 1 accepted, 0 duplicate, 0 rejected" in tail
    assert "1 record: 0 accepted, 0 duplicate, 1 rejected (number-reassigned 1)" in tail
    assert "3 numbers: 1 yes, 2 no, 0 no_data, 0 not answered" in tail
    assert "3 numbers: 0 yes, 0 no, 3 no_data, 0 not answered" in tail
