"""Staff accounts: creating, disabling, resetting, and each step of signing in.

The CLI (``flask --app wsgi user ...``), the console's views and the tests
all call these functions. Every refusal of a sign-in step is recorded as a
:class:`StaffEvent`, and the counters that lock an account are updated with
one conditional ``UPDATE`` each, so two hub instances counting failures for
the same account never lose one. Times come from the hub's clock, so tests
move time instead of waiting out a lockout.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import delete, func, select, update

from hub import clock
from hub.auth.secrets import check_secret, hash_secret
from hub.console import models as m
from hub.console.models import RecoveryCode, StaffEvent, StaffUser
from hub.db import db, rows_changed

MIN_PASSWORD = 12
RECOVERY_CODES = 10
TOTP_STEP = 30
ISSUER = "Tangkal"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: verified against when the email is unknown, so a wrong address costs the same time as a wrong password
_DUMMY_HASH: list[str] = []


class AccountError(ValueError):
    """A refused administration request; the message says why in one line."""


@dataclass(frozen=True)
class Refused:
    """A sign-in step refused; ``locked_until`` is set when the account is (now) locked."""

    locked_until: datetime | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _setting(name: str) -> int:
    return int(current_app.config[name])


def find(email: str) -> StaffUser | None:
    user: StaffUser | None = db.session.scalars(
        select(StaffUser).where(StaffUser.email == normalize_email(email))
    ).first()
    return user


def _get(email: str) -> StaffUser:
    user = find(email)
    if user is None:
        raise AccountError(f"no staff account {normalize_email(email)!r} (see: user list)")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")


# -- administration (the CLI) ------------------------------------------------------


def add_user(email: str, role: str, password: str) -> StaffUser:
    address = normalize_email(email)
    if not _EMAIL.fullmatch(address):
        raise AccountError(f"{email!r} is not an email address")
    if role not in m.ROLES:
        raise AccountError(f"role must be one of {', '.join(m.ROLES)}")
    _check_password(password)
    if find(address) is not None:
        raise AccountError(f"staff account {address!r} exists (reset its password with: user reset-password)")
    now = clock.now()
    user = StaffUser(
        email=address,
        role=role,
        password_hash=hash_secret(password),
        failed_count=0,
        disabled=False,
        session_token=secrets.token_urlsafe(32),
        created_at=now,
        password_changed_at=now,
    )
    db.session.add(user)
    db.session.commit()
    return user


def set_disabled(email: str, disabled: bool) -> StaffUser:
    """Disable (or enable) an account; disabling ends its sessions at once, on every instance."""
    user = _get(email)
    user.disabled = disabled
    user.session_token = secrets.token_urlsafe(32)
    db.session.commit()
    return user


def reset_password(email: str, password: str, reset_totp: bool = False) -> StaffUser:
    """A new password; ends the account's sessions and lifts a lockout. ``reset_totp``: enrol again."""
    _check_password(password)
    user = _get(email)
    user.password_hash = hash_secret(password)
    user.password_changed_at = clock.now()
    user.session_token = secrets.token_urlsafe(32)
    user.failed_count = 0
    user.locked_until = None
    if reset_totp:
        user.totp_secret = None
        user.totp_last_step = None
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.commit()
    return user


def list_users() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.email)))


# -- the sign-in log --------------------------------------------------------------


def record(kind: str, email: str, user_id: int | None, address: str | None, detail: str | None = None) -> None:
    db.session.add(
        StaffEvent(at=clock.now(), kind=kind, email=email[:254], user_id=user_id, address=address, detail=detail)
    )
    db.session.commit()


# -- signing in -------------------------------------------------------------------


def _locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _fail(user: StaffUser, address: str | None, what: str) -> Refused:
    """Count a failure; the one that reaches the limit locks the account and is recorded as a lockout."""
    now = clock.now()
    count = db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(failed_count=StaffUser.failed_count + 1)
        .returning(StaffUser.failed_count)
    ).scalar_one()
    if count >= _setting("CONSOLE_LOCKOUT_FAILURES"):
        until = now + timedelta(minutes=_setting("CONSOLE_LOCKOUT_MINUTES"))
        db.session.execute(update(StaffUser).where(StaffUser.id == user.id).values(failed_count=0, locked_until=until))
        db.session.commit()
        record(m.LOCKOUT, user.email, user.id, address, f"{what}; {count} failures in a row")
        return Refused(locked_until=until)
    db.session.commit()
    record(m.FAILURE, user.email, user.id, address, what)
    return Refused()


