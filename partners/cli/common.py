"""What every ``python -m partners`` command shares: flags, messages, progress, exit codes.

Exit codes are the CLI's contract with the scripts and schedulers that run
it: 0 all good; 1 some items were rejected (or an attestation did not
match): look at the report; 2 usage or configuration: fix the command or
the input; 3 the hub is unreachable or refused our credentials: try later
or fix the client; 4 something the hub signed did not verify: raise the
alarm, do not retry; 130 interrupted; 70 a bug in this tool.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from tqdm import tqdm

from partners.client import HubClient
from partners.config import AUTH_CHOICES, Settings
from partners.errors import (
    AuthError,
    ConfigError,
    Forbidden,
    HubProblem,
    HubUnreachable,
    InputError,
    ItemRejected,
    PartnerError,
    RateLimited,
    ServerError,
    VerificationFailed,
)
from partners.retry import RetryPolicy

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_HUB = 3
EXIT_VERIFY = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool whose reader left


def doc(text: str | None) -> str:
    """A module docstring as ``--help`` text: without the reStructuredText quoting."""
    return (text or "").replace("``", "")


def common_parser() -> argparse.ArgumentParser:
    """The connection and output flags every command accepts (after its name)."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("connection (flags override TANGKAL_* variables)")
    group.add_argument("--hub", metavar="URL", help="hub URL [TANGKAL_HUB_URL]")
    group.add_argument("--client-id", metavar="ID", help="OAuth client id [TANGKAL_CLIENT_ID]")
    group.add_argument(
        "--client-secret-file",
        metavar="FILE",
        help="file holding the client secret [else TANGKAL_CLIENT_SECRET]; never a flag, never printed",
    )
    group.add_argument(
        "--credentials",
        metavar="FILE",
        help="client id and secret as 'partner add --json' prints them, mode 0600 [TANGKAL_CREDENTIALS]",
    )
    group.add_argument("--partner", metavar="ID", help="your partner id [TANGKAL_PARTNER; else asked of the hub]")
    group.add_argument("--key", metavar="FILE", help="your Ed25519 private key, mode 0600 [TANGKAL_KEY]")
    group.add_argument("--kid", metavar="KID", help="its key id as registered [TANGKAL_KID]")
    group.add_argument(
        "--auth",
        choices=sorted(AUTH_CHOICES),
        help="client authentication: secret (client_secret_basic) or key (private_key_jwt); "
        "default: secret when one is set",
    )
    group.add_argument("--scope", help="ask for a narrower token, e.g. 'records:read'")
    group.add_argument(
        "--retries",
        type=int,
        default=6,
        metavar="N",
        help="attempts per request on connection errors, 429 and 5xx (6; 1 = no retry)",
    )
    out = parser.add_argument_group("output")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary; problems only")
    out.add_argument("-v", "--verbose", action="store_true", help="log every retry and token fetch")
    return parser


def retry_policy(args: argparse.Namespace) -> RetryPolicy:
    if args.retries < 1:
        raise ConfigError("--retries must be at least 1")
    return RetryPolicy(attempts=args.retries)


def make_client(args: argparse.Namespace, need_key: bool = False) -> HubClient:
    """The client a command uses, from its flags and the environment; ``need_key`` when it signs."""
    return settings(args).client(need_key=need_key, retry=retry_policy(args))


def settings(args: argparse.Namespace) -> Settings:
    return Settings.resolve(
        hub_url=args.hub,
        client_id=args.client_id,
        client_secret_file=args.client_secret_file,
        credentials_file=args.credentials,
        partner=args.partner,
        key_path=args.key,
        kid=args.kid,
        scope=args.scope,
        auth=args.auth,
    )


class Reporter:
    """Human messages on stderr (stdout is for data: a token, pulled records)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def info(self, message: str) -> None:
        if not self.quiet:
            tqdm.write(message, file=sys.stderr)

    def problem(self, message: str) -> None:
        tqdm.write(message, file=sys.stderr)

    def progress(self, total: int | None, unit: str, desc: str) -> Any:
        """A tqdm bar on stderr, silent when quiet or when stderr is not a terminal."""
        return tqdm(
            total=total,
            unit=f" {unit}s",
            desc=desc,
            file=sys.stderr,
            unit_scale=False,
            disable=self.quiet or not sys.stderr.isatty(),
            dynamic_ncols=True,
            leave=False,
        )


def count_rows(path: str, fmt: str) -> int | None:
    """About how many rows a file holds (lines, less a CSV header), for the progress bar's ETA."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return max(0, lines - 1) if fmt == "csv" else lines


def configure_logging(verbose: bool) -> None:
    """SDK log lines (retries) as ``warning: ...`` on stderr; INFO too with --verbose."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("partners: %(message)s"))
    root = logging.getLogger("partners")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def exit_code(exc: BaseException) -> int:
    """The exit code a failure ends the run with."""
    if isinstance(exc, VerificationFailed):
        return EXIT_VERIFY
    if isinstance(exc, (HubUnreachable, AuthError, Forbidden, RateLimited, ServerError)):
        return EXIT_HUB
    if isinstance(exc, ItemRejected):
        return EXIT_REJECTED
    if isinstance(exc, (ConfigError, InputError, HubProblem)):
        return EXIT_USAGE
    if isinstance(exc, PartnerError):
        return EXIT_USAGE
    return EXIT_INTERNAL


def describe(exc: BaseException) -> str:
    """One line, never a traceback; the hub's slug where it gave one."""
    if isinstance(exc, VerificationFailed):
        return f"verification failed: {exc}"
    if isinstance(exc, AuthError):
        return f"authentication refused: {exc.slug}: {exc.detail}"
    if isinstance(exc, HubProblem):
        return (
            f"the hub refused: {exc.slug} ({exc.status}): {exc.detail}" if exc.status else f"{exc.slug}: {exc.detail}"
        )
    if isinstance(exc, PartnerError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc} (a bug in partners; please report it)"
