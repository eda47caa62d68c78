"""Approval policy end to end: who may decide, how many, for how long, and what happens after."""

from __future__ import annotations

import json

import requests

from approvals import audit
from approvals.slack.cards import APPROVE_ACTION_ID, WITHDRAW_ACTION_ID
from bot.tools.catalogue import DEFAULT_CATALOGUE
from sandbox.fake_slack import BOT_USER_ID, TEAM_ID
from sandbox.scripted_model import rest, say, tool_calls
from tests.slack_harness import APPROVAL_CHANNEL, HR_CHANNEL, Stack, click_payload, mention_event


def ask_for(stack: Stack, method: str, url: str, body=None, user: str = "U0DANA") -> dict:
    stack.model.add(tool_calls(rest(method, url, body)))
    new = " (add the new employee)" if method == "POST" else ""  # a create is asked for
    values = f" with {json.dumps(body)}" if body else ""  # the values come from their words
    event = mention_event(user, f"please {method} {url}{new}{values}")
    stack.send_event(event)
    stack.replies(HR_CHANNEL, event["ts"])
    stack.answered(event)
    return event


def ephemeral_for(stack: Stack, user: str, count: int = 1) -> list[str]:
    return stack.slack.wait_for(
        lambda: (
            (notes := [e["text"] for e in stack.slack.ephemeral if e["user"] == user])
            and len(notes) >= count
            and notes
        )
    )


def test_an_endpoint_that_needs_two_approvers_runs_on_the_second_distinct_one(tmp_path):
    catalogue = json.loads(DEFAULT_CATALOGUE.read_text())
    for endpoint in catalogue["endpoints"]:
        if endpoint["method"] == "DELETE":
            endpoint["approvals_required"] = 2
    stack = Stack(tmp_path, catalogue=catalogue).start()
    try:
        event = ask_for(stack, "DELETE", "/api/users/9")
        (card,) = stack.approval_cards()
        assert "0 of 2 approvals" in json.dumps(card.blocks)

        stack.click("U0BOB", card, APPROVE_ACTION_ID)
        assert "is recorded: 1 of 2 approvals" in ephemeral_for(stack, "U0BOB")[0]
        updated = stack.slack.messages[(card.channel, card.ts)]
        assert "1 of 2 approvals (<@U0BOB>)" in json.dumps(updated.blocks)
        assert APPROVE_ACTION_ID in json.dumps(updated.blocks)  # still open for the second
        stack.click("U0BOB", card, APPROVE_ACTION_ID)
        assert "already approved" in ephemeral_for(stack, "U0BOB", 2)[1]
        assert stack.hr.writes_seen() == []

        stack.click("U0CAROL", card, APPROVE_ACTION_ID)
        outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
        assert "Approved by <@U0BOB> and <@U0CAROL>" in outcome.text
        assert "Done: " in outcome.text
        assert len(stack.hr.writes_seen()) == 1
    finally:
        stack.stop()


def test_members_of_the_approver_group_may_approve(tmp_path):
    stack = Stack(tmp_path, APPROVERS=None, APPROVER_GROUP="S0HRLEADS", APPROVAL_CHANNEL=None)
    stack.slack.user_groups["S0HRLEADS"] = ["U0GINA"]
    stack.start()
    try:
        event = ask_for(stack, "DELETE", "/api/users/9")
        (card,) = stack.approval_cards()  # no channel: a DM to each group member
        assert card.channel == "D0GINA"
        stack.click("U0GINA", card, APPROVE_ACTION_ID)
        assert "Done: " in stack.replies(HR_CHANNEL, event["ts"], count=2)[-1].text
    finally:
        stack.stop()


def test_an_unreadable_approver_group_refuses_the_click(tmp_path):
    stack = Stack(tmp_path, APPROVER_GROUP="S0HRLEADS", APPROVERS="U0BOB")
    stack.slack.user_groups["S0HRLEADS"] = ["U0GINA"]
    stack.start()
    try:
        # The lookup fails from the start (read when the card is posted, it would be cached).
        del stack.slack.user_groups["S0HRLEADS"]
        ask_for(stack, "DELETE", "/api/users/9")
        (card,) = stack.approval_cards()
        stack.click("U0GINA", card, APPROVE_ACTION_ID)
        assert "could not be checked" in ephemeral_for(stack, "U0GINA")[0]
        assert stack.app.actions.get(1).status == "pending"
        assert stack.hr.writes_seen() == []
    finally:
        stack.stop()


