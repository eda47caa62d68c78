from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import replace

import pytest

from approvals import Thread
from bot import app
from bot import config as configuration
from bot.agent.history import ConversationStore
from bot.agent.loop import Agent, make_client
from bot.config import ConfigError
from bot.tools.budget import HRBudget
from bot.tools.catalogue import Catalogue, CatalogueError
from bot.tools.context import ToolContext, queued_message
from bot.tools.toolbox import Toolbox
from bot.tools.typed import list_all, plural, typed_call
from sandbox.scripted_model import say, tool_calls

# Whose words name the records the tests change (a change goes only to a record they name),
# and ask for a new one (a record is created only when people ask for one), with the values
# the changes give (a value nobody said is not held).
CONTEXT = ToolContext(
    requester="U0ALICE",
    thread=Thread("C0HR", "1.1"),
    words=(
        ("U0ALICE", "employees 2, 5 and 9"),
        ("U0ALICE", "and add the new hire"),
        ("U0ALICE", "Neo Anderson, engineer; manager"),
    ),
)
NAMES = [
    "find_employee",
    "list_employees",
    "get_employee",
    "create_employee",
    "update_employee",
    "delete_employee",
]
TEXT = {"type": "string"}  # lengths are the catalogue's to check, with a clear message
# The record a call is about, as the user named it: resolved to its id in code.
EMPLOYEE = {"type": ["integer", "string"], "description": "the employee: id, full name or email"}


@pytest.fixture
def typed(hr_client, actions) -> Toolbox:
    return Toolbox(Catalogue.load(), hr_client, actions, approval_ttl_seconds=3600, family="typed")


def run(toolbox: Toolbox, name: str, arguments: dict, context: ToolContext = CONTEXT) -> str:
    return toolbox.run(name, json.dumps(arguments), context, "call_1")


def parameters(toolbox: Toolbox) -> dict[str, dict]:
    return {d["function"]["name"]: d["function"]["parameters"] for d in toolbox.definitions}


def catalogue(noun: str, endpoints: list[dict]) -> Catalogue:
    fields = {"name": ["name"], "job": ["job"]}
    return Catalogue.from_data({"record": {"noun": noun, "fields": fields}, "endpoints": endpoints})


def test_the_default_catalogue_makes_one_typed_function_per_endpoint_with_typed_parameters(typed):
    found = parameters(typed)
    assert list(found) == NAMES
    assert found["get_employee"] == {
        "type": "object",
        "properties": {"employee": EMPLOYEE},
        "required": ["employee"],
    }
    assert found["delete_employee"] == found["get_employee"]
    assert found["list_employees"] == {
        "type": "object",
        "properties": {"page": {"type": "integer"}},
    }
    assert found["create_employee"] == {
        "type": "object",
        "properties": {"name": TEXT, "job": TEXT},
        "required": ["name", "job"],
    }
    # PUT and PATCH on one path make one update tool: PATCH, which changes only what is given.
    assert found["update_employee"] == {
        "type": "object",
        "properties": {"employee": EMPLOYEE, "name": TEXT, "job": TEXT, "email": TEXT},
        "required": ["employee"],
    }
    descriptions = {d["function"]["name"]: d["function"]["description"] for d in typed.definitions}
    assert descriptions["get_employee"] == "One employee."
    assert "call_rest_api" not in descriptions


def test_a_typed_read_runs_at_once_and_returns_the_record(typed, hr_sandbox):
    result = json.loads(run(typed, "get_employee", {"employee": 2}))
    assert result["status"] == 200 and result["body"]["data"]["last_name"] == "Weaver"
    page = json.loads(run(typed, "list_employees", {"page": 2}, asking("Who is on page 2?")))
    assert page["body"]["page"] == 2
    assert [(r.method, r.path) for r in hr_sandbox.seen] == [
        ("GET", "/api/users/2"),
        ("GET", "/api/users?page=2"),
    ]


