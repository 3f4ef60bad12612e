"""Client secrets: generated once, shown once, stored only as Argon2id hashes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_hasher = PasswordHasher()
#: For test suites only (config SECRET_HASH_FAST): the same Argon2id, cheap parameters.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def new_client_id() -> str:
    return "tk_" + secrets.token_urlsafe(18)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    fast = current_app.config.get("SECRET_HASH_FAST", False)
    return (_fast_hasher if fast else _hasher).hash(secret)


def check_secret(secret_hash: str, candidate: str) -> bool:
    try:
        return _hasher.verify(secret_hash, candidate)
    except (VerificationError, InvalidHashError):
        return False
