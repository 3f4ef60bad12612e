"""Private key files: 0600 from creation, refused when readable by others."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keys import (
    KeyFormatError,
    generate_private_key,
    load_public_key,
    private_key_from_pem,
    private_key_to_pem,
    raw_public_bytes,
    read_private_key,
    write_private_key,
    write_public_key,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_key_file_is_0600_and_round_trips(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "partner.key"
    write_private_key(path, key)
    assert mode(path) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = read_private_key(path)
    assert raw_public_bytes(loaded.public_key()) == raw_public_bytes(key.public_key())
    assert [p.name for p in tmp_path.iterdir()] == ["partner.key"]  # no temp file left behind


def test_mode_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)  # would leave 0400 on a plain create
    try:
        write_private_key(tmp_path / "a.key", generate_private_key())
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.key") == 0o600
    old = os.umask(0)  # would leave a wider mode if the create asked for one
    try:
        write_private_key(tmp_path / "b.key", generate_private_key())
    finally:
        os.umask(old)
    assert mode(tmp_path / "b.key") == 0o600


def test_overwrite_is_atomic_and_keeps_0600(tmp_path: Path) -> None:
    path = tmp_path / "hub.key"
    path.write_text("old")
    path.chmod(0o644)
    key = generate_private_key()
    write_private_key(path, key)
    assert mode(path) == 0o600
    assert raw_public_bytes(read_private_key(path).public_key()) == raw_public_bytes(key.public_key())


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_read_refuses_a_file_others_can_read(tmp_path: Path, loose: int) -> None:
    path = tmp_path / "partner.key"
    write_private_key(path, generate_private_key())
    path.chmod(loose)
    with pytest.raises(KeyFormatError, match="chmod 600"):
        read_private_key(path)


def test_read_accepts_0400(tmp_path: Path) -> None:
    path = tmp_path / "partner.key"
    write_private_key(path, generate_private_key())
    path.chmod(0o400)
    read_private_key(path)


def test_read_refuses_non_ed25519_content(tmp_path: Path) -> None:
    path = tmp_path / "partner.key"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"not a key")
    os.close(fd)
    with pytest.raises(KeyFormatError):
        read_private_key(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_private_key(tmp_path / "absent.key")


def test_pem_helpers() -> None:
    key = generate_private_key()
    pem = private_key_to_pem(key)
    assert b"ENCRYPTED" not in pem
    assert raw_public_bytes(private_key_from_pem(pem).public_key()) == raw_public_bytes(key.public_key())
    with pytest.raises(KeyFormatError):
        private_key_from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_encrypted_and_foreign_keys_are_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1
    from cryptography.hazmat.primitives.asymmetric.ec import generate_private_key as ec_key

    encrypted = generate_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(KeyFormatError, match="encrypted"):
        private_key_from_pem(encrypted)
    ec_pem = ec_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyFormatError, match="not an Ed25519"):
        private_key_from_pem(ec_pem)


@pytest.mark.parametrize("fmt", ["pem", "jwk"])
def test_write_public_key(tmp_path: Path, fmt: str) -> None:
    key = generate_private_key()
    path = tmp_path / f"partner.{fmt}"
    write_public_key(path, key.public_key(), fmt=fmt, kid="telkomsel-2026-01")  # type: ignore[arg-type]
    assert raw_public_bytes(load_public_key(path.read_bytes())) == raw_public_bytes(key.public_key())
    assert not mode(path) & 0o022  # never writable by others


def test_write_public_key_needs_kid_for_jwk_and_a_known_format(tmp_path: Path) -> None:
    public = generate_private_key().public_key()
    with pytest.raises(KeyFormatError):
        write_public_key(tmp_path / "k.jwk", public, fmt="jwk")
    with pytest.raises(KeyFormatError):
        write_public_key(tmp_path / "k.der", public, fmt="der")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_private_key_is_created_0600_exclusively(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is born 0600 (O_CREAT|O_EXCL with that mode), never chmodded down later."""
    import keys.keyfiles as keyfiles

    calls: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777, *args: object, **kwargs: object) -> int:
        calls.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keyfiles.os, "open", spy)
    write_private_key(tmp_path / "partner.key", generate_private_key())
    creates = [c for c in calls if c[1] & os.O_CREAT]
    assert len(creates) == 1
    path, flags, created_mode = creates[0]
    assert Path(path).parent == tmp_path and Path(path).name != "partner.key"
    assert flags & os.O_EXCL and flags & os.O_WRONLY
    assert created_mode == 0o600
