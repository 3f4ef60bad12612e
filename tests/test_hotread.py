"""hub.hotread: a statement on the driver's cursor answers exactly what Connection.execute answers (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import bindparam, func, select

from hub.auth import protect
from hub.auth.models import OAuthClient, RevokedToken
from hub.db import db, reads
from hub.hotread import HotRead, NotAHotRead
from hub.records import lifecycle
from hub.records.lifecycle import NumberEvent
from tests.support import register_partner


def _event(seq: int, number: str, event: str, at: datetime) -> NumberEvent:
    return NumberEvent(
        id=f"00000000-0000-4000-8000-{seq:012d}",
        seq=seq,
        log_index=10_000 + seq,
        operator="telkomsel",
        number=number,
        event=event,
        effective_at=at,
        received_at=at,
        sha256="0" * 64,
    )


def _both(conn, hot: HotRead, params: dict) -> tuple:
    plain = conn.execute(hot.statement, params).first()
    return hot.first(conn, params), tuple(plain) if plain is not None else None


def test_the_reassignment_question_reads_the_same_as_connection_execute(app: Flask) -> None:
    at = datetime(2026, 3, 1, 8, 30, 15, 123000, tzinfo=UTC)
    with app.app_context():
        db.session.add_all(
            [
                _event(1, "+6281200000001", "disconnected", at - timedelta(days=90)),
                _event(2, "+6281200000001", "reassigned", at),
                _event(3, "+6281200000002", "disconnected", at),
            ]
        )
        db.session.commit()
        conn = reads()
        hot = lifecycle._EARLIEST_AND_LATEST_ONE
        for number in ("+6281200000001", "+6281200000002", "+6281299999999"):
            fast, plain = _both(conn, hot, {"number": number})
            assert fast == plain
        fast, _ = _both(conn, hot, {"number": "+6281200000001"})
        # aware UTC datetimes, as the column type promises, on both databases
        assert fast == (at - timedelta(days=90), at)
        assert all(v.tzinfo is not None for v in fast)
        assert hot.first(conn, {"number": "+6281200000002"}) == (at - timedelta(days=90), None)


def test_the_token_check_reads_the_same_as_connection_execute(app: Flask) -> None:
    creds = register_partner(app, "telkomsel", "operator")
    off = register_partner(app, "indosat", "operator")
    with app.app_context():
        db.session.add(RevokedToken(jti="revoked", expires_at=datetime.now(UTC) + timedelta(minutes=15)))
        client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == off.client_id))
        client.disabled = True
        db.session.commit()
        conn = reads()
        hot = protect._CLIENT_STATE
        for jti in ("not-revoked", "revoked"):
            for client_id in (creds.client_id, off.client_id, "no-such-client"):
                fast, plain = _both(conn, hot, {"jti": jti, "client_id": client_id})
                assert fast == plain
        revoked, disabled, partner_id, kind = hot.first(conn, {"jti": "x", "client_id": creds.client_id})
        # booleans, not SQLite's 0 and 1
        assert (revoked, disabled, partner_id, kind) == (False, False, "telkomsel", "operator")
        assert type(revoked) is bool and type(disabled) is bool
        assert hot.first(conn, {"jti": "revoked", "client_id": off.client_id}) == (True, True, "indosat", "operator")


def test_a_driver_error_goes_through_sqlalchemys_error_handling(app: Flask) -> None:
    """A statement the driver refuses raises SQLAlchemy's wrapped error, as Connection.execute would."""
    from sqlalchemy.exc import DBAPIError

    broken = HotRead(select(func.no_such_function(bindparam("x", type_=db.String))))
    with app.app_context(), pytest.raises(DBAPIError):
        broken.first(reads(), {"x": "a"})


def test_statements_that_need_parameter_processing_are_refused(app: Flask) -> None:
    listed = HotRead(select(NumberEvent.seq).where(NumberEvent.number.in_(bindparam("numbers", expanding=True))))
    with app.app_context(), pytest.raises(NotAHotRead):
        listed.first(reads(), {"numbers": ["+6281200000001"]})
