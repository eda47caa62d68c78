"""The sandbox HR API as an OAuth 2.0 authorization server, over real HTTP: a person signs in on
its page as a browser would, the bot's side is Authlib's own client, and the HR API checks every
request's access token and the role of the person it belongs to."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from bot.children import Child, start_sandbox
from sandbox import HRSandbox
from sandbox.__main__ import main
from sandbox.fake_slack import PEOPLE
from sandbox.hr_oauth import (
    AUTHORIZE_PATH,
    REVOKE_PATH,
    SANDBOX_PASSWORD,
    TOKEN_PATH,
    USERINFO_PATH,
    WELL_KNOWN_PATH,
    OAuthSettings,
)
from sandbox.hr_oauth_grants import USERS
from tests.fakes import Clock, sign_in
from tests.test_children import free_port

CLIENT_ID = "hr-bot"
CLIENT_SECRET = "bot-secret"
REDIRECT_URI = "http://127.0.0.1:9/slack/oauth/hr"  # never contacted: tests read the redirect
ACCESS_TOKEN_SECONDS = 600
FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)">')


@pytest.fixture
def clock() -> Clock:
    """The authorization server's time, moved on only when a test says so."""
    return Clock(start=1_800_000_000.0)


@pytest.fixture
def hr(tmp_path, clock) -> Iterator[HRSandbox]:
    settings = OAuthSettings(
        CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], ACCESS_TOKEN_SECONDS, clock=clock
    )
    with HRSandbox(tmp_path / "hr.sqlite3", oauth=settings) as sandbox:
        yield sandbox


@pytest.fixture
def bot(hr) -> Iterator[OAuth2Session]:
    """The bot's side of account linking: a confidential client using PKCE, as the bot will."""
    with client_session(hr) as session:
        yield session


def client_session(hr: HRSandbox, **options: str) -> OAuth2Session:
    return OAuth2Session(
        CLIENT_ID,
        options.pop("client_secret", CLIENT_SECRET),
        redirect_uri=REDIRECT_URI,
        scope="hr",
        code_challenge_method="S256",
        **options,
    )


def start_linking(hr: HRSandbox, bot: OAuth2Session) -> tuple[str, str, str]:
    """The link the bot would send a person: (authorization URL, state, PKCE verifier)."""
    verifier = generate_token(48)
    url, state = bot.create_authorization_url(hr.url + AUTHORIZE_PATH, code_verifier=verifier)
    return url, state, verifier


def link(hr: HRSandbox, bot: OAuth2Session, email: str) -> dict:
    """Account linking end to end; returns the token response."""
    url, _, verifier = start_linking(hr, bot)
    callback = sign_in(url, email).headers["Location"]
    return bot.fetch_token(
        hr.url + TOKEN_PATH, authorization_response=callback, code_verifier=verifier
    )


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def bearer(token: dict | str) -> dict[str, str]:
    value = token if isinstance(token, str) else token["access_token"]
    return {"Authorization": f"Bearer {value}"}


def api(hr: HRSandbox, token: dict | str | None, method: str = "GET", path: str = "/api/users"):
    headers = bearer(token) if token else {}
    body = {"name": "Neo Anderson", "job": "engineer"} if method != "GET" else None
    return requests.request(method, hr.url + path, json=body, headers=headers, timeout=5)


def test_discovery_describes_the_endpoints_pkce_and_client_authentication(hr):
    metadata = requests.get(hr.url + WELL_KNOWN_PATH, timeout=5).json()
    assert metadata["issuer"] == hr.url
    assert metadata["authorization_endpoint"] == hr.url + AUTHORIZE_PATH
    assert metadata["token_endpoint"] == hr.url + TOKEN_PATH
    assert metadata["revocation_endpoint"] == hr.url + REVOKE_PATH
    assert metadata["userinfo_endpoint"] == hr.url + USERINFO_PATH
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["scopes_supported"] == ["hr"]
    methods = ["client_secret_basic", "client_secret_post"]
    assert metadata["token_endpoint_auth_methods_supported"] == methods
    assert metadata["revocation_endpoint_auth_methods_supported"] == methods


