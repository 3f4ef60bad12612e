"""Where the SDK's settings come from: flags first, then the environment.

The environment is how the partner's deployment hands over credentials
(a systemd unit, a Kubernetes secret); flags override for one run. The
client secret has no flag on purpose: a command line is visible to every
user of the machine (``ps``), so it comes from ``TANGKAL_CLIENT_SECRET``
or a file (``--client-secret-file``), and it is never printed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.errors import KeyFormatError
from keys.keyfiles import read_private_key
from partners.auth import PRIVATE_KEY_JWT, SECRET_BASIC
from partners.client import HubClient
from partners.errors import ConfigError
from partners.retry import RetryPolicy

ENV_HUB_URL = "TANGKAL_HUB_URL"
ENV_CLIENT_ID = "TANGKAL_CLIENT_ID"
ENV_CLIENT_SECRET = "TANGKAL_CLIENT_SECRET"
ENV_PARTNER = "TANGKAL_PARTNER"
ENV_KEY = "TANGKAL_KEY"
ENV_KID = "TANGKAL_KID"
ENV_CREDENTIALS = "TANGKAL_CREDENTIALS"
AUTH_CHOICES = {"secret": SECRET_BASIC, "key": PRIVATE_KEY_JWT}


@dataclass(frozen=True)
class Settings:
    """Everything needed to talk to the hub as one partner. ``repr`` never shows the secret."""

    hub_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    partner: str | None = None
    key_path: str | None = None
    kid: str | None = None
    scope: str | None = None
    auth: str | None = None

    @classmethod
    def resolve(
        cls,
        *,
        hub_url: str | None = None,
        client_id: str | None = None,
        client_secret_file: str | None = None,
        credentials_file: str | None = None,
        partner: str | None = None,
        key_path: str | None = None,
        kid: str | None = None,
        scope: str | None = None,
        auth: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> Settings:
        """Flags given here win; then a credentials file; then ``TANGKAL_CLIENT_ID``/``_SECRET``.

        A credentials file (``--credentials`` or ``TANGKAL_CREDENTIALS``) is
        what the hub's ``partner add --json`` prints: the client id and secret
        as a pair, which is why it wins over the two single variables (a
        half from each source would authenticate as nobody).
        """
        env = os.environ if environ is None else environ
        secret = env.get(ENV_CLIENT_SECRET) or None
        env_client_id = env.get(ENV_CLIENT_ID) or None
        pair_file = credentials_file or env.get(ENV_CREDENTIALS)
        if pair_file:
            env_client_id, secret = read_credentials(Path(pair_file))
        if client_secret_file:
            try:
                secret = Path(client_secret_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read --client-secret-file {client_secret_file}: {exc.strerror}") from None
        return cls(
            hub_url=hub_url or env.get(ENV_HUB_URL) or None,
            client_id=client_id or env_client_id,
            client_secret=secret,
            partner=partner or env.get(ENV_PARTNER) or None,
            key_path=key_path or env.get(ENV_KEY) or None,
            kid=kid or env.get(ENV_KID) or None,
            scope=scope,
            auth=auth,
        )

    def private_key(self) -> Ed25519PrivateKey | None:
        """The partner's key from ``TANGKAL_KEY`` / ``--key``, or None when not configured."""
        if not self.key_path:
            return None
        try:
            return read_private_key(self.key_path)
        except FileNotFoundError:
            raise ConfigError(
                f"no key file {self.key_path} (TANGKAL_KEY); make one with: python -m partners keygen"
            ) from None
        except KeyFormatError as exc:
            raise ConfigError(f"key file {self.key_path}: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read key file {self.key_path}: {exc.strerror}") from None

    def client(self, *, need_key: bool = False, retry: RetryPolicy | None = None) -> HubClient:
        """A :class:`HubClient` for these settings; ``need_key`` when the command signs."""
        if not self.hub_url:
            raise ConfigError(f"no hub URL (set {ENV_HUB_URL} or --hub)")
        if not self.client_id:
            raise ConfigError(f"no client id (set {ENV_CREDENTIALS}, {ENV_CLIENT_ID} or --client-id)")
        method = AUTH_CHOICES.get(self.auth) if self.auth else None
        uses_key = need_key or method == PRIVATE_KEY_JWT or (method is None and not self.client_secret)
        key = self.private_key() if uses_key else None  # a broken key path must not stop a pull by secret
        if need_key and (key is None or not self.kid):
            raise ConfigError(f"this command signs: set {ENV_KEY} (the private key file) and {ENV_KID} (its kid)")
        return HubClient(
            self.hub_url,
            self.client_id,
            client_secret=self.client_secret,
            private_key=key,
            kid=self.kid,
            partner=self.partner,
            auth_method=method,
            scope=self.scope,
            retry=retry,
        )


def read_credentials(path: Path) -> tuple[str, str]:
    """``(client_id, client_secret)`` from a ``partner add --json`` file readable by its owner only."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise ConfigError(f"cannot read credentials {path}: {exc.strerror}") from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        if os.name == "posix" and os.fstat(handle.fileno()).st_mode & 0o077:
            raise ConfigError(f"credentials file {path} holds a secret but others may read it; run: chmod 600 {path}")
        text = handle.read()
    try:
        data = json.loads(text)
        return str(data["client_id"]), str(data["client_secret"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{path} is not a credentials file (the JSON object 'partner add --json' prints)") from None
