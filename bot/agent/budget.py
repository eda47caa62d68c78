"""What one user message may cost in tokens: the history and the turn kept within the budget
(within a turn, not only across turns). Its HR requests are counted by bot.tools.budget."""

from __future__ import annotations

from typing import Any

from bot.agent.history import estimate_tokens, kept_indexes

CUT_NOTE = " … [cut: this step's results went over the token budget; ask for less at once]"
CUT_ARGUMENTS = '{"cut": "these arguments went over the token budget"}'


def tokens(messages: list[dict[str, Any]]) -> int:
    return sum(estimate_tokens(m) for m in messages)


def fit_turn(
    history: list[dict[str, Any]], new: list[dict[str, Any]], budget: int
) -> list[dict[str, Any]]:
    """History and this turn's messages within `budget` tokens: the oldest history goes first,
    then the largest tool results of this turn are cut (in place, so later steps stay small).
    Tool calls and their results stay paired."""
    room = budget - tokens(new)
    if room < tokens(history):
        history = [history[i] for i in kept_indexes(history, room)] if room > 0 else []
        if room > 0 and tokens(history) > room:  # kept_indexes always keeps the newest unit
            history = []
    excess = tokens(history) + tokens(new) - budget
    results = sorted(
        (m for m in new if m.get("role") == "tool"), key=lambda m: len(m["content"]), reverse=True
    )
    for message in results:
        if excess <= 0:
            break
        content = message["content"]
        keep = max(0, len(content) - excess * 4 - len(CUT_NOTE))
        message["content"] = content[:keep] + CUT_NOTE
        excess -= (len(content) - len(message["content"])) // 4
    # Last, the model's own long tool-call arguments (already answered; the results say how).
    calls = sorted(
        (c["function"] for m in new for c in m.get("tool_calls") or []),
        key=lambda f: len(f.get("arguments") or ""),
        reverse=True,
    )
    for function in calls:
        if excess <= 0:
            break
        arguments = function.get("arguments") or ""
        if len(arguments) > len(CUT_ARGUMENTS):
            function["arguments"] = CUT_ARGUMENTS
            excess -= (len(arguments) - len(CUT_ARGUMENTS)) // 4
    return history + new
