"""``partners`` is what an operator installs: it must not need the hub's code.

DESIGN.md: dependencies point one way; ``partners`` uses ``keys`` and never
imports ``hub``. Checked twice: by importing every module of the package in
a fresh interpreter and looking at ``sys.modules``, and by reading the
source, which also catches imports inside functions that never ran.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "partners"
HUB_IMPORT = re.compile(r"^\s*(from\s+hub(\.|\s)|import\s+hub(\.|\s|,|$))", re.MULTILINE)


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_every_partners_module_loads_no_hub_module() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'hub' or m.startswith('hub.'))))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []
    assert "partners.cli" in modules() and "partners.client" in modules()


def test_no_partners_source_mentions_a_hub_import() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if HUB_IMPORT.search(p.read_text())]
    assert offenders == []
    assert HUB_IMPORT.search("from hub.db import db") and HUB_IMPORT.search("    import hub")
    assert not HUB_IMPORT.search("from hubris import x")


def test_the_cli_runs_without_the_hub_on_the_path(tmp_path: Path) -> None:
    """A partner's machine: only partners/ and keys/ are there."""
    import shutil

    shutil.copytree(ROOT / "partners", tmp_path / "partners", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "keys", tmp_path / "keys", ignore=shutil.ignore_patterns("__pycache__"))
    res = subprocess.run(
        [sys.executable, "-m", "partners", "keygen", "--out", "k.key", "--kid", "k-1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "k.key").exists()
