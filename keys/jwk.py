"""Ed25519 public keys as JWK (RFC 7517, OKP per RFC 8037), JWKS and PEM.

The hub publishes its keys and partners register theirs in these forms
(PROTOCOL.md §2). Loading is strict in what matters for trust: a JWK holding
private material (``d``) is refused rather than silently stripped, since
whoever sent it has leaked the key; and a public key must be a canonically
encoded point of the curve that is not of small order, because a small-order
key "verifies" signatures nobody made, which would let its owner repudiate
anything signed under it.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.b64 import b64u_decode, b64u_encode
from keys.errors import KeyFormatError, UnknownKid
from keys.signing import ALG

PUBLIC_KEY_LENGTH = 32
#: JWK ``alg`` values accepted on input: RFC 9864's ``Ed25519`` and the older
#: ``EdDSA`` that other toolkits still write. Output always says ``Ed25519``.
ACCEPTED_JWK_ALGS = frozenset({"Ed25519", "EdDSA"})

# --- curve point checks (RFC 8032 §5.1.3 decoding) -------------------------
_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(raw: bytes) -> tuple[int, int] | None:
    """Affine (x, y) of an encoded point, or None if not a canonical curve point."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    vxx = (v * x * x) % _P
    if vxx == (-u) % _P:
        x = (x * _SQRT_M1) % _P
    elif vxx != u:
        return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _double(point: tuple[int, int]) -> tuple[int, int]:
    """Twisted Edwards (a = -1) addition of a point to itself; complete for Ed25519."""
    x, y = point
    t = (_D * x * x * y * y) % _P
    x3 = (2 * x * y * pow(1 + t, _P - 2, _P)) % _P
    y3 = ((y * y + x * x) * pow(1 - t, _P - 2, _P)) % _P
    return x3, y3


def check_public_point(raw: bytes) -> None:
    """Refuse 32 bytes that are not a usable Ed25519 public key.

    Raises :class:`KeyFormatError` for a wrong length, a non-canonical or
    off-curve encoding, and a point of small order ([8]A is the identity).
    """
    if len(raw) != PUBLIC_KEY_LENGTH:
        raise KeyFormatError(f"an Ed25519 public key is {PUBLIC_KEY_LENGTH} bytes, not {len(raw)}")
    point = _decode_point(raw)
    if point is None:
        raise KeyFormatError("not a canonically encoded Ed25519 curve point")
    for _ in range(3):
        point = _double(point)
    if point == (0, 1):
        raise KeyFormatError("Ed25519 public key is a point of small order (a weak key)")


def _public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    check_public_point(raw)
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, UnsupportedAlgorithm) as exc:  # pragma: no cover - checked above
        raise KeyFormatError(f"invalid Ed25519 public key: {exc}") from exc


