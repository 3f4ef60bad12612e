"""Checking what the hub hands back: receipts, tree heads, proofs, signed records.

A partner must be able to prove later that the hub received exactly what it
pushed (the receipt), that the hub logged it (an inclusion proof under a
signed tree head), that the log only grew (a consistency proof), and that a
record it acts on was really signed by its issuer. The primitives are
``keys`` (JCS, Ed25519, RFC 9162 proofs), shared with the hub; this module
fetches the keys they need and keeps them. Receipts are checked with the
rules of ``keys.verify`` (``check_receipt_body``, ``check_describes``) but
with the hub's key from this object's cache: ``verify_receipt`` loads the
JWK afresh on every call, and a pull of 10,000 records would spend most of
its time re-validating the same curve point.

Key sets are cached for the life of the client and fetched again once when
a ``kid`` is unknown: the hub rotates its key (``keys rotate``) and
partners add keys while a long pull is running, and neither must fail it.
Every failure becomes :class:`partners.errors.VerificationFailed`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.b64 import b64u_decode
from keys.errors import ReceiptMismatch, SigningError, UnknownKid
from keys.jcs import canonicalize, sha256_hex
from keys.jwk import key_from_jwks
from keys.merkle import verify_consistency
from keys.signing import split_envelope, verify_bytes, verify_object
from keys.verify import check_describes, check_receipt_body, verify_entry_inclusion, verify_tree_head
from partners.errors import VerificationFailed
from partners.transport import Transport


class Trust:
    """The key sets of the hub and of partners, and the checks that use them.

    Public keys are resolved once per ``kid`` and kept: loading a JWK checks
    that its point is on the curve and not of small order, which costs about
    a millisecond, and a pull of 10,000 records would otherwise pay it 20,000
    times.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._hub: dict[str, Any] | None = None
        self._partners: dict[str, dict[str, Any]] = {}
        self._keys: dict[tuple[str, str], Ed25519PublicKey] = {}

    # -- key sets ------------------------------------------------------------
    def hub_jwks(self, refresh: bool = False) -> dict[str, Any]:
        """``GET /.well-known/jwks.json`` (public, no token), cached."""
        if refresh or self._hub is None:
            self._hub = self.transport.get_json("/.well-known/jwks.json", auth=False)
        return self._hub

    def partner_jwks(self, partner_id: str, refresh: bool = False) -> dict[str, Any]:
        """``GET /v1/partners/<id>/keys`` (public), cached; revoked keys stay valid for old signatures."""
        if refresh or partner_id not in self._partners:
            self._partners[partner_id] = self.transport.get_json(
                f"/v1/partners/{quote(partner_id, safe='')}/keys", auth=False
            )
        return self._partners[partner_id]

    def key(self, owner: str | None, kid: str) -> Ed25519PublicKey:
        """The public key ``kid`` of the hub (``owner`` None) or of partner ``owner``; refetched once if unknown."""
        cached = self._keys.get((owner or "", kid))
        if cached is not None:
            return cached

        def fetch(refresh: bool) -> dict[str, Any]:
            return self.hub_jwks(refresh) if owner is None else self.partner_jwks(owner, refresh)

        try:
            found = key_from_jwks(fetch(False), kid)
        except UnknownKid:
            found = key_from_jwks(fetch(True), kid)
        self._keys[(owner or "", kid)] = found
        return found

    def _signed(self, envelope: dict[str, Any], kind: str, owner: str | None) -> dict[str, Any]:
        body, signature = split_envelope(envelope, kind)
        verify_object(envelope, kind, self.key(owner, signature["kid"]))
        return body

    # -- checks --------------------------------------------------------------
    def receipt(self, receipt_envelope: dict[str, Any], signed_object: dict[str, Any] | None = None) -> dict[str, Any]:
        """The body of a hub receipt that verifies and (given it) describes ``signed_object``.

        The same checks as ``keys.verify.verify_receipt``, with the hub's key
        taken from this object's cache.
        """
        object_id = _object_id(signed_object) if signed_object else None
        try:
            receipt = self._signed(receipt_envelope, "receipt", None)
            check_receipt_body(receipt)
            if signed_object is not None:
                check_describes(receipt, signed_object)
            return receipt
        except SigningError as exc:
            raise VerificationFailed(f"receipt of {object_id or '?'}: {exc}") from None

    def record_item(self, signed: dict[str, Any], receipt_envelope: dict[str, Any]) -> dict[str, Any]:
        """A served record: its receipt verifies and describes it, and its issuer signed it.

        A record whose issuer is the hub itself (the ``receipt``'s ``hub``: an
        unblock of a reassigned number) is checked with the hub's keys.

        The record's JCS bytes are computed once for both checks (they are
        the costliest part of verifying a pull).
        """
        record_id = _object_id(signed)
        try:
            receipt = self._signed(receipt_envelope, "receipt", None)
            check_receipt_body(receipt)
            body, signature = split_envelope(signed, "record")
            message = canonicalize(body)
            if receipt["kind"] != "record" or body.get("id") != receipt["object_id"]:
                raise ReceiptMismatch(f"the receipt is for {receipt['kind']} {receipt['object_id']!r}")
            if sha256_hex(message) != receipt["sha256"]:
                raise ReceiptMismatch("the receipt's sha256 is not the hash of this record: its content differs")
            issuer = str(body.get("issuer"))
            # The hub issues unblocks itself when a number is reassigned (PROTOCOL.md section 10),
            # as its own id and with a key of its published set; no partner may hold that id.
            owner = None if issuer == receipt["hub"] else issuer
            verify_bytes(self.key(owner, signature["kid"]), message, b64u_decode(signature["value"]))
            return receipt
        except SigningError as exc:
            raise VerificationFailed(f"record {record_id}: {exc}") from None

    def tree_head(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The body of a signed tree head that verifies."""
        try:
            try:
                return verify_tree_head(envelope, self.hub_jwks())
            except UnknownKid:
                return verify_tree_head(envelope, self.hub_jwks(refresh=True))
        except SigningError as exc:
            raise VerificationFailed(f"tree head: {exc}") from None

    def report(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The body of a hub-signed report that verifies, its log head too."""
        try:
            try:
                body = self._signed(envelope, "report", None)
            except UnknownKid:
                self.hub_jwks(refresh=True)
                body = self._signed(envelope, "report", None)
        except SigningError as exc:
            raise VerificationFailed(f"report {envelope.get('report', {}).get('id', '?')}: {exc}") from None
        if isinstance(body.get("log_head"), dict):
            self.tree_head(body["log_head"])
        return body

    def signed_by_partner(self, envelope: dict[str, Any], kind: str, partner_id: str) -> None:
        """Check a record or ack's signature with the key its ``kid`` names among ``partner_id``'s keys."""
        try:
            self._signed(envelope, kind, partner_id)
        except SigningError as exc:
            raise VerificationFailed(f"{kind} {_object_id(envelope)} signed by {partner_id}: {exc}") from None

    @staticmethod
    def inclusion(signed_object: dict[str, Any], index: int, tree_head: dict[str, Any], path: list[str]) -> None:
        """Check ``signed_object`` is leaf ``index`` under a verified ``tree_head`` body."""
        try:
            verify_entry_inclusion(signed_object, index, tree_head, path)
        except SigningError as exc:
            raise VerificationFailed(f"inclusion of {_object_id(signed_object)} at {index}: {exc}") from None

    @staticmethod
    def consistency(first: dict[str, Any], second: dict[str, Any], path: list[str]) -> None:
        """Check the verified head ``second`` extends the verified head ``first``."""
        try:
            hashes = [bytes.fromhex(p) for p in path]
            verify_consistency(
                first["size"],
                second["size"],
                bytes.fromhex(first["root_hash"]),
                bytes.fromhex(second["root_hash"]),
                hashes,
            )
        except (SigningError, ValueError, TypeError, KeyError) as exc:
            raise VerificationFailed(f"consistency {first.get('size')} -> {second.get('size')}: {exc}") from None


def _object_id(signed_object: dict[str, Any] | None) -> str:
    if not isinstance(signed_object, dict):
        return "?"
    for kind in ("record", "ack", "attestation", "number_event"):
        body = signed_object.get(kind)
        if isinstance(body, dict):
            return str(body.get("id", "?"))
    return "?"
