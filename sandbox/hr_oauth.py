"""The sandbox HR API as an OAuth 2.0 authorization server, assembled from Authlib's parts
(authorization code + PKCE S256, refresh-token rotation, RFC 7009 revocation, RFC 8414
discovery) with the small framework glue Authlib needs around http.server, plus userinfo and the
bearer check the HR API makes on every request."""

from __future__ import annotations

import html
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    OAuth2Error,
    OAuth2Request,
    ResourceProtector,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator, InvalidTokenError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from sandbox import hr_oauth_grants as grants

WELL_KNOWN_PATH = "/.well-known/oauth-authorization-server"
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
REVOKE_PATH = "/oauth/revoke"
USERINFO_PATH = "/oauth/userinfo"
SCOPE = "hr"
SANDBOX_PASSWORD = "sandbox"
_FORM = "application/x-www-form-urlencoded"
_VIEWERS_ONLY_READ = "forbidden: viewers may only read"


@dataclass(frozen=True)
class OAuthSettings:
    """Turns the sandbox into an authorization server with one registered confidential client."""

    client_id: str
    client_secret: str
    redirect_uris: Sequence[str]  # matched exactly
    access_token_seconds: int = 3600
    password: str = SANDBOX_PASSWORD  # every sandbox user's password
    issuer: str | None = None  # default: the sandbox's own URL
    clock: Callable[[], float] = field(default=time.time, compare=False)  # tests expire tokens

    def __post_init__(self) -> None:
        uris = (self.redirect_uris,) if isinstance(self.redirect_uris, str) else self.redirect_uris
        object.__setattr__(self, "redirect_uris", tuple(uris))
        problems = [
            name for name in ("client_id", "client_secret", "password") if not getattr(self, name)
        ]
        if not self.redirect_uris or not all(self.redirect_uris):
            problems.append("redirect_uris")
        if self.access_token_seconds < 1:
            problems.append("access_token_seconds (at least 1)")
        if problems:
            raise ValueError(f"OAuthSettings needs: {', '.join(problems)}")


@dataclass(frozen=True)
class Incoming:
    """One HTTP request as http.server received it."""

    method: str
    target: str  # path and query
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class _Payload(BasicOAuth2Payload):
    def __init__(self, datalist: dict[str, list[str]]) -> None:
        super().__init__({key: values[0] for key, values in datalist.items()})
        self._datalist = datalist  # every value, so Authlib can refuse repeated parameters


class _Request(OAuth2Request):
    """Authlib's view of an `Incoming`: query and form parameters together, as Flask's is."""

    def __init__(self, incoming: Incoming, issuer: str) -> None:
        super().__init__(incoming.method, issuer + incoming.target, headers=incoming.headers)
        self._args = parse_qs(urlsplit(incoming.target).query, keep_blank_values=True)
        content_type = incoming.headers.get("Content-Type") or ""
        is_form = content_type.split(";")[0].strip().lower() == _FORM
        body = incoming.body.decode("utf-8", "replace") if is_form else ""
        self._form = parse_qs(body, keep_blank_values=True)
        both: dict[str, list[str]] = defaultdict(list)
        for source in (self._args, self._form):
            for key, values in source.items():
                both[key].extend(values)
        self.payload = _Payload(dict(both))

    @property
    def args(self) -> dict[str, str]:
        return {key: values[0] for key, values in self._args.items()}

    @property
    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in self._form.items()}


def _new_token(**_: Any) -> str:
    return generate_token(42)


