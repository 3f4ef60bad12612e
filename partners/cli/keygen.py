"""``keygen``: a new Ed25519 key pair for signing and for ``private_key_jwt``.

The private key is the partner's identity at the hub: it is written mode
0600 from creation (``keys.keyfiles``) and an existing file is never
overwritten, since losing the old key would orphan everything registered
for it. The public half goes out as PEM and as JWK, whichever the hub's
operators prefer for ``partner add-key``.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from keys.keyfiles import generate_private_key, write_private_key, write_public_key
from partners.cli.common import EXIT_OK, Reporter, doc
from partners.config import ENV_KEY, ENV_KID, ENV_PARTNER
from partners.errors import ConfigError


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "keygen",
        parents=[common],
        help="make an Ed25519 key pair (private key 0600)",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", metavar="FILE", help=f"private key file [{ENV_KEY}, else <partner>.key]")
    p.set_defaults(run=run)


def public_paths(private: Path) -> tuple[Path, Path]:
    """``telkomsel.key`` -> ``telkomsel.pub.pem``, ``telkomsel.pub.jwk``."""
    stem = private.name[: -len(private.suffix)] if private.suffix else private.name
    return private.with_name(stem + ".pub.pem"), private.with_name(stem + ".pub.jwk")


def reserve(path: Path) -> None:
    """Claim the file name atomically (O_EXCL), so two keygens cannot both think it was free."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists; refusing to overwrite a private key (move it away first)") from None
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)


def run(args: argparse.Namespace, out: Reporter) -> int:
    partner = args.partner or os.environ.get(ENV_PARTNER)
    target = args.out or args.key or os.environ.get(ENV_KEY) or (f"{partner}.key" if partner else None)
    if not target:
        raise ConfigError(f"where to write the key? pass --out FILE (or set {ENV_KEY} or {ENV_PARTNER})")
    kid = args.kid or os.environ.get(ENV_KID)
    if not kid:
        if not partner:
            raise ConfigError(f"name the key: pass --kid (e.g. telkomsel-2026-01) or set {ENV_PARTNER}")
        kid = f"{partner}-{datetime.now(UTC):%Y-%m}"
    private = Path(target)
    if not private.parent.is_dir():
        raise ConfigError(f"folder {private.parent} does not exist")
    reserve(private)
    pem, jwk = public_paths(private)
    key = generate_private_key()
    try:
        write_private_key(private, key)
    except BaseException:
        private.unlink(missing_ok=True)
        raise
    write_public_key(pem, key.public_key(), "pem")
    write_public_key(jwk, key.public_key(), "jwk", kid=kid)
    out.info(f"private key  {private} (mode 0600; keep it secret, back it up)")
    out.info(f"public key   {pem}")
    out.info(f"public JWK   {jwk} (kid {kid})")
    who = partner or "<partner>"
    out.info(
        f"next: ask the hub's operators to run: flask --app wsgi partner add-key {who} --kid {kid} --public-key {pem.name}"
    )
    out.info(f"then: export {ENV_KEY}={private} {ENV_KID}={kid}")
    return EXIT_OK