def test_a_person_links_their_account_through_the_browser_with_pkce(hr, bot):
    url, state, verifier = start_linking(hr, bot)
    assert query(url)["code_challenge_method"] == "S256"
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Frame-Options"] == "DENY"
    action = urljoin(url, html.unescape(FORM_ACTION.search(page.text)[1]))
    form = {"email": "Dana@hr.example", "password": SANDBOX_PASSWORD, "decision": "allow"}
    answer = requests.post(action, data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    callback = answer.headers["Location"]  # where the browser would go next: the bot's endpoint
    assert callback.startswith(REDIRECT_URI + "?") and query(callback)["state"] == state
    token = bot.fetch_token(
        hr.url + TOKEN_PATH, authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer" and token["scope"] == "hr"
    assert token["expires_in"] == ACCESS_TOKEN_SECONDS and token["refresh_token"]
    assert api(hr, token).json()["total"] == 20


def test_userinfo_names_the_person_the_token_belongs_to(hr, bot):
    token = link(hr, bot, "eve@hr.example")
    info = requests.get(hr.url + USERINFO_PATH, headers=bearer(token), timeout=5)
    assert info.json() == {
        "sub": "sub-eve",
        "email": "eve@hr.example",
        "name": "Eve",
        "role": "viewer",
    }
    refused = requests.get(hr.url + USERINFO_PATH, timeout=5)
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]


def test_a_wrong_password_shows_the_form_again_and_issues_no_code(hr, bot):
    url, _, _ = start_linking(hr, bot)
    answer = sign_in(url, "dana@hr.example", password="guess")
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert 'role="alert"' in answer.text and "Wrong email or password" in answer.text
    assert sign_in(url, "nobody@hr.example").status_code == 200  # an unknown person, the same


def test_deny_sends_the_person_back_with_access_denied_and_the_state(hr, bot):
    url, state, _ = start_linking(hr, bot)
    answer = sign_in(url, "", password="", decision="deny")
    assert answer.status_code == 302
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT_URI + "?") and "code" not in query(callback)
    assert query(callback)["error"] == "access_denied" and query(callback)["state"] == state


def test_the_sign_in_page_is_labelled_and_escapes_what_it_echoes(hr, bot):
    url, _, _ = start_linking(hr, bot)
    page = sign_in(url, '"><script>alert(1)</script>', password="wrong").text
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<html lang="en">' in page
    for field in ("email", "password"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert 'value="allow">Allow</button>' in page and 'value="deny" formnovalidate>Deny' in page


def test_an_unregistered_redirect_uri_gets_a_page_never_a_redirect(hr):
    params = {"response_type": "code", "client_id": CLIENT_ID, "state": "s"}
    params["redirect_uri"] = "https://attacker.example/callback"
    answer = requests.get(
        f"{hr.url}{AUTHORIZE_PATH}?{urlencode(params)}", allow_redirects=False, timeout=5
    )
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "not valid" in answer.text


@pytest.mark.parametrize("challenge", [{}, {"code_challenge_method": "plain"}])
def test_an_authorization_request_without_an_s256_challenge_is_refused(hr, challenge):
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI}
    params |= {"state": "xyz", "scope": "hr"}
    if challenge:
        params |= {"code_challenge": generate_token(48), **challenge}
    answer = requests.get(
        f"{hr.url}{AUTHORIZE_PATH}?{urlencode(params)}", allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    refusal = query(answer.headers["Location"])
    assert refusal["error"] == "invalid_request" and refusal["state"] == "xyz"


def test_a_code_works_once_and_a_replay_revokes_what_it_gave(hr, bot):
    url, _, verifier = start_linking(hr, bot)
    callback = sign_in(url, "dana@hr.example").headers["Location"]
    exchange = {"authorization_response": callback, "code_verifier": verifier}
    token = bot.fetch_token(hr.url + TOKEN_PATH, **exchange)
    assert api(hr, token).status_code == 200
    with pytest.raises(OAuthError) as replayed:
        bot.fetch_token(hr.url + TOKEN_PATH, **exchange)
    assert replayed.value.error == "invalid_grant"
    assert api(hr, token).status_code == 401  # RFC 6749 §4.1.2: tokens from a replayed code go
    with pytest.raises(OAuthError):
        bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=token["refresh_token"])


