"""Administration commands (PROTOCOL.md section 9): ``flask --app wsgi partner ...``.

A mistake gets one line on stderr and a non-zero exit, never a traceback:
these are run by the hub's operators, often at night.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hub.auth.models import OAuthClient, Partner, PartnerCarrier, PartnerKey
from hub.auth.scopes import PARTNER_KINDS
from hub.auth.secrets import hash_secret, new_client_id, new_client_secret
from hub.db import db, utcnow
from hub.signing import create_key
from keys.errors import SigningError
from keys.jwk import load_public_key, public_jwk
from keys.timefmt import format_ts

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
KID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

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
            first = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
            raise click.ClickException(
                f"database error: {first} (is the schema migrated? flask --app wsgi db upgrade)"
            ) from None

    return inner  # type: ignore[return-value]


def _get_partner(partner_id: str) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise click.ClickException(f"no partner {partner_id!r} (see: partner list)")
    return partner


@partner_cli.command("add")
@click.argument("partner_id")
@click.option("--kind", type=click.Choice(PARTNER_KINDS), required=True)
@click.option("--name", required=True, help="Display name, e.g. 'Telkomsel'.")
@click.option("--carrier", "carriers", multiple=True, help="Carrier name as phonenumbers gives it (operators).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_db_errors
def partner_add(partner_id: str, kind: str, name: str, carriers: tuple[str, ...], as_json: bool) -> None:
    """Create a partner and its OAuth client; print the client's credentials once."""
    if not PARTNER_ID.match(partner_id):
        raise click.ClickException(f"partner id {partner_id!r} must match ^[a-z0-9][a-z0-9-]{{1,62}}$")
    if not name.strip():
        raise click.ClickException("--name must not be empty")
    if carriers and kind != "operator":
        raise click.ClickException("--carrier is for operators: numbers are routed to an operator by carrier name")
    if db.session.get(Partner, partner_id) is not None:
        raise click.ClickException(f"partner {partner_id!r} already exists")
    names = [c.strip() for c in carriers if c.strip()]
    for carrier in names:
        owner = db.session.get(PartnerCarrier, carrier)
        if owner is not None:
            raise click.ClickException(f"carrier {carrier!r} is already routed to {owner.partner_id!r}")
    if len(set(names)) != len(names):
        raise click.ClickException("the same --carrier was given twice")
    partner = Partner(id=partner_id, kind=kind, name=name.strip(), created_at=utcnow())
    partner.carriers = [PartnerCarrier(carrier=c) for c in names]
    client_id, secret = new_client_id(), new_client_secret()
    db.session.add(partner)
    db.session.add(OAuthClient(client_id=client_id, partner_id=partner_id, secret_hash=hash_secret(secret)))
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    click.echo(f"partner {partner_id} ({kind}) created")
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo("The secret is shown only now; the hub keeps only its hash.", err=True)


@partner_cli.command("add-key")
@click.argument("partner_id")
@click.option("--kid", required=True, help="Key id partners put in signatures, e.g. telkomsel-2026-01.")
@click.option("--public-key", "public_key", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_db_errors
def partner_add_key(partner_id: str, kid: str, public_key: Path) -> None:
    """Register a partner's Ed25519 public key (PEM or JWK file)."""
    partner = _get_partner(partner_id)
    if not KID.match(kid):
        raise click.ClickException("--kid must be 1 to 100 characters of A-Z a-z 0-9 . _ : -")
    try:
        data = public_key.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {public_key}: {exc.strerror}") from None
    try:
        key = load_public_key(data)
    except SigningError as exc:
        raise click.ClickException(f"{public_key}: not an Ed25519 public key in PEM or JWK form ({exc})") from None
    if db.session.get(PartnerKey, (partner.id, kid)) is not None:
        raise click.ClickException(f"{partner_id} already has a key {kid!r}; a kid is never reused")
    db.session.add(
        PartnerKey(partner_id=partner.id, kid=kid, public_jwk=json.dumps(public_jwk(key, kid)), created_at=utcnow())
    )
    db.session.commit()
    click.echo(f"key {kid} added to {partner_id}")


@partner_cli.command("revoke-key")
@click.argument("partner_id")
@click.argument("kid")
@_db_errors
def partner_revoke_key(partner_id: str, kid: str) -> None:
    """Revoke a partner key: nothing signed with it is accepted again."""
    _get_partner(partner_id)
    row = db.session.get(PartnerKey, (partner_id, kid))
    if row is None:
        raise click.ClickException(f"{partner_id} has no key {kid!r}")
    if row.status == "revoked":
        click.echo(f"key {kid} of {partner_id} was already revoked at {format_ts(row.revoked_at)}")
        return
    row.status = "revoked"
    row.revoked_at = utcnow()
    db.session.commit()
    click.echo(f"key {kid} of {partner_id} revoked")


@partner_cli.command("rotate-secret")
@click.argument("partner_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_db_errors
def partner_rotate_secret(partner_id: str, as_json: bool) -> None:
    """Give the partner's client a new secret (shown once); the old one stops working now."""
    _get_partner(partner_id)
    client = db.session.scalars(select(OAuthClient).where(OAuthClient.partner_id == partner_id)).first()
    if client is None:
        raise click.ClickException(f"{partner_id} has no OAuth client")
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))
        return
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo("Tokens already issued stay valid until they expire; use 'partner disable' to stop them now.", err=True)


