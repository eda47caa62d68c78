"""A card in the approval channel, read by people who are not approvers, shows who asked and what
kind of change only; the full record opens in a modal that only approvers can open."""

from __future__ import annotations

import json

from approvals.slack import channel_cards
from approvals.slack.cards import APPROVE_ACTION_ID
from approvals.slack.channel_cards import DETAILS_ACTION_ID
from sandbox.fake_slack import check_blocks
from sandbox.scripted_model import rest, tool_calls
from tests.slack_harness import APPROVAL_CHANNEL, HR_CHANNEL, Stack, mention_event
from tests.test_cards import action as make_action

ASKED = "make Janet Weaver (employee 2) a payroll lead, she earns 87250"


def queue_an_update(stack: Stack) -> dict:
    stack.model.add(tool_calls(rest("PATCH", "/api/users/2", {"job": "payroll lead"})))
    event = mention_event("U0DANA", ASKED)
    stack.send_event(event)
    stack.replies(HR_CHANNEL, event["ts"])
    stack.answered(event)
    return event


def test_the_channel_card_names_who_asked_and_the_kind_of_change_but_no_personal_data(stack):
    queue_an_update(stack)

    (card,) = stack.approval_cards()

    assert card.channel == APPROVAL_CHANNEL
    shown = json.dumps(card.blocks, ensure_ascii=False) + card.text
    assert '"user_id": "U0DANA"' in shown and "update employee (fields: job)" in shown
    for personal in ("Janet", "Weaver", "payroll", "87250", "/api/users/2", "janet.weaver"):
        assert personal not in shown, personal
    ids = [e["action_id"] for b in card.blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids[:3] == [DETAILS_ACTION_ID, APPROVE_ACTION_ID, "approval_reject"]


def test_an_approver_opens_the_full_record_and_the_opening_is_audited(stack):
    queue_an_update(stack)
    (card,) = stack.approval_cards()

    full = json.dumps(stack.details("U0BOB", card), ensure_ascii=False)

    assert "payroll specialist" in full and "payroll lead" in full  # before → after
    assert ASKED in full  # the requester's own words
    assert "PATCH /api/users/2" in full
    (viewed,) = stack.slack.wait_for(lambda: stack.audit("details_viewed"))  # after the modal
    assert viewed.actor == "U0BOB" and viewed.action_id == 1


def test_someone_who_is_not_an_approver_cannot_open_the_full_record(stack):
    queue_an_update(stack)
    (card,) = stack.approval_cards()
    opened = len(stack.slack.views)

    stack.click("U0EVE", card, DETAILS_ACTION_ID)

    (refusal,) = stack.slack.wait_for(lambda: stack.slack.ephemeral)
    assert refusal["user"] == "U0EVE" and "Only approvers" in refusal["text"]
    assert len(stack.slack.views) == opened  # no modal
    (refused,) = stack.audit("click_refused")
    assert refused.actor == "U0EVE" and stack.audit("details_viewed") == []


def test_a_guest_approver_and_a_forged_details_value_are_refused(tmp_path):
    stack = Stack(tmp_path, APPROVERS="U0BOB,U0GUEST").start()
    try:
        queue_an_update(stack)
        (card,) = stack.approval_cards()
        stack.click("U0GUEST", card, DETAILS_ACTION_ID)
        stack.click("U0BOB", card, DETAILS_ACTION_ID, actions=[forged_button("1 OR 1=1")])
        refusals = stack.slack.wait_for(
            lambda: len(stack.slack.ephemeral) >= 2 and stack.slack.ephemeral
        )
        assert "Only active members" in refusals[0]["text"]
        assert "not a valid details button" in refusals[1]["text"]
        assert stack.audit("details_viewed") == []
    finally:
        stack.stop()


def forged_button(value: str) -> dict:
    return {"type": "button", "action_id": DETAILS_ACTION_ID, "block_id": "x", "value": value}


def test_a_decided_channel_card_keeps_the_reject_reason_out():
    rejected = make_action(
        status="rejected", decided_by="U0CAROL", decided_at=1_700_000_100.0, reason="Janet's pay"
    )

    blocks = channel_cards.summary_card(rejected)

    check_blocks(blocks)
    shown = json.dumps(blocks)
    assert "Rejected by <@U0CAROL>" in shown and "Janet" not in shown
    assert "Neo Anderson" not in shown and "engineer" not in shown


def test_the_reminder_in_the_channel_names_the_kind_of_change_only(stack):
    queue_an_update(stack)
    (card,) = stack.approval_cards()
    stack.clock.advance(0.81 * 86400)  # past 80% of the default day

    stack.housekeep()

    (reminder,) = stack.slack.wait_for(lambda: stack.slack.thread(card.channel, card.ts))
    assert reminder.text.startswith("Reminder: action #1 (Update employee (fields: job))")
    assert "payroll" not in reminder.text


def test_a_dm_card_keeps_the_full_record(tmp_path):
    stack = Stack(tmp_path, APPROVAL_CHANNEL=None).start()
    try:
        queue_an_update(stack)
        cards = stack.approval_cards(3)
        assert all(c.channel.startswith("D") for c in cards)
        assert all("payroll lead" in json.dumps(c.blocks) for c in cards)
        assert all(DETAILS_ACTION_ID not in json.dumps(c.blocks) for c in cards)
    finally:
        stack.stop()
