"""Edit, then approve: an approver changes a pending request in a modal; the stored request is
replaced, the buttons from before stop working, and another approver must approve it."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from approvals import ActionExpired, ActionStore, AlreadyDecided, audit
from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID
from approvals.slack.clicks import Click, Refused
from approvals.slack.modals import (
    EDIT_ACTION_ID,
    FIELD_BLOCK_PREFIX,
    FIELD_INPUT_ID,
    REASSIGN_ACTION_ID,
)
from approvals.store import RequestChanged
from tests.fakes import Clock
from tests.slack_harness import HR_CHANNEL, Stack
from tests.test_clicks import Desk
from tests.test_policy import ask_for, ephemeral_for
from tests.test_slack_e2e import queue_a_create
from tests.test_store import new_action

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

NEO = {"name": "Neo Anderson", "job": "engineer"}


def card_after_edit(stack: Stack, card):
    """The card once it shows the edit: its buttons signed anew (a snapshot)."""
    old = stack.button(card, APPROVE_ACTION_ID)

    def edited():
        now = stack.slack.messages[(card.channel, card.ts)]
        return stack.button(now, APPROVE_ACTION_ID) != old and copy.deepcopy(now)

    return stack.slack.wait_for(edited)


def hr_bodies(stack: Stack) -> list[dict]:
    return [json.loads(write.body) for write in stack.hr.writes_seen()]


# --- through Slack ---------------------------------------------------------------------------


def test_an_edited_request_needs_another_approver_and_is_what_the_hr_api_receives(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()

    response = stack.edit("U0BOB", card, {"job": "architect"})

    assert response.status_code == 200 and response.text == ""  # the modal closes
    edited = card_after_edit(stack, card)
    full = json.dumps(stack.details("U0CAROL", edited), ensure_ascii=False)
    assert "Create employee Neo Anderson — job: architect" in full
    # Under the requester's own words, the card says who changed the request since.
    assert '{"type": "user", "user_id": "U0BOB"}, {"type": "text", "text": " edited' in full
    assert '", edited by "}, {"type": "user", "user_id": "U0BOB"}' in json.dumps(edited.blocks)
    told = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert told.text.startswith("<@U0BOB> edited action #1")
    assert "job: `engineer` → `architect`" in told.text
    assert "saved; another approver must now approve it" in ephemeral_for(stack, "U0BOB")[0]

    stack.click("U0CAROL", card, APPROVE_ACTION_ID)  # a button from before the edit
    assert "does not match action #1" in ephemeral_for(stack, "U0CAROL")[0]
    stack.click("U0BOB", edited, APPROVE_ACTION_ID)  # the editor's own approval
    assert "another approver must approve it" in ephemeral_for(stack, "U0BOB", 2)[1]
    assert stack.app.actions.get(1).status == "pending" and stack.hr.writes_seen() == []

    stack.click("U0CAROL", edited, APPROVE_ACTION_ID)

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=3)[-1]
    assert "Approved by <@U0CAROL>" in outcome.text
    assert hr_bodies(stack) == [{"name": "Neo Anderson", "job": "architect"}]
    assert stack.hr.directory.get(21)["job"] == "architect"


def test_with_self_approval_allowed_the_editor_may_approve_their_own_edit(tmp_path):
    # ALLOW_SELF_APPROVAL is the explicit opt-out of four eyes: for editors as for requesters
    # (a one-person team could otherwise never approve a request it edited).
    stack = Stack(tmp_path, ALLOW_SELF_APPROVAL="true").start()
    try:
        event = queue_a_create(stack)
        (card,) = stack.approval_cards()
        stack.edit("U0BOB", card, {"job": "architect"})
        edited = card_after_edit(stack, card)
        told = ephemeral_for(stack, "U0BOB")[0]
        assert told.endswith("saved; it needs approving again, and you may approve it yourself.")

        stack.click("U0BOB", edited, APPROVE_ACTION_ID)

        outcome = stack.replies(HR_CHANNEL, event["ts"], count=3)[-1]
        assert "Approved by <@U0BOB>" in outcome.text
        assert hr_bodies(stack) == [{"name": "Neo Anderson", "job": "architect"}]
    finally:
        stack.stop()


def test_the_audit_keeps_both_hashes_and_the_editor_never_the_values(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    before = stack.app.actions.get(1).request_hash

    stack.edit("U0BOB", card, {"job": "architect"})
    card_after_edit(stack, card)

    (row,) = stack.audit("edited")
    after = stack.app.actions.get(1)
    assert row.actor == "U0BOB" and row.action_id == 1
    assert (row.detail["before"], row.detail["after"]) == (before, after.request_hash)
    assert before != after.request_hash and after.hash_matches()
    assert row.detail["fields"] == ["job"]
    assert "U0BOB" in after.contributors
    trail = json.dumps([e.detail for e in stack.audit()])
    assert "architect" not in trail and "engineer" not in trail
    assert audit.first_broken_row(stack.app.database) is None


def test_the_model_is_told_of_the_edit_in_the_requesters_conversation(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()

    stack.edit("U0BOB", card, {"job": "architect"})
    card_after_edit(stack, card)

    notice, said = stack.history("U0DANA", HR_CHANNEL, event["ts"])[-2:]
    assert notice["role"] == "system"
    assert "Action #1 (POST /api/users) was edited by U0BOB" in notice["content"]
    assert "fields changed: job" in notice["content"]
    assert said == {  # in Bob's name, written by the bot: text parts, never quoted on a card
        "role": "user",
        "name": "U0BOB",
        "content": [
            {"type": "text", "text": 'Edited action #1: job: "architect" (was "engineer")'}
        ],
    }
    assert stack.button(card, APPROVE_ACTION_ID) not in json.dumps(notice)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"job": "archi\u200btect"}, "Body field 'job' contains an invisible character U+200B"),
        ({"job": None}, "job is required."),
        ({"job": "   "}, "Body field 'job' must not be empty."),
        ({"job": "x" * 201}, "Body field 'job' is longer than 200."),
    ],
)
def test_an_invalid_value_is_shown_in_the_modal_and_changes_nothing(stack, typed, error):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    response = stack.edit("U0BOB", card, typed)

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [f"{FIELD_BLOCK_PREFIX}job"]
    assert answer["errors"][f"{FIELD_BLOCK_PREFIX}job"].startswith(error)
    assert stack.app.actions.get(1).body == NEO
    assert stack.audit("edited") == []
    # The buttons from before still work: the request was not touched.
    stack.click("U0CAROL", card, APPROVE_ACTION_ID)
    stack.slack.wait_for(lambda: stack.app.actions.get(1).status == "succeeded")
    assert hr_bodies(stack) == [NEO]


def test_an_update_left_with_no_field_is_refused_like_the_models_would_be(stack):
    ask_for(stack, "PATCH", "/api/users/2", {"job": "director"})
    (card,) = stack.approval_cards()

    answer = stack.edit("U0BOB", card, {"job": None}).json()

    assert answer == {
        "response_action": "errors",
        "errors": {f"{FIELD_BLOCK_PREFIX}name": "Body must set at least one of: name, job, email."},
    }
    assert stack.app.actions.get(1).body == {"job": "director"}


def test_submitting_the_values_as_they_are_says_so_and_changes_nothing(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()

    answer = stack.edit("U0BOB", card, {}).json()

    assert answer == {
        "response_action": "errors",
        "errors": {
            f"{FIELD_BLOCK_PREFIX}name": (
                "Nothing was changed: these are the request's values now."
            )
        },
    }
    assert stack.audit("edited") == []
    assert stack.app.actions.get(1).contributors == ("U0DANA",)


def test_a_form_opened_before_someone_elses_edit_can_no_longer_be_submitted(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()
    bobs = stack.open_modal("U0BOB", card, EDIT_ACTION_ID)
    stack.edit("U0CAROL", card, {"job": "architect"})
    card_after_edit(stack, card)

    typed = {"name": "Neo Anderson", "job": "pilot"}
    values = {FIELD_BLOCK_PREFIX + k: {FIELD_INPUT_ID: v} for k, v in typed.items()}
    answer = stack.submit("U0BOB", bobs, values).json()

    assert answer["response_action"] == "errors"
    assert "does not match action #1" in answer["errors"][f"{FIELD_BLOCK_PREFIX}name"]
    assert stack.app.actions.get(1).body == {"name": "Neo Anderson", "job": "architect"}
    assert [e.actor for e in stack.audit("click_refused")] == ["U0BOB"]
    assert [e.actor for e in stack.audit("edited")] == ["U0CAROL"]


def test_the_edit_modal_holds_the_catalogues_fields_with_the_current_values(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()

    view = stack.open_modal("U0BOB", card, EDIT_ACTION_ID)

    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["label"]["text"], b["optional"]) for b in inputs] == [
        ("name", False),
        ("job", False),
    ]
    assert [b["element"]["initial_value"] for b in inputs] == ["Neo Anderson", "engineer"]
    assert {b["element"]["max_length"] for b in inputs} == {200}
    assert (
        "private_metadata" in view
        and stack.button(card, EDIT_ACTION_ID) in view["private_metadata"]
    )
    assert all(call.ok for call in stack.slack.calls), [c for c in stack.slack.calls if not c.ok]


def test_someone_who_is_not_an_approver_cannot_open_the_edit_modal(stack):
    queue_a_create(stack)
    (card,) = stack.approval_cards()

    stack.click("U0GINA", card, EDIT_ACTION_ID)

    assert "not an approver" in ephemeral_for(stack, "U0GINA")[0]
    assert stack.slack.views == []
    assert [e.actor for e in stack.audit("click_refused")] == ["U0GINA"]


def test_the_employee_a_change_is_about_cannot_edit_it(stack):
    answer = requests.patch(
        f"{stack.hr.url}/api/users/2", json={"email": "bob@hr.example"}, timeout=5
    )
    assert answer.status_code == 200
    ask_for(stack, "PATCH", "/api/users/2", {"job": "director"})
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, EDIT_ACTION_ID)

    assert "changes your own HR record" in ephemeral_for(stack, "U0BOB")[0]
    assert stack.slack.views == []


def test_a_delete_has_no_edit_button_but_can_be_reassigned(stack):
    ask_for(stack, "DELETE", "/api/users/2")
    (card,) = stack.approval_cards()
    ids = [e["action_id"] for b in card.blocks for e in b.get("elements") or [] if "value" in e]
    assert ids == ["approval_details", "approval_approve", "approval_reject", "approval_reassign"]


# --- the signed values ----------------------------------------------------------------------


def test_an_edit_or_reassign_value_never_decides_and_a_decision_never_edits(actions):
    desk = Desk(actions)
    action = desk.new_action()
    for decision in ("edit", "reassign"):
        value = desk.signer.sign(action.id, decision, action.request_hash)
        for button in (APPROVE_ACTION_ID, REJECT_ACTION_ID, EDIT_ACTION_ID, REASSIGN_ACTION_ID):
            desk.handler.handle(Click("U0CAROL", "T0TEAM", button, value, channel="C0APPROVALS"))
    approve = desk.signer.sign(action.id, "approve", action.request_hash)
    for button in (EDIT_ACTION_ID, REASSIGN_ACTION_ID):
        with pytest.raises(Refused, match="does not match its decision"):
            desk.handler.check_revision(Click("U0CAROL", "T0TEAM", button, approve))

    assert desk.status(action) == "pending" and desk.hr.sent == {}
    assert desk.store.get(action.id).approved_by == ()


# --- the store step, on both engines --------------------------------------------------------


def test_revise_replaces_the_body_under_a_new_hash_and_adds_the_editor(actions):
    action = new_action(actions)

    edited = actions.revise(
        action.id,
        "U0BOB",
        {"name": "Neo Anderson", "job": "pilot"},
        signed_hash=action.request_hash,
    )

    assert edited.body == {"name": "Neo Anderson", "job": "pilot"}
    assert edited.request_hash != action.request_hash and edited.hash_matches()
    assert edited.status == "pending" and edited.shaped_by == {"U0ALICE", "U0BOB"}
    assert edited.edited_by == ("U0BOB",) and action.edited_by == ()
    (row,) = [e for e in audit.events(actions.database, action.id) if e.event == "edited"]
    assert row.actor == "U0BOB"
    assert row.detail["before"] == action.request_hash
    assert row.detail["after"] == edited.request_hash
    assert "pilot" not in json.dumps(row.detail)


def test_revise_drops_the_votes_given_for_the_request_before(actions):
    action = new_action(actions, approvals_required=2)
    actions.approve(action.id, "U0CAROL")

    edited = actions.revise(action.id, "U0BOB", {"name": "Neo"}, signed_hash=action.request_hash)

    assert edited.approved_by == ()
    assert actions.approve(action.id, "U0CAROL").approved_by == ("U0CAROL",)  # counts again
    (row,) = [e for e in audit.events(actions.database, action.id) if e.event == "edited"]
    assert row.detail["votes_dropped"] == 1


def test_revise_needs_the_request_the_edit_was_signed_for(actions):
    action = new_action(actions)
    edited = actions.revise(action.id, "U0BOB", {"name": "Neo"}, signed_hash=action.request_hash)

    with pytest.raises(RequestChanged):  # a second edit from the same, older, modal
        actions.revise(action.id, "U0CAROL", {"name": "Trinity"}, signed_hash=action.request_hash)

    assert actions.get(action.id) == edited


def test_revise_refuses_a_decided_or_expired_action(database):
    clock = Clock(start=1_000_000.0)
    store = ActionStore(database, now=clock)
    decided = new_action(store)
    store.reject(decided.id, "U0CAROL")
    with pytest.raises(AlreadyDecided):
        store.revise(decided.id, "U0BOB", {"name": "Neo"}, signed_hash=decided.request_hash)
    late = new_action(store, ttl_seconds=60)
    clock.advance(61)
    with pytest.raises(ActionExpired):
        store.revise(late.id, "U0BOB", {"name": "Neo"}, signed_hash=late.request_hash)

    assert store.get(decided.id).body == store.get(late.id).body == NEO
    assert [e for e in audit.events(database) if e.event == "edited"] == []


def test_an_approval_checked_before_an_edit_landed_is_not_counted_for_the_edited_request(actions):
    # The click's checks passed on the old request; the edit commits before the vote is stored.
    # The vote carries the button's hash, so it cannot approve what was not shown.
    action = new_action(actions, approvals_required=2)
    edited = actions.revise(action.id, "U0BOB", {"name": "Neo"}, signed_hash=action.request_hash)

    with pytest.raises(RequestChanged):
        actions.approve(action.id, "U0CAROL", signed_hash=action.request_hash)
    with pytest.raises(RequestChanged):  # the editor, even with the new button
        actions.approve(action.id, "U0BOB", signed_hash=edited.request_hash, contributors_may=False)

    assert actions.get(action.id).approved_by == ()
    assert [e.event for e in audit.events(actions.database, action.id)][-1] == "edited"
    assert actions.approve(action.id, "U0CAROL", signed_hash=edited.request_hash).approved_by == (
        "U0CAROL",
    )
