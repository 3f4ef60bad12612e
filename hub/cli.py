"""Administration commands (PROTOCOL.md section 9): ``flask --app wsgi partner ...``.

A mistake gets one line on stderr and a non-zero exit, never a traceback:
these are run by the hub's operators, often at night.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from hub import admin, clock
from hub.audit.cli import audit_cli
from hub.db import db
from hub.demo import demo_command
from hub.reports import service
from hub.reports.periods import parse_period
from hub.signing import create_key, ensure_key, key_rows, retire_key
from keys.timefmt import format_ts
from keys.wire import PARTNER_KINDS

F = TypeVar("F", bound=Callable[..., Any])

partner_cli = AppGroup("partner", help="Register partners and manage their keys.")
keys_cli = AppGroup("keys", help="The hub's own signing keys.")
report_cli = AppGroup("report", help="Reconciliation reports.")


def _db_errors(fn: F) -> F:
    """Turn a database failure into one readable line."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SQLAlchemyError as exc:
            db.session.rollback()
            orig = getattr(exc, "orig", None)
            first = str(orig if orig is not None else exc).splitlines()[0]
            raise click.ClickException(
                f"database error: {first} (is the schema migrated? flask --app wsgi db upgrade)"
            ) from None

    return inner  # type: ignore[return-value]


def _admin_errors(fn: F) -> F:
    """A refused request (hub.admin.AdminError) is one line on stderr and exit 1."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except admin.AdminError as exc:
            raise click.ClickException(str(exc)) from None

    return inner  # type: ignore[return-value]


@partner_cli.command("add")
@click.argument("partner_id")
@click.option("--kind", type=click.Choice(PARTNER_KINDS), required=True)
@click.option("--name", required=True, help="Display name, e.g. 'Telkomsel'.")
@click.option("--carrier", "carriers", multiple=True, help="Carrier name as phonenumbers gives it (operators).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_db_errors
@_admin_errors
def partner_add(partner_id: str, kind: str, name: str, carriers: tuple[str, ...], as_json: bool) -> None:
    """Create a partner and its OAuth client; print the client's credentials once."""
    creds = admin.add_partner(partner_id, kind, name, carriers)
    if as_json:
        click.echo(json.dumps(creds.as_dict()))
        return
    click.echo(f"partner {partner_id} ({kind}) created")
    click.echo(f"client_id:     {creds.client_id}")
    click.echo(f"client_secret: {creds.client_secret}")
    click.echo("The secret is shown only now; the hub keeps only its hash.", err=True)


