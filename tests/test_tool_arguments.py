"""The argument-shape check any tool family uses, driven by the tool's own JSON schema."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from bot.agent.completions import assistant_message
from bot.tools.arguments import MAX_ARGUMENT_CHARS, BadArguments, parse_arguments

# The shape of a typed tool: one function per endpoint, typed and described parameters.
UPDATE_EMPLOYEE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "description": "the employee's id"},
        "job": {"type": "string"},
        "active": {"type": "boolean"},
        "tags": {"type": "array"},
        "note": {"type": ["string", "null"]},
    },
    "required": ["id"],
}


def parsed(arguments: object) -> dict:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return parse_arguments("update_employee", raw, UPDATE_EMPLOYEE)


def test_arguments_of_the_right_shape_come_back_as_given():
    assert parsed({"id": 2, "job": "lead", "active": True, "tags": [], "note": None}) == {
        "id": 2,
        "job": "lead",
        "active": True,
        "tags": [],
    }


def test_a_null_optional_argument_counts_as_not_given():
    assert parsed({"id": 2, "job": None}) == {"id": 2}


def test_empty_arguments_are_an_empty_object():
    assert parse_arguments("list_employees", "", {"type": "object", "properties": {}}) == {}


@pytest.mark.parametrize(
    ("arguments", "correction"),
    [
        ({"id": "2"}, "`id` must be a whole number, got a string that holds one (encoded twice)"),
        ({"id": True}, "`id` must be a whole number, got a boolean"),
        ({"id": 2.5}, "`id` must be a whole number, got a number"),
        ({"id": 2, "active": "yes"}, "`active` must be a boolean, got a string;"),
        ({"id": 2, "tags": "a,b"}, "`tags` must be a list, got a string;"),
        ({"id": 2, "note": 3}, "`note` must be a string or null, got a number"),
        ({"id": None}, "missing required argument(s) id"),
        ({"job": "lead"}, "missing required argument(s) id"),
        ({"id": 2, "salary": 1, "bonus": 2}, "unexpected argument(s) bonus, salary"),
        ("2", "must be a JSON object with id, job, active, tags, note, got a number"),
        ('"{\\"id\\": 2}"', "a string that holds a JSON object (encoded twice)"),
        ("{'id': 2}", "the arguments are not valid JSON"),
        ("x" * (MAX_ARGUMENT_CHARS + 1), "longer than"),
    ],
)
def test_each_wrong_shape_is_named_with_what_to_send_instead(arguments, correction):
    with pytest.raises(BadArguments) as refused:
        parsed(arguments)
    assert correction in str(refused.value)


def test_a_schema_that_allows_more_keys_lets_them_through():
    open_schema = {**UPDATE_EMPLOYEE, "additionalProperties": True}
    raw = json.dumps({"id": 2, "extra": 1})
    assert parse_arguments("t", raw, open_schema) == {"id": 2, "extra": 1}


def test_a_tool_call_without_an_id_or_with_object_arguments_is_kept_in_the_apis_shape():
    call = SimpleNamespace(
        id=None, type="function", function=SimpleNamespace(name="t", arguments={"id": 2})
    )
    kept = assistant_message(SimpleNamespace(content=None, tool_calls=[call, call]))
    first, second = kept["tool_calls"]
    assert first["function"] == {"name": "t", "arguments": '{"id": 2}'}
    assert first["id"].startswith("call_") and first["id"] != second["id"]
