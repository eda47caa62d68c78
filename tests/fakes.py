"""Shared test doubles. Each double of one of our classes satisfies the same Protocol as the real
class (checked below), so the two cannot drift apart."""

from __future__ import annotations

import html
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

from approvals import ActionStore, PendingAction
from approvals.authority import Authority, NotConnected
from approvals.executor import Response
from approvals.slack import cards, channel_cards
from infra.people import Directory, LookupFailed, Person


class Clock:
    """A clock tests can move: real time plus an offset (signatures still use real time)."""

    def __init__(self, start: float | None = None) -> None:
        self._fixed = start
        self.offset = 0.0

    def __call__(self) -> float:
        base = time.time() if self._fixed is None else self._fixed
        return base + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(frozen=True)
class Answer:
    """An HR API answer, shaped like bot.hr.client.HRResponse."""

    status: int
    body: Any = None


@dataclass
class RecordingTransport:
    """A Transport that answers from a list (or raises what it is given) and records each call."""

    answers: list[Answer | BaseException] = field(default_factory=list)
    calls: list[tuple[str, str, dict | None, dict | None]] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        self.calls.append((method, path, body, headers))
        answer = self.answers.pop(0) if self.answers else Answer(200, {})
        if isinstance(answer, BaseException):
            raise answer
        return answer


class CountingHR:
    """A Transport that counts requests per Idempotency-Key (one per action) and can lose the next
    answer after "sending" it, as a dropped connection would."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.lose_next_answer = False
        self.lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        with self.lock:
            self.sent[(headers or {})["Idempotency-Key"]] += 1
            if self.lose_next_answer:
                self.lose_next_answer = False
                raise ConnectionResetError("the connection dropped after sending")
        return Answer(201 if method == "POST" else 204, None)


class QuietAnnouncer:
    """Announcements without Slack: records which actions were finished, says nothing."""

    def __init__(self) -> None:
        self.finished: list[int] = []
        self.told: list[tuple[str | None, str, str]] = []
        self.escalated: list[tuple[int, list[str]]] = []
        self.handed: list[tuple[int, str]] = []
        self.details_updated: list[tuple[str, int, str]] = []

    def post(self, action: PendingAction) -> None:
        pass

    def unposted(self, action: PendingAction) -> bool:
        return False

    def refresh(self, action: PendingAction) -> None:
        pass

    def finish(self, action: PendingAction) -> None:
        self.finished.append(action.id)

    def remind(self, action: PendingAction) -> None:
        """As the real one: the reminder's words, told to the approvers."""
        self.tell_approvers(action, cards.reminder(action), channel_cards.reminder(action))

    def tell_approvers(
        self, action: PendingAction, text: str, in_channel: str | None = None
    ) -> None:
        pass

    def escalate(self, action: PendingAction, people: list[str]) -> None:
        self.escalated.append((action.id, people))

    def open_reject_modal(
        self,
        action: PendingAction,
        trigger_id: str,
        token: str,
        channel: str | None,
        view_id: str | None = None,
    ) -> bool:
        return False

    def details_view(self, action: PendingAction, channel: str | None) -> dict:
        return channel_cards.details_modal(action, channel=channel)

    def update_details(self, view_id: str, action: PendingAction, channel: str | None) -> None:
        self.details_updated.append((view_id, action.id, action.status))

    def tell(self, channel: str | None, user: str, text: str) -> None:
        self.told.append((channel, user, text))

    def open_modal(self, action: PendingAction, trigger_id: str, view: dict) -> bool:
        return False

    def tell_requester(self, action: PendingAction, text: str) -> None:
        self.told.append((action.channel, action.requester, text))

    def hand_over(self, action: PendingAction, person: str, note: str) -> bool:
        self.handed.append((action.id, person))
        return True