@partner_cli.command("add-key")
@click.argument("partner_id")
@click.option("--kid", required=True, help="Key id partners put in signatures, e.g. telkomsel-2026-01.")
@click.option("--public-key", "public_key", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_db_errors
@_admin_errors
def partner_add_key(partner_id: str, kid: str, public_key: Path) -> None:
    """Register a partner's Ed25519 public key (PEM or JWK file)."""
    admin.get_partner(partner_id)
    try:
        data = public_key.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {public_key}: {exc.strerror}") from None
    try:
        admin.add_partner_key(partner_id, kid, data)
    except admin.AdminError as exc:
        raise click.ClickException(f"{public_key}: {exc}" if "public key" in str(exc) else str(exc)) from None
    click.echo(f"key {kid} added to {partner_id}")


@partner_cli.command("revoke-key")
@click.argument("partner_id")
@click.argument("kid")
@_db_errors
@_admin_errors
def partner_revoke_key(partner_id: str, kid: str) -> None:
    """Revoke a partner key: nothing signed with it is accepted again."""
    before = admin.revoke_partner_key(partner_id, kid)
    if before is not None:
        click.echo(f"key {kid} of {partner_id} was already revoked at {format_ts(before)}")
        return
    click.echo(f"key {kid} of {partner_id} revoked")


@partner_cli.command("rotate-secret")
@click.argument("partner_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_db_errors
@_admin_errors
def partner_rotate_secret(partner_id: str, as_json: bool) -> None:
    """Give the partner's client a new secret (shown once); the old one stops working now."""
    creds = admin.rotate_secret(partner_id)
    if as_json:
        click.echo(json.dumps(creds.as_dict()))
        return
    click.echo(f"client_id:     {creds.client_id}")
    click.echo(f"client_secret: {creds.client_secret}")
    click.echo("Tokens already issued stay valid until they expire; use 'partner disable' to stop them now.", err=True)


@partner_cli.command("disable")
@click.argument("partner_id")
@_db_errors
@_admin_errors
def partner_disable(partner_id: str) -> None:
    """Disable the partner's OAuth clients: no new tokens, and its tokens are refused at once."""
    n = admin.set_enabled(partner_id, False)
    click.echo(f"{n} client(s) of {partner_id} disabled")


@partner_cli.command("enable")
@click.argument("partner_id")
@_db_errors
@_admin_errors
def partner_enable(partner_id: str) -> None:
    """Enable the partner's OAuth clients again."""
    n = admin.set_enabled(partner_id, True)
    click.echo(f"{n} client(s) of {partner_id} enabled")


@partner_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@_db_errors
def partner_list(as_json: bool) -> None:
    """List partners with their kind, carriers, clients and keys."""
    rows = admin.list_partners()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no partners yet (add one: flask --app wsgi partner add <id> --kind ... --name ...)")
    for r in rows:
        keys = ", ".join(f"{k['kid']} ({k['status']})" for k in r["keys"]) or "no keys"
        carriers = ", ".join(r["carriers"]) or "-"
        click.echo(f"{r['id']:<24} {r['kind']:<9} {r['name']:<32} carriers: {carriers}; keys: {keys}")


@keys_cli.command("init")
@_db_errors
def keys_init() -> None:
    """Make the hub's first signing key if it has none (idempotent; run after db upgrade)."""
    row = ensure_key(current_app._get_current_object())  # type: ignore[attr-defined]
    if row is None:
        click.echo("the hub already has a signing key")
    else:
        click.echo(f"hub signing key {row.kid} created")


@keys_cli.command("rotate")
@_db_errors
def keys_rotate() -> None:
    """Make a new hub signing key; old ones stay published for verification."""
    row = create_key(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"new hub signing key {row.kid}; older keys remain in /.well-known/jwks.json")


@report_cli.command("run")
@click.option("--kind", type=click.Choice(["daily", "monthly"]), required=True)
@click.option("--period", required=True, help="YYYY-MM-DD (daily) or YYYY-MM (monthly), a Jakarta date.")
@click.option("--json", "as_json", is_flag=True, help="Print the signed report.")
@_db_errors
def report_run(kind: str, period: str, as_json: bool) -> None:
    """Make the report of a past period, once: running it again prints the same report."""
    try:
        p = parse_period(kind, period)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if p.end > clock.now():
        raise click.ClickException(f"the {kind} period {period} has not ended yet (it ends {format_ts(p.end)})")
    row, created = service.ensure(p)
    if as_json:
        click.echo(json.dumps(service.envelope(row)))
        return
    state = "made" if created else "already existed"
    click.echo(f"{kind} report {row.id} for {period} {state} ({format_ts(p.start)} to {format_ts(p.end)})")


@keys_cli.command("retire")
@click.argument("kid")
@_db_errors
def keys_retire(kid: str) -> None:
    """Stop accepting access tokens signed with KID (it stays published for old receipts)."""
    try:
        retire_key(current_app._get_current_object(), kid)  # type: ignore[attr-defined]
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0])) from None
    click.echo(f"hub key {kid} retired: tokens signed with it are refused; it stays in /.well-known/jwks.json")


@keys_cli.command("list")
@_db_errors
def keys_list() -> None:
    """The hub's keys, newest first."""
    for row in key_rows():
        state = f"retired {format_ts(row.retired_at)}" if row.retired_at else "active"
        click.echo(f"{row.kid:<40} created {format_ts(row.created_at)}  {state}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(partner_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(audit_cli)
