"""Generate Java and Go clients from the hub's OpenAPI document, and compile the Java one.

    .venv/bin/python scripts/generate_clients.py                 # both, into build/clients
    .venv/bin/python scripts/generate_clients.py --only java --out /tmp/clients
    .venv/bin/python scripts/generate_clients.py --spec http://127.0.0.1:5000/openapi.json

What an operator's engineers do with the document, done here first so a
break shows before they see it: openapi-generator (the ``openapi-generator-cli``
PyPI package ships its jar; it needs a Java runtime, Debian's
``openjdk-17-jre-headless``) writes a Java client (library ``native``:
``java.net.http`` and Jackson) and a Go client; the Java one is compiled.

Nothing is downloaded. The Java client is compiled with ``javac`` against
the jars the machine already has in its local Maven repository (``~/.m2``,
part of this project's machine image), at the versions pinned in
``JAVA_CLASSPATH``, plus ``httpmime`` 4.5.14, which the generated form code
imports and the image lacks: it is vendored in ``scripts/java-lib/``
(Apache-2.0, from Debian bookworm's ``libhttpmime-java`` 4.5.14-1, SHA-256
pinned below). The Go client is generated and checked with ``gofmt`` when a
Go toolchain is present; it is not built, since its ``go.mod`` wants
``golang.org/x/oauth2`` from the network.

Without ``--spec`` the document comes from the hub's code (an app built in
memory, no database touched), with ``HUB_URL`` as its server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
M2 = Path(os.environ.get("MAVEN_REPOSITORY", Path.home() / ".m2" / "repository"))
VENDORED = ROOT / "scripts" / "java-lib"

#: The generated client's compile-time dependencies: (path under ~/.m2 or VENDORED, SHA-256 or None).
JAVA_CLASSPATH: tuple[tuple[Path, str | None], ...] = (
    (M2 / "com/fasterxml/jackson/core/jackson-core/2.21.0/jackson-core-2.21.0.jar", None),
    (M2 / "com/fasterxml/jackson/core/jackson-databind/2.21.0/jackson-databind-2.21.0.jar", None),
    (M2 / "com/fasterxml/jackson/core/jackson-annotations/2.21/jackson-annotations-2.21.jar", None),
    (M2 / "com/fasterxml/jackson/datatype/jackson-datatype-jsr310/2.17.1/jackson-datatype-jsr310-2.17.1.jar", None),
    (M2 / "jakarta/annotation/jakarta.annotation-api/2.1.1/jakarta.annotation-api-2.1.1.jar", None),
    (M2 / "com/google/code/findbugs/jsr305/3.0.2/jsr305-3.0.2.jar", None),
    (M2 / "org/apache/httpcomponents/httpcore/4.4.16/httpcore-4.4.16.jar", None),
    (M2 / "org/apache/httpcomponents/httpclient/4.5.14/httpclient-4.5.14.jar", None),
    (VENDORED / "httpmime-4.5.14.jar", "9dc4b9965e3f52d44dfc1d797bd4bfe79d1bcd70f3b12a21b5272f292efb4027"),
)

#: Short-lived JVMs: the quick JIT tier only (a third less time for the generator and javac here).
FAST_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

JAVA_PACKAGE = "id.go.tangkal.client"
GENERATORS = {
    "java": {
        "generatorName": "java",
        "library": "native",
        "additionalProperties": {
            "invokerPackage": JAVA_PACKAGE,
            "apiPackage": JAVA_PACKAGE + ".api",
            "modelPackage": JAVA_PACKAGE + ".model",
            "groupId": "id.go.tangkal",
            "artifactId": "tangkal-client",
            "openApiNullable": False,
            "hideGenerationTimestamp": True,
            "useJakartaEe": True,
        },
    },
    "go": {
        "generatorName": "go",
        "additionalProperties": {
            "packageName": "tangkal",
            "isGoSubmodule": True,
            "hideGenerationTimestamp": True,
            "generateInterfaces": True,
        },
    },
}


class Failed(Exception):
    """A step failed; the message says which and why."""


def document(spec: str | None, hub_url: str) -> dict[str, object]:
    """The OpenAPI document: fetched from ``spec`` (URL or file), or built from the hub's code."""
    if spec and spec.startswith(("http://", "https://")):
        with urllib.request.urlopen(spec, timeout=30) as resp:  # noqa: S310 - the operator's own hub
            return dict(json.load(resp))
    if spec:
        return dict(json.loads(Path(spec).read_text(encoding="utf-8")))
    sys.path.insert(0, str(ROOT))
    from hub import create_app  # the hub's own code: the document as the hub would serve it

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "HUB_URL": hub_url, "SCHEDULER_ENABLED": False})
    return dict(app.test_client().get("/openapi.json").get_json())


