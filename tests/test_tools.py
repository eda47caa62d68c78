from __future__ import annotations

import json

import pytest

from approvals import Thread
from bot.tools.catalogue import Catalogue
from bot.tools.context import ToolContext, queued_message
from bot.tools.results import MAX_RESULT_CHARS, compact_result
from bot.tools.toolbox import Toolbox

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

# Whose words name the records the tests change (a change goes only to a record they name),
# and ask for a new one (a record is created only when people ask for one), with the values
# the changes give (a value nobody said is not held).
CONTEXT = ToolContext(
    requester="U0ALICE",
    thread=Thread("C0HR", "1.1"),
    words=(
        ("U0ALICE", "employees 2, 3, 5 and 99"),
        ("U0ALICE", "and add the new hire"),
        ("U0ALICE", "Neo Anderson, engineer; manager; x; janet@example.com"),
    ),
)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/api/users", {"name": "Neo Anderson", "job": "engineer"}),
        ("PUT", "/api/users/2", {"job": "manager"}),
        ("PATCH", "/api/users/2", {"email": "janet@example.com"}),
        ("DELETE", "/api/users/2", None),
    ],
)
def test_every_write_is_held_and_no_write_reaches_the_hr_api(
    method, url, body, toolbox, actions, hr_sandbox
):
    arguments = {"method": method, "url": url}
    if body is not None:
        arguments["body"] = body
    result = toolbox.run("call_rest_api", json.dumps(arguments), CONTEXT, "call_9")

    (action,) = actions.in_states("pending")
    assert result == queued_message(action)
    assert (action.method, action.path) == (method, url)
    assert action.body == (json.loads(body) if isinstance(body, str) else body)
    assert hr_sandbox.writes_seen() == []
    if method == "POST":
        assert action.before is None and hr_sandbox.seen == []
    else:  # the target record is read once, so approvers see what changes
        assert action.before["last_name"] == "Weaver"
        assert [(r.method, r.path) for r in hr_sandbox.seen] == [("GET", url)]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_write_to_a_record_that_does_not_exist_is_not_queued(method, toolbox, actions):
    arguments = {"method": method, "url": "/api/users/99"}
    if method == "PUT":
        arguments["body"] = {"job": "x"}
    result = toolbox.run("call_rest_api", json.dumps(arguments), CONTEXT, "c")
    assert result == "Error: there is no record at /api/users/99; nothing was queued."
    assert actions.in_states() == []


def test_a_held_write_is_announced_to_whoever_posts_cards(hr_client, actions):
    announced = []
    toolbox = Toolbox(
        Catalogue.load(), hr_client, actions, approval_ttl_seconds=3600, on_pending=announced.append
    )
    toolbox.run(
        "call_rest_api", json.dumps({"method": "DELETE", "url": "/api/users/5"}), CONTEXT, "c"
    )
    assert [a.id for a in announced] == [a.id for a in actions.in_states("pending")]


def test_a_get_runs_at_once_and_returns_status_and_body(toolbox, hr_sandbox):
    result = json.loads(
        toolbox.run("call_rest_api", '{"method": "GET", "url": "/api/users?page=2"}', CONTEXT, "c")
    )
    assert result["status"] == 200 and result["body"]["page"] == 2
    assert [r.path for r in hr_sandbox.seen] == ["/api/users?page=2"]


def test_an_unreachable_hr_api_is_reported_to_the_model(toolbox, hr_sandbox):
    hr_sandbox.stop()
    result = toolbox.run("call_rest_api", '{"method": "GET", "url": "/api/users"}', CONTEXT, "c")
    assert result.startswith("Error: the HR API could not be reached")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("[1]", "must be a JSON object"),
        ('{"method": "GET", "url": "/api/users", "headers": {}}', "unexpected argument(s) headers"),
        ("x" * 20000, "longer than"),
    ],
)
def test_bad_arguments_get_a_specific_error(arguments, message, toolbox):
    assert message in toolbox.run("call_rest_api", arguments, CONTEXT, "c")


def test_long_results_are_truncated_and_say_so():
    text = compact_result(200, {"data": ["x" * 100] * 200})
    assert len(text) < MAX_RESULT_CHARS + 100 and text.endswith("characters]")


def test_plain_reads_and_the_snapshot_of_a_write_count_against_the_message_budget(
    toolbox, hr_sandbox
):
    from dataclasses import replace

    from bot.tools.budget import HRBudget

    context = replace(CONTEXT, budget=HRBudget(2))
    read = json.dumps({"method": "GET", "url": "/api/users/2"})
    assert toolbox.run("call_rest_api", read, context, "c1").startswith('{"status":200')
    delete = json.dumps({"method": "DELETE", "url": "/api/users/3"})
    assert toolbox.run("call_rest_api", delete, context, "c2").startswith("Queued as action")
    refused = toolbox.run("call_rest_api", read, context, "c3")
    assert refused.startswith("Error: this message has already made 2 HR requests")
    assert len(hr_sandbox.seen) == 2  # the read and the DELETE's snapshot; nothing after
