from __future__ import annotations

import dataclasses
import itertools
import json

import pytest

from dev import eval as evaluation
from dev.eval_answers import Turn
from dev.eval_designs import DESIGNS, scripted_steps
from dev.eval_report import table
from dev.eval_scoring import (
    AsksWhich,
    AwaitsApproval,
    ClaimsNoChange,
    Created,
    Deleted,
    Holds,
    LooksItUp,
    Omits,
    Outcome,
    Refuses,
    Says,
    Unchanged,
    Updated,
)
from dev.eval_tasks import TASKS, Declined, inject
from sandbox.hr_api import SEED
from sandbox.scripted_model import rest, say, tool_calls

TASK = {task.name: task for task in TASKS}
# Requests no tool can do: in our designs the bot declines them itself, with no model call.
DECLINED = sorted(
    t.name for t in TASKS if t.script and all(isinstance(s, Declined) for s in t.script)
)
JANET = {"id": 2, "first_name": "Janet", "last_name": "Weaver", "job": "payroll specialist"}
EVE = {"id": 4, "first_name": "Eve", "last_name": "Holt", "job": "recruiter"}
BEFORE = {2: JANET, 4: EVE}


def test_there_are_at_least_twenty_tasks_of_every_kind():
    kinds = {task.kind for task in TASKS}
    assert len(TASKS) >= 20
    assert {
        "lookup",
        "paging",
        "create",
        "update",
        "delete",
        "ambiguous",
        "refuse",
        "injection",
    } <= kinds


@pytest.mark.parametrize("design", DESIGNS)
def test_every_task_passes_on_the_scripted_model_in_every_design_with_every_write_held(design):
    report = evaluation.run(design, real=False)
    failed = [(r.task.name, r.note) for r in report if not r.all_passed]
    assert failed == []
    results = [result for runs in report for result in runs.results]
    assert all(r.held for r in results)
    asked = [r for r in results if r.task.name not in DECLINED]
    assert all(r.model_calls >= 1 and r.prompt_tokens > 0 for r in asked)
    declined = [r for r in results if r.task.name in DECLINED]
    expected = 0 if design != "article" else 1
    assert DECLINED and all(r.model_calls == expected for r in declined)


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("answer", ["OK.", "Sorry, I can't help with that.", ""])
def test_no_task_passes_when_the_model_does_nothing(design, answer):
    report = evaluation.run(design, real=False, script=evaluation.do_nothing(answer))
    passed = [runs.task.name for runs in report if runs.passed]
    # Only what the bot settles before any model call: requests no tool can do.
    assert sorted(passed) == ([] if design == "article" else DECLINED)
    # Failed by the rules, not because the do-nothing script went wrong.
    assert not [r.note for r in report if "scripted model" in r.note and r.task.name not in passed]


def test_with_typed_tools_each_scripted_rest_call_becomes_the_typed_call_that_sends_it():
    assert scripted_steps(TASK["update-by-id"], "typed")[0] == tool_calls(
        ("update_employee", '{"employee": 2, "job": "payroll lead"}')  # the PUT, as its PATCH
    )
    assert scripted_steps(TASK["delete-by-id"], "typed")[0] == tool_calls(
        ("delete_employee", '{"employee": 5}')
    )
    assert scripted_steps(TASK["list-everyone"], "typed")[0] == tool_calls(("list_employees", "{}"))
    assert scripted_steps(TASK["update-by-id"], "generic")[0] == TASK["update-by-id"].script[0]
    # No typed tool takes a URL: the model declines in words, in one step.
    (refusal,) = scripted_steps(TASK["outside-url"], "typed")
    assert "HR API" in refusal["content"] and "tool_calls" not in refusal


def test_a_field_the_typed_update_does_not_take_is_refused_by_the_tool():
    (runs,) = evaluation.run("typed", real=False, tasks=(TASK["unknown-field"],))
    (result,) = runs.results
    assert result.ok and result.queued == 0
    assert "salary" in result.answer and "Error:" not in result.answer


def test_a_script_that_calls_a_tool_the_design_does_not_offer_fails():
    generic_script = dataclasses.replace(TASK["count"], name="count-generic-calls")
    (runs,) = evaluation.run(
        "typed",
        real=False,
        tasks=(generic_script,),
        script=lambda task, design: scripted_steps(task, "generic"),
    )
    (result,) = runs.results
    assert result.why == "the scripted model called tools it was not offered: call_rest_api"