# --- JWK --------------------------------------------------------------------
def raw_public_bytes(pub: Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding of a public key (the JWK ``x``)."""
    if not isinstance(pub, Ed25519PublicKey):
        raise KeyFormatError("expected an Ed25519 public key")
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk(public_key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    """The public JWK the protocol publishes: OKP/Ed25519 with ``kid``, ``alg``, ``use``."""
    if not isinstance(kid, str) or not kid:
        raise KeyFormatError("kid must be a non-empty string")
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64u_encode(raw_public_bytes(public_key)),
        "kid": kid,
        "alg": ALG,
        "use": "sig",
    }


def jwk_to_public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    """Load an OKP/Ed25519 public JWK.

    Refuses (:class:`KeyFormatError`) a private JWK (``d`` present), a
    ``kty`` other than ``OKP``, a ``crv`` other than ``Ed25519``, an ``alg``
    other than ``Ed25519``/``EdDSA``, a ``use`` other than ``sig``, and an
    ``x`` that is not canonical base64url of a valid 32-byte public point.
    Members RFC 7517 leaves open (``kid``, ``status``, ``revoked_at`` ...) are
    ignored here; callers that need ``kid`` read it themselves.
    """
    if not isinstance(jwk, dict):
        raise KeyFormatError("a JWK must be a JSON object")
    if "d" in jwk:
        raise KeyFormatError("JWK contains private key material ('d'); send only the public key")
    if jwk.get("kty") != "OKP":
        raise KeyFormatError(f"JWK kty must be 'OKP', not {jwk.get('kty')!r}")
    if jwk.get("crv") != "Ed25519":
        raise KeyFormatError(f"JWK crv must be 'Ed25519', not {jwk.get('crv')!r}")
    if "alg" in jwk and jwk["alg"] not in ACCEPTED_JWK_ALGS:
        raise KeyFormatError(f"JWK alg must be 'Ed25519', not {jwk['alg']!r}")
    if "use" in jwk and jwk["use"] != "sig":
        raise KeyFormatError(f"JWK use must be 'sig', not {jwk['use']!r}")
    if "x" not in jwk:
        raise KeyFormatError("JWK has no 'x' member")
    return _public_key_from_raw(b64u_decode(jwk["x"]))


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """PEM SubjectPublicKeyInfo text of a public key."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise KeyFormatError("expected an Ed25519 public key")
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def _load_pem(text: str) -> Ed25519PublicKey:
    if "PRIVATE KEY-----" in text:
        raise KeyFormatError("this is a private key; give the public key (PEM or JWK) instead")
    try:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeError) as exc:
        raise KeyFormatError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError(f"PEM holds a {type(key).__name__}, not an Ed25519 public key")
    return _public_key_from_raw(raw_public_bytes(key))


def load_public_key(data: bytes | str | dict[str, Any]) -> Ed25519PublicKey:
    """Load a public key given as PEM SubjectPublicKeyInfo, JWK JSON text or a JWK dict.

    This is what ``partner add-key --public-key <file>`` and the SDK feed
    with whatever a partner hands over, hence the format sniffing.
    """
    if isinstance(data, dict):
        return jwk_to_public_key(data)
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KeyFormatError("public key is neither PEM nor JWK text (not UTF-8)") from exc
    if not isinstance(data, str):
        raise KeyFormatError(f"cannot load a public key from {type(data).__name__}")
    text = data.lstrip("\ufeff").strip()
    if text.startswith("-----BEGIN"):
        return _load_pem(text)
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise KeyFormatError(f"JWK is not valid JSON: {exc}") from exc
        if isinstance(parsed, dict) and "keys" in parsed and "kty" not in parsed:
            raise KeyFormatError("this is a JWKS; give a single JWK")
        return jwk_to_public_key(parsed)
    raise KeyFormatError("public key is neither PEM ('-----BEGIN PUBLIC KEY-----') nor a JWK ('{...}')")


# --- JWKS -------------------------------------------------------------------
def jwks(keys: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Wrap JWKs into a JWK Set, ``{"keys": [...]}`` (RFC 7517 §5)."""
    return {"keys": list(keys)}


def key_from_jwks(jwks: dict[str, Any], kid: str) -> Ed25519PublicKey:
    """The public key with ``kid`` in a JWK Set.

    Raises :class:`UnknownKid` when no key has that ``kid`` and
    :class:`KeyFormatError` when the set is malformed, names ``kid`` twice
    (ambiguous: which one signed?) or the key itself is unusable. A key's
    ``status`` is not consulted: revoked keys stay valid for old signatures.
    """
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise KeyFormatError("a JWKS must be an object with a 'keys' array")
    matches = [k for k in jwks["keys"] if isinstance(k, dict) and k.get("kid") == kid]
    if not matches:
        raise UnknownKid(f"no key with kid {kid!r} in the JWKS")
    if len(matches) > 1:
        raise KeyFormatError(f"the JWKS holds {len(matches)} keys with kid {kid!r}")
    return jwk_to_public_key(matches[0])