def _refuse_if_blocked(user: StaffUser, address: str | None) -> Refused | None:
    if user.disabled:
        record(m.DISABLED, user.email, user.id, address)
        return Refused()
    if _locked(user, clock.now()):
        record(m.LOCKED, user.email, user.id, address)
        return Refused(locked_until=user.locked_until)
    return None


def check_password(email: str, password: str, address: str | None) -> StaffUser | Refused:
    """The first step: the account exists, is enabled, is not locked, and the password is right."""
    user = find(email)
    if user is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_secret(secrets.token_urlsafe(16)))
        check_secret(_DUMMY_HASH[0], password)
        record(m.FAILURE, normalize_email(email) or "-", None, address, "unknown account")
        return Refused()
    blocked = _refuse_if_blocked(user, address)
    if blocked is not None:
        return blocked
    if not check_secret(user.password_hash, password):
        return _fail(user, address, "wrong password")
    return user


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (now, one before or one after) whose code is ``code``; None when none is."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


def _succeed(user: StaffUser, address: str | None, kind: str = m.LOGIN, detail: str | None = None) -> StaffUser:
    user.failed_count = 0
    user.last_login_at = clock.now()
    db.session.commit()
    record(kind, user.email, user.id, address, detail)
    return user


def _code_hash(code: str) -> str:
    return hashlib.sha256(re.sub(r"[\s-]", "", code).lower().encode()).hexdigest()


def check_second_factor(user_id: int, code: str, address: str | None) -> StaffUser | Refused:
    """The second step: a TOTP code not used before, or an unspent recovery code."""
    user = db.session.get(StaffUser, user_id)
    if user is None or user.totp_secret is None:
        return Refused()
    blocked = _refuse_if_blocked(user, address)
    if blocked is not None:
        return blocked
    step = _totp_step(user.totp_secret, code, clock.now())
    if step is not None:
        # Conditional: a code (or an earlier one) already used, here or on another instance, is refused.
        taken = db.session.execute(
            update(StaffUser)
            .where(
                StaffUser.id == user.id,
                (StaffUser.totp_last_step.is_(None)) | (StaffUser.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        if rows_changed(taken) == 1:
            db.session.commit()
            return _succeed(user, address)
        db.session.rollback()
        return _fail(user, address, "TOTP code used before")
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_sha256 == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )
    if rows_changed(spent) == 1:
        db.session.commit()
        left = db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        return _succeed(user, address, m.RECOVERY, f"{left} recovery codes left")
    db.session.rollback()
    return _fail(user, address, "wrong TOTP or recovery code")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(email: str, secret: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 80 bits, 16 characters
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def enrol(user_id: int, secret: str, code: str, address: str | None) -> list[str] | Refused:
    """Confirm the authenticator with a code from it; returns the recovery codes (shown once) and signs in."""
    user = db.session.get(StaffUser, user_id)
    if user is None:
        return Refused()
    blocked = _refuse_if_blocked(user, address)
    if blocked is not None:
        return blocked
    step = _totp_step(secret, code, clock.now())
    if step is None:
        return _fail(user, address, "wrong TOTP code at enrolment")
    taken = db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id, StaffUser.totp_secret.is_(None))
        .values(totp_secret=secret, totp_last_step=step)
    )
    if rows_changed(taken) != 1:  # enrolled meanwhile (another tab): sign in with the authenticator instead
        db.session.rollback()
        return Refused()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(RecoveryCode(user_id=user.id, code_sha256=_code_hash(c)) for c in codes)
    db.session.commit()
    record(m.ENROLLED, user.email, user.id, address, f"{len(codes)} recovery codes issued")
    _succeed(user, address)
    return codes


def session_user(token: str) -> StaffUser | None:
    """The account a session cookie names, if it still may be signed in (Flask-Login's user loader)."""
    user: StaffUser | None = db.session.scalars(
        select(StaffUser).where(StaffUser.session_token == token, StaffUser.disabled.is_(False))
    ).first()
    return user