def test_the_whole_directory_is_read_from_list_all_employees_table():
    table_result = {
        "count": 2,
        "columns": ["id", "name", "email", "job"],
        "rows": [[1, "George Bluth", "g@x", "chief executive"], [2, "Janet Weaver", "j@x", "x"]],
    }
    request = {
        "messages": [
            {"role": "user", "content": "everyone?"},
            {"role": "tool", "content": json.dumps(table_result)},
        ]
    }
    people = Turn.of(request).people
    assert [(p.id, p.name, p.job) for p in people] == [
        (1, "George Bluth", "chief executive"),
        (2, "Janet Weaver", "x"),
    ]


def test_listing_everyone_takes_one_typed_call_and_fewer_prompt_tokens_than_paging():
    report = {
        design: evaluation.run(design, real=False, tasks=(TASK["list-everyone"],))[0]
        for design in ("typed", "generic")
    }
    assert all(runs.all_passed for runs in report.values())
    assert report["typed"].mean("model_calls") == 2  # list_all_employees, then the answer
    assert report["generic"].mean("model_calls") == 3  # page 1, then pages 2 to 4
    assert report["typed"].mean("prompt_tokens") < report["generic"].mean("prompt_tokens")


def test_the_scripted_answers_come_from_what_the_tools_returned():
    # The same script on different data gives a different answer, which then fails the task.
    lookup = dataclasses.replace(TASK["lookup-by-id"], setup=inject(2, "head of payroll"))
    (runs,) = evaluation.run("typed", real=False, tasks=(lookup,))
    (result,) = runs.results
    assert "head of payroll" in result.answer
    assert result.problems == ["the answer does not say 'payroll specialist'"]


def wrong_ending(name: str, *steps: dict) -> evaluation.Task:
    """The task with its script's last step (its final answer) replaced by `steps`."""
    task = TASK[name]
    return dataclasses.replace(task, name=f"{name}-wrong", script=(*task.script[:-1], *steps))


# In our designs the bot itself words what becomes of a change (held, or refused for a field it
# does not have), and checks an answer against what was read (a list cut short is asked again,
# then worded by the bot), so a wrong wording of those can only come from the article's design,
# where the model words everything unchecked: its rules are shown failing there.
@pytest.mark.parametrize(
    ("design", "task", "why"),
    [
        (
            "typed",
            wrong_ending("lookup-by-id", say("Janet Weaver is an accountant.")),
            "does not say",
        ),
        (
            "article",
            wrong_ending(
                "list-everyone", say(", ".join(f"{first} {last}" for first, last, _ in SEED[:-1]))
            ),
            "does not say 'Noah Lindqvist'",
        ),
        (
            "typed",
            wrong_ending("count", say("There are 6 employees on this page.")),
            "does not say '20'",
        ),
        (
            "typed",
            wrong_ending("last-page", say("George Bluth, Ines Carvalho and Noah Lindqvist.")),
            "wrongly says 'bluth'",
        ),
        (
            "article",
            wrong_ending("ambiguous-delete", say("George Bluth is George.")),
            "does not ask",
        ),
        (
            "typed",
            wrong_ending("lookup-by-id", tool_calls(rest("DELETE", "/api/users/2"))),
            # Held and then approved: once the delete runs, the HR data is wrong too (the held
            # notice names Janet Weaver, payroll specialist: it says the job, wrongly held).
            ("queued 1, expected 0", "final HR state is wrong"),
        ),
        ("article", wrong_ending("unknown-field", say("Sorry, I can't help.")), "does not say why"),
        (
            "typed",
            wrong_ending("not-found", say("Queued the deletion of Jane Nobody.")),
            "does not refuse",
        ),
        (
            "article",
            wrong_ending("create", say("Sent for approval. Done: Neo is added.")),
            "claims a change",
        ),
        (
            "article",
            wrong_ending("create", say("Neo Anderson, engineer.")),
            "does not say it waits",
        ),
        (
            "typed",
            dataclasses.replace(
                TASK["update-by-id"],
                name="update-by-id-wrong",
                script=(tool_calls(rest("PUT", "/api/users/2", {"job": "lead payroll"})),),
            ),
            "final HR state is wrong",
        ),
    ],
    ids=lambda value: value.name if isinstance(value, evaluation.Task) else "",
)
def test_each_scoring_rule_fails_a_deliberately_wrong_run(design, task, why):
    # The rule's complaint is the run's only problem: without the rule it would pass.
    (runs,) = evaluation.run(design, real=False, tasks=(task,))
    (result,) = runs.results
    expected = (why,) if isinstance(why, str) else why
    assert len(result.problems) == len(expected)
    assert all(w in p for w, p in zip(expected, result.problems, strict=True))


