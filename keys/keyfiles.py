"""Ed25519 key files: generation, PKCS#8 PEM private keys, public key export.

A private key file is the partner's (or the hub's) whole identity, so it is
written with mode 0600 from the moment it exists (no chmod after the fact,
which would leave a window), replaced atomically so a crash never leaves half
a key, and refused on reading if group or others could read it: failing
loudly is the only way an operator learns the key may have leaked.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from keys.errors import KeyFormatError
from keys.jwk import public_jwk, public_key_pem

PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644
StrPath = str | os.PathLike[str]


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key from the OS's CSPRNG."""
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM bytes of a private key (file permissions protect it)."""
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError("expected an Ed25519 private key")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PEM private key; :class:`KeyFormatError` unless Ed25519."""
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    try:
        key = serialization.load_pem_private_key(bytes(data), password=None)
    except TypeError as exc:
        raise KeyFormatError(f"encrypted private keys are not supported: {exc}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"PEM holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def write_atomically(path: StrPath, data: bytes, mode: int = 0o644, exact_mode: bool = False) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and os.replace.

    The temp file is created with O_EXCL and ``mode`` in the same call, so it
    never exists with wider permissions; ``exact_mode`` also fchmods it to
    ``mode`` so an unusual umask cannot leave the owner without read access.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, mode)
    try:
        try:
            if exact_mode and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; best effort where directories cannot be opened."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_private_key(path: StrPath, key: Ed25519PrivateKey) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM, mode 0600 from creation, atomically.

    An existing file at ``path`` is replaced; callers that must not clobber
    a key (``keygen``) check for it first.
    """
    write_atomically(path, private_key_to_pem(key), PRIVATE_FILE_MODE, exact_mode=True)


def read_private_key(path: StrPath) -> Ed25519PrivateKey:
    """Read a PEM Ed25519 private key, refusing a file group or others may access.

    The mode is taken from the opened descriptor, so the file checked is the
    file read. Raises :class:`KeyFormatError` for loose permissions (with the
    ``chmod 600`` fix in the message), a non-regular file, or non-Ed25519
    content; :class:`OSError` (e.g. FileNotFoundError) passes through.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFormatError(f"{os.fspath(path)} is not a regular file")
        if os.name == "posix" and info.st_mode & 0o077:
            raise KeyFormatError(
                f"private key file {os.fspath(path)} has mode {stat.S_IMODE(info.st_mode):04o}, "
                f"readable beyond its owner; run: chmod 600 {os.fspath(path)}"
            )
        data = handle.read()
    return private_key_from_pem(data)


def write_public_key(
    path: StrPath,
    public_key: Ed25519PublicKey,
    fmt: Literal["pem", "jwk"] = "pem",
    kid: str | None = None,
) -> None:
    """Write a public key as PEM SubjectPublicKeyInfo or as a JWK (which needs ``kid``).

    Public keys are meant to be handed out, so the file gets ordinary
    0644 permissions (less the umask); it is still replaced atomically.
    """
    if fmt == "pem":
        data = public_key_pem(public_key).encode("ascii")
    elif fmt == "jwk":
        if kid is None:
            raise KeyFormatError("a JWK needs a kid: every published JWK carries one")
        data = (json.dumps(public_jwk(public_key, kid), indent=2) + "\n").encode("utf-8")
    else:
        raise KeyFormatError(f"unknown public key format {fmt!r}; use 'pem' or 'jwk'")
    write_atomically(path, data, PUBLIC_FILE_MODE, exact_mode=False)
