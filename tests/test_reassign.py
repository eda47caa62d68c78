"""Reassign: an approver hands a pending request to a colleague who is an approver; the colleague
gets the card by DM (kept up to date like every copy) and the hand-over is audited."""

from __future__ import annotations

import json

import pytest
import requests

from approvals.slack.cards import APPROVE_ACTION_ID
from approvals.slack.modals import ASSIGNEE_BLOCK_ID, REASSIGN_ACTION_ID
from tests.slack_harness import APPROVAL_CHANNEL, HR_CHANNEL, Stack
from tests.test_policy import ask_for, ephemeral_for
from tests.test_slack_e2e import queue_a_create


def refusal(response: requests.Response) -> str:
    """The message a refused submission shows in the modal (which stays open)."""
    answer = response.json()
    assert answer["response_action"] == "errors" and list(answer["errors"]) == [ASSIGNEE_BLOCK_ID]
    return answer["errors"][ASSIGNEE_BLOCK_ID]


def dm_cards(stack: Stack, user: str) -> list:
    return [m for m in stack.slack.in_channel("D" + user[1:]) if m.thread_ts is None]


def test_a_request_handed_to_an_approver_reaches_them_by_dm_and_runs_once_they_approve(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()

    response = stack.reassign("U0BOB", card, "U0CAROL")

    assert response.status_code == 200 and response.text == ""  # the modal closes
    assert "sent to <@U0CAROL> by DM" in ephemeral_for(stack, "U0BOB")[0]
    cards = stack.approval_cards(count=2)
    (dm,) = [c for c in cards if c.channel == "D0CAROL"]
    (note,) = stack.slack.thread("D0CAROL", dm.ts)
    assert note.text == "<@U0BOB> handed action #1 to you to decide."
    (row,) = stack.audit("reassigned")
    assert (row.action_id, row.actor, row.detail) == (
        1,
        "U0BOB",
        {"from": "U0BOB", "to": "U0CAROL"},
    )

    stack.click("U0CAROL", dm, APPROVE_ACTION_ID)

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Approved by <@U0CAROL>" in outcome.text
    assert len(stack.hr.writes_seen()) == 1
    for copy in (card, dm):  # the hand-over's copy is updated like the channel's
        blocks = stack.slack.messages[(copy.channel, copy.ts)].blocks
        assert "Approved by <@U0CAROL>" in json.dumps(blocks)
        assert APPROVE_ACTION_ID not in json.dumps(blocks)


@pytest.mark.parametrize(
    ("colleague", "why"),
    [
        ("U0GINA", "They are not an approver for HR changes, so they cannot decide it."),
        ("U0BOB", "Choose a colleague, not yourself."),
    ],
)
def test_a_request_cannot_be_handed_to_someone_who_is_not_an_approver(stack, colleague, why):
    queue_a_create(stack)
    (card,) = stack.approval_cards()

    response = stack.reassign("U0BOB", card, colleague)

    assert refusal(response) == why
    assert stack.slack.calls_to("conversations.open") == []
    assert dm_cards(stack, colleague) == []
    assert stack.audit("reassigned") == []
    assert stack.app.actions.get(1).status == "pending"


def test_a_request_cannot_be_handed_to_its_requester(stack):
    queue_a_create(stack, user="U0ALICE")  # Alice asked; she is also an approver
    (card,) = stack.approval_cards()

    response = stack.reassign("U0BOB", card, "U0ALICE")

    assert "asked for action #1" in refusal(response)
    assert stack.audit("reassigned") == []


def test_a_request_cannot_be_handed_to_the_employee_it_is_about(stack):
    answer = requests.patch(
        f"{stack.hr.url}/api/users/2", json={"email": "bob@hr.example"}, timeout=5
    )
    assert answer.status_code == 200
    ask_for(stack, "PATCH", "/api/users/2", {"job": "director"})
    (card,) = stack.approval_cards()

    response = stack.reassign("U0CAROL", card, "U0BOB")

    assert "changes their own HR record" in refusal(response)
    assert stack.audit("reassigned") == []


@pytest.mark.parametrize("colleague", ["U0GUEST", "U0GONE"])
def test_a_request_cannot_be_handed_to_an_approver_who_is_not_an_active_member(tmp_path, colleague):
    stack = Stack(tmp_path, APPROVERS=f"U0BOB,U0CAROL,{colleague}").start()
    try:
        queue_a_create(stack)
        (card,) = stack.approval_cards()

        response = stack.reassign("U0BOB", card, colleague)

        assert "Only active members of this workspace" in refusal(response)
        assert stack.audit("reassigned") == []
    finally:
        stack.stop()
    stack.model.assert_consumed()


def test_someone_who_is_not_an_approver_cannot_reassign(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()

    stack.click("U0GINA", card, REASSIGN_ACTION_ID)

    assert "not an approver" in ephemeral_for(stack, "U0GINA")[0]
    assert stack.slack.views == []


def test_a_colleague_who_has_the_card_by_dm_already_is_pointed_to_it(tmp_path):
    stack = Stack(tmp_path, APPROVAL_CHANNEL=None, APPROVERS="U0BOB,U0CAROL").start()
    try:
        queue_a_create(stack)
        cards = stack.approval_cards(count=2)
        (bobs,) = [c for c in cards if c.channel == "D0BOB"]

        stack.reassign("U0BOB", bobs, "U0CAROL")

        ephemeral_for(stack, "U0BOB")  # told once it is done
        assert len(dm_cards(stack, "U0CAROL")) == 1  # no second card
        (carols,) = dm_cards(stack, "U0CAROL")
        (note,) = stack.slack.thread("D0CAROL", carols.ts)
        assert "handed action #1 to you" in note.text
        assert len(stack.audit("reassigned")) == 1
    finally:
        stack.stop()
    stack.model.assert_consumed()


def test_the_reassign_modal_asks_for_one_colleague(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    assert card.channel == APPROVAL_CHANNEL

    view = stack.open_modal("U0BOB", card, REASSIGN_ACTION_ID)

    (chooser,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert chooser["block_id"] == ASSIGNEE_BLOCK_ID
    assert chooser["element"]["type"] == "users_select"
    assert all(call.ok for call in stack.slack.calls), [c for c in stack.slack.calls if not c.ok]