def test_self_approval_can_be_allowed_for_one_person_teams(tmp_path):
    stack = Stack(tmp_path, APPROVERS="U0DANA", ALLOW_SELF_APPROVAL="true").start()
    try:
        event = ask_for(stack, "DELETE", "/api/users/9")
        (card,) = stack.approval_cards()
        stack.click("U0DANA", card, APPROVE_ACTION_ID)
        assert "Done: " in stack.replies(HR_CHANNEL, event["ts"], count=2)[-1].text
    finally:
        stack.stop()


def test_a_click_from_another_workspace_is_refused(stack):
    ask_for(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    value = stack.button(card, APPROVE_ACTION_ID)
    payload = click_payload(
        "U0BOB", APPROVE_ACTION_ID, value, channel=card.channel, message_ts=card.ts, team="T0OTHER"
    )
    stack.send_click(payload)
    assert "another workspace" in ephemeral_for(stack, "U0BOB")[0]
    assert stack.app.actions.get(1).status == "pending"
    assert TEAM_ID != "T0OTHER"


def test_the_requester_can_withdraw_and_nobody_else_can(stack):
    event = ask_for(stack, "DELETE", "/api/users/9")
    notice = stack.slack.thread(HR_CHANNEL, event["ts"])[0]
    value = next(
        e["value"]
        for b in notice.blocks
        for e in b.get("elements", [])
        if e.get("action_id") == WITHDRAW_ACTION_ID
    )

    stack.send_click(
        click_payload("U0BOB", WITHDRAW_ACTION_ID, value, channel=HR_CHANNEL, message_ts=notice.ts)
    )
    assert "Only <@U0DANA> can withdraw" in ephemeral_for(stack, "U0BOB")[0]
    assert stack.app.actions.get(1).status == "pending"

    stack.send_click(
        click_payload("U0DANA", WITHDRAW_ACTION_ID, value, channel=HR_CHANNEL, message_ts=notice.ts)
    )
    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "withdrawn by <@U0DANA>" in outcome.text
    (card,) = stack.approval_cards()
    assert "Withdrawn" in json.dumps(stack.slack.messages[(card.channel, card.ts)].blocks)
    stack.slack.wait_for(  # the notice is updated last, after the outcome is told
        lambda: (
            WITHDRAW_ACTION_ID
            not in json.dumps(stack.slack.messages[(HR_CHANNEL, notice.ts)].blocks)
        )
    )


def test_the_sweep_expires_actions_tells_everyone_and_the_button_stops_working(stack):
    event = ask_for(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    stack.clock.advance(86400 + 1)  # a day passes

    stack.housekeep()

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "so it expired" in outcome.text
    assert "Expired, not run" in json.dumps(stack.slack.messages[(card.channel, card.ts)].blocks)
    note = stack.history("U0DANA", HR_CHANNEL, event["ts"])[-1]["content"]
    assert "is now expired" in note and "Do not retry it unless the user asks again" in note
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    assert "already expired" in ephemeral_for(stack, "U0BOB")[0]
    assert stack.hr.writes_seen() == []


def test_approvers_get_one_reminder_at_80_percent_of_the_window(stack):
    ask_for(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    stack.clock.advance(0.79 * 86400)
    stack.housekeep()
    assert stack.slack.thread(card.channel, card.ts) == []
    stack.clock.advance(0.02 * 86400)  # now 81% of the way
    stack.housekeep()
    stack.housekeep()
    (reminder,) = stack.slack.thread(card.channel, card.ts)
    assert reminder.text.startswith("Reminder: action #1")


def test_a_message_burst_from_one_person_is_limited(tmp_path):
    stack = Stack(tmp_path, USER_MESSAGES_PER_MINUTE="2").start()
    try:
        stack.model.add(say("one"), say("two"))
        events = [mention_event("U0DANA", f"message {n}") for n in range(5)]
        for event in events:
            stack.send_event(event)
        stack.drain()  # every message handled
        # Over the limit: one "slow down" notice only the sender sees, nothing in the channel.
        (notice,) = stack.slack.ephemeral
        assert notice["user"] == "U0DANA" and "faster than I can take them" in notice["text"]
        answered = [e for e in events if stack.slack.thread(HR_CHANNEL, e["ts"])]
        assert [m.text for e in answered for m in stack.slack.thread(HR_CHANNEL, e["ts"])] == [
            "one",
            "two",
        ]
        assert len(stack.model.requests) == 2
    finally:
        stack.stop()


def test_an_approved_action_interrupted_before_it_started_runs_once_after_a_restart(stack):
    event = ask_for(stack, "DELETE", "/api/users/9")
    stack.app.actions.approve(1, "U0BOB")  # as if the process died right after the decision
    # Another process may be about to start it: it waits until that one's lease would have
    # lapsed (with one process, until the restart is a lease old).
    stack.clock.advance(int(stack.env.get("LEASE_SECONDS", 120)) + 1)
    stack.restart()
    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Done: " in outcome.text
    stack.restart()
    assert len(stack.hr.writes_seen()) == 1
    events = [e.event for e in audit.events(stack.app.database, 1)]
    assert events.count("recovery_run") == 1


def test_an_action_interrupted_while_executing_becomes_unknown_and_is_never_resent(stack):
    event = ask_for(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    actions = stack.app.actions
    actions.approve(1, "U0BOB")
    actions.start(1)
    stack.restart()

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Outcome unknown" in outcome.text
    assert "outcome unknown" in json.dumps(stack.slack.messages[(card.channel, card.ts)].blocks)
    (notice,) = stack.slack.thread(card.channel, card.ts)
    assert "Check the HR system" in notice.text
    assert stack.hr.writes_seen() == []
    events = [e.event for e in audit.events(stack.app.database, 1)]
    assert "recovered_unknown" in events


def test_old_conversations_and_stored_messages_are_purged(stack):
    stack.model.add(say("hello"))
    event = mention_event("U0DANA", "hi")
    stack.send_event(event)
    stack.replies(HR_CHANNEL, event["ts"])
    assert stack.history("U0DANA", HR_CHANNEL, event["ts"])
    stack.clock.advance(31 * 86400)
    stack.housekeep()
    assert stack.history("U0DANA", HR_CHANNEL, event["ts"]) == []


def test_retention_drops_employee_records_kept_with_old_finished_actions(stack):
    ask_for(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.slack.wait_for(lambda: stack.app.actions.get(1).status == "succeeded")
    assert stack.app.actions.get(1).before["last_name"] == "Funke"
    stack.housekeep()
    assert stack.app.actions.get(1).before is not None  # recent: kept
    stack.clock.advance(31 * 86400)
    stack.housekeep()
    done = stack.app.actions.get(1)
    assert done.before is None and done.hr_body is None
    assert (done.status, done.path, done.decided_by) == ("succeeded", "/api/users/9", "U0BOB")


def test_a_card_that_never_went_out_is_posted_by_the_sweep_once(stack):
    actions = stack.app.actions
    # As if the process died between storing the action and posting its card:
    action = actions.create(
        requester="U0DANA",
        method="DELETE",
        path="/api/users/9",
        body=None,
        ttl_seconds=3600,
        channel=HR_CHANNEL,
        thread_ts="1710000999.000001",
    )
    stack.housekeep()
    assert stack.slack.in_channel("C0APPROVALS") == []  # too recent: the normal post may come
    stack.clock.advance(61)
    stack.housekeep()
    stack.housekeep()
    (card,) = stack.approval_cards()
    assert card.channel == "C0APPROVALS"
    (notice,) = stack.slack.thread(HR_CHANNEL, "1710000999.000001")
    assert notice.text.startswith(f"Sent for approval (#{action.id})")


def test_open_pending_actions_per_requester_are_capped(stack, tmp_path):
    from approvals import Thread
    from bot.tools.context import ToolContext

    toolbox = stack.app.core.toolbox
    asked = " ".join(f"#{n}" for n in range(1, 12))  # a change goes to a record she named
    context = ToolContext("U0DANA", Thread(HR_CHANNEL, "1.1"), words=(("U0DANA", asked),))
    for n in range(10):
        result = toolbox.run(
            "call_rest_api",
            json.dumps({"method": "DELETE", "url": f"/api/users/{n + 1}"}),
            context,
            "c",
        )
        assert result.startswith("Queued as action")
    eleventh = toolbox.run(
        "call_rest_api", json.dumps({"method": "DELETE", "url": "/api/users/11"}), context, "c"
    )
    assert eleventh.startswith("Error: this user already has 10 actions waiting")
    assert len(stack.app.actions.in_states("pending")) == 10


def test_a_reject_reason_never_enters_the_audit_and_retention_deletes_it(stack):
    from approvals.records import text_hash

    event = ask_for(stack, "DELETE", "/api/users/9")
    (card,) = stack.approval_cards()
    reason = "Emma is on medical leave until March"
    stack.reject_with_reason("U0BOB", card, reason)
    stack.replies(HR_CHANNEL, event["ts"], count=2)
    action = stack.app.actions.get(1)
    assert action.reason == reason
    trail = json.dumps([e.detail for e in stack.audit()])
    assert "Emma" not in trail and "medical" not in trail
    (rejected,) = stack.audit("rejected")
    assert rejected.detail["reason_sha256"] == text_hash(action.text_salt, reason)

    stack.clock.advance(31 * 86400)
    stack.housekeep()

    purged = stack.app.actions.get(1)
    assert (purged.reason, purged.body, purged.text_salt, purged.before) == (None, None, None, None)
    assert (purged.status, purged.path, purged.decided_by) == ("rejected", "/api/users/9", "U0BOB")
    assert audit.first_broken_row(stack.app.database) is None


def test_the_employee_a_change_is_about_cannot_approve_it_in_slack(stack):
    # Employee 2's record carries Bob's email: Bob is the person the change is about.
    answer = requests.patch(
        f"{stack.hr.url}/api/users/2", json={"email": "bob@hr.example"}, timeout=5
    )
    assert answer.status_code == 200
    event = ask_for(stack, "PATCH", "/api/users/2", {"job": "director"})
    (card,) = stack.approval_cards()

    assert stack.click("U0BOB", card, APPROVE_ACTION_ID).status_code == 200
    assert "changes your own HR record" in ephemeral_for(stack, "U0BOB")[-1]
    assert stack.click("U0CAROL", card, APPROVE_ACTION_ID).status_code == 200
    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Done: " in outcome.text
    assert [json.loads(w.body) for w in stack.hr.writes_seen()] == [
        {"email": "bob@hr.example"},  # the set-up above
        {"job": "director"},  # approved by Carol
    ]
    refused = stack.audit("click_refused")
    assert [e.actor for e in refused] == ["U0BOB"]


def test_a_request_left_pending_escalates_to_the_group_whose_member_approves_it(tmp_path):
    stack = Stack(tmp_path, ESCALATE_AFTER_SECONDS="3600", ESCALATION_GROUP="S0ESCALATE").start()
    try:
        stack.slack.user_groups["S0ESCALATE"] = ["U0GINA"]
        event = ask_for(stack, "DELETE", "/api/users/9")
        (card,) = stack.approval_cards()
        stack.clock.advance(3600)
        stack.housekeep()
        copies = stack.approval_cards(count=2)
        (gina,) = [c for c in copies if c.channel != card.channel]  # her DM
        (note,) = stack.replies(gina.channel, gina.ts)  # under it, why it came to her
        assert note.text.startswith("Action #1 has waited since <!date^")
        assert note.text.endswith("so it was escalated to your group: you may decide it too.")
        assert stack.click("U0GINA", gina, APPROVE_ACTION_ID).status_code == 200
        outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
        assert "Done: " in outcome.text
        assert [e.detail for e in stack.audit("escalated")] == [{"to": "S0ESCALATE"}]
        assert stack.app.actions.get(1).decided_by == "U0GINA"
    finally:
        stack.stop()


# Personal data purged everywhere it was put: every message the bot posted about the action.
JANET = ("Janet", "Weaver", "janet.weaver", "head of payroll", "payroll specialist")


def bots_messages_saying(stack: Stack, words: tuple[str, ...]) -> list:
    """The bot's messages whose text or blocks, as they stand now, hold any of `words`."""
    return [
        m
        for m in list(stack.slack.messages.values())
        if m.user == BOT_USER_ID
        and any(
            w.casefold() in (json.dumps([m.text, m.blocks], ensure_ascii=False)).casefold()
            for w in words
        )
    ]


def unrewritten(stack: Stack) -> list[tuple[int]]:
    """The tries of each message about an action that is still to be rewritten."""
    rows = stack.app.actions.database.execute(
        "SELECT redact_tries FROM cards WHERE redacted_at IS NULL"
    )
    return [tuple(row) for row in rows]


def promote_janet(stack: Stack) -> None:
    """Dana asks, in her words, to promote Janet Weaver; Bob approves; it runs."""
    stack.model.add(tool_calls(rest("PATCH", "/api/users/2", {"job": "head of payroll"})))
    event = mention_event("U0DANA", "Janet Weaver is now our head of payroll")
    stack.send_event(event)
    stack.replies(HR_CHANNEL, event["ts"])
    stack.answered(event)
    for card in stack.approval_cards():
        if card.channel == "D0BOB" or card.channel == APPROVAL_CHANNEL:
            stack.click("U0BOB", card, APPROVE_ACTION_ID)
            break
    outcome = stack.slack.wait_for(  # in her thread: the last message the bot posts about it
        lambda: next(
            (m for m in stack.slack.thread(HR_CHANNEL, event["ts"]) if "Done: " in (m.text or "")),
            None,
        )
    )
    database = stack.app.actions.database
    stack.slack.wait_for(  # and remembered, once posted
        lambda: database.execute("SELECT 1 FROM cards WHERE ts = ?", (outcome.ts,)).fetchone()
    )
    stack.slack.wait_for(  # then the notice loses its Withdraw button: the last update
        lambda: (
            "approval_withdraw"
            not in json.dumps(stack.slack.thread(HR_CHANNEL, event["ts"])[0].blocks)
        )
    )


def test_after_retention_no_message_the_bot_posted_holds_the_actions_personal_data(tmp_path):
    stack = Stack(tmp_path, APPROVAL_CHANNEL=None, APPROVERS="U0BOB,U0CAROL").start()
    try:
        promote_janet(stack)
        assert bots_messages_saying(stack, JANET)  # the cards, the notice, the outcome
        stack.clock.advance(31 * 86400)

        stack.housekeep()

        assert bots_messages_saying(stack, JANET) == []
        rewritten = bots_messages_saying(stack, ("its details were removed",))
        assert len(rewritten) >= 4  # Bob's and Carol's cards, the notice, the outcome
        assert all("Action #1: Update employee, done by <@U0BOB>" in m.text for m in rewritten)
        assert stack.app.actions.get(1).body is None  # and the database's copy is gone
    finally:
        stack.stop()


def test_a_message_slack_cannot_update_is_retried_then_given_up_and_the_purge_goes_on(tmp_path):
    stack = Stack(tmp_path).start()
    try:
        promote_janet(stack)
        stack.clock.advance(31 * 86400)
        stack.slack.fail("chat.update", "internal_error")  # the first rewrite fails, for now

        stack.housekeep()

        assert stack.app.actions.get(1).body is None  # the database's purge never waits
        assert unrewritten(stack) == [(1,)]  # one left, tried once, tried again next round
        stack.housekeep()
        assert unrewritten(stack) == [] and bots_messages_saying(stack, JANET) == []
    finally:
        stack.stop()


def test_a_message_that_is_gone_is_given_up_on_after_one_try(tmp_path):
    stack = Stack(tmp_path).start()
    try:
        promote_janet(stack)
        stack.clock.advance(31 * 86400)
        stack.slack.fail("chat.update", "message_not_found", times=100)
        stack.housekeep()
        tried = len(stack.slack.calls_to("chat.update"))
        stack.housekeep()
        assert len(stack.slack.calls_to("chat.update")) == tried  # not tried again
    finally:
        stack.stop()


def test_a_message_that_can_no_longer_be_edited_is_taken_down_instead(tmp_path):
    stack = Stack(tmp_path).start()
    try:
        promote_janet(stack)
        before = len(stack.slack.messages)
        stack.clock.advance(31 * 86400)
        stack.slack.fail("chat.update", "edit_window_closed")  # the first one: too old to edit

        stack.housekeep()

        assert unrewritten(stack) == [] and bots_messages_saying(stack, JANET) == []
        assert len(stack.slack.messages) == before - 1  # that one deleted, the rest rewritten
    finally:
        stack.stop()
