from __future__ import annotations

import json

import pytest
import requests

from bot.tools.context import ToolContext
from bot.tools.results import compact_result

CONTEXT = ToolContext("U0DANA")


def find(toolbox, query) -> dict:
    return json.loads(toolbox.run("find_employee", json.dumps({"query": query}), CONTEXT, "c"))


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("Tobias Funke", [9]),
        ("tobias funke", [9]),
        ("funke", [9]),
        ("TOBIAS.FUNKE@reqres.in", [9]),
        ("9", [9]),
        ("#9", [9]),
        ("Noah", [20]),  # the last page: the finder walks every page itself
        ("george", [1, 11]),
        ("nobody at all", []),
        ("999", []),
    ],
)
def test_finds_by_id_name_part_or_email_case_insensitively(toolbox, query, ids):
    result = find(toolbox, query)
    assert [m["id"] for m in result["matches"]] == ids
    assert all(set(m) == {"id", "name", "email", "job"} for m in result["matches"])


def test_several_matches_are_all_named_with_which_one_asked_before_a_change(toolbox):
    assert find(toolbox, "george")["note"] == (
        "2 employees match. Name them all to the user; before changing one, ask which one "
        "they mean."
    )
    assert "No employee matches" in find(toolbox, "zzz")["note"]
    assert "note" not in find(toolbox, "Tobias Funke")


def test_an_exact_full_name_wins_over_partial_matches(toolbox, hr_sandbox):
    requests.post(
        hr_sandbox.url + "/api/users", json={"name": "Tobias Funkelstein", "job": "x"}, timeout=5
    )
    assert [m["id"] for m in find(toolbox, "Tobias Funke")["matches"]] == [9]
    assert len(find(toolbox, "funke")["matches"]) == 2


def test_one_call_reads_each_page_once(toolbox, hr_sandbox):
    find(toolbox, "noah")
    assert [r.path for r in hr_sandbox.seen] == [f"/api/users?page={n}" for n in (1, 2, 3, 4)]


@pytest.mark.parametrize("query", ["", "   ", None, 5, "x" * 201])
def test_a_bad_query_gets_a_clear_error(toolbox, query):
    text = toolbox.run("find_employee", json.dumps({"query": query}), CONTEXT, "c")
    assert text.startswith("Error:")


def test_the_hr_api_being_down_is_reported(toolbox, hr_sandbox):
    hr_sandbox.stop()
    assert find_text(toolbox).startswith("Error: the HR API could not be searched")


def find_text(toolbox) -> str:
    return toolbox.run("find_employee", '{"query": "george"}', CONTEXT, "c")


def test_results_drop_noise_fields():
    body = {"data": [{"id": 1, "avatar": "https://x/1.jpg"}], "support": {"url": "ad"}}
    assert json.loads(compact_result(200, body)) == {"status": 200, "body": {"data": [{"id": 1}]}}


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("Who works in engineering?", [3, 10, 11, 14, 17, 20]),
        ("engineers", [3, 10, 11, 14, 17, 20]),
        ("software engineer", [3]),  # a whole job title: that job alone
        ("who looks after payroll", [2]),
        ("who is our lawyer", [15]),
        ("is there anyone in finance?", [2, 5]),
        ("surname Funke", [9]),
        ("last name Wong", [3]),
        ("Janet's", [2]),
        ("managers", [8, 12, 16]),
        ("who handles recruiting", [4]),
        ("astronaut", []),
    ],
)
def test_a_search_finds_everyone_a_question_means_by_job_work_or_part_of_a_name(
    toolbox, query, ids
):
    result = find(toolbox, query)
    assert [m["id"] for m in result["matches"]] == ids
    assert result["count"] == len(ids) and result["complete"] is True


def test_a_question_with_nothing_to_search_by_means_everyone(toolbox):
    result = find(toolbox, "How many employees do we have?")
    assert result["count"] == 20 and len(result["matches"]) == 20