@pytest.mark.parametrize(
    ("tool", "arguments", "generic"),
    [
        (
            "create_employee",
            {"name": "Neo Anderson", "job": "engineer"},
            {
                "method": "POST",
                "url": "/api/users",
                "body": {"name": "Neo Anderson", "job": "engineer"},
            },
        ),
        (
            "update_employee",
            {"employee": 2, "job": "manager", "email": None},
            {"method": "PATCH", "url": "/api/users/2", "body": {"job": "manager"}},
        ),
        ("delete_employee", {"employee": "#2"}, {"method": "DELETE", "url": "/api/users/2"}),
    ],
)
def test_a_typed_write_is_held_exactly_as_the_generic_call_would_hold_it(
    tool, arguments, generic, typed, toolbox, actions, hr_sandbox
):
    assert run(typed, tool, arguments) == queued_message(actions.in_states("pending")[0])
    run(toolbox, "call_rest_api", generic)

    held, by_generic = actions.in_states("pending")
    assert (held.method, held.path, held.body) == (
        by_generic.method,
        by_generic.path,
        by_generic.body,
    )
    assert (held.method, held.path) == (generic["method"], generic["url"])
    assert held.before == by_generic.before  # the same snapshot for the card
    assert hr_sandbox.writes_seen() == []


@pytest.mark.parametrize(
    ("method", "url", "body", "call"),
    [
        ("GET", "/api/users?page=1", None, ("list_employees", {"page": 1})),
        ("GET", "/api/users?page=3", None, ("list_employees", {"page": 3})),
        ("GET", "/api/users/7", None, ("get_employee", {"employee": 7})),
        (
            "POST",
            "/api/users",
            {"name": "Neo", "job": "x"},
            ("create_employee", {"name": "Neo", "job": "x"}),
        ),
        ("PATCH", "/api/users/9", {"job": "y"}, ("update_employee", {"employee": 9, "job": "y"})),
        ("DELETE", "/api/users/5", None, ("delete_employee", {"employee": 5})),
        ("PUT", "/api/users/9", {"job": "y"}, None),  # folded into PATCH
        ("GET", "https://evil.example/api/users", None, None),
    ],
)
def test_each_generic_request_has_the_typed_call_that_makes_exactly_it(
    method, url, body, call, typed
):
    assert typed_call(typed.typed, method, url, body) == call
    if call is not None:
        name, arguments = call
        assert typed.typed[name].request(arguments) == (method, url, body)


def test_a_generic_read_of_the_list_without_a_page_is_its_first_page_not_everyone(typed):
    # Without a page the typed list reads every page; the generic request meant page 1.
    assert typed_call(typed.typed, "GET", "/api/users") == ("list_employees", {"page": 1})


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("get_employee", {}, "missing required argument(s) employee"),
        ("get_employee", {"id": 2}, "unexpected argument(s) id"),
        ("get_employee", {"employee": 2.5}, "`employee` must be a whole number or a string, got a"),
        ("get_employee", {"employee": 0}, "`employee` must be a whole number from 1 up"),
        ("list_employees", {"page": -1}, "`page` must be a whole number from 1 up"),
        ("update_employee", {"employee": 2, "salary": 1}, "unexpected argument(s) salary"),
        ("update_employee", {"employee": 2}, "update_employee needs at least one of: name, job"),
        ("create_employee", {"name": "Neo"}, "missing required argument(s) job"),
        ("create_employee", {"name": "N" * 201, "job": "x"}, "'name' is longer than 200"),
        ("create_employee", {"name": "Neo\nX", "job": "x"}, "'name' contains a line break"),
        ("delete_employee", {"employee": 2, "url": "/x"}, "delete_employee takes only employee"),
    ],
)
def test_every_refusal_says_what_to_change_and_nothing_is_read_or_queued(
    tool, arguments, message, typed, actions, hr_sandbox
):
    result = run(typed, tool, arguments)
    assert result.startswith("Error: ") and message in result
    assert actions.in_states() == [] and hr_sandbox.seen == []


def test_a_catalogue_with_another_noun_makes_its_own_typed_tools():
    contractors = catalogue(
        "team member",
        [
            {"method": "GET", "path": "/v2/members", "query": {"page": "integer"}},
            {"method": "GET", "path": "/v2/members/{handle}", "params": {"handle": "slug"}},
            {
                "method": "PUT",
                "path": "/v2/members/{handle}",
                "params": {"handle": "slug"},
                "description": "Change a member.",
                "body": {
                    "level": {
                        "type": "string",
                        "enum": ["junior", "senior"],
                        "description": "seniority",
                    }
                },
            },
        ],
    )
    toolbox = Toolbox(contractors, None, None, approval_ttl_seconds=60, family="typed")
    found = parameters(toolbox)
    assert list(found) == [
        "find_employee",
        "list_team_members",
        "get_team_member",
        "update_team_member",  # a PUT with no PATCH beside it is the update
    ]
    handle = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
    assert found["update_team_member"] == {
        "type": "object",
        "properties": {
            "handle": handle,
            "level": {"type": "string", "enum": ["junior", "senior"], "description": "seniority"},
        },
        "required": ["handle"],
    }
    assert toolbox.typed["update_team_member"].request({"handle": "ana-3", "level": "senior"}) == (
        "PUT",
        "/v2/members/ana-3",
        {"level": "senior"},
    )
    assert [plural(n) for n in ("company", "day", "box", "branch", "staff")] == [
        "companies",
        "days",
        "boxes",
        "branches",
        "staffs",
    ]


