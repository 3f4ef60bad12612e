"""One HTTP exchange with the hub: token, request, retries, typed errors.

Everything that can go wrong on the wire ends here as a
:class:`partners.errors.PartnerError`; no ``requests`` or ``authlib``
exception reaches the caller. Retries follow :mod:`partners.retry`; a 401
on a resource call is answered by fetching a new token once (the old one
may have been revoked, or the clocks disagree about its expiry) before
giving up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from partners.auth import Credentials, build_session
from partners.errors import (
    AuthError,
    ConfigError,
    HubProblem,
    HubUnreachable,
    RateLimited,
    ServerError,
    problem_from_response,
)
from partners.retry import RetryPolicy

log = logging.getLogger("partners")
T = TypeVar("T")

USER_AGENT = "tangkal-partners/1"
#: (connect, read) seconds; a push of 1000 records takes the hub a few seconds.
DEFAULT_TIMEOUT = (10.0, 120.0)
_TRANSIENT_NETWORK = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "Transport", "problem_from_response"]


class Transport:
    """The hub's base URL, an OAuth session, and the retry loop around every request."""

    def __init__(
        self,
        hub_url: str,
        credentials: Credentials | None,
        *,
        scope: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        token_leeway: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not hub_url or not hub_url.startswith(("http://", "https://")):
            raise ConfigError(f"hub URL must start with http:// or https://, not {hub_url!r} (TANGKAL_HUB_URL)")
        self.base_url = hub_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self._audience: str | None = None
        self.session: OAuth2Session | requests.Session
        if credentials is not None:
            self.session = build_session(
                self.base_url + "/oauth/token", credentials, self.assertion_audience, scope, token_leeway
            )
        else:
            self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.authenticated = credentials is not None

    # -- token ---------------------------------------------------------------
    def assertion_audience(self) -> str:
        """The ``aud`` of client assertions: the token endpoint the hub's metadata names."""
        if self._audience is None:
            meta = self.get_json("/.well-known/oauth-authorization-server", auth=False)
            endpoint = meta.get("token_endpoint") if isinstance(meta, dict) else None
            self._audience = endpoint if isinstance(endpoint, str) and endpoint else self.base_url + "/oauth/token"
        return self._audience

    def fetch_token(self) -> dict[str, Any]:
        """A new access token now (with retries), replacing the one held."""
        if not isinstance(self.session, OAuth2Session):
            raise ConfigError("this client has no credentials")
        session = self.session
        return dict(self._with_retries("token", lambda: session.fetch_token()))

    @property
    def token(self) -> dict[str, Any] | None:
        if isinstance(self.session, OAuth2Session) and self.session.token:
            return dict(self.session.token)
        return None

    # -- requests ------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        auth: bool = True,
    ) -> requests.Response:
        """A 2xx answer to ``method path``, after retries; a typed error otherwise."""
        url = self.base_url + path
        state = {"reauthed": False}

        def once() -> requests.Response:
            kwargs: dict[str, Any] = {"params": params, "timeout": self.timeout}
            if json is not None:
                kwargs["json"] = json
            if auth:
                session = self._oauth()
                if not session.token:
                    session.fetch_token()
                resp: requests.Response = session.request(method, url, **kwargs)
            elif isinstance(self.session, OAuth2Session):
                resp = self.session.request(method, url, withhold_token=True, **kwargs)
            else:
                resp = self.session.request(method, url, **kwargs)
            if resp.status_code == 401 and auth and not state["reauthed"]:
                state["reauthed"] = True
                log.info("401 from %s; fetching a new token and trying once more", path)
                self._oauth().fetch_token()
                resp = self._oauth().request(method, url, **kwargs)
            if 200 <= resp.status_code < 300:
                return resp
            raise problem_from_response(resp)

        return self._with_retries(f"{method} {path}", once)

    def get_json(self, path: str, params: dict[str, Any] | None = None, auth: bool = True) -> Any:
        return self._json(self.request("GET", path, params=params, auth=auth), path)

    def post_json(self, path: str, body: Any, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        resp = self.request("POST", path, json=body, params=params)
        return resp.status_code, self._json(resp, path)

    # -- internals -----------------------------------------------------------
    def _oauth(self) -> OAuth2Session:
        if not isinstance(self.session, OAuth2Session):
            raise ConfigError("this call needs credentials (TANGKAL_CLIENT_ID and a secret or key)")
        return self.session

    @staticmethod
    def _json(resp: requests.Response, path: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise ServerError("invalid-json", resp.status_code, f"{path} answered something that is not JSON") from None

    def _with_retries(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the retry budget is spent."""
        waited = 0.0
        policy = self.retry
        for number in range(1, policy.attempts + 1):
            try:
                return attempt()
            except (RateLimited, ServerError) as exc:
                failure: Exception = exc
                hint = exc.retry_after if isinstance(exc, RateLimited) else None
                delay = hint if hint is not None else policy.backoff_delay(number)
            except _TRANSIENT_NETWORK as exc:
                failure = HubUnreachable(f"{what}: cannot reach {self.base_url}: {_short(exc)}")
                delay = policy.backoff_delay(number)
            except OAuthError as exc:
                raise AuthError(str(exc.error or "oauth-error"), 0, str(exc.description or exc.error)) from None
            except HubProblem:
                raise
            except requests.RequestException as exc:
                raise HubUnreachable(f"{what}: {self.base_url}: {_short(exc)}") from None
            if number == policy.attempts or waited + delay > policy.max_total_wait:
                raise failure
            log.warning("%s failed (%s); retry %d in %.1fs", what, failure, number, delay)
            self.sleep(delay)
            waited += delay
        raise HubUnreachable(f"{what}: no attempts allowed")  # attempts < 1


def _short(exc: BaseException) -> str:
    """A one-line reason out of requests' nested connection errors."""
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "timed out",
        "Remote end closed",
        "Connection reset",
        "Connection aborted",
        "Max retries exceeded",
    ):
        if marker in text:
            return marker.lower() if marker != "Max retries exceeded" else "no connection"
    return text.splitlines()[0][:200] if text else type(exc).__name__
