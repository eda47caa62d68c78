"""The HR system's OAuth 2.0 authorization server, as the bot's client sees it (Authlib does the
protocol): discovery, the authorization URL with PKCE (S256), the code exchange, who the token
belongs to, refreshing (rotated refresh tokens are handed to a hook to be saved), revocation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2 import OAuth2Error

log = structlog.get_logger(__name__)

TIMEOUT = (3.05, 15.0)
DISCOVERY_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


class ProviderError(Exception):
    """The authorization server refused or could not be asked; the message says which step.
    `grant_gone` is True when it said the grant itself is no longer valid (invalid_grant): the
    person must connect again, where any other failure may pass."""

    def __init__(self, message: str, *, grant_gone: bool = False) -> None:
        super().__init__(message)
        self.grant_gone = grant_gone


@dataclass(frozen=True)
class Endpoints:
    authorize_url: str
    token_url: str
    revoke_url: str | None
    userinfo_url: str


@dataclass(frozen=True)
class HRIdentity:
    """Who an HR token belongs to, from the userinfo endpoint."""

    subject: str
    email: str | None


def discover(issuer: str) -> Endpoints:
    """RFC 8414 metadata (or OpenID Connect discovery) under `issuer`."""
    base = issuer.rstrip("/")
    for path in DISCOVERY_PATHS:
        try:
            answer = requests.get(base + path, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as e:
            raise ProviderError(f"cannot reach {base + path}: {e}") from e
        if answer.status_code == 200:
            try:
                metadata = answer.json()
                if str(metadata.get("issuer", "")).rstrip("/") != base:
                    raise ValueError(f"it names another issuer: {metadata.get('issuer')!r}")
                return _endpoints(metadata)
            except (ValueError, KeyError, TypeError) as e:
                raise ProviderError(f"{base + path} is not usable metadata: {e}") from e
    raise ProviderError(f"no OAuth metadata under {base} ({' or '.join(DISCOVERY_PATHS)})")


def find_endpoints(issuer: str | None, **explicit: str | None) -> Endpoints:
    """The endpoints from discovery under `issuer` (when given), each replaced by an explicit
    URL where one is given (authorize_url, token_url, revoke_url, userinfo_url)."""
    found = discover(issuer) if issuer else None
    try:
        chosen = {
            name: _url(explicit[name]) if explicit.get(name) else getattr(found, name, None)
            for name in ("authorize_url", "token_url", "revoke_url", "userinfo_url")
        }
    except ValueError as e:
        raise ProviderError(f"an HR_OAUTH_*_URL is unusable: {e}") from e
    lacking = [name for name, value in chosen.items() if value is None and name != "revoke_url"]
    if lacking:
        raise ProviderError(f"no {', '.join(lacking)} for the HR authorization server")
    return Endpoints(**chosen)


def _endpoints(metadata: dict[str, Any]) -> Endpoints:
    if "S256" not in metadata.get("code_challenge_methods_supported", ["S256"]):
        raise ValueError("the server does not support PKCE with S256")
    return Endpoints(
        authorize_url=_url(metadata["authorization_endpoint"]),
        token_url=_url(metadata["token_endpoint"]),
        revoke_url=_url(metadata["revocation_endpoint"])
        if metadata.get("revocation_endpoint")
        else None,
        userinfo_url=_url(metadata["userinfo_endpoint"]),
    )


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _url(value: Any) -> str:
    """An endpoint URL: HTTPS, as secrets travel to it (plain HTTP only on this machine)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
    ):
        raise ValueError(f"not an https URL (http only on loopback): {value!r}")
    return value