def test_a_value_outside_the_catalogues_enum_is_refused_by_either_tool(hr_client, actions):
    levels = catalogue(
        "member",
        [
            {
                "method": "PATCH",
                "path": "/api/users/{id}",
                "params": {"id": "integer"},
                "body": {"job": {"type": "string", "enum": ["engineer", "manager"]}},
            }
        ],
    )
    typed = Toolbox(levels, hr_client, actions, approval_ttl_seconds=60, family="typed")
    generic = Toolbox(levels, hr_client, actions, approval_ttl_seconds=60)
    refusal = "Error: request refused: body field 'job' must be one of: engineer, manager."
    assert run(typed, "update_member", {"member": 2, "job": "king"}) == refusal
    generic_call = {"method": "PATCH", "url": "/api/users/2", "body": {"job": "king"}}
    assert run(generic, "call_rest_api", generic_call) == refusal
    member_2 = replace(CONTEXT, words=(("U0ALICE", "member 2 is a manager now"),))
    queued = run(typed, "update_member", {"member": 2, "job": "manager"}, member_2)
    assert queued.startswith("Queued as")
    numbers = {"method": "POST", "path": "/x", "body": {"job": {"type": "string", "enum": [1]}}}
    with pytest.raises(CatalogueError, match="POST /x: field job: every enum value must be a"):
        catalogue("member", [numbers])


def test_two_endpoints_that_would_share_a_tool_name_are_refused_when_the_tools_are_made():
    endpoints = [
        {"method": "GET", "path": "/api/users", "query": {"page": "integer"}},
        {"method": "GET", "path": "/api/staff"},
    ]
    shared = catalogue("employee", endpoints)
    with pytest.raises(CatalogueError) as refused:
        Toolbox(shared, None, None, approval_ttl_seconds=60, family="typed")
    assert str(refused.value) == (
        "typed tools: GET /api/users and GET /api/staff would both be called list_employees; "
        'give one of them its own "tool" name in the catalogue, or set TOOLS=generic'
    )
    # The generic tool does not care; and a name in the catalogue settles it.
    Toolbox(shared, None, None, approval_ttl_seconds=60, family="generic")
    endpoints[1]["tool"] = "list_staff"
    named = catalogue("employee", endpoints)
    assert "list_staff" in Toolbox(named, None, None, approval_ttl_seconds=60, family="typed").typed
    endpoints[1]["tool"] = "find_employee"
    taken = catalogue("employee", endpoints)
    with pytest.raises(CatalogueError, match="a built-in tool and GET /api/staff would both be"):
        Toolbox(taken, None, None, approval_ttl_seconds=60, family="typed")


@pytest.mark.parametrize(
    ("setting", "names"),
    [(None, NAMES), ("typed", NAMES), ("GENERIC", ["find_employee", "call_rest_api"])],
)
def test_the_tools_setting_chooses_what_the_model_is_offered(setting, names, tmp_path):
    env = {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}
    if setting is not None:
        env["TOOLS"] = setting
    config = configuration.load(env, env_file=None)
    with ExitStack() as closing:
        core = app.build_core(config, app.open_storage(config, closing), closing)
        assert [t["function"]["name"] for t in core.agent.tools] == names


def test_an_unknown_tools_setting_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="TOOLS: must be typed or generic, not 'rest'"):
        configuration.load({"TOOLS": "rest"}, env_file=None)


