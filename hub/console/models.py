"""Staff accounts of the ministry's console and every sign-in attempt.

Staff are people at the ministry, not OAuth partners: they sign in with an
email, a password (Argon2id hash) and a TOTP code. Everything the console
must remember across instances is a row here (failure counts, lockouts,
the last TOTP step used, recovery codes, the session token), so a lockout
or a disabled account holds on every hub process at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db

ROLES = ("analyst", "admin")

#: What the sign-in log records (StaffEvent.kind).
LOGIN = "login"  # password and second factor both right: a session starts
FAILURE = "failure"  # wrong password, unknown email, wrong TOTP or recovery code
LOCKOUT = "lockout"  # this failure locked the account
LOCKED = "locked"  # an attempt while the account is locked (refused whatever the password)
DISABLED = "disabled"  # an attempt on a disabled account
LOGOUT = "logout"
EXPIRED = "expired"  # a session ended by idle time or its maximum age
ENROLLED = "enrolled"  # TOTP enrolled, recovery codes issued
RECOVERY = "recovery_code"  # signed in with a recovery code (that code is now spent)
EVENT_KINDS = (LOGIN, FAILURE, LOCKOUT, LOCKED, DISABLED, LOGOUT, EXPIRED, ENROLLED, RECOVERY)


class StaffUser(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: base32 TOTP secret; NULL until the staff member enrols at first sign-in
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the last 30-second TOTP step accepted: a code is never accepted twice
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: what the session cookie names (Flask-Login's id): a new one ends every session of the account
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.disabled

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class RecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """A one-time code for signing in without the authenticator; shown once, stored as SHA-256.

    The codes carry 80 random bits, so a fast hash is enough (a slow one
    would cost ten Argon2 checks per attempt).
    """

    __tablename__ = "staff_recovery_codes"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffEvent(db.Model):  # type: ignore[name-defined,misc]
    """One sign-in attempt or session event, kept for the ministry to read in the console."""

    __tablename__ = "staff_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: as typed at the sign-in form (an unknown address is recorded too)
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