def test_a_wrong_verifier_is_refused_and_spends_the_code(hr, bot):
    url, _, verifier = start_linking(hr, bot)
    callback = sign_in(url, "dana@hr.example").headers["Location"]
    with pytest.raises(OAuthError) as wrong:
        bot.fetch_token(
            hr.url + TOKEN_PATH, authorization_response=callback, code_verifier=generate_token(48)
        )
    assert wrong.value.error == "invalid_grant"
    with pytest.raises(OAuthError) as spent:  # no second guess at the verifier
        bot.fetch_token(
            hr.url + TOKEN_PATH, authorization_response=callback, code_verifier=verifier
        )
    assert spent.value.error == "invalid_grant"


def test_the_client_authenticates_with_basic_or_post_and_a_wrong_secret_is_refused(hr):
    with client_session(hr, token_endpoint_auth_method="client_secret_post") as by_post:
        assert link(hr, by_post, "alice@hr.example")["access_token"]
    with (
        client_session(hr, client_secret="not-it") as impostor,
        pytest.raises(OAuthError) as refused,
    ):
        link(hr, impostor, "alice@hr.example")
    assert refused.value.error == "invalid_client"


def test_a_refresh_rotates_and_the_used_refresh_token_is_refused(hr, bot):
    first = link(hr, bot, "dana@hr.example")
    second = bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert api(hr, second).status_code == 200
    with pytest.raises(OAuthError) as reused:
        bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=first["refresh_token"])
    assert reused.value.error == "invalid_grant"
    third = bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=second["refresh_token"])
    assert api(hr, third).status_code == 200


def test_an_expired_access_token_is_refused_until_the_bot_refreshes(hr, bot, clock):
    token = link(hr, bot, "dana@hr.example")
    clock.advance(ACCESS_TOKEN_SECONDS - 1)
    assert api(hr, token).status_code == 200
    clock.advance(1)
    expired = api(hr, token)
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    fresh = bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=token["refresh_token"])
    assert api(hr, fresh).status_code == 200


def test_the_api_refuses_a_missing_or_unknown_token_with_invalid_token(hr):
    for token in (None, "made-up"):
        refused = api(hr, token)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
        assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    basic = requests.get(hr.url + "/api/users", auth=(CLIENT_ID, CLIENT_SECRET), timeout=5)
    assert basic.status_code == 401


def test_revoking_an_access_token_stops_it_but_not_its_refresh_token(hr, bot):
    token = link(hr, bot, "dana@hr.example")
    revoked = bot.revoke_token(hr.url + REVOKE_PATH, token=token["access_token"])
    assert revoked.status_code == 200
    refused = api(hr, token)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    fresh = bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=token["refresh_token"])
    assert api(hr, fresh).status_code == 200


