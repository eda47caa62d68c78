"""The Slack app end to end over real HTTP: signed events and clicks in, Web API calls out."""

from __future__ import annotations

import json
import time

import pytest
import requests

from approvals import Thread, audit
from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID
from bot.agent.history import conversation_key
from bot.slack.events import Incoming
from sandbox.fake_slack import TEAM_ID
from sandbox.scripted_model import rest, say, tool_calls
from tests.slack_harness import (
    APPROVAL_CHANNEL,
    HR_CHANNEL,
    Stack,
    dm_event,
    event_body,
    mention_event,
    signed_headers,
)


def queue_a_create(stack: Stack, user: str = "U0DANA") -> dict:
    stack.model.add(
        tool_calls(rest("POST", "/api/users", {"name": "Neo Anderson", "job": "engineer"}))
    )
    event = mention_event(user, "add Neo Anderson as an engineer")
    assert stack.send_event(event).status_code == 200
    stack.replies(HR_CHANNEL, event["ts"])  # "Sent for approval": the bot's own answer
    stack.answered(event)
    return event


def test_a_mention_is_answered_in_its_thread(stack):
    stack.model.add(
        tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver is a *payroll specialist*.")
    )
    event = mention_event("U0DANA", "who is employee 2?")

    response = stack.send_event(event)

    assert response.status_code == 200
    (reply,) = stack.replies(HR_CHANNEL, event["ts"])
    assert reply.text == "Janet Weaver is a *payroll specialist*."
    assert (
        stack.model.requests[0]["messages"][1]["content"] == "who is employee 2?"
    )  # mention stripped
    adds = stack.slack.calls_to("reactions.add")
    assert adds[0].args["timestamp"] == event["ts"]
    removes = stack.slack.wait_for(lambda: stack.slack.calls_to("reactions.remove"))
    assert removes[0].args["timestamp"] == event["ts"]
    assert stack.slack.reactions[(HR_CHANNEL, event["ts"])] == set()


def test_model_text_cannot_ping_everyone_or_mention_people(stack):
    stack.model.add(say("<!channel> <!here> <!everyone> <@U0CEO> <https://evil.example|click>"))
    event = mention_event("U0DANA", "hi")
    stack.send_event(event)
    (reply,) = stack.replies(HR_CHANNEL, event["ts"])
    assert "<" not in reply.text and ">" not in reply.text
    assert reply.blocks is None  # text only: the model can never produce buttons


def test_a_follow_up_in_the_thread_keeps_the_history(stack):
    stack.model.add(say("Janet Weaver."), say("She is a payroll specialist."))
    first = mention_event("U0DANA", "who is employee 2?")
    stack.send_event(first)
    stack.replies(HR_CHANNEL, first["ts"])
    follow_up = mention_event("U0DANA", "what does she do?", thread_ts=first["ts"])
    stack.send_event(follow_up)
    stack.replies(HR_CHANNEL, first["ts"], count=2)
    contents = [m.get("content") for m in stack.model.requests[1]["messages"]]
    assert contents[1:] == ["who is employee 2?", "Janet Weaver.", "what does she do?"]


def test_a_direct_message_is_answered_in_a_thread(stack):
    stack.model.add(say("Hello from HR."))
    event = dm_event("U0DANA", "hello")
    stack.send_event(event)
    (reply,) = stack.replies(event["channel"], event["ts"])
    assert reply.text == "Hello from HR."


def test_bot_messages_edits_and_channel_chatter_are_ignored(stack):
    ignored = [
        {**dm_event("U0DANA", "from a bot"), "bot_id": "B0OTHER"},
        {**dm_event("U0DANA", "edited"), "subtype": "message_changed"},
        {**dm_event("U0DANA", "channel message"), "channel_type": "channel", "channel": "C0RANDOM"},
    ]
    for event in ignored:
        assert stack.send_event(event).status_code == 200
    stack.drain()  # every acknowledged event has now been handled
    assert stack.model.requests == []
    assert stack.slack.calls_to("chat.postMessage") == []


