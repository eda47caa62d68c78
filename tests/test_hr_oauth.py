"""The bot's OAuth client (Authlib underneath) against the sandbox's authorization server, over
real HTTP: discovery, PKCE, the code exchange, who the token belongs to, refresh with rotation,
revocation."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token

from bot.hr.oauth import HRIdentity, HRIdentityProvider, ProviderError, discover
from sandbox import HRSandbox
from sandbox.hr_oauth import OAuthSettings
from tests.fakes import Clock, sign_in

REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"  # never contacted: the test reads the redirect


@pytest.fixture
def clock() -> Clock:
    return Clock(start=1_800_000_000.0)


@pytest.fixture
def hr(tmp_path, clock) -> Iterator[HRSandbox]:
    settings = OAuthSettings("hr-bot", "bot-secret", [REDIRECT_URI], 600, clock=clock)
    with HRSandbox(tmp_path / "hr.sqlite3", oauth=settings) as sandbox:
        yield sandbox


@pytest.fixture
def provider(hr) -> HRIdentityProvider:
    return HRIdentityProvider(
        discover(hr.url),
        client_id="hr-bot",
        client_secret="bot-secret",
        scopes="hr",
        redirect_uri=REDIRECT_URI,
    )


def link(provider: HRIdentityProvider, email: str) -> dict:
    verifier = generate_token(48)
    url = provider.authorization_url("state-123", verifier)
    redirect = sign_in(url, email).headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    assert query["state"] == "state-123"
    return provider.exchange(query["code"], verifier)


def api(hr: HRSandbox, token: dict) -> int:
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    return requests.get(f"{hr.url}/api/users/2", headers=headers, timeout=5).status_code


def test_discovery_finds_the_endpoints(hr):
    endpoints = discover(hr.url)
    assert endpoints.token_url.startswith(hr.url) and endpoints.revoke_url


def test_linking_gives_a_token_for_the_person_who_signed_in(hr, provider):
    url = provider.authorization_url("s", generate_token(48))
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    token = link(provider, "dana@hr.example")
    assert provider.identity(token) == HRIdentity("sub-dana", "dana@hr.example")
    assert api(hr, token) == 200


def test_a_wrong_verifier_is_a_clear_error(provider):
    url = provider.authorization_url("s", generate_token(48))
    redirect = sign_in(url, "dana@hr.example").headers["Location"]
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    with pytest.raises(ProviderError, match="could not be exchanged: invalid_grant"):
        provider.exchange(code, generate_token(48))


def test_a_token_near_expiry_is_refreshed_and_the_rotated_one_is_saved(hr, provider, clock):
    token = link(provider, "dana@hr.example")
    saved: list[tuple[dict, str]] = []
    assert provider.fresh(token, lambda t, refresh_token: saved.append((t, refresh_token))) == (
        token
    )  # not near expiry: nothing to do
    clock.advance(600)
    token["expires_at"] = token["expires_at"] - 600  # the bot's clock agrees it has expired
    fresh = provider.fresh(token, lambda t, refresh_token: saved.append((dict(t), refresh_token)))
    assert fresh["access_token"] != token["access_token"]
    ((new, old_refresh),) = saved
    assert old_refresh == token["refresh_token"] and new["refresh_token"] != old_refresh
    assert api(hr, fresh) == 200
    with pytest.raises(ProviderError, match="could not be refreshed"):
        provider.fresh(token, lambda t, refresh_token: None)  # the old refresh token is spent


def test_revoking_ends_the_grant(hr, provider):
    token = link(provider, "dana@hr.example")
    provider.revoke(token)
    assert api(hr, token) == 401
    with pytest.raises(ProviderError):
        provider.fresh({**token, "expires_at": 0}, lambda t, refresh_token: None)


def test_an_issuer_without_metadata_is_a_clear_error(tmp_path):
    with (
        HRSandbox(tmp_path / "plain.sqlite3") as plain,
        pytest.raises(ProviderError, match="no OAuth metadata"),
    ):
        discover(plain.url)
