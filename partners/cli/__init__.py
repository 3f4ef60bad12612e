"""``tangkal`` (or ``python -m partners``): the partner's command line (PROTOCOL.md section 9).

The wheel installs the ``tangkal`` script, which calls :func:`console_main`;
``python -m partners`` calls :func:`main`. Each command is a module of this
package with ``add_parser`` and ``run``. ``main`` turns every failure into one
line on stderr and an exit code (see :mod:`partners.cli.common`); a traceback
only with ``TANGKAL_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from partners.cli import ack, attest, events, keygen, pull, push, reassigned, reports, token, verify
from partners.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    Reporter,
    common_parser,
    configure_logging,
    describe,
    exit_code,
)

COMMANDS = (keygen, token, push, pull, ack, attest, events, reassigned, verify, reports)
MODULE_PROG = "python -m partners"
SCRIPT_PROG = "tangkal"


def parser(prog: str = MODULE_PROG) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=prog,
        description="Tangkal partner CLI: keys, tokens, pushing, pulling, acking, attesting and verifying "
        "signed fraud-number records; operators' number lifecycle events and reassignment questions. Settings come from flags (after the command) or TANGKAL_HUB_URL, "
        "TANGKAL_CLIENT_ID, TANGKAL_CLIENT_SECRET (or TANGKAL_CREDENTIALS, a file), TANGKAL_PARTNER, "
        "TANGKAL_KEY, TANGKAL_KID.",
        epilog="exit codes: 0 ok, 1 items rejected or attestation mismatch, 2 usage or configuration, "
        "3 hub unreachable or authentication refused, 4 verification failed",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_parser()
    for module in COMMANDS:
        module.add_parser(commands, common)
    return top


def main(argv: list[str] | None = None, prog: str = MODULE_PROG) -> int:
    args = parser(prog).parse_args(argv)
    quiet = bool(getattr(args, "quiet", False))
    configure_logging(bool(getattr(args, "verbose", False)))
    out = Reporter(quiet)
    try:
        return int(args.run(args, out))
    except KeyboardInterrupt:
        out.problem("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - the CLI's one place that turns failures into exit codes
        if os.environ.get("TANGKAL_DEBUG"):
            traceback.print_exc()
        out.problem(f"error: {describe(exc)}")
        return exit_code(exc)


def script_prog(argv0: str) -> str:
    """The name the installed script was run by (``tangkal``), for usage lines and ``--help``."""
    name = Path(argv0).name
    if name.lower().endswith(".exe"):
        name = name[: -len(".exe")]
    return name or SCRIPT_PROG


def console_main() -> None:
    """The ``tangkal`` console script (pyproject.toml ``[project.scripts]``)."""
    sys.exit(main(prog=script_prog(sys.argv[0] if sys.argv else "")))


if __name__ == "__main__":
    sys.exit(main())