class HRIdentityProvider:
    def __init__(
        self,
        endpoints: Endpoints,
        *,
        client_id: str,
        client_secret: str,
        scopes: str | None,
        redirect_uri: str,
    ) -> None:
        self.endpoints = endpoints
        self._client = dict(
            client_id=client_id,
            client_secret=client_secret,
            scope=scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint=endpoints.token_url,
            default_timeout=TIMEOUT,
        )

    def _session(self, **extra: Any) -> OAuth2Session:
        session = OAuth2Session(**self._client, **extra)
        session.trust_env = False  # no proxies or .netrc picked up from the host
        return session

    def authorization_url(self, state: str, code_verifier: str) -> str:
        with self._session() as session:
            url, _ = session.create_authorization_url(
                self.endpoints.authorize_url, state=state, code_verifier=code_verifier
            )
        return url

    def exchange(self, code: str, code_verifier: str) -> dict[str, Any]:
        """The token for an authorization code (PKCE verifier included)."""
        with self._session() as session:
            try:
                return dict(
                    session.fetch_token(
                        self.endpoints.token_url,
                        grant_type="authorization_code",
                        code=code,
                        code_verifier=code_verifier,
                    )
                )
            except (OAuthError, OAuth2Error, requests.RequestException) as e:
                raise ProviderError(f"the code could not be exchanged: {_why(e)}") from e

    def identity(self, token: dict[str, Any]) -> HRIdentity:
        with self._session(token=token) as session:
            try:
                answer = session.get(self.endpoints.userinfo_url, timeout=TIMEOUT)
            except (OAuthError, OAuth2Error, requests.RequestException) as e:
                raise ProviderError(f"userinfo could not be read: {_why(e)}") from e
        if answer.status_code != 200:
            raise ProviderError(f"userinfo answered {answer.status_code}")
        try:
            info = answer.json()
            subject = str(info["sub"])
        except (ValueError, KeyError, TypeError) as e:
            raise ProviderError("userinfo has no subject") from e
        email = info.get("email")
        if info.get("email_verified") is False:  # the provider itself does not vouch for it
            email = None
        return HRIdentity(subject, email.strip().lower() if isinstance(email, str) else None)

    def fresh(
        self, token: dict[str, Any], save: Callable[..., Any], leeway: int = 60
    ) -> dict[str, Any]:
        """`token`, refreshed first when it expires within `leeway` seconds; Authlib hands the
        new token (with a rotated refresh token) to `save(token, refresh_token=old)`."""
        with self._session(token=token, update_token=save, leeway=leeway) as session:
            try:
                session.ensure_active_token(session.token)
            except (OAuthError, OAuth2Error, requests.RequestException) as e:
                why = _why(e)
                raise ProviderError(
                    f"the token could not be refreshed: {why}", grant_gone=why == "invalid_grant"
                ) from e
            return dict(session.token)

    def revoke(self, token: dict[str, Any]) -> None:
        """RFC 7009: revoke the refresh token (the grant) and the access token."""
        if self.endpoints.revoke_url is None:
            raise ProviderError("the HR authorization server has no revocation endpoint")
        with self._session(token=token) as session:
            for kind in ("refresh_token", "access_token"):
                if token.get(kind):
                    try:
                        answer = session.revoke_token(
                            self.endpoints.revoke_url, token=token[kind], token_type_hint=kind
                        )
                    except (OAuthError, OAuth2Error, requests.RequestException) as e:
                        raise ProviderError(f"revocation failed: {_why(e)}") from e
                    if answer.status_code != 200:
                        raise ProviderError(f"revocation answered {answer.status_code}")


def revoked(provider: HRIdentityProvider, token: dict[str, Any]) -> bool:
    """Revoke `token`, best effort (a grant that should end, where failing changes nothing
    else): whether the provider confirmed it. A failure is logged, without the token."""
    try:
        provider.revoke(token)
    except ProviderError as e:
        log.warning("hr_oauth.revoke_failed", error=str(e))
        return False
    return True


def _why(error: Exception) -> str:
    """An error's description without anything a token might be in."""
    if isinstance(error, OAuthError | OAuth2Error):
        return error.error or type(error).__name__
    return type(error).__name__