class HRAuthorizationServer(AuthorizationServer):
    """Authlib's AuthorizationServer for the sandbox, with the hooks a web framework would supply.
    `admit()` decides each request: the OAuth endpoints' own answer, or the HR API's checks."""

    def __init__(self, settings: OAuthSettings, issuer: str) -> None:
        super().__init__(scopes_supported=[SCOPE])
        self.settings = settings
        self.issuer = (settings.issuer or issuer).rstrip("/")
        self.client = grants.SandboxClient(
            settings.client_id, settings.client_secret, tuple(settings.redirect_uris), SCOPE
        )
        self.metadata = self._describe()
        self.store = grants.GrantStore(settings.clock)
        self.register_token_generator(
            "default", BearerTokenGenerator(_new_token, _new_token, settings.access_token_seconds)
        )
        self.register_grant(grants.CodeGrant, [grants.S256Challenge()])
        self.register_grant(grants.RefreshGrant)
        self.register_endpoint(grants.Revocation)
        self._protector = ResourceProtector()
        self._protector.register_token_validator(grants.AccessTokens(self.store))
        self._routes: dict[str, dict[str, Callable[[Incoming], Reply]]] = {
            WELL_KNOWN_PATH: {"GET": lambda _: _json(HTTPStatus.OK, dict(self.metadata))},
            AUTHORIZE_PATH: {"GET": self._ask, "POST": self._decide},
            TOKEN_PATH: {"POST": self.create_token_response},
            REVOKE_PATH: {"POST": lambda r: self.create_endpoint_response("revocation", r)},
            USERINFO_PATH: {"GET": self._userinfo, "POST": self._userinfo},
        }

    def admit(self, incoming: Incoming) -> tuple[str | None, Reply | None]:
        """What becomes of a request to the sandbox: (whose token authorises it, the reply to send
        instead of the HR API's). The OAuth endpoints answer for themselves; the HR API refuses a
        missing, expired or revoked access token (401) and a viewer's write (403)."""
        if self.serves(incoming.target):
            return None, self._respond(incoming)
        user = self._bearer(incoming)
        if isinstance(user, Reply):
            return None, user
        if incoming.method != "GET" and not user.may_write:
            return user.subject, _json(HTTPStatus.FORBIDDEN, {"error": _VIEWERS_ONLY_READ})
        return user.subject, None

    def serves(self, path: str) -> bool:
        return urlsplit(path).path in self._routes

    def _respond(self, incoming: Incoming) -> Reply:
        handlers = self._routes[urlsplit(incoming.target).path]
        handler = handlers.get(incoming.method)
        if handler is None:
            body = {"error": f"{incoming.method} is not allowed here"}
            return _json(HTTPStatus.METHOD_NOT_ALLOWED, body, ("Allow", ", ".join(handlers)))
        return handler(incoming)

    def _bearer(self, incoming: Incoming) -> grants.SandboxUser | Reply:
        """Whose live access token authorises this request, or the 401 that refuses it."""
        try:
            token = self._protector.validate_request([SCOPE], _Request(incoming, self.issuer))
        except OAuth2Error as error:
            if not isinstance(error, InvalidTokenError):  # no Authorization, or not Bearer
                error = InvalidTokenError("The request carries no bearer access token.")
            return self.handle_response(*error())
        return token.get_user()

    # The hooks Authlib leaves to a web framework.

    def query_client(self, client_id: str) -> grants.SandboxClient | None:
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Every token descends from one code, so revoking a grant or replaying a code reaches all.
        code, previous = request.authorization_code, request.refresh_token
        grant_id = code.code if code else previous.grant_id
        self.store.save_token(token, request.client.client_id, request.user.subject, grant_id)

    def create_oauth2_request(self, request: Incoming | OAuth2Request) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _Request(request, self.issuer)

    def handle_response(self, status: int, body: Any, headers: Sequence[tuple[str, str]]) -> Reply:
        data = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
        return Reply(int(status), data, tuple(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass  # nothing listens

    # The endpoints Authlib has no class for.

    def _ask(self, incoming: Incoming) -> Reply:
        try:
            grant = self.get_consent_grant(incoming)
        except OAuth2Error as error:
            return self._refuse(error)
        return _page(HTTPStatus.OK, _consent(grant, incoming.target, email="", failed=False))

    def _decide(self, incoming: Incoming) -> Reply:
        try:
            grant = self.get_consent_grant(incoming)
        except OAuth2Error as error:
            return self._refuse(error)
        form = grant.request.form
        user = None
        if form.get("decision") == "allow":
            email = form.get("email", "")
            user = grants.sign_in(email, form.get("password", ""), self.settings.password)
            if user is None:
                return _page(HTTPStatus.OK, _consent(grant, incoming.target, email, failed=True))
        return self.create_authorization_response(grant.request, grant_user=user, grant=grant)

    def _refuse(self, error: OAuth2Error) -> Reply:
        """Back to the client when its redirect URI is known good; else a page for the person."""
        if error.redirect_uri:
            return self.handle_response(*error())
        why = html.escape(error.get_error_description())
        text = f"<h1>This sign-in link is not valid</h1><p>{why}</p>"
        return _page(HTTPStatus.BAD_REQUEST, text)

    def _userinfo(self, incoming: Incoming) -> Reply:
        user = self._bearer(incoming)
        return user if isinstance(user, Reply) else _json(HTTPStatus.OK, user.claims())

    def _describe(self) -> AuthorizationServerMetadata:
        methods = list(grants.AUTH_METHODS)
        pkce = grants.S256Challenge.SUPPORTED_CODE_CHALLENGE_METHOD
        metadata = AuthorizationServerMetadata(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + AUTHORIZE_PATH,
                "token_endpoint": self.issuer + TOKEN_PATH,
                "revocation_endpoint": self.issuer + REVOKE_PATH,
                "userinfo_endpoint": self.issuer + USERINFO_PATH,
                "scopes_supported": [SCOPE],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": list(grants.GRANT_TYPES),
                "token_endpoint_auth_methods_supported": methods,
                "revocation_endpoint_auth_methods_supported": methods,
                "code_challenge_methods_supported": pkce,
            }
        )
        try:
            metadata.validate()
        except ValueError as e:
            raise ValueError(
                f"OAuth issuer {self.issuer}: {e}. Serve on a loopback address or https, or set "
                "AUTHLIB_INSECURE_TRANSPORT=1 for a sandbox reached over plain http."
            ) from e
        return metadata


def _json(status: int, body: Any, *headers: tuple[str, str]) -> Reply:
    fixed = (("Content-Type", "application/json"), ("Cache-Control", "no-store"))
    return Reply(status, json.dumps(body).encode(), fixed + headers)


def _page(status: int, content: str) -> Reply:
    document = _DOCUMENT.format(content=content)
    return Reply(status, document.encode(), _PAGE_HEADERS)


def _consent(grant: Any, target: str, email: str, *, failed: bool) -> str:
    e = html.escape
    accounts = ", ".join(f"{user.email} ({user.role})" for user in grants.USERS)
    return _CONSENT.format(
        client=e(grant.client.client_id),
        action=e(AUTHORIZE_PATH + "?" + urlsplit(target).query),
        email=e(email),
        alert='<p role="alert" id="problem">Wrong email or password.</p>' if failed else "",
        invalid=' aria-invalid="true" aria-describedby="problem"' if failed else "",
        accounts=e(accounts),
    )


_PAGE_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
_DOCUMENT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox HR directory: sign in</title></head>
<body><main>
{content}
</main></body>
</html>
"""
_CONSENT = """<h1>Sign in to the sandbox HR directory</h1>
<p><strong>{client}</strong> asks to use the HR directory on your behalf, with your role: editors
may read and change records, viewers may only read.</p>
{alert}
<form method="post" action="{action}">
<p><label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{email}"{invalid}></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></p>
</form>
<p>Sandbox accounts: {accounts}. All use the sandbox password.</p>
"""  # noqa: E501
