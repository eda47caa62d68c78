from __future__ import annotations

import dataclasses

from dev import eval as evaluation
from dev.eval_tasks import TASKS


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


def test_every_task_succeeds_on_the_scripted_model_with_every_write_held():
    results = evaluation.run("ours", real=False)
    failed = [(r.task.name, r.why) for r in results if not r.ok]
    assert failed == []
    assert all(r.held and r.model_calls >= 1 and r.prompt_tokens > 0 for r in results)


def test_the_scoring_catches_a_write_that_was_not_queued_and_a_wrong_final_state():
    create = next(t for t in TASKS if t.name == "create")
    lazy = dataclasses.replace(create, script=(create.script[-1],))  # answers, never queues
    (result,) = evaluation.run("ours", real=False, tasks=(lazy,))
    assert not result.ok and result.why == "queued 0, expected 1"


def test_the_table_and_the_comparison_print(capsys):
    assert evaluation.main(["--scripted", "--compare"]) == 0
    out = capsys.readouterr().out
    assert "success 23/23 (100%)" in out and "Prompt tokens per task:" in out
