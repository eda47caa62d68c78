"""find_employee: one tool call instead of a page-by-page crawl by the model."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.catalogue import Catalogue, RequestRefused
from bot.hr_client import HRClient, HRError

LIST_PATH = "/api/users"
ITEM_PATH = "/api/users/{id}"
MAX_PAGES = 50
MAX_CANDIDATES = 10
MAX_QUERY = 200


def employee(record: dict[str, Any]) -> dict[str, Any]:
    """The fields worth the model's tokens: id, name, email, job."""
    name = f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
    return {
        "id": record.get("id"),
        "name": name,
        "email": record.get("email"),
        "job": record.get("job"),
    }


class EmployeeFinder:
    def __init__(self, hr: HRClient, catalogue: Catalogue) -> None:
        self.hr = hr
        self.catalogue = catalogue

    def _get(self, path: str) -> Any:
        request = self.catalogue.validate("GET", path, None)  # the same rules as the model's calls
        response = self.hr.request("GET", request.path)
        if response.status == 404:
            return None
        if response.status != 200 or not isinstance(response.body, dict):
            raise HRError(f"HR API answered {response.status} for {path}", request_sent=True)
        return response.body

    def _everyone(self) -> list[dict[str, Any]]:
        records, page, pages = [], 1, 1
        while page <= min(pages, MAX_PAGES):
            body = self._get(f"{LIST_PATH}?page={page}") or {}
            data = body.get("data")
            if not isinstance(data, list):
                raise HRError("HR API list answer has no data list", request_sent=True)
            records.extend(r for r in data if isinstance(r, dict))
            total_pages = body.get("total_pages")
            pages = total_pages if isinstance(total_pages, int) and total_pages > 0 else page
            page += 1
        return records

    def find(self, query: Any) -> str:
        """Always a JSON string for the model: matches, and a note when it must ask the user."""
        if not isinstance(query, str) or not query.strip():
            return "Error: find_employee needs a query: an id, a name or an email."
        query = query.strip()
        if len(query) > MAX_QUERY:
            return f"Error: the query is longer than {MAX_QUERY} characters."
        try:
            matches = self._matches(query)
        except (HRError, RequestRefused) as e:
            return f"Error: the HR API could not be searched ({e})."
        result: dict[str, Any] = {"matches": matches[:MAX_CANDIDATES]}
        if not matches:
            result["note"] = f"No employee matches {query!r}. Say so; do not guess."
        elif len(matches) > 1:
            more = (
                f" (showing {MAX_CANDIDATES} of {len(matches)})"
                if len(matches) > MAX_CANDIDATES
                else ""
            )
            result["note"] = (
                f"Several employees match{more}. Ask the user which one they mean; do not pick one."
            )
        return json.dumps(result, ensure_ascii=False, separators=(",", ":"))

    def _matches(self, query: str) -> list[dict[str, Any]]:
        number = re.fullmatch(r"#?([1-9][0-9]{0,9})", query)
        if number:
            body = self._get(ITEM_PATH.format(id=number[1]))
            record = body.get("data") if body else None
            return [employee(record)] if isinstance(record, dict) else []
        wanted = query.casefold()
        people = [employee(r) for r in self._everyone()]
        if "@" in wanted:
            return [p for p in people if (p["email"] or "").casefold() == wanted]
        exact = [p for p in people if p["name"].casefold() == wanted]
        if exact:
            return exact
        words = wanted.split()
        return [
            p
            for p in people
            if all(w in p["name"].casefold() or w in (p["email"] or "").casefold() for w in words)
        ]
