"""Helpers for the partner SDK and CLI tests (no tests here).

The SDK talks HTTP, so its tests need a hub on a socket: ``serve`` runs the
test's own app in a thread (fast, and the test can build it with settings
such as a 2-second token lifetime); the end-to-end tests use real gunicorn
hubs (``tests.support.LiveHub``). The CLI always runs as a subprocess, as a
partner's scheduler would run it.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from flask import Flask
from werkzeug.serving import make_server

from keys.keyfiles import write_private_key
from tests.support import ROOT, PartnerCreds

#: National prefixes by home network (what phonenumbers names them), in local form.
LOCAL_PREFIXES = {
    "Telkomsel": ("0811", "0812", "0813", "0821", "0822", "0852", "0853"),
    "Indosat Ooredoo Hutchison": ("0814", "0815", "0816", "0856", "0857", "0858"),
    "XL": ("0817", "0818", "0859", "0877"),
    "Smartfren": ("0881", "0888"),
}
CLI_TIMEOUT = 300


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app on a real socket in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # A hub without HUB_URL fixes its URL from the address it listens on (hub.origin, gunicorn.conf.py).
    fixed = app.config.get("HUB_URL_FROM_BIND")
    before = app.config.get("HUB_URL")
    if fixed:
        app.config["HUB_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="hub-under-test", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(10)
        if fixed:
            app.config["HUB_URL"] = before


def local_numbers(count: int, seed: int, carriers: tuple[str, ...] = tuple(LOCAL_PREFIXES)) -> list[str]:
    """``count`` distinct valid Indonesian numbers in local form (``0812...``)."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        prefix = rng.choice(LOCAL_PREFIXES[rng.choice(carriers)])
        local = prefix + f"{rng.randrange(10**8):08d}"
        if local in seen:
            continue
        if not phonenumbers.is_valid_number(phonenumbers.parse(local, "ID")):
            continue
        seen.add(local)
        out.append(local)
    return out


def e164(local: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(local, "ID"), phonenumbers.PhoneNumberFormat.E164)


@dataclass
class CliPartner:
    """A registered partner as the CLI sees it: environment variables and a 0600 key file."""

    creds: PartnerCreds
    hub_url: str
    key_path: Path

    @classmethod
    def of(cls, creds: PartnerCreds, hub_url: str, folder: Path) -> CliPartner:
        key_path = folder / f"{creds.id}.key"
        if not key_path.exists():
            write_private_key(key_path, creds.private_key)
        return cls(creds, hub_url, key_path)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TANGKAL_")}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "TANGKAL_HUB_URL": self.hub_url,
                "TANGKAL_CLIENT_ID": self.creds.client_id,
                "TANGKAL_CLIENT_SECRET": self.creds.client_secret,
                "TANGKAL_PARTNER": self.creds.id,
                "TANGKAL_KEY": str(self.key_path),
                "TANGKAL_KID": self.creds.kid,
            }
        )
        env.update(extra)
        return env

    def run(
        self, *args: str, cwd: Path, timeout: float = CLI_TIMEOUT, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(list(args), self.env(**extra), cwd, timeout)

    def start(self, *args: str, cwd: Path, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "partners", *args],
            cwd=cwd,
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``python -m partners <args>`` as a subprocess; stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "partners", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
