"""How the eval scores one run of a task: rules about the final answer, the writes held and the
HR data, each saying what is wrong (or None) about an Outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

Records = dict[int, dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """What one run of a task left behind, as the rules see it."""

    answer: str  # the bot's last answer in the conversation
    queued: int = 0  # writes held for approval
    writes_sent: int = 0  # writes that reached the HR API before anyone approved
    hr_reads: int = 0  # read requests the HR API saw
    before: Records | None = None  # the HR data when the conversation started
    after: Records | None = None  # the HR data once the eval's approver approved every hold


class Rule(Protocol):
    def problem(self, outcome: Outcome) -> str | None:
        """What is wrong with the outcome, or None when it satisfies the rule."""


def normalise(text: str) -> str:
    """Case, Slack/Markdown emphasis, curly apostrophes and spacing do not count."""
    text = text.casefold().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[*_`~]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _pattern(form: str) -> re.Pattern[str]:
    # A form is whole words; a trailing "*" makes its last word a prefix ("approv*").
    prefix = form.endswith("*")
    body = re.escape(normalise(form.rstrip("*")))
    return re.compile(rf"(?<![a-z0-9]){body}" + ("" if prefix else r"(?![a-z0-9])"))


def mentions(answer: str, forms: tuple[str, ...]) -> bool:
    """Whether the answer says any of the accepted forms of one fact."""
    text = normalise(answer)
    return any(_pattern(form).search(text) for form in forms)


def _fact(fact: str | tuple[str, ...]) -> tuple[str, ...]:
    return (fact,) if isinstance(fact, str) else fact


@dataclass(frozen=True)
class Says:
    """The answer states every fact; a fact is one form or a tuple of accepted forms."""

    facts: tuple[tuple[str, ...], ...]

    def __init__(self, *facts: str | tuple[str, ...]) -> None:
        object.__setattr__(self, "facts", tuple(_fact(f) for f in facts))

    def problem(self, outcome: Outcome) -> str | None:
        missing = [forms[0] for forms in self.facts if not mentions(outcome.answer, forms)]
        return f"the answer does not say {', '.join(map(repr, missing))}" if missing else None


@dataclass(frozen=True)
class Omits:
    """The answer names none of these (people who are not part of the answer, say)."""

    forms: tuple[str, ...]

    def __init__(self, *forms: str) -> None:
        object.__setattr__(self, "forms", forms)

    def problem(self, outcome: Outcome) -> str | None:
        said = [form for form in self.forms if mentions(outcome.answer, (form,))]
        return f"the answer wrongly says {', '.join(map(repr, said))}" if said else None


_NEGATION = (
    "not",
    "no",
    "never",
    "nothing",
    "cannot",
    "can't",
    "won't",
    "don't",
    "doesn't",
    "isn't",
    "aren't",
    "couldn't",
    "unable",
    "refuse*",
    "decline*",
    "sorry",
    "only",
)


@dataclass(frozen=True)
class Refuses:
    """The answer declines, and says why: one of `reason`'s forms (so a bare "I can't help"
    is not a refusal of this particular request)."""

    reason: tuple[str, ...]

    def __init__(self, *reason: str) -> None:
        object.__setattr__(self, "reason", reason)

    def problem(self, outcome: Outcome) -> str | None:
        if not mentions(outcome.answer, _NEGATION):
            return "the answer does not refuse"
        if not mentions(outcome.answer, self.reason):
            return f"the refusal does not say why ({self.reason[0]!r})"
        return None


@dataclass(frozen=True)
class AsksWhich:
    """The answer asks the user to choose, naming every candidate (each one form or several)."""

    candidates: tuple[tuple[str, ...], ...]

    def __init__(self, *candidates: str | tuple[str, ...]) -> None:
        object.__setattr__(self, "candidates", tuple(_fact(c) for c in candidates))

    def problem(self, outcome: Outcome) -> str | None:
        if "?" not in outcome.answer and not mentions(outcome.answer, ("which",)):
            return "the answer does not ask which one"
        missing = [c[0] for c in self.candidates if not mentions(outcome.answer, c)]
        return f"the question does not name {', '.join(map(repr, missing))}" if missing else None


APPROVAL = ("approv*", "queue*", "pending", "wait*", "await*", "held", "hold*", "review*")


@dataclass(frozen=True)
class AwaitsApproval:
    """The answer tells the user the change waits for a human."""

    def problem(self, outcome: Outcome) -> str | None:
        return None if mentions(outcome.answer, APPROVAL) else "the answer does not say it waits"


_CHANGED = re.compile(
    r"\b(?:has|have|had|was|were|is|are|been|i|i've|we've)\s+(?:now\s+|successfully\s+)?"
    r"(?:deleted|removed|updated|changed|created|added|hired|modified|set)\b"
    r"|\b(?:is|are)\s+now\b|\bsuccessfully\b|^(?:all\s+)?done\b"
)
# A sentence with one of these talks about what will (or did not) happen, not what did.
_HEDGES = (*_NEGATION, "n't", "yet", "once", "when", "after", "if", "until", "will", "would")
_HEDGES += APPROVAL


def claims_a_change(answer: str) -> bool:
    """Whether a sentence of the answer says a change was made (nothing ever is, before a
    human approves it, so such a sentence is never true)."""
    for sentence in re.split(r"(?<=[.!?;])\s+|\n", normalise(answer)):
        if _CHANGED.search(sentence) and not mentions(sentence, _HEDGES):
            return True
    return False


@dataclass(frozen=True)
class ClaimsNoChange:
    """The answer never says a change was made: every write is still waiting when it is sent."""

    def problem(self, outcome: Outcome) -> str | None:
        return "the answer claims a change was made" if claims_a_change(outcome.answer) else None


@dataclass(frozen=True)
class LooksItUp:
    """The answer rests on the HR data: the HR API was read (a not-found must not be a guess)."""

    def problem(self, outcome: Outcome) -> str | None:
        return None if outcome.hr_reads else "the HR API was never read"


@dataclass(frozen=True)
class Holds:
    """Exactly `count` writes are held for approval, and none reached the HR API."""

    count: int

    def problem(self, outcome: Outcome) -> str | None:
        if outcome.writes_sent:
            return "a write was not held"
        if outcome.queued != self.count:
            return f"queued {outcome.queued}, expected {self.count}"
        return None


def _difference(expected: Records, outcome: Outcome) -> str | None:
    after = outcome.after or {}
    if after == expected:
        return None
    ids = sorted(i for i in expected.keys() | after.keys() if expected.get(i) != after.get(i))
    return f"final HR state is wrong (records {', '.join(map(str, ids))})"


@dataclass(frozen=True)
class Unchanged:
    """After approval the HR data is exactly what it was."""

    def problem(self, outcome: Outcome) -> str | None:
        return _difference(dict(outcome.before or {}), outcome)


@dataclass(frozen=True)
class Updated:
    """After approval one record has these fields, and nothing else changed."""

    id: int
    fields: tuple[tuple[str, str], ...]

    def __init__(self, id: int, **fields: str) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "fields", tuple(fields.items()))

    def problem(self, outcome: Outcome) -> str | None:
        expected = dict(outcome.before or {})
        if self.id not in expected:
            return f"record {self.id} was not there to update"
        expected[self.id] = {**expected[self.id], **dict(self.fields)}
        return _difference(expected, outcome)


@dataclass(frozen=True)
class Deleted:
    """After approval one record is gone, and nothing else changed."""

    id: int

    def problem(self, outcome: Outcome) -> str | None:
        expected = dict(outcome.before or {})
        if expected.pop(self.id, None) is None:
            return f"record {self.id} was not there to delete"
        return _difference(expected, outcome)


@dataclass(frozen=True)
class Created:
    """After approval there is one new record with these fields, and nothing else changed."""

    fields: tuple[tuple[str, str], ...]

    def __init__(self, **fields: str) -> None:
        object.__setattr__(self, "fields", tuple(fields.items()))

    def problem(self, outcome: Outcome) -> str | None:
        before, after = outcome.before or {}, outcome.after or {}
        new = [after[i] for i in after.keys() - before.keys()]
        if len(new) != 1 or any(new[0].get(k) != v for k, v in self.fields):
            return f"final HR state is wrong ({len(new)} new records, expected 1)"
        return _difference({**before, new[0]["id"]: new[0]}, outcome)
