"""What one user message may cost in HR requests: each counted against a limit, and sent
with the asking person's HR credentials."""

from __future__ import annotations

from typing import Any

from approvals.authority import Authority, NotConnected, SharedToken
from bot.hr.client import HRClient, HRResponse


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
