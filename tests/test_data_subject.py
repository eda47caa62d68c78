"""The employee a change is about never decides it, over signed requests: for a create, the
person whose email the new record carries; after an edit, the person the edited request is
about; and an approver cannot edit a request into one about their own record."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from approvals.slack.cards import APPROVE_ACTION_ID
from approvals.slack.modals import EDIT_ACTION_ID, FIELD_BLOCK_PREFIX
from bot.tools.catalogue import DEFAULT_CATALOGUE
from tests.slack_harness import HR_CHANNEL, Stack
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
    assert "HR API answered 201" in stack.replies(HR_CHANNEL, event["ts"], count=2)[-1].text
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
        lambda: any(
            "HR API answered 201" in (m.text or "")
            for m in stack.slack.thread(HR_CHANNEL, event["ts"])
        )
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
