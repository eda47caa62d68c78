"""What the engineer who runs the bot probes and scrapes: /readyz (the database, Slack's token,
the HR API lately; never a request to Slack or the HR API per probe), /healthz, and the
Prometheus metrics at /metrics when METRICS=on, with no personal data in any label."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID
from bot import readiness
from bot.agent import completions
from bot.readiness import Readiness
from infra import metrics
from sandbox.scripted_model import rest, say, tool_calls
from sandbox.slack_requests import mention_event
from tests.fakes import Clock
from tests.slack_harness import Stack
from tests.test_workspace_page import eventually


class HR:
    """What readiness reads of the HR client: when it last answered, and a probe."""

    def __init__(self) -> None:
        self.reachable_at: float | None = None
        self.unreachable_at: float | None = None
        self.probes = 0
        self.answer: str | None = None

    def probe(self) -> str | None:
        self.probes += 1
        return self.answer


@pytest.fixture
def parts():
    clock = Clock()
    state = {"database": None, "slack": None, "slack_calls": 0}

    def database() -> None:
        if state["database"]:
            raise state["database"]

    def slack() -> None:
        state["slack_calls"] += 1
        if state["slack"]:
            raise state["slack"]

    hr = HR()
    ready = Readiness(database, slack, hr, clock=clock, background=lambda run: run())
    return ready, state, hr, clock


def test_ready_when_the_database_slack_and_the_hr_api_answered_lately(parts):
    ready, _, hr, clock = parts
    hr.reachable_at = clock()  # the bot's own request a moment ago
    assert ready.problem() is None
    assert hr.probes == 0  # its own requests said enough


def test_the_hr_api_is_looked_at_in_the_background_at_most_once_a_window(parts):
    ready, _, hr, clock = parts
    assert ready.problem() == "the HR API has not been reached yet"  # the look begins
    for _ in range(50):  # a probe every few seconds, for less than the window
        assert ready.problem() is None
        clock.advance(0.5)
    assert hr.probes == 1
    clock.advance(readiness.HR_WITHIN)
    hr.answer = "the HR API is not reachable (ConnectionError)"
    ready.problem()  # the stale look is taken again
    assert ready.problem() == "the HR API is not reachable (ConnectionError)"
    assert hr.probes == 2


def test_one_failed_hr_request_is_not_an_outage_a_minute_without_an_answer_is(parts):
    ready, _, hr, clock = parts
    hr.reachable_at = clock()
    clock.advance(1)
    hr.unreachable_at = clock()  # one request got no answer: the replica stays in rotation
    assert ready.problem() is None
    clock.advance(readiness.HR_WITHIN)
    hr.unreachable_at = clock()  # still none a minute on
    assert ready.problem() == "the HR API has not answered for 60 s"
    hr.reachable_at = clock()
    assert ready.problem() is None


def test_the_database_is_checked_and_named_when_it_fails(parts):
    ready, state, hr, clock = parts
    hr.reachable_at = clock()
    state["database"] = ConnectionError("down")
    assert ready.problem() == "the database does not answer (ConnectionError)"
    state["database"] = None
    clock.advance(readiness.DATABASE_EVERY)
    assert ready.problem() is None


def test_a_database_that_hangs_makes_it_not_ready_without_holding_the_probe():
    clock, hung, answered = Clock(), threading.Event(), threading.Event()

    def database() -> None:
        hung.wait(10)
        answered.set()

    hr = HR()
    hr.reachable_at = clock()
    ready = Readiness(database, lambda: None, hr, clock=clock)  # checks on threads of their own
    assert ready.problem() == "the database has not been checked yet"  # at once, not waiting
    clock.advance(readiness.DATABASE_HUNG)
    assert ready.problem() == "the database does not answer (no answer within 5 s)"
    hung.set()
    answered.wait(10)
    eventually(lambda: ready.problem() is None or None)


def test_slack_out_of_reach_is_not_a_refused_token(parts):
    ready, state, hr, clock = parts
    state["slack"] = OSError("connection reset")
    clock.advance(readiness.SLACK_EVERY)
    hr.reachable_at = clock()
    ready.problem()
    assert ready.problem() is None and state["slack_calls"] == 1


def test_slacks_token_is_checked_again_in_the_background_not_per_probe(parts):
    ready, state, hr, clock = parts
    hr.reachable_at = clock()
    for _ in range(100):
        ready.problem()
    assert state["slack_calls"] == 0  # accepted at start-up; not asked again so soon
    state["slack"] = SlackApiError("revoked", {"ok": False, "error": "token_revoked"})
    clock.advance(readiness.SLACK_EVERY)
    hr.reachable_at = clock()
    ready.problem()
    assert ready.problem() == "Slack refused the bot token (token_revoked)"
    assert state["slack_calls"] == 1


# --- over HTTP, on the assembled app ----------------------------------------------------------


def get(stack: Stack, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{stack.server.port}{path}", timeout=5)


def eventually_ready(stack: Stack) -> requests.Response:
    return eventually(lambda: (r := get(stack, "/readyz")).status_code == 200 and r)


def test_readyz_answers_ready_once_the_hr_api_answered_and_healthz_stays_liveness(tmp_path):
    stack = Stack(tmp_path).start()
    try:
        assert get(stack, "/healthz").text == "ok"
        assert eventually_ready(stack).text == "ready\n"
        stack.hr.stop()  # the HR API goes away, and stays away past the window
        stack.app.readiness.clock = lambda: time.monotonic() + 2 * readiness.HR_WITHIN
        # (a 503 response is falsy: its text is what is waited for)
        answer = eventually(lambda: (r := get(stack, "/readyz")).status_code == 503 and r.text)
        assert answer == "not ready: the HR API is not reachable (ConnectionError)\n"
    finally:
        stack.stop()


def test_readyz_and_metrics_are_served_in_socket_mode_too(tmp_path):
    stack = Stack(
        tmp_path, SLACK_APP_TOKEN="xapp-test-token", SLACK_SIGNING_SECRET=None, METRICS="on"
    )
    stack.port = 0
    stack.start()
    try:
        assert eventually_ready(stack).text == "ready\n"
        assert "hrbot_actions_pending" in get(stack, "/metrics").text
    finally:
        stack.stop()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_are_off_unless_asked_for(tmp_path):
    stack = Stack(tmp_path).start()
    try:
        assert get(stack, "/metrics").status_code == 404
    finally:
        stack.stop()


def test_metrics_count_actions_decisions_model_calls_and_hr_requests_without_personal_data(
    tmp_path,
):
    stack = Stack(tmp_path, METRICS="on").start()
    try:
        before = samples(get(stack, "/metrics").text)
        stack.model.add(tool_calls(rest("PATCH", "/api/users/2", {"job": "Head of People"})))
        stack.send_event(mention_event("U0DANA", "Janet Weaver is now our Head of People"))
        (card,) = stack.approval_cards()
        assert samples(get(stack, "/metrics").text)[("hrbot_actions_pending", ())] == 1
        stack.click("U0BOB", card, APPROVE_ACTION_ID)
        stack.slack.wait_for(lambda: stack.app.actions.get(1).status == "succeeded")
        stack.model.add(tool_calls(rest("DELETE", "/api/users/9")))
        stack.send_event(mention_event("U0DANA", "delete employee 9"))
        second = stack.approval_cards(2)[-1]
        stack.reject_with_reason("U0BOB", second, "Tobias stays")
        stack.slack.wait_for(lambda: stack.app.actions.get(2).status == "rejected")
        stack.model.add(say("Nothing to do."))
        stack.send_event(mention_event("U0GUEST", "who is employee 2?"))  # refused: a guest
        stack.slack.wait_for(lambda: stack.slack.calls_to("chat.postEphemeral"))
        text = get(stack, "/metrics").text
    finally:
        stack.stop()
    now = samples(text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return now.get(key, 0) - before.get(key, 0)

    assert grew("hrbot_actions_requested_total", endpoint="PATCH employee") == 1
    assert grew("hrbot_actions_requested_total", endpoint="DELETE employee") == 1
    assert grew("hrbot_actions_ended_total", endpoint="PATCH employee", outcome="succeeded") == 1
    assert grew("hrbot_actions_ended_total", endpoint="DELETE employee", outcome="rejected") == 1
    assert grew("hrbot_time_to_decision_seconds_count", endpoint="PATCH employee") == 1
    assert grew("hrbot_model_calls_total", model="scripted", result="ok") >= 2
    assert grew("hrbot_model_tokens_total", model="scripted", kind="prompt") > 0
    assert grew("hrbot_hr_requests_total", method="PATCH", status="200") == 1
    assert grew("hrbot_refusals_total", reason="guest") == 1
    assert grew("hrbot_queue_wait_seconds_count", queue="answers") >= 2
    assert now[("hrbot_actions_pending", ())] == 0
    # Labels are methods, nouns, statuses and codes: nothing anyone wrote, nothing from HR.
    for words in ("Janet", "Weaver", "Head of People", "Tobias", "stays", "U0DANA", "U0BOB"):
        assert words not in text
    label_values = set(re.findall(r'="([^"]*)"', text))
    assert all(re.fullmatch(r"[A-Za-z0-9_.+ -]*", value) for value in label_values)


def test_a_refused_click_is_counted_by_its_reason_too(tmp_path):
    stack = Stack(tmp_path, METRICS="on").start()
    try:
        stack.model.add(tool_calls(rest("DELETE", "/api/users/9")))
        stack.send_event(mention_event("U0DANA", "delete employee 9"))
        (card,) = stack.approval_cards()
        before = metrics.REFUSALS.labels("click")._value.get()
        stack.click("U0GINA", card, REJECT_ACTION_ID)  # not an approver
        stack.slack.wait_for(lambda: stack.slack.calls_to("chat.postEphemeral"))
        assert metrics.REFUSALS.labels("click")._value.get() == before + 1
    finally:
        stack.stop()


def test_a_scrape_still_answers_when_the_database_cannot_say_what_is_pending():
    metrics.watch_pending(lambda: 1 / 0)
    text = metrics.exposition()[0].decode()
    assert "hrbot_actions_pending " not in text and "hrbot_model_calls_total" in text


@pytest.mark.parametrize(("reported", "counted"), [(7, 7), (-5, 0), (3.5, 0), (None, 0), (True, 0)])
def test_a_servers_odd_token_count_is_counted_as_none(reported, counted):
    assert completions._count_of(reported) == counted