def test_everyone_is_listed_in_one_tool_call_from_every_page(model, typed, database, hr_sandbox):
    def answer(request: dict) -> dict:
        table = json.loads(request["messages"][-1]["content"])
        names = ", ".join(row[table["columns"].index("name")] for row in table["rows"])
        return say(f"{len(table['rows'])} employees: {names}.")

    model.add(tool_calls(("list_employees", "{}")), answer)
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    agent = Agent(client, "test-model", typed, ConversationStore(database), max_rounds=4)

    reply = agent.respond("List all our employees.", CONTEXT)

    assert reply.model_calls == 2
    assert reply.text.startswith("20 employees: George Bluth, Janet Weaver,")
    assert "Rachel Howell" in reply.text
    table = json.loads(model.requests[1]["messages"][-1]["content"])
    assert table["columns"] == ["id", "name", "job"]  # the catalogue's "listed" fields
    assert table["rows"][1] == [2, "Janet Weaver", "payroll specialist"]
    # Complete, and said so; asked for a list, a small model otherwise tends to give a count.
    assert table["note"] == "all 20; to list them, write one line each: name, job"
    assert [r.path for r in hr_sandbox.seen] == [f"/api/users?page={n}" for n in range(1, 5)]


def test_listing_everyone_stops_at_the_message_budget_and_says_the_list_is_incomplete(
    typed, hr_sandbox
):
    result = json.loads(run(typed, "list_employees", {}, replace(CONTEXT, budget=HRBudget(2))))
    assert len(result["rows"]) == 12 and len(hr_sandbox.seen) == 2
    assert result["note"].startswith("incomplete: read 2 of 4 pages before this message's HR")
    nothing = run(typed, "list_employees", {}, replace(CONTEXT, budget=HRBudget(0)))
    assert nothing.startswith("Error: this message has already made 0 HR requests")


def test_listing_everyone_keeps_to_the_size_cap_in_whole_rows(hr_client, hr_sandbox):
    from bot.tools.budget import MeteredHR

    hr = MeteredHR(hr_client, HRBudget(None))
    default = Catalogue.load()
    text, _ = list_all(hr, default, default.endpoints[0], max_chars=600)
    table = json.loads(text)
    assert len(text) <= 600 and 0 < len(table["rows"]) < 20
    assert table["note"].startswith("incomplete: read 3 of 4 pages, all there is room for")
    assert len(hr_sandbox.seen) == 3  # no page is read that could not be shown


def asking(text: str) -> ToolContext:
    return replace(CONTEXT, words=(("U0ALICE", text),))


def test_a_listing_asked_for_by_whom_it_wants_answers_with_them_from_the_whole_directory(
    typed, hr_sandbox
):
    # A small model asked "list our recruiters and accountants" reads page 1 and lists it.
    said = run(typed, "list_employees", {"page": 1}, asking("List our recruiters and accountants."))
    result = json.loads(said)
    assert [m["id"] for m in result["matches"]] == [4, 5]
    assert result["count"] == 2 and result["complete"] is True
    assert [r.path for r in hr_sandbox.seen] == [f"/api/users?page={n}" for n in range(1, 5)]


@pytest.mark.parametrize(
    "question", ["List all our employees.", "Show me everyone with their emails, please."]
)
def test_a_listing_whose_words_find_everyone_or_no_one_is_the_whole_list(typed, question):
    result = json.loads(run(typed, "list_employees", {"page": 2}, asking(question)))
    assert len(result["rows"]) == 20 and result["note"].startswith("all 20")


@pytest.mark.parametrize(
    ("question", "given", "page"),
    [
        ("Who is on page 3?", {}, 3),
        ("Who is on page 3?", {"page": 1}, 3),
        ("Show me the second page of the directory.", {"page": 1}, 2),
        ("Who is on the last page?", {}, 4),
        ("Who is on the final page?", {"page": 1}, 4),
        ("Anything on page 2 worth knowing?", {"page": 2}, 2),
    ],
)
def test_the_page_people_name_is_the_page_read(typed, hr_sandbox, question, given, page):
    result = json.loads(run(typed, "list_employees", given, asking(question)))
    assert result["body"]["page"] == page and hr_sandbox.seen[-1].path == f"/api/users?page={page}"
    assert len(hr_sandbox.seen) <= 2  # "last": its number, from the first page


def test_a_page_beyond_the_list_is_read_as_named_and_answered_as_the_api_answers(typed):
    result = json.loads(run(typed, "list_employees", {}, asking("Who is on page 9?")))
    assert result["body"]["data"] == [] and result["body"]["page"] == 9
