"""Which record a change is about is settled in code: the model names it as the user did, and
a change goes only to a record the requester's own words name. To one person it is held; to
nobody, several, everyone, a web address or a field the record cannot take, the bot answers in
its own words and nothing is queued. Reads by name find the record too."""

from __future__ import annotations

import json

import pytest
import requests

from approvals import Thread
from bot.agent.history import ConversationStore
from bot.agent.loop import TOLD, Agent, Design, make_client
from bot.tools.catalogue import Catalogue
from bot.tools.context import ToolContext
from bot.tools.references import unnamed
from bot.tools.toolbox import Toolbox
from sandbox.scripted_model import rest, say, tool_calls

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

DANA = ToolContext(requester="U0DANA", thread=Thread("C0HR", "1700000000.000100"))
KEY = "C0HR:1700000000.000100:U0DANA"


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
    # Values in inline code, and whose record it is, so the requester can check it.
    assert reply.text == (
        "Sent for approval (#1): Update employee `Tobias Funke` (#9), `analyst` — job: "
        "`senior analyst`. Nothing changes until an approver approves it; the outcome will be "
        "posted here."
    )
    assert reply.model_calls == 1 and reply.noticed and hr_sandbox.writes_seen() == []


def test_a_change_to_one_of_several_people_asks_which_in_the_bots_words(agent, model, actions):
    model.add(call("delete_employee", employee="George"))

    reply = agent.respond("Delete George.", DANA)

    assert reply.text == (
        "2 employees match `George`: `George Bluth` (#1, chief executive); `George Edwards` "
        "(#11, data engineer). Which one do you mean? Nothing was queued."
    )
    assert actions.in_states() == [] and reply.model_calls == 1 and not reply.noticed
    # The model reads the candidates when the user answers.
    history = agent.conversations.load(KEY)
    assert '"id":11' in history[2]["content"] and history[-1]["content"] == reply.text


def test_a_change_goes_to_a_whole_name_never_to_a_part_of_a_word(agent, model, actions, hr_sandbox):
    # Only "Tobias Funkelstein" exists: "Tobias Funke" is not his name, though a search finds
    # him; the bot says so and names him as the nearest, and queues nothing.
    requests.delete(hr_sandbox.url + "/api/users/9", timeout=5)
    requests.post(
        hr_sandbox.url + "/api/users", json={"name": "Tobias Funkelstein", "job": "x"}, timeout=5
    )
    model.add(call("delete_employee", employee="Tobias Funke"))

    reply = agent.respond("Delete Tobias Funke.", DANA)

    assert reply.text.startswith(
        "No employee is named `Tobias Funke`, so nothing was queued. The nearest: "
        "`Tobias Funkelstein` (#21"
    )
    assert actions.in_states() == []


def test_a_change_to_nobody_says_so_after_reading_the_directory(agent, model, actions, hr_sandbox):
    model.add(call("delete_employee", employee="Jane Nobody"))

    reply = agent.respond("Delete Jane Nobody.", DANA)

    assert reply.text == "No employee is named `Jane Nobody`, so nothing was queued."
    assert actions.in_states() == [] and len(hr_sandbox.seen) == 4  # every page was read


def test_a_change_to_an_id_that_does_not_exist_is_not_queued(agent, model, actions):
    model.add(call("delete_employee", employee=999))
    reply = agent.respond("Delete employee 999.", DANA)
    assert reply.text == "There is no employee at /api/users/999, so nothing was queued."
    assert actions.in_states() == []


@pytest.mark.parametrize(
    ("said", "employee"),
    [
        ("Delete the second one.", 11),  # nothing of his in the requester's words
        ("Delete employee 19.", 9),  # another id than the one given
    ],
)
def test_a_change_to_a_record_the_requester_never_named_is_asked_about(
    said, employee, agent, model, actions
):
    model.add(call("delete_employee", employee=employee))

    reply = agent.respond(said, DANA)

    assert reply.text.startswith("You did not name `")
    assert f"(#{employee}, " in reply.text and reply.text.endswith(
        "Which employee do you mean? Name them by full name, email or id."
    )
    assert actions.in_states() == []


@pytest.mark.parametrize(
    "said",
    [
        "Delete employee 9.",
        "delete #9 please",
        "Remove Tobias Funke",
        "remove funke, tobias",
        "drop tobias.funke@reqres.in",
        "Please remove Funke, he has left",  # a word of his name no one else has
    ],
)
def test_a_change_to_a_record_the_requester_named_by_id_name_or_email_is_held(
    said, agent, model, actions
):
    model.add(call("delete_employee", employee=9))
    agent.respond(said, DANA)
    assert [a.path for a in actions.in_states("pending")] == ["/api/users/9"]


