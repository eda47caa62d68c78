"""The unseen task set (dev/eval_unseen.py) is well made, checked without showing its tasks:
a correct run of each task's script passes in every design, and a model that does nothing
fails it, but where the bot declines the request itself, before any model is asked (as for
the development set's requests no tool can do). Tasks are named only by their place in the
set, so no failure report shows what a task asks."""

from __future__ import annotations

import pytest

from dev import eval as evaluation
from dev.eval_designs import DESIGNS
from dev.eval_tasks import Declined
from dev.eval_unseen import UNSEEN

TASK = {task.name: task for task in UNSEEN}
NAMES = sorted(TASK)
IDS = [f"unseen-{i:02d}" for i in range(1, len(NAMES) + 1)]
# Requests no tool can do: in our designs the bot declines them itself, with no model call.
DECLINED = {t.name for t in UNSEEN if t.script and all(isinstance(s, Declined) for s in t.script)}
DOING_NOTHING = (("typed", "OK."), ("typed", ""), ("generic", "OK."), ("article", "OK."))


def test_the_set_has_thirty_tasks_of_every_kind():
    assert len(UNSEEN) == len(TASK) == 30
    kinds = {task.kind for task in UNSEEN}
    assert {"filter", "lookup", "change", "not-hr", "ambiguous", "refuse"} <= kinds
    assert DECLINED


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_a_correct_scripted_run_passes_and_a_do_nothing_model_fails(name):
    # Only booleans are asserted: pytest would show a task's text in an object's repr.
    task = TASK[name]
    for design in DESIGNS:
        (runs,) = evaluation.run(design, real=False, tasks=(task,))
        passed, held, calls = runs.all_passed, runs.held, runs.results[0].model_calls
        assert passed, f"{design}: the scripted run fails"
        assert held, f"{design}: a write reached the HR API"
        asked = design == "article" or name not in DECLINED
        assert (calls >= 1) == asked, f"{design}: the model was asked, or not, wrongly"
    for design, answer in DOING_NOTHING:
        (runs,) = evaluation.run(
            design, real=False, tasks=(task,), script=evaluation.do_nothing(answer)
        )
        passed, went_wrong = runs.all_passed, "scripted model" in runs.note
        # Only what the bot settles before any model call passes: requests no tool can do.
        expected = name in DECLINED and design != "article"
        assert passed == expected, f"{design}: doing nothing is misjudged"
        # Failed by the rules, not because the do-nothing script went wrong.
        assert not went_wrong, f"{design}: the do-nothing script went wrong"
