"""find_employee: one tool call instead of a page-by-page crawl by the model."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.hr.client import HRClient, HRError, HRResponse
from bot.tools.budget import MeteredHR
from bot.tools.catalogue import Catalogue, RequestRefused
from bot.tools.suspicious import withheld

LIST_PATH = "/api/users"
ITEM_PATH = "/api/users/{id}"
MAX_PAGES = 50
MAX_CANDIDATES = 10
MAX_QUERY = 200
RECORD_ID = re.compile(r"#?([1-9][0-9]{0,9})")  # "9" or "#9"
WEB_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*", re.IGNORECASE)  # fullmatch


class EmployeeFinder:
    def __init__(self, hr: HRClient | MeteredHR, catalogue: Catalogue) -> None:
        self.hr = hr
        self.catalogue = catalogue
        self.incomplete = False  # the directory has more than MAX_PAGES pages
        self._records: list[dict[str, Any]] | None = None  # read once per finder

    def _get(self, path: str) -> HRResponse | None:
        request = self.catalogue.validate("GET", path, None)  # the same rules as the model's calls
        response = self.hr.request("GET", request.path)
        if response.status == 404:
            return None
        if response.status != 200 or not isinstance(response.body, dict):
            raise HRError(f"HR API answered {response.status} for {path}", request_sent=True)
        return response

    def everyone(self) -> list[dict[str, Any]]:
        """Every record on up to MAX_PAGES pages, as the model sees records, read once per
        finder; `incomplete` says whether there were more pages."""
        if self._records is None:
            self._records = [self.catalogue.record.view(r) for r in self._read_all()]
        return self._records

    def _read_all(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= min(pages, MAX_PAGES):
            response = self._get(f"{LIST_PATH}?page={page}")
            if response is None:
                raise HRError(f"HR API has no page {page} of {LIST_PATH}", request_sent=True)
            found, total_pages = response.page()
            records.extend(found)
            pages = total_pages or page
            page += 1
        self.incomplete = pages > MAX_PAGES
        return records

    def find(self, query: Any) -> str:
        """Always a JSON string for the model: matches, and a note when it must ask the user."""
        if not isinstance(query, str) or not query.strip():
            return "Error: find_employee needs a query: an id, a name or an email."
        query = query.strip()
        if len(query) > MAX_QUERY:
            return f"Error: the query is longer than {MAX_QUERY} characters."

        try:
            matches = self.matches(query)
        except (HRError, RequestRefused) as e:
            return f"Error: the HR API could not be searched ({e})."
        return self.described(query, matches)

    def described(self, query: str, matches: list[dict[str, Any]]) -> str:
        """What the model is shown of the matches for `query`: JSON, with a note when it must
        say there are none or ask which one."""
        result: dict[str, Any] = {"matches": withheld(matches[:MAX_CANDIDATES])}
        if not matches:
            result["note"] = f"No employee matches {query!r}. Say so; do not guess."
        elif len(matches) > 1:
            more = (
                f" (showing {MAX_CANDIDATES} of {len(matches)})"
                if len(matches) > MAX_CANDIDATES
                else ""
            )
            result["note"] = (
                f"{len(matches)} employees match{more}. Name them all to the user; before "
                "changing one, ask which one they mean."
            )
        return json.dumps(result, ensure_ascii=False, separators=(",", ":"))

    def matches(self, query: str) -> list[dict[str, Any]]:
        """The employees `query` names (an id, an email, or words of a name), as the model sees
        records; raises HRError or RequestRefused when the directory cannot be read."""
        number = RECORD_ID.fullmatch(query)
        if number:
            response = self._get(ITEM_PATH.format(id=number[1]))
            record = response.record if response else None
            return [self.catalogue.record.view(record)] if isinstance(record, dict) else []
        wanted = query.casefold()
        people = self.everyone()
        if "@" in wanted:
            return [p for p in people if _text(p, "email") == wanted]
        exact = [p for p in people if _text(p, "name") == wanted]
        if exact:
            return exact
        words = wanted.split()
        return [
            p for p in people if all(w in _text(p, "name") or w in _text(p, "email") for w in words)
        ]


def _text(person: dict[str, Any], field: str) -> str:
    return str(person.get(field) or "").casefold()
