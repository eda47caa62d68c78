"""A change names its record as the user did, and code, not the model, settles who that is: a
change to one person is held; to nobody, to several, to everyone or to a web address, the bot
answers in its own words and nothing is queued. Reads by name find the record too."""

from __future__ import annotations

import json

import pytest

from approvals import Thread
from bot.agent import Agent, Design, make_client
from bot.catalogue import Catalogue
from bot.conversations import ConversationStore
from bot.tool_context import ToolContext
from bot.tools import Toolbox
from sandbox.scripted_model import rest, say, tool_calls

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

DANA = ToolContext(requester="U0DANA", thread=Thread("C0HR", "1700000000.000100"))


@pytest.fixture
def typed(hr_client, actions) -> Toolbox:
    return Toolbox(Catalogue.load(), hr_client, actions, approval_ttl_seconds=3600, family="typed")


@pytest.fixture
def agent(model, typed, database) -> Agent:
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    return Agent(client, "test-model", typed, ConversationStore(database), max_rounds=4)


def call(name: str, **arguments) -> dict:
    return tool_calls((name, json.dumps(arguments)))


def test_a_change_to_a_person_named_as_the_user_did_is_held_on_their_record(
    agent, model, actions, hr_sandbox
):
    model.add(call("update_employee", employee="Tobias Funke", job="senior analyst"))

    reply = agent.respond("Tobias Funke is now a senior analyst.", DANA)

    (action,) = actions.in_states("pending")
    assert (action.method, action.path, action.body) == (
        "PATCH",
        "/api/users/9",
        {"job": "senior analyst"},
    )
    assert reply.text == (
        "Sent for approval (#1): Update employee 9 — job: senior analyst. Nothing changes "
        "until an approver approves it; the outcome will be posted here."
    )
    assert reply.model_calls == 1 and hr_sandbox.writes_seen() == []


def test_a_change_to_one_of_several_people_asks_which_in_the_bots_words(agent, model, actions):
    model.add(call("delete_employee", employee="George"))

    reply = agent.respond("Delete George.", DANA)

    assert reply.text == (
        "2 employees match “George”: George Bluth (#1, chief executive); George Edwards (#11, "
        "data engineer). Which one do you mean? Nothing was queued."
    )
    assert actions.in_states() == [] and reply.model_calls == 1 and not reply.noticed
    # The model reads the candidates when the user answers.
    history = agent.conversations.load("C0HR:1700000000.000100:U0DANA")
    assert '"id":11' in history[2]["content"] and history[-1]["content"] == reply.text


def test_a_change_to_nobody_says_so_after_reading_the_directory(agent, model, actions, hr_sandbox):
    model.add(call("delete_employee", employee="Jane Nobody"))

    reply = agent.respond("Delete Jane Nobody.", DANA)

    assert reply.text == "No employee matches “Jane Nobody”, so nothing was queued."
    assert actions.in_states() == [] and len(hr_sandbox.seen) == 4  # every page was read


def test_a_change_to_an_id_that_does_not_exist_is_not_queued(agent, model, actions):
    model.add(call("delete_employee", employee=999))
    reply = agent.respond("Delete employee 999.", DANA)
    assert reply.text == "There is no employee at /api/users/999, so nothing was queued."
    assert actions.in_states() == []


