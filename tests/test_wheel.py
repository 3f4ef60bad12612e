"""The ``tangkal-partners`` wheel, built and installed the way a partner would.

The slow test copies what the wheel is built from (pyproject.toml, README.md,
keys/, partners/) into a temporary folder, so the build can neither leave
``build/`` or ``*.egg-info`` in the checkout nor pick up stale files from an
earlier ``build/``; runs ``python -m build --wheel`` there (an isolated build:
setuptools comes from the machine's package index); checks the wheel holds
``keys/`` and ``partners/`` and nothing else; then makes a fresh virtualenv
(``python -m venv``, its own pip, no system site-packages) and installs the
wheel into it with that pip, so the dependencies come from the machine's
package index exactly as a partner's ``pip install`` would get them.

Chosen over ``--system-site-packages`` or installing with ``--no-deps``
against an existing environment: those would pass even if pyproject.toml
forgot a dependency. Measured on the CI machine: build ~5 s, venv ~8 s,
install ~17 s; the whole test ~30 s.

The installed ``tangkal`` script then runs from outside the checkout (no
PYTHONPATH, cwd a temporary folder): ``--help`` and ``keygen``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from partners.cli import MODULE_PROG, console_main, script_prog

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "keys", "partners"]
COMMANDS = ["keygen", "token", "push", "pull", "ack", "attest", "verify"]


def isolated_env() -> dict[str, str]:
    """The environment minus anything that would let the checkout leak into the installed tool."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PIP_NO_INDEX")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TANGKAL_")}


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=isolated_env(), capture_output=True, text=True, timeout=timeout)


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path / "dist"
    built = run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)], tmp_path, timeout=300)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    wheels = list(out.glob("tangkal_partners-*-py3-none-any.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    return wheels[0]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_tangkal_runs(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top = {name.split("/", 1)[0] for name in names}
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert top - dist_info == {"keys", "partners"}, sorted(top)
    assert {"keys/py.typed", "partners/py.typed", "partners/cli/keygen.py", "keys/jcs.py"} <= set(names)
    assert not [n for n in names if n.startswith(("hub/", "tests/", "migrations/", "bench/")) or n.endswith(".pyc")]
    assert "tangkal = partners.cli:console_main" in entry_points

    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    python, tangkal = venv / "bin" / "python", venv / "bin" / "tangkal"
    installed = run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path, timeout=300)
    assert installed.returncode == 0, installed.stdout[-4000:] + installed.stderr[-4000:]

    # The installed packages, not the checkout; and only what the wheel ships.
    where = run([str(python), "-c", "import keys, partners; print(keys.__file__); print(partners.__file__)"], tmp_path)
    assert where.returncode == 0, where.stderr
    assert all(Path(line).is_relative_to(venv) for line in where.stdout.split()), where.stdout
    no_hub = run([str(python), "-c", "import hub"], tmp_path)
    assert no_hub.returncode != 0 and "ModuleNotFoundError" in no_hub.stderr

    helped = run([str(tangkal), "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: tangkal "), helped.stdout
    for command in COMMANDS:
        assert command in helped.stdout, command
    as_module = run([str(python), "-m", "partners", "--help"], tmp_path)
    assert as_module.returncode == 0 and as_module.stdout.startswith(f"usage: {MODULE_PROG} "), as_module.stdout

    keydir = tmp_path / "keys"
    keydir.mkdir()
    args = [str(tangkal), "keygen", "--out", "acme.key", "--kid", "acme-2026-12", "--partner", "acme"]
    generated = run(args, keydir)
    assert generated.returncode == 0, generated.stderr
    private, pem, jwk = keydir / "acme.key", keydir / "acme.pub.pem", keydir / "acme.pub.jwk"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pem.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    public = json.loads(jwk.read_text())
    assert (public["kty"], public["crv"], public["kid"]) == ("OKP", "Ed25519", "acme-2026-12") and "d" not in public
    assert "partner add-key acme --kid acme-2026-12" in generated.stderr

    # An existing private key is never overwritten: exit 2, one line, the key untouched.
    before = private.read_bytes()
    again = run(args, keydir)
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr and "Traceback" not in again.stderr
    assert private.read_bytes() == before


@pytest.mark.parametrize(
    "argv0,prog",
    [("/home/op/.venv/bin/tangkal", "tangkal"), ("venv/Scripts/tangkal.exe", "tangkal"), ("", "tangkal")],
)
def test_script_prog(argv0: str, prog: str) -> None:
    assert script_prog(argv0) == prog


def test_console_main_names_itself_after_the_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["/opt/venv/bin/tangkal", "--help"])
    with pytest.raises(SystemExit) as exited:
        console_main()
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: tangkal [-h] COMMAND")
