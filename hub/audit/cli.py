"""``flask --app wsgi audit prune``: apply the audit trail's retention (``AUDIT_RETENTION_DAYS``).

Run it from cron or a systemd timer on any one instance, daily; running it
on several at once, or twice, is harmless (hub.audit.service.prune).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import service

audit_cli = AppGroup("audit", help="The audit trail of reads.")


@audit_cli.command("prune")
@click.option(
    "--days", type=click.IntRange(min=1), default=None, help="keep this many days (default AUDIT_RETENTION_DAYS)"
)
def audit_prune(days: int | None) -> None:
    """Delete audit rows older than the retention period."""
    kept = service.retention_days() if days is None else days
    deleted = service.prune(days)
    click.echo(f"deleted {deleted} audit rows older than {kept} days")
