"""The employee a change is about never decides it, over signed requests: for a create, the
person whose email the new record carries; after an edit, the person the edited request is
about; and an approver cannot edit a request into one about their own record."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from approvals import PendingAction
from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID
from approvals.slack.channel_cards import DETAILS_ACTION_ID
from approvals.slack.modals import (
    ASSIGNEE_BLOCK_ID,
    EDIT_ACTION_ID,
    FIELD_BLOCK_PREFIX,
    REASSIGN_ACTION_ID,
)
from approvals.subjects import Subjects
from bot.tools.catalogue import DEFAULT_CATALOGUE
from infra.people import LookupFailed, Person
from sandbox.fake_slack import TEAM_ID
from tests.fakes import LinkedAccounts
from tests.slack_harness import HR_CHANNEL, Stack
from tests.test_cards import action as card_action
from tests.test_edit import card_after_edit
from tests.test_policy import ask_for, ephemeral_for

NEO = {"name": "Neo Anderson", "job": "engineer", "email": "neo@hr.example"}


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    """The catalogue's create takes the new record's email too."""
    catalogue = json.loads(DEFAULT_CATALOGUE.read_text())
    (create,) = [e for e in catalogue["endpoints"] if e["method"] == "POST"]
    create["body"]["email"] = {"type": "string", "max_length": 200}
    s = Stack(tmp_path, catalogue=catalogue).start()
    yield s
    s.stop()


def test_the_person_a_new_record_is_for_cannot_approve_creating_it(stack):
    event = ask_for(stack, "POST", "/api/users", {**NEO, "email": "Bob@hr.example"})
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    assert "changes your own HR record" in ephemeral_for(stack, "U0BOB")[0]
    assert stack.app.actions.get(1).status == "pending"
    stack.click("U0CAROL", card, APPROVE_ACTION_ID)  # anyone else may
    assert "Done: " in stack.replies(HR_CHANNEL, event["ts"], count=2)[-1].text
    assert [e.actor for e in stack.audit("click_refused")] == ["U0BOB"]


def test_the_person_a_new_record_is_for_cannot_edit_it(stack):
    ask_for(stack, "POST", "/api/users", {**NEO, "email": "bob@hr.example"})
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, EDIT_ACTION_ID)

    assert "changes your own HR record" in ephemeral_for(stack, "U0BOB")[0]
    assert stack.slack.views == []


def test_after_an_edit_the_person_the_request_is_now_about_can_neither_approve_nor_edit_it(stack):
    event = ask_for(stack, "POST", "/api/users", NEO)
    (card,) = stack.approval_cards()
    stack.edit("U0BOB", card, {"email": "carol@hr.example"})  # now Carol's record
    edited = card_after_edit(stack, card)

    stack.click("U0CAROL", edited, APPROVE_ACTION_ID)
    assert "changes your own HR record" in ephemeral_for(stack, "U0CAROL")[0]
    stack.click("U0CAROL", edited, EDIT_ACTION_ID)  # refused too (told once per card)
    stack.click("U0ALICE", edited, APPROVE_ACTION_ID)  # neither the editor nor Carol

    stack.slack.wait_for(
        lambda: any("Done: " in (m.text or "") for m in stack.slack.thread(HR_CHANNEL, event["ts"]))
    )
    assert stack.app.actions.get(1).decided_by == "U0ALICE"
    assert stack.hr.directory.get(21)["email"] == "carol@hr.example"
    stack.drain()  # every click handled: had Carol's Edit opened a form, it would be here
    assert [v["title"]["text"] for v in stack.slack.views] == ["Edit action #1"]  # Bob's


def test_an_approver_cannot_edit_a_request_into_one_about_their_own_record(stack):
    ask_for(stack, "POST", "/api/users", NEO)
    (card,) = stack.approval_cards()

    answer = stack.edit("U0BOB", card, {"email": "bob@hr.example"}).json()

    assert answer == {
        "response_action": "errors",
        "errors": {
            f"{FIELD_BLOCK_PREFIX}email": (
                "This would make the request change your own HR record; nothing was changed."
            )
        },
    }
    assert stack.app.actions.get(1).body == NEO and stack.audit("edited") == []


# --- The person a change is about takes no part in it -----------------------------------------

BOBS_RECORD = 2  # Janet Weaver's record in the sandbox, given Bob's email for these tests


def ask_about_bob(stack) -> dict:
    """A change to the HR record whose email is Bob's (an approver)."""
    stack.hr.directory.update(BOBS_RECORD, {"email": "bob@hr.example"})
    return ask_for(stack, "PATCH", f"/api/users/{BOBS_RECORD}", {"job": "head of payroll"})


