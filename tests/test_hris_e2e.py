"""The bot on an HR system with several kinds of record, end to end: the Personio preset on
the HRIS sandbox, signed Slack requests in, the scripted model calling the preset's typed
tools, Web API calls out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from approvals.slack.cards import APPROVE_ACTION_ID, HR_DECISION
from sandbox.hris.seed import seed_id
from sandbox.scripted_model import ScriptedModel, say, tool_calls
from tests.slack_harness import APPROVAL_CHANNEL, Stack, dm_event, free_port

BOB = "bob.lindqvist@northwind.example"
BOB_APRIL = seed_id("absence-period", "bob-april")


@pytest.fixture
def hris(tmp_path) -> Iterator[Stack]:
    running = Stack(tmp_path, hris="personio").start()
    yield running
    running.stop()
    running.model.assert_consumed()


def call(name: str, **arguments) -> tuple[str, str]:
    return name, json.dumps(arguments)


def ask(stack: Stack, user: str, text: str) -> dict:
    event = dm_event(user, text)
    assert stack.send_event(event).status_code == 200
    stack.replies(event["channel"], event["ts"])  # the answer, or the bot's own words
    return event


def test_reads_across_resources_are_answered_from_the_hr_systems_own_records(hris):
    hris.model.add(
        tool_calls(call("get_time_off_balance", employee="Bob Lindqvist")),
        say("Bob Lindqvist has 23 days of paid vacation left."),
    )
    event = ask(hris, "U0DANA", "How many days off does Bob Lindqvist have left?")
    (answer,) = hris.replies(event["channel"], event["ts"])
    assert "23 days" in answer.text
    tool_result = hris.model.requests[1]["messages"][-1]["content"]
    assert "Paid vacation" in tool_result and "23.0" in tool_result
    paths = [r.path for r in hris.hr.seen]
    assert "/v2/persons/1003/absences/balance" in paths
    assert hris.hr.writes_seen() == []


def test_a_time_off_approval_is_the_hr_systems_own_and_one_click_makes_it_once(hris):
    hris.model.add(tool_calls(call("approve_time_off", id=BOB_APRIL)))  # the bot words the rest
    ask(hris, "U0DANA", "Please approve Bob Lindqvist's vacation request for April")
    (card,) = hris.approval_cards()
    assert hris.hr.writes_seen() == []
    details = json.dumps(hris.details("U0BOB", card))
    assert "Approve time-off request" in details and HR_DECISION in details
    assert "Bob Lindqvist" in details

    hris.click("U0BOB", card, APPROVE_ACTION_ID)
    hris.slack.wait_for(lambda: hris.app.actions.get(1).status == "succeeded")
    (write,) = hris.hr.writes_seen()
    assert (write.method, write.path) == ("POST", f"/v2/absence-periods/{BOB_APRIL}/approve")
    assert hris.hr.records.absence_period(BOB_APRIL)["approval"]["status"] == "APPROVED"
    hris.click("U0CAROL", card, APPROVE_ACTION_ID)  # a second click decides nothing again
    assert len(hris.hr.writes_seen()) == 1


def test_a_change_to_an_employment_is_held_then_sent_nested_after_approval(hris):
    hris.model.add(
        tool_calls(
            call(
                "update_employment",
                employee="Bob Lindqvist",
                employment_id=5003,
                job="Staff Engineer",
            )
        ),
    )
    ask(hris, "U0DANA", "Bob Lindqvist has been promoted: his job title is now Staff Engineer")
    (card,) = hris.approval_cards()
    details = json.dumps(hris.details("U0BOB", card))
    assert "Update employment" in details and "Backend Engineer" in details
    hris.click("U0BOB", card, APPROVE_ACTION_ID)
    hris.slack.wait_for(lambda: hris.app.actions.get(1).status == "succeeded")
    (write,) = hris.hr.writes_seen()
    assert write.path == "/v2/persons/1003/employments/5003"
    assert json.loads(write.body) == {"position": {"title": "Staff Engineer"}}
    assert hris.hr.records.employment("1003", "5003")["position"]["title"] == "Staff Engineer"


def test_the_person_a_time_off_request_is_about_cannot_approve_it(hris):
    hris.slack.users["U0CAROL"]["profile"]["email"] = BOB  # Carol's Slack account is Bob's
    hris.model.add(tool_calls(call("approve_time_off", id=BOB_APRIL)))
    ask(hris, "U0DANA", "Please approve Bob Lindqvist's April vacation")
    (card,) = hris.approval_cards()
    hris.click("U0CAROL", card, APPROVE_ACTION_ID)
    (note,) = hris.slack.wait_for(lambda: hris.slack.ephemeral)
    assert note["user"] == "U0CAROL" and "your own HR record" in note["text"]
    assert hris.app.actions.get(1).status == "pending"
    assert hris.hr.writes_seen() == []


def test_a_time_off_approval_for_someone_nobody_named_is_not_held(hris):
    hris.model.add(tool_calls(call("approve_time_off", id=BOB_APRIL)))
    event = ask(hris, "U0DANA", "Please approve Dana Whitfield's vacation request")
    (answer,) = hris.replies(event["channel"], event["ts"])
    assert "Bob Lindqvist" in answer.text and "nothing was queued" in answer.text
    assert hris.app.actions.pending_count() == 0
    assert hris.hr.writes_seen() == []


def test_make_run_starts_on_the_preset_with_its_sandbox_hr_system(tmp_path):
    from tests.test_workspace_page import free_pair, start_bot, stop_bot

    model = ScriptedModel().start()
    port, sandbox = free_pair(), free_port()
    try:
        bot, lines = start_bot(
            tmp_path,
            OPENAI_BASE_URL=model.url,
            OPENAI_MODEL="scripted",
            PORT=str(port),
            SANDBOX_PORT=str(sandbox),
            HR_CATALOGUE="personio",
        )
        try:
            printed = "".join(lines)
            url = f"http://127.0.0.1:{sandbox}"
            assert f"using the personio sandbox HR system at {url}/v2/persons" in printed
            people = requests.get(
                url + "/v2/persons", headers={"Authorization": "Bearer hris-sandbox-key"}, timeout=5
            )
            assert people.status_code == 200 and people.json()["_data"][0]["id"] == "1001"
            assert (tmp_path / "data" / "hris-personio.sqlite3").exists()
        finally:
            assert stop_bot(bot) == 0
    finally:
        model.stop()


def test_a_catalogue_that_is_neither_a_file_nor_a_preset_stops_the_bot_saying_so(tmp_path):
    from tests.test_main import run_bot

    done = run_bot(tmp_path, {"HR_CATALOGUE": "workday"}, timeout=30)
    assert done.returncode == 2
    assert "HR_CATALOGUE: 'workday' is neither a catalogue file nor a preset (personio)" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr


# --- The manager of the person a change is about decides it --------------------------------

JANET = "janet.weaver@northwind.example"  # Bob Lindqvist's manager in the sandbox's seed


def janet_in_slack(stack: Stack, user: str = "U0JANET") -> None:
    stack.slack.add_user(user, "Janet")
    stack.slack.users[user]["profile"]["email"] = JANET


def test_a_time_off_approval_goes_to_the_employees_manager_who_alone_decides_it(hris):
    janet_in_slack(hris)
    hris.model.add(tool_calls(call("approve_time_off", id=BOB_APRIL)))
    ask(hris, "U0DANA", "Please approve Bob Lindqvist's April vacation")
    (card,) = hris.approval_cards()
    opened = hris.slack.calls_to("conversations.open")
    assert [c.args["users"] for c in opened] == ["U0JANET"]  # her DM; not the approvers'
    assert "Janet Weaver" in json.dumps(card.blocks)  # the manager, from the HR data
    hris.click("U0BOB", card, APPROVE_ACTION_ID)  # an approver, but not Bob's manager
    (note,) = hris.slack.wait_for(lambda: hris.slack.ephemeral)
    assert note["user"] == "U0BOB" and "decided by Janet Weaver" in note["text"]
    assert hris.hr.writes_seen() == []
    hris.click("U0JANET", card, APPROVE_ACTION_ID)
    hris.slack.wait_for(lambda: hris.app.actions.get(1).status == "succeeded")
    assert [w.path for w in hris.hr.writes_seen()] == [f"/v2/absence-periods/{BOB_APRIL}/approve"]


def test_a_manager_the_hr_data_no_longer_names_decides_nothing(hris):
    janet_in_slack(hris)
    hris.model.add(tool_calls(call("approve_time_off", id=BOB_APRIL)))
    ask(hris, "U0DANA", "Please approve Bob Lindqvist's April vacation")
    (card,) = hris.approval_cards()
    hris.hr.records.update_employment("1003", "5003", {"supervisor": {"id": "1001"}})
    hris.click("U0JANET", card, APPROVE_ACTION_ID)
    (note,) = hris.slack.wait_for(lambda: hris.slack.ephemeral)
    assert "no longer names Janet Weaver as the manager" in note["text"]
    assert hris.app.actions.get(1).status == "pending"
    assert hris.hr.writes_seen() == []


def test_the_approvers_decide_when_the_manager_asked_for_it(hris):
    janet_in_slack(hris, "U0ALICE")  # Alice, a requester, is Janet in the HR data
    hris.model.add(tool_calls(call("approve_time_off", id=BOB_APRIL)))
    ask(hris, "U0ALICE", "Please approve Bob Lindqvist's April vacation")
    (card,) = hris.approval_cards()
    assert card.channel == APPROVAL_CHANNEL  # the approvers' channel, not her DM
    hris.click("U0BOB", card, APPROVE_ACTION_ID)
    hris.slack.wait_for(lambda: hris.app.actions.get(1).status == "succeeded")
    assert len(hris.hr.writes_seen()) == 1
