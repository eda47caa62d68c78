"""Whose HR credentials a request carries, checked without servers: the executor sends an
approved write only with the requester's own, and fails closed without them."""

from __future__ import annotations

import pytest

from approvals import Executor
from approvals.authority import NotConnected
from bot.hr.accounts import LinkedAccount
from bot.hr.authority import PersonalAuthority
from bot.hr.client import HRResponse
from bot.hr.oauth import ProviderError
from bot.tools.budget import HRBudget, MeteredHR
from tests.fakes import Answer, LinkedAccounts, RecordingTransport, held_delete

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


def approved(actions, **overrides):
    action = held_delete(actions, **overrides)
    return actions.approve(action.id, "U0BOB")


def test_an_approved_write_carries_the_requesters_own_token(actions):
    action = approved(actions, hr_subject="sub-dana")
    transport = RecordingTransport([Answer(204)])
    executor = Executor(
        actions, transport, authority=LinkedAccounts(U0DANA="sub-dana", U0BOB="sub-bob")
    )

    done = executor.run(action.id, action.request_hash)

    assert done.status == "succeeded"
    ((method, path, _, headers),) = transport.calls
    assert (method, path) == ("DELETE", "/api/users/3")
    assert headers["Authorization"] == "Bearer token-of-U0DANA"  # never the approver's
    assert headers["Idempotency-Key"] == action.idempotency_key


def test_the_stale_guard_reads_with_the_requesters_token_too(actions):
    action = approved(actions, hr_subject="sub-dana", before={"id": 3})
    snapshots = []
    executor = Executor(
        actions,
        RecordingTransport([Answer(204)]),
        authority=LinkedAccounts(U0DANA="sub-dana"),
        snapshot=lambda path, headers: snapshots.append(headers) or {"id": 3},
    )
    assert executor.run(action.id, action.request_hash).status == "succeeded"
    assert snapshots == [{"Authorization": "Bearer token-of-U0DANA"}]


@pytest.mark.parametrize(
    ("subjects", "recorded", "why"),
    [
        ({}, "sub-dana", "no longer connected"),  # disconnected, revoked or left
        ({"U0DANA": "sub-someone-else"}, "sub-dana", "no longer connected"),  # relinked
        ({"U0DANA": "sub-dana"}, None, "without a connected HR account"),  # asked before linking
    ],
)
def test_without_the_identity_the_request_was_made_as_nothing_is_sent(
    actions, subjects, recorded, why
):
    action = approved(actions, hr_subject=recorded)
    transport = RecordingTransport()
    executor = Executor(actions, transport, authority=LinkedAccounts(**subjects))

    done = executor.run(action.id, action.request_hash)

    assert done.status == "failed" and why in done.error
    assert "No other HR credential" in done.error
    assert transport.calls == []


def test_a_401_on_the_write_drops_the_requesters_link(actions):
    action = approved(actions, hr_subject="sub-dana")
    authority = LinkedAccounts(U0DANA="sub-dana")
    executor = Executor(actions, RecordingTransport([Answer(401)]), authority=authority)
    assert executor.run(action.id, action.request_hash).status == "failed"
    assert authority.dropped == ["U0DANA"]


class Reads:
    def __init__(self, status: int) -> None:
        self.status = status
        self.headers: list[dict | None] = []

    def request(self, method, path, *, body=None, headers=None):
        self.headers.append(headers)
        return HRResponse(self.status, {})


def test_a_read_made_for_someone_unlinked_is_never_sent():
    hr = Reads(200)
    metered = MeteredHR(hr, HRBudget(None), authority=LinkedAccounts(), person="U0DANA")
    with pytest.raises(NotConnected):
        metered.request("GET", "/api/users/2")
    assert hr.headers == []