def _set_disabled(partner_id: str, disabled: bool) -> None:
    _get_partner(partner_id)
    clients = db.session.scalars(select(OAuthClient).where(OAuthClient.partner_id == partner_id)).all()
    for c in clients:
        c.disabled = disabled
    db.session.commit()
    click.echo(f"{len(clients)} client(s) of {partner_id} {'disabled' if disabled else 'enabled'}")


@partner_cli.command("disable")
@click.argument("partner_id")
@_db_errors
def partner_disable(partner_id: str) -> None:
    """Disable the partner's OAuth clients: no new tokens, and its tokens are refused at once."""
    _set_disabled(partner_id, True)


@partner_cli.command("enable")
@click.argument("partner_id")
@_db_errors
def partner_enable(partner_id: str) -> None:
    """Enable the partner's OAuth clients again."""
    _set_disabled(partner_id, False)


@partner_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@_db_errors
def partner_list(as_json: bool) -> None:
    """List partners with their kind, carriers, clients and keys."""
    partners = db.session.scalars(select(Partner).order_by(Partner.id)).all()
    rows = []
    for p in partners:
        clients = db.session.scalars(select(OAuthClient.client_id).where(OAuthClient.partner_id == p.id)).all()
        rows.append(
            {
                "id": p.id,
                "kind": p.kind,
                "name": p.name,
                "carriers": p.carrier_names,
                "client_ids": list(clients),
                "keys": [{"kid": k.kid, "status": k.status} for k in p.keys],
                "created_at": format_ts(p.created_at),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no partners yet (add one: flask --app wsgi partner add <id> --kind ... --name ...)")
    for r in rows:
        keys = ", ".join(f"{k['kid']} ({k['status']})" for k in r["keys"]) or "no keys"
        carriers = ", ".join(r["carriers"]) or "-"
        click.echo(f"{r['id']:<24} {r['kind']:<9} {r['name']:<32} carriers: {carriers}; keys: {keys}")


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
    from hub.reports import service
    from hub.reports.periods import parse_period

    try:
        p = parse_period(kind, period)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if p.end > utcnow():
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
    from hub.signing import retire_key

    try:
        retire_key(current_app._get_current_object(), kid)  # type: ignore[attr-defined]
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0])) from None
    click.echo(f"hub key {kid} retired: tokens signed with it are refused; it stays in /.well-known/jwks.json")


@keys_cli.command("list")
@_db_errors
def keys_list() -> None:
    """The hub's keys, newest first."""
    from hub.auth.models import HubKey

    for row in db.session.scalars(select(HubKey).order_by(HubKey.created_at.desc())):
        state = f"retired {format_ts(row.retired_at)}" if row.retired_at else "active"
        click.echo(f"{row.kid:<40} created {format_ts(row.created_at)}  {state}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(partner_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(report_cli)

    from hub.demo import demo_command

    app.cli.add_command(demo_command)