def test_the_person_a_change_is_about_can_neither_reject_reassign_nor_see_it(stack):
    ask_about_bob(stack)
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, REJECT_ACTION_ID)
    (refusal,) = ephemeral_for(stack, "U0BOB")  # told once; later refusals are not repeated
    assert "Action #1 changes your own HR record, so you take no part in deciding it" in refusal
    stack.click("U0BOB", card, REASSIGN_ACTION_ID)
    stack.click("U0BOB", card, DETAILS_ACTION_ID)
    stack.drain()  # every click handled: no form, no details, no decision

    assert stack.slack.views == [] and stack.audit("details_viewed") == []
    stack.start()
    assert stack.app.actions.get(1).status == "pending"
    assert stack.details("U0CAROL", card)  # anyone else may see it, and decide it
    stack.reject_with_reason("U0CAROL", card, "not yet")
    stack.slack.wait_for(lambda: stack.app.actions.get(1).status == "rejected")


def test_they_get_no_card_by_dm_and_cannot_be_handed_one(tmp_path):
    stack = Stack(tmp_path, APPROVAL_CHANNEL=None, APPROVERS="U0BOB,U0CAROL,U0ALICE").start()
    try:
        ask_about_bob(stack)  # the requester's notice follows every card
        cards = stack.approval_cards(count=2)
        assert sorted(c.channel for c in cards) == ["D0ALICE", "D0CAROL"]
        (carols,) = [c for c in cards if c.channel == "D0CAROL"]

        answer = stack.reassign("U0CAROL", carols, "U0BOB").json()

        assert "changes their own HR record" in answer["errors"][ASSIGNEE_BLOCK_ID]
        assert not [m for m in stack.slack.messages.values() if m.channel == "D0BOB"]
        assert stack.audit("reassigned") == []
    finally:
        stack.stop()


def test_too_few_approvers_left_for_the_quorum_is_said_to_the_requester_and_approvers(tmp_path):
    stack = Stack(tmp_path, APPROVERS="U0BOB").start()
    try:
        event = ask_about_bob(stack)
        (card,) = stack.approval_cards()
        note = "Only 0 of the approvers may decide action #1, which needs 1"
        stack.slack.wait_for(
            lambda: any(note in (m.text or "") for m in stack.slack.thread(HR_CHANNEL, event["ts"]))
        )
        assert any(note in (m.text or "") for m in stack.slack.thread(card.channel, card.ts))
    finally:
        stack.stop()


def test_an_approver_whose_email_cannot_be_told_is_refused_as_possibly_the_subject(stack):
    stack.slack.add_user("U0BOB", "Bob", profile={"real_name": "Bob"})  # no email shared
    ask_about_bob(stack)
    (card,) = stack.approval_cards()

    stack.click("U0BOB", card, APPROVE_ACTION_ID)

    (refusal,) = ephemeral_for(stack, "U0BOB")
    assert "has no email to check, so it cannot be told whether action #1 changes" in refusal
    assert stack.app.actions.get(1).status == "pending"
    assert "approval_approve" not in json.dumps(stack.open_home("U0BOB"))  # not listed to decide


def test_a_change_that_carries_no_email_is_decided_as_before(stack):
    stack.slack.add_user("U0BOB", "Bob", profile={"real_name": "Bob"})
    ask_for(stack, "POST", "/api/users", {"name": "Neo Anderson", "job": "engineer"})
    (card,) = stack.approval_cards()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.slack.wait_for(lambda: stack.app.actions.get(1).status == "succeeded")