@pytest.mark.parametrize(
    ("said", "employee"), [("Delete George.", 1), ("Please delete George, he has left", 11)]
)
def test_a_first_name_that_two_people_share_does_not_name_either(
    said, employee, agent, model, actions, hr_sandbox
):
    # The model picked one of two Georges: both are named, and the requester is asked which.
    model.add(call("delete_employee", employee=employee))
    reply = agent.respond(said, DANA)
    assert reply.text.startswith("Your words could mean several employees: `George Bluth` (#1, ")
    assert "`George Edwards` (#11, " in reply.text and "Which one do you mean?" in reply.text
    assert actions.in_states() == []
    assert len(hr_sandbox.seen) > 2  # the whole directory was read to see who else is George


def test_a_record_named_earlier_in_the_conversation_counts(agent, model, actions):
    model.add(say("George Edwards (#11) is a data engineer."), call("delete_employee", employee=11))
    agent.respond("Who is George Edwards?", DANA)
    agent.respond("Delete him.", DANA)
    assert [a.path for a in actions.in_states("pending")] == ["/api/users/11"]


@pytest.mark.parametrize(
    "employee", [["1", "2", "3"], [1, 2], "all", "everyone", "Every employee."]
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


def test_a_one_person_list_is_that_person_and_an_empty_name_goes_back_to_the_model(
    agent, model, actions
):
    model.add(
        call("delete_employee", employee=""),
        call("delete_employee", employee=["9"]),
    )
    reply = agent.respond("Delete employee 9.", DANA)
    assert reply.text.startswith("Sent for approval (#1): Delete employee `Tobias Funke` (#9)")
    first = next(m for m in model.requests[1]["messages"] if m["role"] == "tool")["content"]
    assert first == "Error: `employee` is empty: give the employee's id, name or email."


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


def test_a_name_that_only_starts_like_an_address_is_still_a_name(agent, model, hr_sandbox):
    model.add(call("get_employee", employee="www.x Your raise was approved"), say("Nobody."))
    reply = agent.respond("Who is that?", DANA)
    assert reply.text == "Nobody."  # the model's, after the search: no words of the bot's
    assert len(hr_sandbox.seen) == 4


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
def test_a_change_naming_a_field_it_does_not_take_twice_is_refused_in_the_bots_words(
    tool, arguments, answer, agent, model, actions, hr_sandbox
):
    # The first time the model is told, and may drop it; it names the field again.
    model.add(tool_calls((tool, json.dumps(arguments))), tool_calls((tool, json.dumps(arguments))))

    reply = agent.respond("Set Janet Weaver's salary to 100000.", DANA)

    assert reply.text == answer
    first = next(m for m in model.requests[1]["messages"] if m["role"] == "tool")["content"]
    assert first.startswith("Error: unexpected argument(s) salary")
    assert actions.in_states() == [] and hr_sandbox.seen == []


def test_a_field_dropped_after_the_first_error_goes_on_as_the_model_mended_it(
    agent, model, actions
):
    model.add(
        call("update_employee", employee=9, job="lead", reason="promotion"),
        call("update_employee", employee=9, job="lead"),
    )
    reply = agent.respond("Make employee 9 a lead, it's a promotion.", DANA)
    assert reply.text.startswith("Sent for approval (#1): Update employee `Tobias Funke` (#9)")
    assert actions.in_states("pending")[0].body == {"job": "lead"}


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
    # Janet: the pages, then her record; George: the pages, once.
    assert [r.path for r in hr_sandbox.seen][4] == "/api/users/2" and len(hr_sandbox.seen) == 9


def test_a_step_that_holds_a_change_and_reads_lets_the_model_answer_the_rest(agent, model, actions):
    model.add(
        tool_calls(
            ("delete_employee", json.dumps({"employee": 5})),
            ("get_employee", json.dumps({"employee": 2})),
        ),
        say("Janet Weaver is a payroll specialist."),
    )

    reply = agent.respond("Delete employee 5, and what does employee 2 do?", DANA)

    assert reply.text.startswith("Sent for approval (#1): Delete employee `Charles Morris` (#5)")
    assert reply.text.endswith("\nJanet Weaver is a payroll specialist.")
    assert not reply.noticed and reply.held == (1,)  # the whole answer is posted
    note = model.requests[1]["messages"][-1]
    assert note["role"] == "system" and note["content"].startswith(TOLD)


def test_in_the_generic_family_a_held_change_also_ends_the_turn_in_the_bots_words(
    model, toolbox, database, actions
):
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    agent = Agent(client, "test-model", toolbox, ConversationStore(database))
    model.add(tool_calls(rest("DELETE", "/api/users/5")))
    reply = agent.respond("Delete employee 5.", DANA)
    assert reply.text.startswith("Sent for approval (#1): Delete employee `Charles Morris` (#5)")
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


class Directory:
    """A finder over a fixed directory, counting its reads."""

    def __init__(self, *people: tuple[int, str], incomplete: bool = False) -> None:
        self.people = [{"id": i, "name": name, "email": f"p{i}@x.in"} for i, name in people]
        self.incomplete = incomplete
        self.reads = 0

    def everyone(self) -> list[dict]:
        self.reads += 1
        return self.people


PEOPLE = Directory(
    (1, "George Bluth"), (2, "Janet Weaver"), (7, "Michael Cook"), (11, "George Edwards")
)


def named(ident: int, *said: str, changes: tuple[str, ...] = (), finder=PEOPLE) -> bool:
    record = next((p for p in finder.people if p["id"] == ident), {"id": ident})
    found = unnamed(record, list(said), "employee", finder, ident=str(ident), changes=changes)
    return found is None


@pytest.mark.parametrize(
    ("ident", "said"),
    [
        (1, "Give Janet a $1,500 bonus"),
        (5, "Janet is out for 5 days"),
        (9, "Move her shift to 9:00"),
        (9, "raise it by 9%"),
        (1, "employee 12"),
        (2, "employee 2.5 is not an id"),
    ],
)
def test_a_number_that_is_not_written_as_an_id_names_no_record(ident, said):
    assert not named(ident, said)


@pytest.mark.parametrize(
    "said",
    ["employee 9", "Employees 2, 9 and 11", "#9", "id: 9", "PATCH /api/users/9", "9", " #09. "],
)
def test_an_id_written_as_one_names_the_record(said):
    assert named(9, said)


def test_a_common_word_in_the_request_does_not_single_out_the_one_person_named_so():
    assert not named(7, "Make Janet Weaver our Cook", changes=("Cook",))  # the new value
    assert not named(7, "Cook something up for Janet")  # opens the sentence
    assert not named(7, "make janet weaver our cook")  # not written as a name
    assert named(7, "Please promote Cook to head chef")  # a name, and his alone
    assert not named(1, "Please promote George")  # two Georges: ask
    assert not named(
        2, "Please promote Janet", finder=Directory((2, "Janet Weaver"), incomplete=True)
    )


def test_an_email_names_its_record_only_as_a_whole_address():
    wendy = {"id": 44, "name": "Wendy Eaver", "email": "eaver@x.in"}
    said = ["Change janet.weaver@x.in to janet@x.in"]
    assert unnamed(wendy, said, "employee", None, ident="44") is not None
    junk = {"id": 45, "name": "Zed Q", "email": "e"}
    assert unnamed(junk, ["Make Janet a manager"], "employee", None, ident="45") is not None
    assert unnamed(wendy, ["Set eaver@x.in's job"], "employee", None, ident="44") is None


def test_a_one_word_name_is_named_only_by_its_id_or_email():
    janet = {"id": 46, "name": "Janet", "email": ""}
    assert unnamed(janet, ["Promote Janet Weaver"], "employee", None, ident="46") is not None
    assert unnamed(janet, ["Promote employee 46"], "employee", None, ident="46") is None


def test_a_change_reads_the_directory_once_to_resolve_and_check_a_first_name(
    agent, model, actions, hr_sandbox
):
    model.add(call("update_employee", employee="Tobias", job="senior analyst"))
    agent.respond("Please make Tobias a senior analyst", DANA)
    assert [a.path for a in actions.in_states("pending")] == ["/api/users/9"]
    pages = [r.path for r in hr_sandbox.seen if r.path.startswith("/api/users?page=")]
    assert len(pages) == len(set(pages))  # each page once


@pytest.mark.parametrize(
    "said",
    [
        "Cook's new job title is head chef",
        "Cook is now our head chef.",
        "Thanks. Cook has been promoted, please update the title",
        "“Cook’s title should read head chef”",
    ],
)
def test_a_name_opening_a_sentence_names_its_record_when_written_as_a_name(said):
    assert named(7, said)


@pytest.mark.parametrize(
    "said", ["Cook something up for Janet", "Cook the books", "Will you promote Janet?"]
)
def test_a_word_opening_a_sentence_as_a_word_names_no_one(said):
    assert not named(7, said)


# A record is named only by what names it. Each phrasing names the id beside it, or none of
# the ids its numbers could be read as.
WRITTEN_AS_AN_ID = [
    (9, "employee 9"),
    (9, "Employee 9"),
    (9, "EMPLOYEE 9"),
    (9, "employee #9"),
    (9, "employee no. 9"),
    (9, "Employees 2, 9 and 11"),
    (9, "employees 9 & 11"),
    (9, "employees 2 or 9"),
    (9, "#9"),
    (9, "# 9"),
    (9, "#9 please"),
    (9, "#9 and #11"),
    (9, "Delete #9 Tobias Funke"),
    (9, "id: 9"),
    (9, "ID 9"),
    (9, "ids 4, 9"),
    (9, "No. 9"),
    (9, "no #9"),
    (9, "No: 9"),
    (9, "record 9"),
    (9, "records 9 and 10"),
    (9, "number 9"),
    (9, "nr 9"),
    (9, "PATCH /api/users/9"),
    (9, "users/9"),
    (9, "9"),
    (9, " #09. "),
    (9, "9!"),
    (9, "Employee 9's job is wrong"),
    (9, "please delete employee 9 now"),
    (9, "employee 9, then employee 11"),
    (9, "Change employee 9 to analyst"),
    (12, "Promote employee 12 on 3/1"),
]
NOT_AN_ID = [
    (3, "effective 3/1"),
    (1, "effective 3/1"),
    (1, "Janet Weaver's promotion is effective 3/1"),
    (15, "starting 1/15"),
    (1, "starting 1/15"),
    (7, "support 24/7"),
    (24, "support 24/7"),
    (1, "our #1 recruiter"),
    (1, "#1 recruiter"),
    (2, "the #2 seller this year"),
    (2, "no 2 ways about it"),
    (2, "No 2 people agree"),
    (3, "record 3 hours of overtime"),
    (3, "record 3 days of leave"),
    (5, "Janet is out for 5 days"),
    (9, "Move her shift to 9:00"),
    (9, "Move her shift to 9 pm"),
    (9, "raise it by 9%"),
    (1, "Give Janet a $1,500 bonus"),
    (1, "employee 1,500"),
    (2, "employee 2.5 is not an id"),
    (9, "the 9th"),
    (9, "employee 9th in line"),
    (9, "#9th"),
    (9, "from 9/1"),
    (9, "on 2026-09-01"),
    (9, "employee 9-5 shifts"),
    (1, "1/2 time"),
    (2, "1/2 time"),
    (4, "record 4 weeks"),
    (3, "a number 3 times"),
    (10, "number 10 points"),
    (6, "records 6 months back"),
    (1, "No 1 fan of the new policy"),
    (1, "Our No. 1 recruiter Janet Weaver gets a raise"),
    (1, "Promote Our #1 Recruiter"),
    (1, "Janet ranked #1 in sales"),
    (1, "employee 1 April"),
    (3, "record 3 March"),
    (3, "employee 3 of 4"),
    (7, "pay grade #7"),
    (2, "move her to shift #2"),
    (2, "#2 at the company"),
    (1, "number 1 fan"),
    (5, "employee 5 business days"),
]


@pytest.mark.parametrize(("ident", "said"), WRITTEN_AS_AN_ID)
def test_an_id_written_as_one_names_the_record_in_every_phrasing(ident, said):
    assert named(ident, said)


@pytest.mark.parametrize(("ident", "said"), NOT_AN_ID)
def test_dates_times_ranks_ordinals_counts_and_fractions_never_name_a_record(ident, said):
    assert not named(ident, said)


def test_a_promotion_effective_on_a_date_never_deletes_the_record_the_date_looks_like(
    agent, model, actions, hr_sandbox
):
    # A model that reads "3/1" as ids asks to delete employee 1; the words name no one but Janet.
    model.add(call("delete_employee", employee=1))
    reply = agent.respond("Janet Weaver's promotion to payroll lead is effective 3/1", DANA)
    assert actions.in_states() == [] and hr_sandbox.writes_seen() == []
    assert "You did not name `George Bluth`" in reply.text


EVERYDAY = Directory(
    (30, "Will Read"), (31, "Mark Young"), (7, "Michael Cook"), (2, "Janet Weaver")
)


@pytest.mark.parametrize(
    ("ident", "said"),
    [
        (30, "Will you read the report and make Janet a manager?"),
        (30, "I will read it later; make Janet a manager"),
        (30, "will read: promote Janet"),
        (30, "Read this, will you: Janet is a manager now"),
        (30, "Will, Read the memo first"),
        (31, "Mark the young ones as interns"),
        (31, "Mark Janet's record: young starters get a mentor"),
        (31, "Young people join in March; mark them"),
        (31, "Mark is young"),
    ],
)
def test_a_name_of_everyday_words_is_not_named_by_ordinary_prose(ident, said):
    assert not named(ident, said, finder=EVERYDAY)


@pytest.mark.parametrize(
    ("ident", "said"),
    [
        (30, "Will Read is now a senior analyst"),
        (30, "Please promote Will Read"),
        (30, "Will Read's title should read head of data"),
        (30, "employee 30"),
        (31, "Make Mark Young a director"),
        (31, "MARK YOUNG has left"),
        (7, "Please promote Cook to head chef"),  # one everyday word in a name: as before
    ],
)
def test_a_name_of_everyday_words_is_named_whole_as_a_name_or_by_id(ident, said):
    assert named(ident, said, finder=EVERYDAY)
