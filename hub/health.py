"""Liveness and readiness, for the load balancer and the person on call."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from sqlalchemy import text

from hub.db import db
from hub.openapi import operation
from hub.problems import Problem

bp = Blueprint("health", __name__)


class Health(BaseModel):
    """The process answers (and, for readiness, its database does too)."""

    status: str


@bp.get("/healthz")
@operation(
    summary="Liveness: the process answers",
    tag="health",
    operation_id="healthz",
    responses={200: Health},
    response_example={"status": "ok"},
)
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@operation(
    summary="Readiness: the database answers and is migrated",
    tag="health",
    operation_id="readyz",
    responses={200: Health},
    response_example={"status": "ready"},
)
def readyz() -> ResponseReturnValue:
    try:
        db.session.execute(text("SELECT 1 FROM partners LIMIT 1"))
    except Exception as exc:  # any database failure means not ready
        db.session.rollback()
        raise Problem("unavailable", f"Database not ready: {type(exc).__name__}") from None
    return jsonify({"status": "ready"})