def generator_jar() -> Path:
    jar = Path(str(resources.files("openapi_generator_cli") / "openapi-generator.jar"))
    if not jar.is_file():
        raise Failed("openapi-generator.jar not found: pip install -r requirements.txt (openapi-generator-cli)")
    return jar


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise Failed("no java on PATH: apt-get install openjdk-17-jdk-headless")
    return found


def generate(spec_path: Path, out: Path, which: list[str]) -> None:
    """One JVM for all clients (openapi-generator's ``batch``): the JVM's start is most of the time."""
    configs = []
    for name in which:
        config = {**GENERATORS[name], "inputSpec": str(spec_path), "outputDir": str(out / name)}
        path = out / f".{name}.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        configs.append(str(path))
        shutil.rmtree(out / name, ignore_errors=True)
    cmd = [java(), *FAST_JVM, "-jar", str(generator_jar()), "batch", "--fail-fast", *configs]
    run(cmd, "openapi-generator")


def run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)  # noqa: S603 - fixed tools, no shell
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        raise Failed(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout + proc.stderr


def classpath() -> str:
    jars = []
    for path, digest in JAVA_CLASSPATH:
        if not path.is_file():
            raise Failed(f"{path} is missing: the Java client is compiled offline against these jars")
        if digest is not None and hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise Failed(f"{path} is not the pinned jar (SHA-256 differs)")
        jars.append(str(path))
    return os.pathsep.join(jars)


def compile_java(source: Path) -> int:
    """``javac`` over every generated source file; returns how many were compiled."""
    javac = shutil.which("javac")
    if not javac:
        raise Failed("no javac on PATH: apt-get install openjdk-17-jdk-headless")
    files = sorted(str(p) for p in (source / "src" / "main" / "java").rglob("*.java"))
    if not files:
        raise Failed(f"no Java sources under {source}")
    classes = source / "target" / "classes"
    classes.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(files))
    try:
        run([javac, *(f"-J{o}" for o in FAST_JVM), "-nowarn", "-encoding", "UTF-8", "--release", "17",
             "-proc:none", "-cp", classpath(), "-d", str(classes), f"@{listing.name}"], "javac")  # fmt: skip
    finally:
        os.unlink(listing.name)
    return len(files)


def check_go(source: Path) -> str:
    files = sorted(str(p) for p in source.glob("*.go"))
    if not files:
        raise Failed(f"no Go sources under {source}")
    gofmt = shutil.which("gofmt")
    if not gofmt:
        return f"{len(files)} Go files generated (no Go toolchain here: not checked)"
    unformatted = run([gofmt, "-l", *files], "gofmt").strip()
    if unformatted:
        raise Failed(f"gofmt: not well-formed Go: {unformatted}")
    return f"{len(files)} Go files generated, gofmt-clean"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--spec", help="the document's URL or file (default: built from the hub's code)")
    parser.add_argument("--hub-url", default=os.environ.get("HUB_URL") or "https://hub.tangkal.example")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "clients")
    parser.add_argument("--only", choices=sorted(GENERATORS), action="append", help="one client (repeatable)")
    parser.add_argument("--no-compile", action="store_true", help="generate only")
    args = parser.parse_args(argv)
    which = args.only or sorted(GENERATORS)
    started = time.monotonic()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        spec_path = args.out / "openapi.json"
        spec_path.write_text(json.dumps(document(args.spec, args.hub_url), indent=2), encoding="utf-8")
        generate(spec_path, args.out, which)
        print(f"generated {', '.join(which)} into {args.out} ({time.monotonic() - started:.0f} s)")
        if "java" in which and not args.no_compile:
            count = compile_java(args.out / "java")
            print(f"java: {count} files compiled with javac ({time.monotonic() - started:.0f} s)")
        if "go" in which:
            print("go: " + check_go(args.out / "go"))
    except Failed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
