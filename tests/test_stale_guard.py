"""Approvers see what will change, and nothing runs against a record that changed meanwhile."""

from __future__ import annotations

import json

import requests

from approvals import MISSING, Executor
from approvals.slack.cards import APPROVE_ACTION_ID
from sandbox.scripted_model import rest, tool_calls
from tests.slack_harness import HR_CHANNEL, Stack, mention_event
from tests.test_cards import shown
from tests.test_store import new_action

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


def queue(stack: Stack, method: str, url: str, body=None) -> dict:
    stack.model.add(tool_calls(rest(method, url, body)))
    values = f" with {json.dumps(body)}" if body else ""  # the values come from their words
    event = mention_event("U0DANA", f"{method} {url}{values}")
    stack.send_event(event)
    stack.replies(HR_CHANNEL, event["ts"])
    stack.answered(event)
    return event


def test_the_update_card_shows_the_diff_from_the_live_record(stack):
    queue(stack, "PUT", "/api/users/2", {"job": "payroll lead"})
    (card,) = stack.approval_cards()
    assert "*job*: ~payroll specialist~ → payroll lead" in shown(stack.details("U0BOB", card))


def test_the_delete_card_shows_who_will_be_deleted(stack):
    queue(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    text = json.dumps(stack.details("U0BOB", card))
    assert "Record to delete" in text and "Tobias" in text and "tobias.funke@reqres.in" in text


def test_a_record_changed_between_card_and_click_is_not_updated(stack):
    event = queue(stack, "PUT", "/api/users/2", {"job": "payroll lead"})
    (card,) = stack.approval_cards()
    requests.patch(stack.hr.url + "/api/users/2", json={"job": "moved to finance"}, timeout=5)

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Not done: the record changed after the card was made" in outcome.text
    assert stack.app.actions.get(1).status == "stale"
    assert stack.hr.directory.get(2)["job"] == "moved to finance"
    assert [r.method for r in stack.hr.writes_seen()] == ["PATCH"]  # only the outside change
    assert "Not run" in json.dumps(stack.slack.messages[(card.channel, card.ts)].blocks)


def test_a_record_deleted_between_card_and_click_is_not_touched(stack):
    event = queue(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    requests.delete(stack.hr.url + "/api/users/9", timeout=5)
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Not done: the record is gone" in outcome.text


def test_the_executor_checks_the_snapshot_after_claiming(actions, hr_sandbox, hr_client):
    reads = []

    def snapshot(path, headers):
        reads.append(path)
        return MISSING

    action = new_action(actions, method="DELETE", path="/api/users/4", body=None, before={"id": 4})
    actions.approve(action.id, "U0BOB")
    done = Executor(actions, hr_client, snapshot=snapshot).run(action.id, action.request_hash)
    assert done.status == "stale" and reads == ["/api/users/4"]
    assert hr_sandbox.writes_seen() == []