class Members:
    """A Directory in which everyone is an active member of T0TEAM, except the people given
    other traits with `set(user, is_guest=True…)` and those whose lookup `fails`."""

    def __init__(self, team_id: str = "T0TEAM") -> None:
        self.team_id = team_id
        self.traits: dict[str, dict[str, Any]] = {}
        self.fails: set[str] = set()
        self.lookups: list[str] = []

    def set(self, user_id: str, **traits: Any) -> None:
        self.traits[user_id] = traits

    def get(self, user_id: str) -> Person:
        self.lookups.append(user_id)
        if user_id in self.fails:
            raise LookupFailed(f"could not look up {user_id}")
        values: dict[str, Any] = dict(
            id=user_id,
            team_id=self.team_id,
            enterprise_id=None,
            deleted=False,
            is_bot=False,
            is_guest=False,
            is_stranger=False,
            email=f"{user_id.lower()}@hr.example",
        )
        values.update(self.traits.get(user_id, {}))
        return Person(**values)


class LinkedAccounts:
    """An Authority of per-user HR access without OAuth: `subjects` maps Slack users to their
    linked HR identity; each gets the bearer "token-of-<user>"."""

    required = True

    def __init__(self, **subjects: str) -> None:
        self.subjects = dict(subjects)
        self.emails: dict[str, str] = {}  # the linked HR accounts' emails, where a test sets one
        self.dropped: list[str] = []

    def subject(self, slack_user: str) -> str | None:
        return self.subjects.get(slack_user)

    def email(self, slack_user: str) -> str | None:
        return self.emails.get(slack_user)

    def headers(self, slack_user: str) -> dict[str, str]:
        if slack_user not in self.subjects:
            raise NotConnected("your HR account is not connected.")
        return {"Authorization": f"Bearer token-of-{slack_user}"}

    def rejected(self, slack_user: str, headers: dict[str, str]) -> None:
        self.dropped.append(slack_user)
        self.subjects.pop(slack_user, None)


def sign_in(url: str, email: str, password: str = "sandbox", decision: str = "allow") -> Any:
    """What a browser does with an authorization link to the sandbox: open the sign-in page,
    fill the form in, submit it. Returns the answer (a redirect, when it worked)."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200, page.text
    found = re.search(r'<form method="post" action="([^"]*)">', page.text)
    assert found, page.text
    form = {"email": email, "password": password, "decision": decision}
    return requests.post(
        urljoin(url, html.unescape(found[1])), data=form, allow_redirects=False, timeout=5
    )


def held_delete(store: ActionStore, **overrides: Any) -> PendingAction:
    """A pending DELETE of employee 3, asked for by U0DANA in thread C0HR:1.1."""
    values: dict[str, Any] = dict(
        requester="U0DANA",
        method="DELETE",
        path="/api/users/3",
        body=None,
        ttl_seconds=3600,
        channel="C0HR",
        thread_ts="1.1",
    )
    values.update(overrides)
    return store.create(**values)


def _is_directory(double: Directory) -> Directory:  # the double satisfies the Protocol
    return double


_is_directory(Members())


def _is_authority(double: Authority) -> Authority:
    return double


_is_authority(LinkedAccounts())


def drop_audit_guards(database) -> None:
    """What someone with direct access to the database can do: remove the triggers that keep
    the audit append-only (SQLite has one per statement kind, PostgreSQL one for both)."""
    if database.engine == "postgresql":
        database.execute("DROP TRIGGER audit_no_update ON audit")
        database.execute("DROP TRIGGER audit_no_truncate ON audit")
    else:
        database.execute("DROP TRIGGER audit_no_update")
        database.execute("DROP TRIGGER audit_no_delete")


def at_once(count: int, work: Callable[[int, threading.Barrier], object]) -> None:
    """Run work(n, barrier) for n in 0…count-1, each on a thread of its own, and wait for all
    of them. Each calls barrier.wait() where the race is to start (after its own set-up)."""
    barrier = threading.Barrier(count, timeout=30)
    threads = [threading.Thread(target=work, args=(n, barrier)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
