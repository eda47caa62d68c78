"""What one message may cost: the HR request budget and the token budget within a turn."""

from __future__ import annotations

import pytest

from bot.agent.budget import CUT_NOTE, fit_turn, tokens
from bot.tools.budget import HRBudget, OverBudget


def turn(*results: str) -> list[dict]:
    calls = [
        {"id": f"c{n}", "type": "function", "function": {"name": "x", "arguments": "{}"}}
        for n in range(len(results))
    ]
    return [
        {"role": "user", "name": "U0DANA", "content": "look it all up"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": f"c{n}", "content": r} for n, r in enumerate(results)),
    ]


def history(n: int) -> list[dict]:
    return [
        m
        for i in range(n)
        for m in (
            {"role": "user", "name": "U0DANA", "content": f"question {i} " + "q" * 200},
            {"role": "assistant", "content": f"answer {i} " + "a" * 200},
        )
    ]


def test_what_fits_is_sent_unchanged():
    old, new = history(2), turn("small")
    assert fit_turn(old, new, 8000) == old + new


def test_old_history_goes_before_anything_of_this_turn_is_cut():
    old, new = history(40), turn("r" * 2000)
    sent = fit_turn(old, new, 1500)
    assert tokens(sent) <= 1500
    assert sent[-len(new) :] == new and CUT_NOTE not in str(new)
    assert sent[0]["role"] == "user" and len(sent) < len(old) + len(new)


def test_the_largest_results_of_this_turn_are_cut_with_a_note_and_stay_paired():
    new = turn("a" * 40_000, "b" * 4_000, "c" * 100)
    sent = fit_turn(history(5), new, 3000)
    assert tokens(sent) <= 3000
    results = [m for m in sent if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in results] == ["c0", "c1", "c2"]
    assert results[0]["content"].endswith(CUT_NOTE)
    assert results[2]["content"] == "c" * 100  # small results kept whole
    assert sent[0]["role"] == "user"  # all history went first


def test_the_hr_budget_counts_and_then_refuses():
    budget = HRBudget(2)
    budget.spend()
    budget.spend()
    with pytest.raises(OverBudget, match="already made 2 HR requests"):
        budget.spend()
    unlimited = HRBudget(None)
    for _ in range(1000):
        unlimited.spend()
