"""The report scheduler starts where the hub serves (gunicorn's worker hook), never on import or for admin commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support import ROOT, LiveHub

pytestmark = pytest.mark.slow

STARTED = "report scheduler started"


def _flask(hub_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **hub_env, "LOG_LEVEL": "INFO", "SCHEDULER_ENABLED": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_admin_commands_and_imports_start_no_scheduler(app, register, hub_env):
    register("kominfo", "ministry")
    for args in (("report", "run", "--kind", "daily", "--period", "2026-01-01"), ("keys", "list"), ("partner", "list")):
        done = _flask(hub_env, *args)
        assert done.returncode == 0, done.stderr
        assert STARTED not in done.stderr + done.stdout, args
    code = "import wsgi; from hub.reports.scheduler import running; print(running(wsgi.app))"
    env = {**os.environ, **hub_env, "SCHEDULER_ENABLED": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_a_serving_hub_starts_it_in_each_worker_and_not_when_disabled(app, hub_env):
    env = {**hub_env, "HUB_URL": "http://hub.test", "LOG_LEVEL": "INFO"}
    on, off = LiveHub(env, workers=2, scheduler=True), LiveHub(env, workers=1, scheduler=False)
    try:
        deadline = time.monotonic() + 30
        while Path(on.log.name).read_text().count(STARTED) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert requests.get(off.url + "/healthz", timeout=10).status_code == 200
    finally:
        on.stop()
        off.stop()
    assert Path(on.log.name).read_text().count(STARTED) == 2
    assert STARTED not in Path(off.log.name).read_text()