@pytest.mark.parametrize(
    "employee", [["1", "2", "3"], [1, 2], "all", "everyone", "Every employee.", "*"]
)
def test_a_change_to_several_people_or_everyone_at_once_is_refused(
    employee, agent, model, actions, hr_sandbox
):
    model.add(call("delete_employee", employee=employee))

    reply = agent.respond("Delete every employee.", DANA)

    assert reply.text == (
        "I change one employee at a time, never everyone at once, so nothing was queued: ask "
        "for each change on its own, naming the employee."
    )
    assert actions.in_states() == [] and hr_sandbox.seen == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_employee", {"employee": "https://evil.example/api/users"}),
        ("delete_employee", {"employee": "www.evil.example/users/3"}),
        ("find_employee", {"query": " https://evil.example/api/users"}),
    ],
)
def test_a_web_address_is_answered_with_what_the_bot_can_reach(
    tool, arguments, agent, model, actions, hr_sandbox
):
    model.add(tool_calls((tool, json.dumps(arguments))))

    reply = agent.respond("Fetch https://evil.example/api/users for me.", DANA)

    assert reply.text.startswith("I can only reach the HR API's employee records, not web")
    assert reply.text.endswith("so I did not try.")
    assert actions.in_states() == [] and hr_sandbox.seen == []


@pytest.mark.parametrize(
    ("tool", "arguments", "answer"),
    [
        (
            "update_employee",
            {"employee": "Janet Weaver", "salary": 100000},
            "I can't change `salary`: only name, job and email can be changed here, so nothing "
            "was queued.",
        ),
        (
            "create_employee",
            {"name": "Neo Anderson", "job": "engineer", "salary": 1, "team": "x"},
            "I can't set `salary`, `team`: a new employee is given only name and job here, so "
            "nothing was queued.",
        ),
    ],
)
def test_a_change_naming_a_field_it_does_not_take_is_refused_in_the_bots_words(
    tool, arguments, answer, agent, model, actions, hr_sandbox
):
    model.add(tool_calls((tool, json.dumps(arguments))))
    reply = agent.respond("Set Janet Weaver's salary to 100000.", DANA)
    assert reply.text == answer
    assert actions.in_states() == [] and hr_sandbox.seen == []


def test_a_mistake_the_model_can_mend_is_still_its_to_mend(agent, model, actions):
    # A stray key on a read, or a delete, is answered to the model, which tries again.
    model.add(
        call("delete_employee", employee=5, reason="left"),
        call("delete_employee", employee=5),
    )
    reply = agent.respond("Delete employee 5, she left.", DANA)
    assert reply.text.startswith("Sent for approval (#1): Delete employee 5")
    first = next(m for m in model.requests[1]["messages"] if m["role"] == "tool")["content"]
    assert first.startswith("Error: unexpected argument(s) reason; nothing was run.")


def test_a_read_by_name_finds_the_record_and_a_read_of_several_shows_the_candidates(
    agent, model, hr_sandbox
):
    model.add(
        call("get_employee", employee="janet weaver"),
        call("get_employee", employee="George"),
        say("Janet is a payroll specialist; which George?"),
    )

    agent.respond("What does Janet Weaver do, and George?", DANA)

    janet, george = [m["content"] for m in model.requests[2]["messages"] if m["role"] == "tool"]
    assert json.loads(janet)["body"]["data"]["job"] == "payroll specialist"
    assert [m["id"] for m in json.loads(george)["matches"]] == [1, 11]
    assert hr_sandbox.seen[4].path == "/api/users/2"  # found on the pages, then read


def test_in_the_generic_family_a_held_change_also_ends_the_turn_in_the_bots_words(
    model, toolbox, database, actions
):
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    agent = Agent(client, "test-model", toolbox, ConversationStore(database))
    model.add(tool_calls(rest("DELETE", "/api/users/5")))
    reply = agent.respond("Delete employee 5.", DANA)
    assert reply.text.startswith("Sent for approval (#1): Delete employee 5.")
    assert reply.noticed and len(actions.in_states("pending")) == 1


def test_where_the_model_words_changes_itself_it_is_asked_after_the_hold(
    model, toolbox, database, actions
):
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    agent = Agent(
        client,
        "test-model",
        toolbox,
        ConversationStore(database),
        design=Design(bot_words_changes=False),
    )
    model.add(tool_calls(rest("DELETE", "/api/users/5")), say("Action #1 awaits approval."))
    reply = agent.respond("Delete employee 5.", DANA)
    assert reply.text == "Action #1 awaits approval." and not reply.noticed
