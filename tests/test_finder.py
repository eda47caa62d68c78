from __future__ import annotations

import json

import pytest
import requests

from bot.tools.context import ToolContext
from bot.tools.finder import wanted
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
        # Kinds of people joined by "and", "or" or commas: everyone either finds.
        ("recruiters and accountants", [4, 5]),
        ("sales or marketing", [7, 16]),
        ("Janet Weaver, Emma Wong", [2, 3]),
        ("Who is in design, legal or QA?", [6, 15, 17]),
        ("engineers and astronauts", [3, 10, 11, 14, 17, 20]),
        # Words that say nothing of the work: "the legal side of things", "who knows about".
        ("who do we have handling the legal side of things?", [15]),
        ("is there anybody here who knows about security?", [20]),
        ("who manages payroll matters", [2]),
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


def test_words_joined_in_someones_job_stay_one_kind_of_work(toolbox, hr_sandbox):
    requests.post(
        hr_sandbox.url + "/api/users",
        json={"name": "Ada Lane", "job": "head of sales and marketing"},
        timeout=5,
    )
    assert [m["name"] for m in find(toolbox, "sales and marketing")["matches"]] == ["Ada Lane"]
    assert len(find(toolbox, "sales or design")["matches"]) == 3  # Lawson, Ramos, Lane


@pytest.mark.parametrize(
    ("question", "whom"),
    [
        ("List our recruiters and accountants.", "recruiters or accountants"),
        ("How many coordinators are on staff?", "coordinators"),
        ("Who is in sales, design or legal?", "sales, design or legal"),
    ],
)
def test_whom_a_question_asks_for_is_said_in_its_own_words(question, whom):
    assert wanted(question) == whom


def asking(text: str) -> ToolContext:
    return ToolContext("U0DANA", words=(("U0DANA", text),))


@pytest.mark.parametrize(
    ("question", "query", "ids"),
    [
        # The model narrowed the question: its words find more, and they answer.
        ("Who are our engineers?", "software engineer", [3, 10, 11, 14, 17, 20]),
        ("Who is in sales or marketing?", "sales", [7, 16]),
        ("Which of our people are managers?", "office manager", [8, 12, 16]),
        # Worded so that it finds no one, where the question finds some.
        ("Who are our recruiters?", "recruitment staff members list", [4]),
        # The model's search stands when the question finds the same, fewer, other people,
        # everyone, or no one.
        ("Who is Emma Wong?", "Emma Wong", [3]),
        ("Which engineers work on data?", "data engineer", [11]),
        ("What is the QA engineer's email?", "QA engineer", [17]),
        ("How many people work here?", "engineer", [3, 10, 11, 14, 17, 20]),
        ("Delete Jane Nobody", "Jane Nobody", []),
        ("Who is George Bluth?", "George Bluth", [1]),
        # A model that picked one of two Georges guessed: the question means both.
        ("Who is George?", "George Bluth", [1, 11]),
    ],
)
def test_a_search_narrower_than_the_question_answers_with_the_questions_words(
    toolbox, question, query, ids
):
    said = toolbox.run("find_employee", json.dumps({"query": query}), asking(question), "c")
    assert [m["id"] for m in json.loads(said)["matches"]] == ids


def test_a_lookup_by_id_or_email_reads_nothing_more_for_the_question(toolbox, hr_sandbox):
    question = asking("Is employee 9 in sales, and what does tobias.funke@reqres.in do?")
    for query in ("9", "tobias.funke@reqres.in"):
        toolbox.run("find_employee", json.dumps({"query": query}), question, "c")
    assert [r.path for r in hr_sandbox.seen] == [
        "/api/users/9",
        *(f"/api/users?page={n}" for n in range(1, 5)),
    ]
