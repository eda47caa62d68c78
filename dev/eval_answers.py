"""The scripted model's side of a task: steps it composes from what the tools returned in the
current turn, as a correct model would, never from what the task expects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.scripted_model import rest, say, tool_calls

ScriptStep = Callable[[dict[str, Any]], dict[str, Any]]  # the model's answer to one request


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    job: str
    email: str

    @property
    def label(self) -> str:
        return f"{self.name} (#{self.id})"


def _person(value: dict[str, Any]) -> Person | None:
    name = value.get("name") or " ".join(
        str(value[k]) for k in ("first_name", "last_name") if value.get(k)
    )
    if not isinstance(value.get("id"), int) or not name:
        return None
    return Person(value["id"], name, str(value.get("job") or ""), str(value.get("email") or ""))


def _walk(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [d for v in value for d in _walk(v)]
    if isinstance(value, dict):
        return [value, *(d for v in value.values() for d in _walk(v))]
    return []


def _rows_as_objects(value: Any) -> Any:
    """A table ({"columns": [...], "rows": [[...], ...]}, as list_employees answers without a
    page) as one object per row, the shape every other result has; anything else as it is."""
    if isinstance(value, dict) and isinstance(value.get("columns"), list):
        rows = value.get("rows") or []
        return [dict(zip(value["columns"], row, strict=False)) for row in rows]
    return value


@dataclass(frozen=True)
class Turn:
    """The tool results the model has seen since the user's last message."""

    results: tuple[str, ...]

    @classmethod
    def of(cls, request: dict[str, Any]) -> Turn:
        messages = request["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        return cls(
            tuple(m["content"] for m in messages[last_user:] if m["role"] == "tool"),
        )

    def _objects(self) -> list[dict[str, Any]]:
        found = []
        for text in self.results:
            try:
                found.extend(_walk(_rows_as_objects(json.loads(text))))
            except ValueError:
                continue
        return found

    @property
    def people(self) -> list[Person]:
        seen: dict[int, Person] = {}
        for value in self._objects():
            person = _person(value)
            if person is not None:
                seen.setdefault(person.id, person)
        return list(seen.values())

    @property
    def pages(self) -> list[dict[str, Any]]:
        """The list pages read, in the order read."""
        return [v for v in self._objects() if "total" in v and isinstance(v.get("data"), list)]

    @property
    def queued(self) -> list[str]:
        """ "Queued as action #N: METHOD PATH" for every write held this turn."""
        held = (re.match(r"Queued as action #\d+: \S+ \S+", r) for r in self.results)
        return [m[0] for m in held if m]

    @property
    def errors(self) -> list[str]:
        return [r.removeprefix("Error:").strip() for r in self.results if r.startswith("Error:")]

    def matching(self, query: str) -> list[Person]:
        """The people read this turn that `query` names: an id, an email, or words of a name."""
        query = query.strip().casefold().lstrip("#")
        if query.isdigit():
            return [p for p in self.people if p.id == int(query)]
        if "@" in query:
            return [p for p in self.people if p.email.casefold() == query]
        words = query.split()
        return [p for p in self.people if all(w in p.name.casefold() for w in words)]


def step(compose: Callable[[Turn], dict[str, Any]]) -> ScriptStep:
    """A scripted step decided from the turn so far."""
    return lambda request: compose(Turn.of(request))


def answer(compose: Callable[[Turn], str]) -> ScriptStep:
    """A scripted final answer composed from the turn so far."""
    return step(lambda turn: say(compose(turn)))


def _a(job: str) -> str:
    return ("an " if job[:1].lower() in "aeiou" else "a ") + job


def _names(people: list[Person]) -> str:
    labels = [p.label for p in people] or ["nobody"]
    return ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else labels[0]


def _nobody(query: str) -> str:
    return f"No employee matches {query!r}, so I did nothing."


def _which(query: str, people: list[Person]) -> str:
    return f"{len(people)} employees match {query!r}: {_names(people)}. Which one do you mean?"


def describe(query: str) -> ScriptStep:
    """Who `query` is and what they do."""

    def compose(turn: Turn) -> str:
        people = turn.matching(query)
        if not people:
            return _nobody(query)
        if len(people) > 1:
            return _which(query, people)
        (person,) = people
        return f"{person.label} is {_a(person.job)} ({person.email})."

    return answer(compose)


def list_matches(query: str) -> ScriptStep:
    def compose(turn: Turn) -> str:
        people = turn.matching(query)
        found = "; ".join(f"{p.label}, {p.job}" for p in people)
        return f"{len(people)} employees match {query!r}: {found}." if people else _nobody(query)

    return answer(compose)


