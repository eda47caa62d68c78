"""What the sandbox authorization server grants and to whom: its people, its one client, the codes
and tokens it issued (in memory: restarting the sandbox unlinks every account), and the Authlib
grant and endpoint classes that issue, check and revoke them."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidRequestError,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

EDITOR = "editor"
VIEWER = "viewer"
CODE_SECONDS = 300
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class SandboxUser:
    """A person who can sign in to the sandbox HR API; `role` decides what their tokens may do."""

    subject: str
    email: str
    name: str
    role: str

    @property
    def may_write(self) -> bool:
        return self.role == EDITOR

    def claims(self) -> dict[str, str]:
        return {"sub": self.subject, "email": self.email, "name": self.name, "role": self.role}


# The fake Slack workspace's people (sandbox/fake_slack.py), so a linked account matches a member.
USERS = tuple(
    SandboxUser(f"sub-{name.lower()}", f"{name.lower()}@hr.example", name, role)
    for names, role in ((("Dana", "Alice", "Bob", "Carol", "Gina"), EDITOR), (("Eve",), VIEWER))
    for name in names
)


def find_user(subject: str) -> SandboxUser | None:
    return next((user for user in USERS if user.subject == subject), None)


def sign_in(email: str, password: str, sandbox_password: str) -> SandboxUser | None:
    """The user with this email, if the password is the sandbox password."""
    if not secrets.compare_digest(password.encode(), sandbox_password.encode()):
        return None
    wanted = email.strip().lower()
    return next((user for user in USERS if user.email == wanted), None)


@dataclass(frozen=True)
class SandboxClient(ClientMixin):
    """The one registered confidential client: exact redirect URIs, secret in Basic or the body."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scope: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.scope.split()
        return " ".join(s for s in (scope or self.scope).split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


@dataclass
class IssuedCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    subject: str
    redirect_uri: str | None
    scope: str
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    spent: bool = False

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class IssuedToken(TokenMixin):
    """One token response: an access token and the refresh token that may replace it."""

    access_token: str
    refresh_token: str | None
    client_id: str
    subject: str
    scope: str
    expires_in: int
    expires_at: float
    grant_id: str  # the code every token of one sign-in descends from
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    access_revoked: bool = False
    refresh_revoked: bool = False  # revoked, or spent on a refresh

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:  # of the access token; refresh tokens live until used
        return self.clock() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> SandboxUser | None:
        return find_user(self.subject)


class GrantStore:
    """Codes and tokens. A code or a refresh token is spent the moment it is presented, so of two
    concurrent uses exactly one wins and a failed attempt (say, a wrong PKCE verifier) cannot be
    retried; a code presented twice revokes every token issued from it (RFC 6749 §4.1.2)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, IssuedCode] = {}
        self._access: dict[str, IssuedToken] = {}
        self._refresh: dict[str, IssuedToken] = {}

    def save_code(
        self, code: str, client_id: str, subject: str, scope: str, request_data: dict[str, Any]
    ) -> None:
        now = self._clock()
        record = IssuedCode(
            code,
            client_id,
            subject,
            request_data.get("redirect_uri"),
            scope,
            request_data["code_challenge"],
            request_data["code_challenge_method"],
            now + CODE_SECONDS,
        )
        with self._lock:
            self._codes = {c: r for c, r in self._codes.items() if r.expires_at > now}
            self._codes[code] = record

    def spend_code(self, code: str, client_id: str) -> IssuedCode | None:
        """The code, if it is this client's, unexpired, and presented for the first time."""
        with self._lock:
            record = self._codes.get(code)
            if record is None or record.client_id != client_id:
                return None
            if record.spent:
                self._revoke_grant(record.code)
                return None
            record.spent = True
        return record if self._clock() < record.expires_at else None

    def save_token(
        self, token: dict[str, Any], client_id: str, subject: str, grant_id: str
    ) -> None:
        expires_in = token["expires_in"]
        record = IssuedToken(
            token["access_token"],
            token.get("refresh_token"),
            client_id,
            subject,
            token.get("scope", ""),
            expires_in,
            self._clock() + expires_in,
            grant_id,
            self._clock,
        )
        with self._lock:
            self._access[record.access_token] = record
            if record.refresh_token:
                self._refresh[record.refresh_token] = record

    def issued(self) -> set[str]:
        """Every access and refresh token issued so far (tests look for them where they must
        never be)."""
        with self._lock:
            return set(self._access) | set(self._refresh)

    def find_access_token(self, value: str) -> IssuedToken | None:
        with self._lock:
            return self._access.get(value)

    def find_token(self, value: str) -> IssuedToken | None:
        """The token response holding `value` as its access or its refresh token."""
        with self._lock:
            return self._access.get(value) or self._refresh.get(value)

    def spend_refresh_token(self, value: str) -> IssuedToken | None:
        """The token response whose refresh token this is, if it was neither used nor revoked."""
        with self._lock:
            record = self._refresh.get(value)
            if record is None or record.refresh_revoked:
                return None
            record.refresh_revoked = True
            return record

    def revoke(self, record: IssuedToken, value: str) -> None:
        """An access token alone; a refresh token with every token of its grant (RFC 7009 §2.1)."""
        with self._lock:
            if value == record.refresh_token:
                self._revoke_grant(record.grant_id)
            else:
                record.access_revoked = True

    def _revoke_grant(self, grant_id: str) -> None:
        for record in self._access.values():
            if record.grant_id == grant_id:
                record.access_revoked = record.refresh_revoked = True


class S256Challenge(CodeChallenge):
    """PKCE as OAuth 2.1 asks of every client: each authorization request carries a challenge,
    and only S256 (a plain challenge is the verifier itself, readable wherever the URL goes)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 (Authlib's attribute)

    def validate_code_challenge(self, grant: grants.BaseGrant, redirect_uri: str | None) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        client_id, subject = request.client.client_id, request.user.subject
        self.server.store.save_code(code, client_id, subject, request.scope, request.payload.data)

    def query_authorization_code(self, code: str, client: SandboxClient) -> IssuedCode | None:
        return self.server.store.spend_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        pass  # already spent when presented (GrantStore.spend_code)

    def authenticate_user(self, authorization_code: IssuedCode) -> SandboxUser | None:
        return find_user(authorization_code.subject)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh answers with a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        return self.server.store.spend_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token: IssuedToken) -> SandboxUser | None:
        return find_user(refresh_token.subject)

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        pass  # already spent when presented (GrantStore.spend_refresh_token)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return self.server.store.find_token(token_string)  # the hint only speeds searches up

    def revoke_token(self, token: IssuedToken, request: OAuth2Request) -> None:
        self.server.store.revoke(token, request.form["token"])


class AccessTokens(BearerTokenValidator):
    """Authlib's RFC 6750 check (unknown, expired, revoked) over this store's access tokens."""

    def __init__(self, store: GrantStore) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> IssuedToken | None:
        return self.store.find_access_token(token_string)