def test_escalation_sends_no_card_to_the_person_the_change_is_about(tmp_path):
    stack = Stack(tmp_path, ESCALATE_AFTER_SECONDS="3600", ESCALATION_GROUP="S0ESCALATE").start()
    try:
        stack.slack.user_groups["S0ESCALATE"] = ["U0BOB", "U0GINA"]
        ask_about_bob(stack)
        (card,) = stack.approval_cards()
        stack.clock.advance(3600)
        stack.housekeep()
        copies = stack.approval_cards(count=2)  # the channel's, and Gina's by DM
        assert sorted(c.channel for c in copies) == sorted([card.channel, "D0GINA"])
        stack.drain()
        assert not stack.slack.in_channel("D0BOB")
    finally:
        stack.stop()


# --- Who a person is, told in code: unit checks of approvals.subjects -------------------------


class People:
    def __init__(self, **emails: str | None) -> None:
        self.emails = emails

    def get(self, user: str) -> Person:
        if user not in self.emails:
            raise LookupFailed("users.info failed")
        return Person(user, TEAM_ID, None, False, False, False, False, self.emails[user])


def action_about(email: str | None) -> PendingAction:
    return card_action(fields_before={"email": email} if email else None, body={"job": "x"})


@pytest.mark.parametrize(
    ("slack_email", "linked_email", "refused"),
    [
        ("bob@hr.example", None, "changes your own HR record"),
        ("BOB@hr.example", None, "changes your own HR record"),
        ("carol@hr.example", None, None),
        (None, None, "has no email to check"),
        # With per-user HR access, the linked HR account's email settles it.
        (None, "carol@hr.example", None),
        (None, "bob@hr.example", "changes your own HR record"),
        ("carol@hr.example", "bob@hr.example", "changes your own HR record"),
    ],
)
def test_the_subject_is_told_by_any_email_known_for_the_person(slack_email, linked_email, refused):
    authority = LinkedAccounts(U0X="hr-x")
    if linked_email:
        authority.emails["U0X"] = linked_email
    subjects = Subjects(People(U0X=slack_email and slack_email.lower()), authority)
    problem = subjects.problem(action_about("bob@hr.example"), "U0X")
    assert (problem is None) if refused is None else (refused in problem)


def test_a_lookup_that_fails_counts_as_possibly_the_subject():
    problem = Subjects(People()).problem(action_about("bob@hr.example"), "U0X")
    assert problem is not None and "could not be checked just now" in problem
    assert Subjects(People()).excluded(action_about(None), "U0X") is False  # no one's email


def test_a_dm_card_whose_approver_an_edit_makes_the_subject_loses_its_details(tmp_path):
    catalogue = json.loads(DEFAULT_CATALOGUE.read_text())
    (create,) = [e for e in catalogue["endpoints"] if e["method"] == "POST"]
    create["body"]["email"] = {"type": "string", "max_length": 200}
    env = {"APPROVAL_CHANNEL": None, "APPROVERS": "U0BOB,U0CAROL,U0ALICE"}
    stack = Stack(tmp_path, catalogue=catalogue, **env).start()
    try:
        ask_for(stack, "POST", "/api/users", NEO)
        cards = stack.approval_cards(count=3)
        (bobs,) = [c for c in cards if c.channel == "D0BOB"]

        stack.edit("U0BOB", bobs, {"email": "carol@hr.example"})  # now Carol's own record

        where = {c.channel: (c.channel, c.ts) for c in cards}

        def carols_card():
            card = stack.slack.messages[where["D0CAROL"]]
            return "now about your own HR record" in (card.text or "") and card

        carols = stack.slack.wait_for(carols_card)
        words = json.dumps(carols.blocks)
        assert "carol@hr.example" not in words and "Neo Anderson" not in words
        assert APPROVE_ACTION_ID not in words
        stack.slack.wait_for(  # others still see it, edited
            lambda: "carol@hr.example" in json.dumps(stack.slack.messages[where["D0ALICE"]].blocks)
        )
    finally:
        stack.stop()