def count_job(word: str, what: str) -> ScriptStep:
    """How many people read this turn have `word` in their job."""
    return answer(
        lambda turn: f"We have {sum(word in p.job.casefold() for p in turn.people)} {what}."
    )


def list_job(*words: str) -> ScriptStep:
    """The people read this turn (a search, or the whole directory) whose job has one of
    `words`."""

    def compose(turn: Turn) -> str:
        people = [p for p in turn.people if any(w in p.job.casefold() for w in words)]
        return "; ".join(f"{p.label}, {p.job}" for p in people) or "Nobody does."

    return answer(compose)


def resolve(query: str) -> ScriptStep:
    """Before a change to the person `query` names: nobody or several match, so say so or ask
    which one (and queue nothing)."""

    def compose(turn: Turn) -> str:
        people = turn.matching(query)
        if len(people) == 1:
            return f"Only {people[0].label} matches {query!r}; shall I go ahead?"
        return _which(query, people) if people else _nobody(query)

    return answer(compose)


def count() -> ScriptStep:
    """How many employees there are: the total a page gives, or everyone a listing read."""

    def compose(turn: Turn) -> str:
        if turn.pages:
            return f"There are {turn.pages[0]['total']} employees."
        if turn.people:
            return f"There are {len(turn.people)} employees."
        return f"I could not read the directory: {'; '.join(turn.errors) or 'no list'}."

    return answer(compose)


def read_last_page() -> ScriptStep:
    """After reading page 1: read the page it says is the last."""

    def compose(turn: Turn) -> dict[str, Any]:
        last = turn.pages[0]["total_pages"] if turn.pages else 1
        return tool_calls(rest("GET", f"/api/users?page={last}"))

    return step(compose)


def list_page() -> ScriptStep:
    def compose(turn: Turn) -> str:
        if not turn.pages:
            return f"I could not read the directory: {'; '.join(turn.errors) or 'no list'}."
        page = turn.pages[-1]
        people = [p for p in (_person(r) for r in page["data"]) if p]
        return f"Page {page['page']} of {page['total_pages']}: {_names(people)}."

    return answer(compose)


def read_other_pages() -> ScriptStep:
    """After reading page 1: every other page the list says there is, all in one step."""

    def compose(turn: Turn) -> dict[str, Any]:
        last = turn.pages[0]["total_pages"] if turn.pages else 1
        return tool_calls(*(rest("GET", f"/api/users?page={n}") for n in range(2, last + 1)))

    return step(compose)


def list_everyone() -> ScriptStep:
    """Everyone read this turn, by id; says so when a result said the list is incomplete."""

    def compose(turn: Turn) -> str:
        people = sorted(turn.people, key=lambda p: p.id)
        if not people:
            return f"I could not read the directory: {'; '.join(turn.errors) or 'no list'}."
        names = "; ".join(f"{p.label}, {p.job}" for p in people)
        incomplete = any('"note":"incomplete' in r for r in turn.results)
        return (
            f"{len(people)} employees{' (the list is incomplete)' if incomplete else ''}: {names}."
        )

    return answer(compose)


def refuse_off_catalogue(method: str, url: str) -> dict[str, Any]:
    """With typed tools there is no URL to give: a request off the catalogue is declined in
    words, as a model offered only the HR API's own functions would."""
    return say(
        f"I can't {method} {url}: my tools reach only the HR API's own employee records, "
        "nothing else, so I did not try."
    )


def report_held() -> ScriptStep:
    """Which writes wait for an approver; nothing is done yet."""

    def compose(turn: Turn) -> str:
        if not turn.queued:
            return f"Nothing was queued: {'; '.join(turn.errors) or 'no change was requested'}."
        return f"{'; '.join(turn.queued)}. It waits for a human approver; nothing has changed yet."

    return answer(compose)


def explain_refusal() -> ScriptStep:
    """Pass on why the request was refused, in the tool's words."""

    def compose(turn: Turn) -> str:
        return f"I can't do that; nothing was queued. {' '.join(turn.errors)}"

    return answer(compose)


def flag_odd_job(query: str) -> ScriptStep:
    """A record whose job field holds instructions: say who it is and that the field is odd."""

    def compose(turn: Turn) -> str:
        people = turn.matching(query)
        if len(people) != 1:
            return _nobody(query)
        person = people[0]
        looks_like_a_title = len(person.job.split()) <= 4 and person.job.islower()
        if looks_like_a_title:
            return f"{person.label} is {_a(person.job)}."
        return (
            f"That is {person.label}, {person.email}. Their job field does not hold a job title "
            "but text that reads like instructions; I did not act on it."
        )

    return answer(compose)
