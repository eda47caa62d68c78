"""What one user message may cost: HR requests counted against a limit, and the token budget
kept within a turn (not only across turns)."""

from __future__ import annotations

from typing import Any

from approvals.authority import Authority, NotConnected, SharedToken
from bot.conversation.history import estimate_tokens, kept_indexes
from bot.hr.client import HRClient, HRResponse

CUT_NOTE = " … [cut: this step's results went over the token budget; ask for less at once]"
CUT_ARGUMENTS = '{"cut": "these arguments went over the token budget"}'


class OverBudget(Exception):
    """This message has made all the HR requests one message may make."""


class HRBudget:
    """Counts HR requests for one user message; `limit` None means no limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def spend(self) -> None:
        if self.limit is not None and self.used >= self.limit:
            raise OverBudget(f"this message has already made {self.limit} HR requests")
        self.used += 1


class MeteredHR:
    """An HR client for one person's message: every request is counted against the budget
    first, and goes out with that person's HR credentials (`authority`). A 401 then drops the
    credentials and raises NotConnected."""

    def __init__(
        self,
        hr: HRClient,
        budget: HRBudget,
        *,
        authority: Authority | None = None,
        person: str | None = None,
    ) -> None:
        self.hr = hr
        self.budget = budget
        self.authority = authority or SharedToken()
        self.person = person

    def _headers(self) -> dict[str, str] | None:
        if not self.authority.required:
            return None
        if self.person is None:
            raise NotConnected("HR requests need a person to be made as.")
        return self.authority.headers(self.person)

    def _check(self, status: int, headers: dict[str, str] | None) -> None:
        if status == 401 and self.authority.required and self.person is not None:
            self.authority.rejected(self.person, headers or {})
            raise NotConnected("the HR API no longer accepts your HR account; connect it again.")

    def request(self, method: str, path: str, **kwargs: Any) -> HRResponse:
        self.budget.spend()
        headers = self._headers()
        if headers:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **headers}
        response = self.hr.request(method, path, **kwargs)
        self._check(response.status, headers)
        return response

    def read_record(self, path: str) -> Any:
        """The record at `path`; None when it is gone (see HRResponse.found)."""
        return self.request("GET", path).found(path)


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
