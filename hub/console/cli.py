"""``flask --app wsgi user add|disable|enable|reset-password|list``: the console's staff accounts.

Passwords are typed at a hidden prompt (twice), or read from standard input
with ``--password-stdin`` for scripts; never from an argument, which would
land in shell history and ``ps``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask.cli import AppGroup

from hub.console import accounts
from hub.console.models import ROLES
from keys.timefmt import format_ts

F = TypeVar("F", bound=Callable[..., Any])

user_cli = AppGroup("user", help="Staff accounts of the ministry's console (/console).")


def _refusals(fn: F) -> F:
    """A refused request (AccountError) is one line on stderr and exit 1, never a traceback."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None

    return inner  # type: ignore[return-value]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_cli.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin also reads the sign-in log and staff.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@_refusals
def user_add(email: str, role: str, password_stdin: bool) -> None:
    """Create a staff account; TOTP is enrolled at its first sign-in."""
    user = accounts.add_user(email, role, _password(password_stdin))
    click.echo(f"staff account {user.email} ({user.role}) created; enrol TOTP at the first sign-in at /console/login")


@user_cli.command("disable")
@click.argument("email")
@_refusals
def user_disable(email: str) -> None:
    """Disable an account: its sessions end at once and it cannot sign in."""
    user = accounts.set_disabled(email, True)
    click.echo(f"staff account {user.email} disabled; its sessions have ended")


@user_cli.command("enable")
@click.argument("email")
@_refusals
def user_enable(email: str) -> None:
    """Enable a disabled account again."""
    user = accounts.set_disabled(email, False)
    click.echo(f"staff account {user.email} enabled")


@user_cli.command("reset-password")
@click.argument("email")
@click.option("--reset-totp", is_flag=True, help="Also forget the authenticator and recovery codes: enrol again.")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
@_refusals
def user_reset_password(email: str, reset_totp: bool, password_stdin: bool) -> None:
    """Set a new password, end the account's sessions and lift a lockout."""
    user = accounts.reset_password(email, _password(password_stdin), reset_totp=reset_totp)
    extra = "; TOTP will be enrolled again at the next sign-in" if reset_totp else ""
    click.echo(f"password of {user.email} reset; its sessions have ended{extra}")


@user_cli.command("list")
def user_list() -> None:
    """Staff accounts with role, state and last sign-in."""
    users = accounts.list_users()
    if not users:
        click.echo("no staff accounts yet (add one: flask --app wsgi user add <email> --role admin)")
    for u in users:
        state = "disabled" if u.disabled else ("TOTP enrolled" if u.totp_secret else "TOTP not enrolled")
        last = format_ts(u.last_login_at) if u.last_login_at else "never"
        click.echo(f"{u.email:<40} {u.role:<8} {state:<18} last sign-in: {last}")