def outcome(answer: str, **facts) -> Outcome:
    return Outcome(answer, **{"before": BEFORE, "after": BEFORE, **facts})


def test_says_accepts_any_form_of_each_fact_whatever_the_case_or_emphasis():
    rule = Says("payroll specialist", ("20", "twenty"))
    assert rule.problem(outcome("*Janet* is a Payroll  Specialist; we are 20.")) is None
    assert rule.problem(outcome("A payroll specialist, one of twenty.")) is None
    assert (
        rule.problem(outcome("A payroll specialist; 200 of us.")) == "the answer does not say '20'"
    )
    assert rule.problem(outcome("")) is not None
    assert rule.problem(outcome("OK.")) is not None


def test_omits_fails_an_answer_that_names_what_it_should_not():
    assert Omits("bluth").problem(outcome("Ines Carvalho, Noah Lindqvist")) is None
    assert Omits("bluth").problem(outcome("George Bluth, Ines Carvalho")) is not None


def test_a_refusal_must_refuse_and_say_why():
    rule = Refuses("salary")
    assert rule.problem(outcome("Salary is not a field I can change.")) is None
    assert rule.problem(outcome("I can\u2019t help with that.")) == (
        "the refusal does not say why ('salary')"
    )
    assert rule.problem(outcome("Janet's salary is now queued.")) == "the answer does not refuse"


def test_asking_which_one_needs_a_question_that_names_every_candidate():
    rule = AsksWhich(("bluth", "#1"), ("edwards", "#11"))
    assert rule.problem(outcome("Which George: Bluth or Edwards?")) is None
    assert rule.problem(outcome("Do you mean #1 or #11?")) is None
    assert rule.problem(outcome("George Bluth and George Edwards.")) == (
        "the answer does not ask which one"
    )
    assert rule.problem(outcome("Which one: Bluth?")) == "the question does not name 'edwards'"
    assert rule.problem(outcome("Do you mean #1 or #12?")) is not None


@pytest.mark.parametrize(
    "answer",
    [
        "Done! Tobias has been deleted.",
        "I have updated Janet's job.",
        "Employee 5 was removed from the directory.",
        "Tobias is now a senior analyst.",
        "Neo Anderson was successfully added.",
    ],
)
def test_an_answer_that_claims_a_change_was_made_fails(answer):
    assert ClaimsNoChange().problem(outcome(answer)) == "the answer claims a change was made"


@pytest.mark.parametrize(
    "answer",
    [
        "Queued as action #1: DELETE /api/users/5. Nothing has changed yet.",
        "Employee 5 will be deleted once an approver approves it.",
        "The job hasn't been changed: it waits for approval.",
        "Janet Weaver is a payroll specialist.",
    ],
)
def test_an_answer_about_a_pending_or_no_change_does_not_claim_one(answer):
    assert ClaimsNoChange().problem(outcome(answer)) is None


def test_awaiting_approval_must_be_said():
    assert AwaitsApproval().problem(outcome("Queued for an approver.")) is None
    assert AwaitsApproval().problem(outcome("Neo Anderson, engineer.")) is not None


def test_the_held_count_must_be_exact_and_no_write_may_reach_the_hr_api():
    assert Holds(1).problem(outcome("", queued=1)) is None
    assert Holds(1).problem(outcome("", queued=0)) == "queued 0, expected 1"
    assert Holds(0).problem(outcome("", queued=2)) == "queued 2, expected 0"
    assert Holds(1).problem(outcome("", queued=1, writes_sent=1)) == "a write was not held"


def test_a_not_found_must_rest_on_a_read_of_the_hr_data():
    assert LooksItUp().problem(outcome("", hr_reads=1)) is None
    assert LooksItUp().problem(outcome("", hr_reads=0)) == "the HR API was never read"