def test_a_write_goes_to_approvers_and_runs_only_after_approval(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()

    assert card.channel == APPROVAL_CHANNEL
    assert "Neo Anderson" not in json.dumps(card.blocks)  # a channel's card: a summary
    text = json.dumps(stack.details("U0BOB", card))
    assert "Create employee Neo Anderson" in text and "<@U0DANA>" in text
    assert "POST /api/users" in text
    notice = stack.slack.thread(HR_CHANNEL, event["ts"])[0]
    assert notice.text.startswith("Sent for approval (#1)")
    assert "view the card" in json.dumps(notice.blocks) and "Withdraw" in json.dumps(notice.blocks)
    assert stack.hr.writes_seen() == []
    approve_value = stack.button(card, APPROVE_ACTION_ID)

    assert stack.click("U0BOB", card, APPROVE_ACTION_ID).status_code == 200

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Approved by <@U0BOB>" in outcome.text
    assert "Neo Anderson` was added as a new employee (#21)" in outcome.text
    assert len(stack.hr.writes_seen()) == 1
    assert stack.hr.directory.get(21)["last_name"] == "Anderson"
    updated = stack.slack.messages[(card.channel, card.ts)]
    assert APPROVE_ACTION_ID not in json.dumps(updated.blocks)  # only Show details is left
    assert "Approved by <@U0BOB>" in json.dumps(updated.blocks)
    history = stack.app.conversations.load(
        conversation_key(Thread(HR_CHANNEL, event["ts"]), "U0DANA")
    )
    assert "Action #1 (POST /api/users) is now succeeded by U0BOB" in history[-1]["content"]
    assert approve_value not in json.dumps(history)


def test_reject_updates_the_card_and_tells_the_requester(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()
    assert stack.reject_with_reason("U0CAROL", card, "we already have one").status_code == 200
    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "rejected by <@U0CAROL>" in outcome.text and "we already have one" in outcome.text
    history = stack.app.conversations.load(
        conversation_key(Thread(HR_CHANNEL, event["ts"]), "U0DANA")
    )
    assert history[-1] == {"role": "user", "name": "U0CAROL", "content": "we already have one"}
    assert "Rejected by <@U0CAROL>" in json.dumps(
        stack.slack.messages[(card.channel, card.ts)].blocks
    )
    assert stack.hr.writes_seen() == []


def test_an_outsider_click_changes_nothing_and_is_audited(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    stack.click("U0EVE", card, APPROVE_ACTION_ID)
    (note,) = stack.slack.wait_for(lambda: stack.slack.ephemeral)
    assert note["user"] == "U0EVE" and "not an approver" in note["text"]
    assert stack.app.actions.get(1).status == "pending"
    refused = [e for e in audit.events(stack.app.database, 1) if e.event == "click_refused"]
    assert refused[0].actor == "U0EVE"
    assert stack.hr.writes_seen() == []


def test_the_requester_cannot_approve_their_own_request(stack):
    queue_a_create(stack, user="U0ALICE")  # U0ALICE is also an approver
    (card,) = stack.approval_cards()
    stack.click("U0ALICE", card, APPROVE_ACTION_ID)
    (note,) = stack.slack.wait_for(lambda: stack.slack.ephemeral)
    assert "another approver must approve it" in note["text"]
    assert stack.app.actions.get(1).status == "pending"


def test_a_second_click_is_told_who_decided(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.replies(HR_CHANNEL, event["ts"], count=2)
    stack.click("U0CAROL", card, APPROVE_ACTION_ID)
    (note,) = stack.slack.wait_for(lambda: stack.slack.ephemeral)
    assert note["text"] == "Action #1 was already succeeded by <@U0BOB>."
    assert len(stack.hr.writes_seen()) == 1


def test_a_tampered_button_value_is_refused(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    value = stack.button(card, APPROVE_ACTION_ID)
    payload_click = stack.click(
        "U0BOB",
        card,
        APPROVE_ACTION_ID,
        actions=[{"action_id": APPROVE_ACTION_ID, "value": value[:-2] + "xx"}],
    )
    assert payload_click.status_code == 200
    (note,) = stack.slack.wait_for(lambda: stack.slack.ephemeral)
    assert "not a valid approval button" in note["text"]
    assert stack.app.actions.get(1).status == "pending"


@pytest.mark.parametrize(
    "sign", [{"secret": "wrong-secret"}, {"timestamp": int(time.time()) - 6 * 60}]
)
def test_bad_signatures_and_stale_timestamps_get_401_and_nothing_happens(stack, sign):
    event = mention_event("U0DANA", "hi")
    assert stack.send_event(event, **sign).status_code == 401
    queue = stack.send_click({"type": "block_actions", "actions": []}, **sign)
    assert queue.status_code == 401
    stack.drain()
    assert stack.model.requests == [] and stack.slack.calls_to("reactions.add") == []


def test_url_verification_is_answered(stack):
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    answer = requests.post(stack.url, data=body, headers=headers, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"challenge": "c-123"}


def test_a_retried_event_is_processed_once_even_across_a_restart(stack):
    stack.model.add(say("Once."))
    event = mention_event("U0DANA", "hello")
    stack.send_event(event, event_id="Ev0RETRY")
    stack.replies(HR_CHANNEL, event["ts"])
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert stack.send_event(event, event_id="Ev0RETRY", headers=retry).status_code == 200
    stack.restart()
    assert stack.send_event(event, event_id="Ev0RETRY", headers=retry).status_code == 200
    stack.drain()
    assert len(stack.model.requests) == 1
    assert len(stack.slack.thread(HR_CHANNEL, event["ts"])) == 1


def test_a_restart_between_card_and_click_still_works(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()
    stack.restart()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Done: " in outcome.text


def test_a_message_received_but_not_answered_before_a_crash_is_answered_after(stack):
    stack.model.add(say("Answered after the restart."))
    event = mention_event("U0DANA", "hello?")
    stored = Incoming(
        event_id="Ev0CRASH",
        user="U0DANA",
        channel=HR_CHANNEL,
        thread_ts=event["ts"],
        message_ts=event["ts"],
        text="hello?",
        teams=(TEAM_ID,),  # as the listener stores a message from this workspace
    )
    stack.app.inbox.accept(stored)  # as if the process died right after storing it
    stack.restart()  # a new process: the message is still the dead one's until its claim lapses
    stack.clock.advance(121)
    stack.housekeep()
    (reply,) = stack.replies(HR_CHANNEL, event["ts"])
    assert reply.text == "Answered after the restart."


def test_the_model_being_down_is_a_clear_message_in_the_thread(stack):
    stack.model.stop()
    event = mention_event("U0DANA", "hello")
    stack.send_event(event)
    (reply,) = stack.replies(HR_CHANNEL, event["ts"], timeout=20)
    assert "language model is not answering" in reply.text


def test_a_rate_limited_reply_waits_and_is_not_lost(stack):
    stack.model.add(say("Worth the wait."))
    stack.slack.rate_limit("chat.postMessage", times=1)
    event = mention_event("U0DANA", "hello")
    stack.send_event(event)
    (reply,) = stack.replies(HR_CHANNEL, event["ts"])
    assert reply.text == "Worth the wait."
    assert [c.error for c in stack.slack.calls_to("chat.postMessage")] == ["ratelimited", None]


def test_without_an_approval_channel_each_approver_gets_a_dm_and_every_copy_is_updated(tmp_path):
    stack = Stack(tmp_path, APPROVAL_CHANNEL=None, APPROVERS="U0BOB,U0CAROL").start()
    try:
        event = queue_a_create(stack)
        cards = stack.approval_cards(count=2)
        assert sorted(c.channel for c in cards) == ["D0BOB", "D0CAROL"]
        stack.click("U0CAROL", cards[0], APPROVE_ACTION_ID)
        stack.replies(HR_CHANNEL, event["ts"], count=2)
        for card in cards:
            assert "Approved by <@U0CAROL>" in json.dumps(
                stack.slack.messages[(card.channel, card.ts)].blocks
            )
    finally:
        stack.stop()
    stack.model.assert_consumed()


def test_every_message_the_bot_sent_was_valid_block_kit(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.slack.wait_for(lambda: len(stack.slack.calls_to("chat.update")) >= 2)
    assert all(call.ok for call in stack.slack.calls), [c for c in stack.slack.calls if not c.ok]


def test_event_body_shape_matches_the_events_api():
    body = event_body({"type": "app_mention"})
    assert body["type"] == "event_callback" and body["event_id"].startswith("Ev")


def test_a_reject_opens_its_modal_even_while_the_same_persons_approval_is_slow(stack):
    # Clicks queue per person; a Reject must not wait there, or Slack's trigger (about 3 s)
    # would expire before the reason modal opens.
    stack.model.add(
        tool_calls(rest("DELETE", "/api/users/9")),
        tool_calls(rest("DELETE", "/api/users/8")),
    )
    stack.send_event(mention_event("U0DANA", "delete employee 9"))
    stack.approval_cards(count=1)
    stack.send_event(mention_event("U0DANA", "delete employee 8"))
    first, second = stack.approval_cards(count=2)
    stack.hr.hold_requests()  # the HR API stalls: Bob's approval of the first card hangs
    try:
        stack.click("U0BOB", first, APPROVE_ACTION_ID)
        stack.hr.wait_for_held()
        opened = len(stack.slack.views)
        stack.click("U0BOB", second, REJECT_ACTION_ID)
        stack.slack.wait_for(lambda: len(stack.slack.views) > opened, timeout=3)
    finally:
        stack.hr.release_requests()
