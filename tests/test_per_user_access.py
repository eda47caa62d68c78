"""Per-user HR authority end to end (HR_AUTH=oauth): people link their own HR account through the
sandbox's authorization server in a browser-like client, and every HR request made for them
carries their own token; over real HTTP, against the strict fakes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet

from approvals import MIGRATIONS
from approvals.slack.cards import APPROVE_ACTION_ID
from bot import __main__ as bot_main
from bot.hr import accounts as hr_accounts
from bot.hr.accounts import Accounts, SealBroken, TokenCipher
from bot.hr.authority import PersonalAuthority
from infra.db import open_database
from infra.named_leases import NamedLeases
from sandbox.scripted_model import rest, say, tool_calls
from tests.fakes import sign_in
from tests.slack_harness import (
    HR_CHANNEL,
    OAUTH_SECRET,
    TOKEN_KEY,
    Stack,
    dm_event,
    mention_event,
)

QUESTION = "who is employee 2?"


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    s = Stack(tmp_path, oauth=True, REQUESTERS="U0DANA,U0ALICE,U0EVE").start()
    yield s
    s.stop()


def api_requests(stack: Stack) -> list:
    return [r for r in stack.hr.seen if r.path.startswith("/api/")]


def link(stack: Stack, user: str, email: str | None = None) -> None:
    """`user` says `connect` to the bot in a DM and follows the button."""
    count = len(connect_buttons(stack, user)) + 1
    stack.send_event(dm_event(user, "connect"))
    page = stack.connect(user, email, count=count)
    assert page.status_code == 200, page.text


def connect_buttons(stack: Stack, user: str) -> list:
    return [
        e
        for e in list(stack.slack.ephemeral)
        if e["user"] == user and e["blocks"] and "Connect" in json.dumps(e["blocks"])
    ]


def test_without_a_linked_account_nothing_reaches_the_model_and_a_private_button_is_offered(
    stack,
):
    event = mention_event("U0DANA", QUESTION)
    stack.send_event(event)
    url = stack.connect_link("U0DANA")
    stack.drain()
    (offer,) = connect_buttons(stack, "U0DANA")
    assert offer["channel"] == HR_CHANNEL and offer["thread_ts"] is None  # only Dana sees it
    assert url.startswith(stack.hr.url) and "code_challenge_method=S256" in url
    assert stack.model.requests == [] and api_requests(stack) == []
    assert stack.slack.thread(HR_CHANNEL, event["ts"]) == []  # nothing public


def test_connecting_answers_the_original_question_with_the_persons_own_token(stack):
    stack.model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver."))
    event = mention_event("U0DANA", QUESTION)
    stack.send_event(event)

    page = stack.connect("U0DANA")

    assert page.status_code == 200 and "connected" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    (answer,) = stack.replies(HR_CHANNEL, event["ts"])
    assert answer.text == "Janet Weaver."
    assert stack.model.requests[0]["messages"][-1]["content"] == QUESTION
    (read,) = api_requests(stack)
    assert (read.method, read.path, read.subject) == ("GET", "/api/users/2", "sub-dana")
    dms = [m for m in stack.slack.messages.values() if m.channel.startswith("D")]
    assert any("is connected" in (m.text or "") and m.blocks for m in dms)
    (linked,) = stack.audit("hr_account_linked")
    assert linked.actor == "U0DANA" and linked.detail == {"hr_subject": "sub-dana"}


def test_a_forwarded_link_is_refused_when_someone_else_signs_in(stack):
    stack.send_event(mention_event("U0DANA", QUESTION))
    url = stack.connect_link("U0DANA")

    page = stack.sign_in_and_return(url, "alice@hr.example")  # Alice got Dana's link

    assert page.status_code == 403 and "does not belong" in page.text
    assert stack.app.core.per_user.accounts.get("U0DANA") is None
    (refused,) = stack.audit("hr_link_refused")
    assert refused.actor == "U0DANA" and refused.detail["why"] == "email_mismatch"
    assert stack.model.requests == []
    # The grant Alice's sign-in produced is revoked, not left behind.
    granted = stack.hr.oauth.store.issued()
    assert granted and all(
        requests.get(
            stack.hr.url + "/api/users/2", headers={"Authorization": f"Bearer {t}"}, timeout=5
        ).status_code
        == 401
        for t in granted
    )


def test_a_replayed_callback_is_refused(stack):
    stack.send_event(mention_event("U0DANA", QUESTION))
    stack.model.add(say("Janet Weaver."))
    url = stack.connect_link("U0DANA")
    location = sign_in(url, "dana@hr.example").headers["Location"]
    assert requests.get(location, timeout=10).status_code == 200

    again = requests.get(location, timeout=10)

    assert again.status_code == 400 and "already been used" in again.text
    assert [e.detail["why"] for e in stack.audit("hr_link_refused")] == ["replayed"]


def test_an_expired_link_is_refused(stack):
    stack.send_event(mention_event("U0DANA", QUESTION))
    url = stack.connect_link("U0DANA")
    stack.clock.advance(601)

    page = stack.sign_in_and_return(url, "dana@hr.example")

    assert page.status_code == 400 and "more than 10 minutes" in page.text
    assert [e.detail["why"] for e in stack.audit("hr_link_refused")] == ["expired"]
    assert stack.app.core.per_user.accounts.get("U0DANA") is None


def test_an_unknown_state_is_refused(stack):
    page = requests.get(f"{stack.public_url}/oauth/callback?state=forged&code=x", timeout=5)
    assert page.status_code == 400 and "not started by the HR bot" in page.text
    assert stack.audit("hr_link_refused") == []  # anyone can send these: not one row each


def test_a_token_near_expiry_is_refreshed_and_the_rotated_one_is_kept(stack):
    link(stack, "U0DANA")
    accounts = stack.app.core.per_user.accounts
    before = accounts.get("U0DANA").token
    # The access token's hour is over, by the HR system's clock and by the one stored here.
    stack.hr_clock.advance(3601)
    assert accounts.save_token("U0DANA", {**before, "expires_at": before["expires_at"] - 3601})
    stack.model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver."))
    event = mention_event("U0DANA", QUESTION)

    stack.send_event(event)

    assert stack.replies(HR_CHANNEL, event["ts"])[0].text == "Janet Weaver."
    assert api_requests(stack)[-1].subject == "sub-dana"  # accepted: the renewed token
    after = accounts.get("U0DANA").token
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # rotated, and the new one saved


def test_a_token_the_hr_api_refuses_is_dropped_and_the_person_asked_to_connect_again(stack):
    link(stack, "U0DANA")
    token = stack.app.core.per_user.accounts.get("U0DANA").token
    stack.app.core.per_user.provider.revoke(token)  # ended at the HR system's side
    stack.model.add(tool_calls(rest("GET", "/api/users/2")), say("I could not read it."))
    event = mention_event("U0DANA", QUESTION)

    stack.send_event(event)

    stack.replies(HR_CHANNEL, event["ts"])
    stack.connect_link("U0DANA", count=2)  # a new private Connect button
    result = stack.model.requests[-1]["messages"][-1]
    assert result["role"] == "tool" and "connect it again" in result["content"]
    assert stack.app.core.per_user.accounts.get("U0DANA") is None
    assert [e.detail["why"] for e in stack.audit("hr_account_unlinked")] == ["rejected_by_hr_api"]


def test_disconnect_in_a_dm_revokes_the_token_at_the_provider_and_deletes_it(stack):
    link(stack, "U0DANA")
    token = stack.app.core.per_user.accounts.get("U0DANA").token
    event = dm_event("U0DANA", "disconnect")

    stack.send_event(event)

    (reply,) = stack.replies(event["channel"], event["ts"])
    assert reply.text.startswith("Disconnected: your HR account's access was revoked")
    assert stack.app.core.per_user.accounts.get("U0DANA") is None
    for kind in ("access_token", "refresh_token"):
        assert stack.hr.oauth.store.find_token(token[kind]).is_revoked()
    (unlinked,) = stack.audit("hr_account_unlinked")
    assert unlinked.detail == {"hr_subject": "sub-dana", "why": "disconnected"}
    assert stack.model.requests == []  # commands about one's own link never reach the model


def queue_delete(stack: Stack, user: str) -> dict:
    stack.model.add(tool_calls(rest("DELETE", "/api/users/3")))
    event = mention_event(user, "delete employee 3")
    stack.send_event(event)
    stack.replies(HR_CHANNEL, event["ts"])
    stack.answered(event)
    return event


def test_an_approver_must_connect_before_deciding(stack):
    link(stack, "U0DANA")
    queue_delete(stack, "U0DANA")
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    stack.connect_link("U0BOB")
    assert stack.app.actions.get(1).status == "pending"
    assert stack.hr.writes_seen() == []
    stack.connect("U0BOB")
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    done = stack.slack.wait_for(lambda: (a := stack.app.actions.get(1)).is_terminal and a)
    assert done.status == "succeeded"
    (write,) = stack.hr.writes_seen()
    assert (write.method, write.subject) == ("DELETE", "sub-dana")  # as the requester
    (approved,) = stack.audit("approved")
    assert approved.actor == "U0BOB" and approved.detail["hr_subject"] == "sub-bob"
    assert stack.audit("requested")[0].detail["hr_subject"] == "sub-dana"


def test_a_viewers_approved_write_is_refused_by_the_hr_api_and_reported_as_failed(stack):
    link(stack, "U0EVE")  # Eve may only read in the HR system
    link(stack, "U0BOB")
    event = queue_delete(stack, "U0EVE")
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    action = stack.app.actions.get(1)
    assert action.status == "failed" and action.hr_status == 403
    assert "Not done: the HR system refused the change." in outcome.text
    (write,) = stack.hr.writes_seen()
    assert write.subject == "sub-eve"  # sent as Eve, refused by the HR API, not by the bot


def test_a_requester_who_disconnected_before_the_click_fails_closed(stack):
    link(stack, "U0DANA")
    link(stack, "U0BOB")
    event = queue_delete(stack, "U0DANA")
    (card,) = stack.approval_cards()
    stack.send_event(dm_event("U0DANA", "disconnect"))
    stack.slack.wait_for(lambda: stack.app.core.per_user.accounts.get("U0DANA") is None)

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    action = stack.app.actions.get(1)
    assert action.status == "failed" and "no longer connected" in action.error
    assert "no longer connected" in outcome.text
    assert stack.hr.writes_seen() == []  # and no other credential was tried


def test_rotate_keys_re_encrypts_every_stored_token_under_the_first_key(tmp_path, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    database_path = tmp_path / "bot.sqlite3"
    database = open_database(database_path, [*MIGRATIONS, hr_accounts.tables])
    Accounts(database, TokenCipher([old])).link("U0DANA", "sub-dana", None, {"access_token": "a"})
    database.close()
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in {
        "HR_AUTH": "oauth",
        "TOKEN_ENCRYPTION_KEYS": f"{new},{old}",
        "DATABASE_PATH": str(database_path),
    }.items():
        monkeypatch.setenv(name, value)

    assert bot_main.main(["rotate-keys"]) == 0

    database = open_database(database_path, [*MIGRATIONS, hr_accounts.tables])
    try:
        assert Accounts(database, TokenCipher([new])).get("U0DANA").token == {"access_token": "a"}
        with pytest.raises(SealBroken):
            Accounts(database, TokenCipher([old])).get("U0DANA")
    finally:
        database.close()


def test_no_token_appears_in_slack_the_model_the_logs_or_the_audit(stack, capfd):
    link(stack, "U0BOB")
    stack.model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver."))
    first = mention_event("U0DANA", QUESTION)
    stack.send_event(first)
    url = stack.connect_link("U0DANA")
    callback = sign_in(url, "dana@hr.example").headers["Location"]
    assert requests.get(callback, timeout=10).status_code == 200
    stack.replies(HR_CHANNEL, first["ts"])
    # The link's one-time values: the state on the Connect button may be shown to Dana alone,
    # the code only ever passes through her browser.
    query = dict(parse_qsl(urlsplit(callback).query))
    state, code = query["state"], query["code"]
    accounts = stack.app.core.per_user.accounts
    token = accounts.get("U0DANA").token  # then renewed, so refresh tokens are in play too
    stack.hr_clock.advance(3601)
    accounts.save_token("U0DANA", {**token, "expires_at": token["expires_at"] - 3601})
    event = queue_delete(stack, "U0DANA")
    (card,) = stack.approval_cards()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.replies(HR_CHANNEL, event["ts"], count=2)
    stack.send_event(dm_event("U0DANA", "disconnect"))
    stack.slack.wait_for(lambda: accounts.get("U0DANA") is None)
    stack.drain()

    secrets = stack.hr.oauth.store.issued() | {OAUTH_SECRET, TOKEN_KEY}
    assert len(secrets) >= 8  # Bob's and Dana's grants, Dana's renewal, the client's secrets
    database = sqlite3.connect(stack.env["DATABASE_PATH"])
    stored = {
        table: database.execute(f"SELECT * FROM {table}").fetchall()
        for (table,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    database.close()
    places = {
        "slack": json.dumps([call.args for call in stack.slack.calls], default=str),
        "model": json.dumps(stack.model.requests),
        "logs": "".join(capfd.readouterr()),
        "audit": json.dumps([e.detail for e in stack.audit()]),
        "database": json.dumps(stored, default=str),
        "hr api": json.dumps(
            [dict(r.headers) for r in stack.hr.seen if r.path.startswith("/api/")]
        ),
    }
    assert "sub-dana" in places["audit"] and "Weaver" in places["model"]  # scanned for real
    leaks = {where: [s[:6] for s in secrets if s in text] for where, text in places.items()}
    once = {"state": state, "code": code}
    for where, text in places.items():
        shown = [name for name, value in once.items() if value in text]
        # The state is on Dana's own ephemeral Connect button, nowhere else.
        assert shown == (["state"] if where == "slack" else []), where
    ephemeral = [e for e in stack.slack.ephemeral if state in json.dumps(e)]
    assert [e["user"] for e in ephemeral] == ["U0DANA"]
    # The HR API is where access tokens belong; nowhere else may hold any of them.
    assert {where: found for where, found in leaks.items() if found and where != "hr api"} == {}


def test_declining_at_the_hr_sign_in_connects_nothing_and_says_so(stack):
    stack.send_event(mention_event("U0DANA", QUESTION))

    page = stack.sign_in_and_return(
        stack.connect_link("U0DANA"), "dana@hr.example", decision="deny"
    )

    assert page.status_code == 400 and "did not allow access" in page.text
    assert [e.detail["why"] for e in stack.audit("hr_link_refused")] == ["declined"]
    assert stack.app.core.per_user.accounts.get("U0DANA") is None


def test_the_callback_page_takes_get_only_and_is_never_cached_framed_or_referred(stack):
    assert requests.post(f"{stack.public_url}/oauth/callback", timeout=5).status_code == 405
    page = requests.get(f"{stack.public_url}/oauth/callback?state=x&code=y", timeout=5)
    assert page.status_code == 400
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_concurrent_requests_for_one_person_renew_the_token_once_and_keep_the_link(stack):
    link(stack, "U0DANA")
    per_user = stack.app.core.per_user
    token = per_user.accounts.get("U0DANA").token
    stack.hr_clock.advance(3601)
    per_user.accounts.save_token("U0DANA", {**token, "expires_at": token["expires_at"] - 3601})

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: per_user.authority.headers("U0DANA"), range(6)))

    assert len({a["Authorization"] for a in answers}) == 1  # one renewal, shared
    assert per_user.accounts.get("U0DANA").token["refresh_token"] != token["refresh_token"]
    assert stack.audit("hr_account_unlinked") == []


def test_an_approver_whose_grant_was_revoked_cannot_decide(stack):
    link(stack, "U0DANA")
    link(stack, "U0BOB")
    queue_delete(stack, "U0DANA")
    (card,) = stack.approval_cards()
    bob = stack.app.core.per_user.accounts.get("U0BOB").token
    stack.app.core.per_user.provider.revoke(bob)  # ended at the HR identity provider
    stack.hr_clock.advance(3601)
    stack.app.core.per_user.accounts.save_token(
        "U0BOB", {**bob, "expires_at": bob["expires_at"] - 3601}
    )

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    stack.connect_link("U0BOB", count=2)  # asked to connect again
    assert stack.app.actions.get(1).status == "pending"
    assert stack.hr.writes_seen() == []


def test_a_guest_who_says_connect_cannot_link(stack):
    event = dm_event("U0GUEST", "connect")
    stack.send_event(event)

    page = stack.connect("U0GUEST", "dana@hr.example")

    assert page.status_code == 403
    assert stack.app.core.per_user.accounts.get("U0GUEST") is None
    assert [e.detail["why"] for e in stack.audit("hr_link_refused")] == ["guest"]


@pytest.fixture
def stack_on_postgres(tmp_path, postgres) -> Iterator[Stack]:
    url = postgres.fresh_database()
    s = Stack(tmp_path, oauth=True, DATABASE_URL=url, DATABASE_PATH=None).start()
    yield s
    s.stop()


def test_two_replicas_renewing_one_persons_token_at_once_renew_it_once(stack_on_postgres):
    # Another replica's authority: its own in-process lock, the same database and provider.
    stack = stack_on_postgres
    link(stack, "U0DANA")
    per_user = stack.app.core.per_user
    other = PersonalAuthority(
        per_user.accounts,
        per_user.provider,
        leases=NamedLeases(stack.app.database, owner="other-replica", seconds=30),
    )
    token = per_user.accounts.get("U0DANA").token
    stack.hr_clock.advance(3601)
    per_user.accounts.save_token("U0DANA", {**token, "expires_at": token["expires_at"] - 3601})

    authorities = [per_user.authority, other] * 4
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda authority: authority.headers("U0DANA"), authorities))

    assert len({a["Authorization"] for a in answers}) == 1  # one renewal, used by both
    assert per_user.accounts.get("U0DANA").token["refresh_token"] != token["refresh_token"]
    assert stack.audit("hr_account_unlinked") == []