def test_revoking_a_refresh_token_ends_the_whole_grant(hr, bot):
    token = link(hr, bot, "dana@hr.example")
    bot.revoke_token(
        hr.url + REVOKE_PATH, token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert api(hr, token).status_code == 401
    with pytest.raises(OAuthError) as refused:
        bot.refresh_token(hr.url + TOKEN_PATH, refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"
    unknown = bot.revoke_token(hr.url + REVOKE_PATH, token="never-issued")
    assert unknown.status_code == 200  # RFC 7009 §2.2: nothing to revoke is no error


def test_a_viewer_may_read_but_every_write_is_refused(hr, bot):
    token = link(hr, bot, "eve@hr.example")
    assert api(hr, token, path="/api/users/2").json()["data"]["first_name"] == "Janet"
    writes = [("POST", "/api/users")] + [(m, "/api/users/2") for m in ("PUT", "PATCH", "DELETE")]
    for method, path in writes:
        refused = api(hr, token, method, path)
        assert refused.status_code == 403, method
        assert refused.json() == {"error": "forbidden: viewers may only read"}
    assert api(hr, token).json()["total"] == 20
    assert api(hr, token, path="/api/users/2").json()["data"]["first_name"] == "Janet"


def test_an_editors_write_is_recorded_with_their_subject(hr, bot):
    token = link(hr, bot, "gina@hr.example")
    assert api(hr, token, "POST").status_code == 201
    (write,) = hr.writes_seen()  # the token endpoint's POSTs are not HR writes
    assert (write.method, write.path, write.subject) == ("POST", "/api/users", "sub-gina")
    assert [r.subject for r in hr.seen if r.path.startswith("/oauth/")] == [None, None, None]


def test_every_sandbox_user_is_a_member_of_the_fake_workspace():
    emails = {person["profile"]["email"]: person["real_name"] for person in PEOPLE.values()}
    assert all(emails.get(user.email) == user.name for user in USERS)
    roles = {user.email: user.role for user in USERS}
    assert roles == {
        **{f"{n}@hr.example": "editor" for n in ("dana", "alice", "bob", "carol", "gina")},
        "eve@hr.example": "viewer",
    }
    assert len({user.subject for user in USERS}) == len(USERS)


def test_without_oauth_the_sandbox_has_no_oauth_endpoints_and_asks_no_token(hr_sandbox):
    assert hr_sandbox.oauth is None
    assert requests.get(hr_sandbox.url + WELL_KNOWN_PATH, timeout=5).status_code == 404
    assert requests.get(hr_sandbox.url + "/api/users", timeout=5).status_code == 200
    assert hr_sandbox.seen[-1].subject is None


def test_a_static_token_and_oauth_cannot_both_be_on(tmp_path):
    settings = OAuthSettings(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    with pytest.raises(ValueError, match="exclude each other"):
        HRSandbox(tmp_path / "hr.sqlite3", token="t0ken", oauth=settings)


def test_the_command_line_needs_the_client_with_oauth(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--oauth", "--client-id", CLIENT_ID])
    assert exited.value.code == 2
    assert "--oauth needs --client-secret, --redirect-uri" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--client-id", CLIENT_ID])
    assert "--client-id: only with --oauth" in capsys.readouterr().err


def test_the_command_line_turns_oauth_on_in_a_child(tmp_path):
    port = free_port()
    args = ["-m", "sandbox", "--port", str(port), "--db", str(tmp_path / "hr.sqlite3"), "--oauth"]
    args += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    args += ["--redirect-uri", REDIRECT_URI, "--access-token-seconds", "60"]
    child = Child("the sandbox HR API", args).wait_until_ready()
    url = f"http://127.0.0.1:{port}"
    try:
        metadata = requests.get(url + WELL_KNOWN_PATH, timeout=5).json()
        assert metadata["token_endpoint"] == url + TOKEN_PATH
        assert requests.get(url + "/api/users", timeout=5).status_code == 401
    finally:
        child.stop()
    assert child.process.returncode == 0


def test_the_bot_starts_the_sandbox_with_its_client_secret_on_stdin_not_the_command_line(
    tmp_path,
):
    port = free_port()
    child = start_sandbox(
        port,
        str(tmp_path / "hr.sqlite3"),
        oauth_client=(CLIENT_ID, "secret-from-stdin"),
        redirect_uri=REDIRECT_URI,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert "secret-from-stdin" not in " ".join(child.process.args)
        wrong = requests.post(
            url + TOKEN_PATH,
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            auth=(CLIENT_ID, "another-secret"),
            timeout=5,
        )
        right = requests.post(
            url + TOKEN_PATH,
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            auth=(CLIENT_ID, "secret-from-stdin"),
            timeout=5,
        )
        assert wrong.json()["error"] == "invalid_client"
        assert right.json()["error"] == "invalid_grant"  # the client was accepted
    finally:
        child.stop()
