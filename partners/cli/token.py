"""``token``: an access token for ad-hoc calls (``curl -H "Authorization: Bearer $TOKEN"``).

Prints the access token alone on stdout, so ``TOKEN=$(python -m partners
token)`` works; ``--json`` prints the whole grant (scope, lifetime) and who
the token stands for. The client secret is never printed.
"""

from __future__ import annotations

import argparse
import json
import sys

from partners.cli.common import EXIT_OK, Reporter, doc, make_client


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "token",
        parents=[common],
        help="fetch an access token (prints it on stdout)",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the grant and /v1/whoami as one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Reporter) -> int:
    client = make_client(args)
    token = client.fetch_token()
    if args.json:
        who = client.whoami()
        grant = {k: token[k] for k in ("access_token", "token_type", "expires_in", "expires_at", "scope") if k in token}
        sys.stdout.write(json.dumps({**grant, "whoami": who}, indent=2) + "\n")
    else:
        sys.stdout.write(str(token["access_token"]) + "\n")
        out.info(f"token for scope '{token.get('scope', '')}', valid {token.get('expires_in', '?')} s")
    return EXIT_OK
