"""Verifying a partner's signature with its registered keys.

Keys are read from the database once per batch, never cached across
requests: a key revoked a second ago must already sign nothing the hub
accepts (PROTOCOL.md section 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from hub.auth.models import PartnerKey
from hub.db import db
from hub.problems import Problem
from keys.b64 import b64u_decode
from keys.errors import SignatureInvalid, SigningError
from keys.jwk import jwk_to_public_key
from keys.signing import verify_bytes


@lru_cache(maxsize=4096)
def _public_key(jwk_text: str) -> Ed25519PublicKey:
    return jwk_to_public_key(json.loads(jwk_text))


@dataclass(frozen=True)
class KeyRing:
    partner_id: str
    rows: dict[str, tuple[str, str]]  # kid -> (status, public JWK text)

    @classmethod
    def load(cls, partner_id: str) -> KeyRing:
        rows = db.session.execute(
            select(PartnerKey.kid, PartnerKey.status, PartnerKey.public_jwk).where(PartnerKey.partner_id == partner_id)
        ).all()
        return cls(partner_id, {kid: (status, jwk) for kid, status, jwk in rows})

    def verify(self, kid: str, envelope: dict[str, Any], kind: str, message: bytes) -> None:
        """Check ``envelope``'s signature over ``message``, the JCS bytes of ``envelope[kind]``.

        The caller has canonicalized the body already (for its hash), so it is
        not done again here; the envelope's shape was validated with its model.
        """
        found = self.rows.get(kid)
        if found is None:
            raise Problem("unknown-key", f"{self.partner_id} has no key {kid!r}; register it with the hub first.")
        status, jwk_text = found
        if status != "active":
            raise Problem(
                "revoked-key", f"Key {kid!r} of {self.partner_id} is revoked and signs nothing the hub accepts."
            )
        try:
            verify_bytes(_public_key(jwk_text), message, b64u_decode(envelope["signature"]["value"]))
        except SignatureInvalid:
            raise Problem(
                "invalid-signature",
                f"The signature does not verify with key {kid!r} over the RFC 8785 bytes of {kind!r}.",
            ) from None
        except SigningError as exc:
            raise Problem("invalid-record", f"Malformed signed object: {exc}") from None