def test_a_read_refused_with_401_drops_the_link_and_stops():
    hr = Reads(401)
    authority = LinkedAccounts(U0DANA="sub-dana")
    metered = MeteredHR(hr, HRBudget(None), authority=authority, person="U0DANA")
    with pytest.raises(NotConnected, match="connect it again"):
        metered.request("GET", "/api/users/2")
    assert hr.headers == [{"Authorization": "Bearer token-of-U0DANA"}]
    assert authority.dropped == ["U0DANA"]


class Provider:
    """An identity provider whose refresh fails as told."""

    def __init__(self, error: ProviderError | None) -> None:
        self.error = error
        self.revoked: list[dict] = []

    def fresh(self, token, save, leeway=60):
        if self.error:
            raise self.error
        return token

    def revoke(self, token):
        self.revoked.append(token)


class Accounts:
    def __init__(self) -> None:
        self.linked = {"U0DANA": "sub-dana"}
        self.unlinked: list[tuple[str, str]] = []

    def get(self, user):
        subject = self.linked.get(user)
        token = {"access_token": "a", "refresh_token": "r"}
        return subject and LinkedAccount(user, subject, None, token, 0, 0)

    def unlink(self, user, *, why):
        self.unlinked.append((user, why))
        account = self.get(user)
        self.linked.pop(user, None)
        return account

    def save_token(self, user, token, *, refresh_token=None):
        return user in self.linked


def test_a_refresh_the_provider_refuses_for_good_unlinks_but_a_passing_failure_does_not():
    accounts = Accounts()
    passing = PersonalAuthority(accounts, Provider(ProviderError("timeout")))
    with pytest.raises(NotConnected, match="try again in a minute"):
        passing.headers("U0DANA")
    assert accounts.unlinked == []
    gone = PersonalAuthority(accounts, Provider(ProviderError("x", grant_gone=True)))
    with pytest.raises(NotConnected, match="connect it again"):
        gone.headers("U0DANA")
    assert accounts.unlinked == [("U0DANA", "grant_ended")]


def test_a_token_refreshed_after_the_link_was_removed_is_revoked_not_kept():
    accounts = Accounts()
    provider = Provider(None)
    authority = PersonalAuthority(accounts, provider)
    accounts.linked.clear()  # unlinked while the refresh was under way
    authority._save("U0DANA", {"access_token": "new"}, refresh_token="old")  # Authlib's hook call
    assert provider.revoked == [{"access_token": "new"}]


def test_a_requester_who_left_the_workspace_has_nothing_sent_as_them(actions):
    action = approved(actions, hr_subject="sub-dana")
    transport = RecordingTransport()
    executor = Executor(
        actions,
        transport,
        authority=LinkedAccounts(U0DANA="sub-dana"),
        requester_problem=lambda user: "deactivated",
    )
    done = executor.run(action.id, action.request_hash)
    assert done.status == "failed" and "can no longer act here (deactivated)" in done.error
    assert transport.calls == []


def test_a_credential_check_that_breaks_fails_closed_and_says_so(actions):
    class Broken(LinkedAccounts):
        def headers(self, slack_user):
            raise RuntimeError("database is locked")

    action = approved(actions, hr_subject="sub-dana")
    transport = RecordingTransport()
    done = Executor(actions, transport, authority=Broken(U0DANA="sub-dana")).run(
        action.id, action.request_hash
    )
    assert done.status == "failed" and "could not be checked (RuntimeError)" in done.error
    assert transport.calls == []


def test_a_401_on_the_stale_guard_read_drops_the_link_and_sends_nothing(actions):
    action = approved(actions, hr_subject="sub-dana", before={"id": 3})
    authority = LinkedAccounts(U0DANA="sub-dana")
    transport = RecordingTransport()

    def refused(path, headers):
        raise NotConnected("the HR API no longer accepts it")

    done = Executor(actions, transport, snapshot=refused, authority=authority).run(
        action.id, action.request_hash
    )
    assert done.status == "failed" and "no longer accepts it" in done.error
    assert authority.dropped == ["U0DANA"] and transport.calls == []