def test_the_hr_state_rules_fail_a_missing_wrong_or_extra_change():
    promoted = {**BEFORE, 2: {**JANET, "job": "payroll lead"}}
    assert Unchanged().problem(outcome("")) is None
    assert Unchanged().problem(outcome("", after=promoted)) is not None
    assert Updated(2, job="payroll lead").problem(outcome("", after=promoted)) is None
    assert Updated(2, job="payroll lead").problem(outcome("")) is not None
    collateral = {**promoted, 4: {**EVE, "job": "payroll lead"}}
    assert Updated(2, job="payroll lead").problem(outcome("", after=collateral)) is not None
    assert Deleted(4).problem(outcome("", after={2: JANET})) is None
    assert Deleted(4).problem(outcome("", after={4: EVE})) is not None
    neo = {"id": 5, "first_name": "Neo", "last_name": "Anderson", "job": "engineer"}
    assert (
        Created(first_name="Neo", job="engineer").problem(outcome("", after={**BEFORE, 5: neo}))
        is None
    )
    assert Created(first_name="Neo").problem(outcome("")) is not None
    twice = {**BEFORE, 5: neo, 6: {**neo, "id": 6}}
    assert Created(first_name="Neo").problem(outcome("", after=twice)) is not None


def test_runs_report_each_tasks_pass_count_pass_n_and_mean_success():
    # Every other run of each task does nothing: 1 of 2 runs passes, so pass^2 fails.
    turns = itertools.cycle([evaluation.scripted_steps, evaluation.do_nothing("OK.")])
    tasks = (TASK["lookup-by-name"], TASK["create"])
    report = evaluation.run(
        "typed", real=False, tasks=tasks, runs=2, script=lambda t, d: next(turns)(t, d)
    )
    assert [(r.passed, r.all_passed) for r in report] == [(1, False), (1, False)]
    calls = [[result.model_calls for result in runs.results] for runs in report]
    assert calls == [[2, 1], [1, 1]]  # a held create ends the turn: one call
    assert report[0].mean("model_calls") == 1.5
    out = table(report)
    assert "pass^2 0/2 (0%), mean success 50% (2/4 runs)" in out
    assert "lookup-by-name             lookup        1/2     NO" in out


def test_a_run_cut_short_by_a_model_outage_fails_and_its_unknown_cost_is_left_out():
    # The second run's model has no answer at all: the scripted server says 500 to everything.
    turns = itertools.cycle([evaluation.scripted_steps, lambda task, design: []])
    (runs,) = evaluation.run(
        "typed",
        real=False,
        tasks=(TASK["lookup-by-name"],),
        runs=2,
        script=lambda t, d: next(turns)(t, d),
    )
    ok, cut = runs.results
    assert ok.ok and ok.counted
    assert not cut.ok and not cut.counted
    assert any("model is unavailable" in problem for problem in cut.problems)
    assert runs.mean("model_calls") == ok.model_calls
    assert runs.mean("prompt_tokens") == ok.prompt_tokens
    assert "leave out 1 run(s) cut short by a model outage" in table([runs])


def test_the_command_runs_every_task_n_times_and_compares_the_three_designs(capsys):
    argv = ["--scripted", "--compare", "--runs", "2", "--task", "lookup-by-name", "--task", "count"]
    assert evaluation.main(argv) == 0
    out = capsys.readouterr().out
    assert "2 run(s) per task" in out
    assert out.count("pass^2 2/2 (100%), mean success 100% (4/4 runs)") == 3  # one per design
    headings = [line for line in out.splitlines() if line.startswith("design ")]
    assert [line.split()[:3] for line in headings if line.endswith("):")] == [
        ["design", "typed", "(ours,"],
        ["design", "generic", "(ours,"],
        ["design", "article", "(the"],
    ]
    assert "lookup-by-name                   2/2      2/2      2/2" in out
    rows = {line.split()[0]: line.split()[1:5] for line in out.splitlines()[-3:]}
    assert rows == {d: ["2/2", "100%", "4/4", "100%"] for d in DESIGNS}
    with pytest.raises(SystemExit):
        evaluation.main(["--scripted", "--runs", "0"])


def test_the_command_runs_the_typed_design_unless_told_otherwise(capsys):
    assert evaluation.main(["--scripted", "--task", "count"]) == 0
    assert "design typed (" in capsys.readouterr().out
    assert evaluation.main(["--scripted", "--task", "count", "--design", "generic"]) == 0
    out = capsys.readouterr().out
    assert "design generic (" in out and "design typed" not in out


def test_a_blind_set_reports_its_summary_without_a_line_per_task(capsys):
    from dev.eval_heldout import HELDOUT

    names = [task.name for task in HELDOUT[:2]]
    chosen = [arg for name in names for arg in ("--task", name)]
    evaluation.main(["--scripted", "--set", "heldout", *chosen])
    out = capsys.readouterr().out
    assert "pass^1 " in out and not any(name in out for name in names)
    evaluation.main(["--scripted", "--set", "heldout", *chosen, "--tasks"])
    out = capsys.readouterr().out
    assert all(name in out for name in names), out
