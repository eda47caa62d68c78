"""Property-based tests of the promises: at most one HR request per action, terminal states are
final, the requester never approves, every action ends, and nothing leaves the HR base URL."""

from __future__ import annotations

import io
import json
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from approvals import MIGRATIONS, TERMINAL, ActionStore, Executor, Thread, TokenSigner, audit
from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID
from approvals.slack.clicks import Click, ClickHandler
from approvals.sweeper import Sweeper
from approvals.upkeep import Upkeep
from bot.hr.client import HRClient
from bot.tools.catalogue import Catalogue
from bot.tools.context import ToolContext
from bot.tools.toolbox import Toolbox
from infra.db import open_database
from infra.roster import Roster
from tests.fakes import Clock, CountingHR, Members, QuietAnnouncer

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

TEAM = "T0TEAM"
APPROVERS = ("U0BOB", "U0CAROL", "U0DANA")
USERS = (*APPROVERS, "U0EVE")
TTL = 3600


class ApprovalMachine(RuleBasedStateMachine):
    actions = Bundle("actions")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "m.sqlite3"
        self.clock = Clock(start=1_800_000_000.0)
        self.hr = CountingHR()
        self.signer = TokenSigner(["m" * 40], max_age_seconds=10 * TTL)
        self.announcer = QuietAnnouncer()
        self.final: dict[int, str] = {}
        self.requesters: dict[int, str] = {}
        self._open()

    def _open(self) -> None:
        self.database = open_database(self.path, MIGRATIONS)
        self.store = ActionStore(self.database, now=self.clock)
        executor = Executor(self.store, self.hr)
        self.clicks = ClickHandler(
            self.store,
            self.signer,
            executor,
            self.announcer,
            approvers=Roster(APPROVERS),
            people=Members(),
            team_id=TEAM,
        )
        self.sweeper = Sweeper(self.store, Upkeep(self.store), self.announcer, executor)

    def _click(self, user: str, action_id: int, decision: str, button: str) -> None:
        action = self.store.get(action_id)
        value = self.signer.sign(action_id, decision, action.request_hash)
        self.clicks.handle(Click(user, TEAM, button, value, channel="C0X", submitted=True))

    @initialize(target=actions, requester=st.sampled_from(USERS), needed=st.integers(1, 2))
    def first_action(self, requester, needed):
        return self.create(requester, "DELETE", needed)

    @rule(
        target=actions,
        requester=st.sampled_from(USERS),
        method=st.sampled_from(["POST", "DELETE"]),
        needed=st.integers(1, 2),
    )
    def create(self, requester, method, needed):
        body = {"name": "Neo Anderson", "job": "engineer"} if method == "POST" else None
        path = "/api/users" if method == "POST" else "/api/users/3"
        action = self.store.create(
            requester=requester,
            method=method,
            path=path,
            body=body,
            ttl_seconds=TTL,
            approvals_required=needed,
        )
        self.requesters[action.id] = requester
        return action.id

    @rule(action_id=actions, user=st.sampled_from(USERS))
    def approve(self, action_id, user):
        self._click(user, action_id, "approve", APPROVE_ACTION_ID)

    @rule(action_id=actions, user=st.sampled_from(USERS))
    def approve_twice_as_a_slack_retry(self, action_id, user):
        self._click(user, action_id, "approve", APPROVE_ACTION_ID)
        self._click(user, action_id, "approve", APPROVE_ACTION_ID)

    @rule(action_id=actions, user=st.sampled_from(USERS))
    def reject(self, action_id, user):
        self._click(user, action_id, "reject", REJECT_ACTION_ID)

    @rule(action_id=actions, user=st.sampled_from(USERS))
    def withdraw(self, action_id, user):
        self._click(user, action_id, "withdraw", WITHDRAW_ACTION_ID)

    @rule(action_id=actions, user=st.sampled_from(USERS))
    def forged_click(self, action_id, user):
        value = self.signer.sign(action_id, "approve", "0" * 64)
        self.clicks.handle(Click(user, TEAM, APPROVE_ACTION_ID, value, channel="C0X"))

    @rule(seconds=st.sampled_from([60, TTL // 2, TTL]))
    def time_passes_and_the_sweep_runs(self, seconds):
        self.clock.advance(seconds)
        self.sweeper.sweep()

    @rule()
    def the_next_answer_is_lost(self):
        self.hr.lose_next_answer = True

    @rule()
    def restart(self):
        self.database.close()
        self._open()
        self.sweeper.recover()

    @precondition(lambda self: self.requesters)
    @invariant()
    def at_most_one_hr_request_per_action(self):
        assert all(count <= 1 for count in self.hr.sent.values()), self.hr.sent

    @precondition(lambda self: self.requesters)
    @invariant()
    def terminal_states_never_change_and_requesters_never_approve(self):
        for action in self.store.in_states():
            if action.id in self.final:
                assert action.status == self.final[action.id]
            elif action.status in TERMINAL:
                self.final[action.id] = action.status
            assert action.requester not in action.approved_by
            if action.idempotency_key in self.hr.sent:
                assert action.status in ("succeeded", "failed", "unknown", "executing")

    def teardown(self) -> None:
        try:
            self.clock.advance(10 * TTL)
            self.sweeper.sweep()
            self.sweeper.recover()
            for action in self.store.in_states():
                assert action.status in TERMINAL, (action.id, action.status)
            assert audit.first_broken_row(self.database) is None
        finally:
            self.database.close()
            self.dir.cleanup()


TestApprovalStateMachine = ApprovalMachine.TestCase
TestApprovalStateMachine.settings = settings(
    max_examples=150,
    stateful_step_count=25,
    derandomize=True,  # the same sequences on every run: CI must be deterministic
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_sixteen_clickers_approving_and_rejecting_at_once_make_one_decision_and_one_request(
    tmp_path,
):
    database = open_database(tmp_path / "race.sqlite3", MIGRATIONS)
    store = ActionStore(database)
    hr = CountingHR()
    signer = TokenSigner(["r" * 40], max_age_seconds=TTL)
    clickers = [f"U0APPROVER{n:02d}" for n in range(16)]
    clicks = ClickHandler(
        store,
        signer,
        Executor(store, hr),
        QuietAnnouncer(),
        approvers=Roster(clickers),
        people=Members(),
        team_id=TEAM,
    )
    action = store.create(
        requester="U0DANA", method="DELETE", path="/api/users/3", body=None, ttl_seconds=TTL
    )
    barrier = threading.Barrier(16)

    def click(n: int) -> None:
        decision, button = ("approve", APPROVE_ACTION_ID) if n % 2 else ("reject", REJECT_ACTION_ID)
        value = signer.sign(action.id, decision, action.request_hash)
        barrier.wait()
        clicks.handle(Click(clickers[n], TEAM, button, value, channel="C0X", submitted=True))

    threads = [threading.Thread(target=click, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    decisions = [
        e for e in audit.events(database, action.id) if e.event in ("approved", "rejected")
    ]
    assert len(decisions) == 1
    assert sum(hr.sent.values()) == (1 if decisions[0].event == "approved" else 0)
    assert store.get(action.id).status in ("succeeded", "rejected")
    database.close()


# --- hostile paths ------------------------------------------------------------------------

BASE = "http://hr.internal.example:8080/v1"
pieces = st.sampled_from(
    [
        "/",
        "//",
        "/api",
        "/api/users",
        "/users",
        "/2",
        "/../",
        "/./",
        "..",
        ".",
        "%2e",
        "%2E%2E",
        "%2f",
        "%5c",
        "\\",
        "@",
        "evil.example",
        "127.0.0.1",
        "[::1]",
        "0x7f.1",
        "http:",
        "https://",
        "file:///etc/passwd",
        ":",
        "?",
        "?page=1",
        "&page=2",
        "#",
        "\r\n",
        "\t",
        " ",
        "\x00",
        "\uff0e\uff0e",
        "\u2215",
        "ａｐｉ",
        "\u0430pi",
        "users",
        "9" * 20,
        "~",
        ";",
        "%00",
    ]
)
hostile_urls = st.one_of(
    st.lists(pieces, min_size=1, max_size=8).map("".join),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    st.just("/api/users/" + "1" * 700),
)


class RecordingAdapter(requests.adapters.BaseAdapter):
    """Stands where the network would be: records every URL the HR client would contact."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def send(self, request, **kwargs):
        self.urls.append(request.url)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response.raw = urllib3.response.HTTPResponse(
            body=io.BytesIO(b'{"data": []}'), preload_content=False, status=200
        )
        response.request = request
        return response

    def close(self):
        pass


@settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(url=hostile_urls, method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
def test_no_generated_path_ever_leaves_the_hr_base_url(url, method, actions):
    client = HRClient(BASE)
    adapter = RecordingAdapter()
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    toolbox = Toolbox(Catalogue.load(), client, actions, approval_ttl_seconds=TTL)
    result = toolbox.run(
        "call_rest_api",
        json.dumps({"method": method, "url": url}),
        ToolContext("U0DANA", Thread("C0HR", "1.1")),
        "c",
    )
    assert isinstance(result, str) and result
    for sent in adapter.urls:
        parts = urlsplit(sent)
        assert (parts.scheme, parts.netloc) == ("http", "hr.internal.example:8080")
        assert parts.path.startswith("/v1/api/users")
        assert ".." not in parts.path and "//" not in parts.path and "%" not in sent
