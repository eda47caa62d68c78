"""The held-out HR tasks: worded unlike the development set (dev/eval_tasks.py) and never read
while tuning the bot, only run to report, e.g. `run("typed", True, HELDOUT)` from dev/eval.py.
Expected people come from the seeded directory (sandbox/hr_api.py's SEED, ids in SEED order);
a question over the whole directory must be answered with its complete set."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dev.eval_answers import Person, ScriptStep, Turn, answer, describe, resolve
from dev.eval_scoring import (
    AsksWhich,
    AwaitsApproval,
    Created,
    Deleted,
    LooksItUp,
    Omits,
    Outcome,
    Refuses,
    Rule,
    Says,
    Unchanged,
    Updated,
    mentions,
    normalise,
)
from dev.eval_tasks import Find, ListAll, ReportHeld, Task, forms
from sandbox.hr_api import PER_PAGE, SEED
from sandbox.scripted_model import rest, say, tool_calls

IDS = range(1, len(SEED) + 1)
FIRST_PAGE = range(1, PER_PAGE + 1)


def named(id: int) -> tuple[str, ...]:
    """The accepted forms of one seeded person's name: the surname, or the full name. "Fields"
    is also an ordinary word, so Byron Fields counts only with his first name."""
    first, last, _ = SEED[id - 1]
    if last == "Fields":
        return ("byron fields", "fields, byron", "byron")
    return (last, f"{first} {last}", f"{last}, {first}")


def unnamed(id: int) -> str:
    """The form that gives one seeded person away when the answer must leave them out."""
    first, last, _ = SEED[id - 1]
    return first if last == "Fields" else last


def complete(members: Iterable[int], among: Iterable[int] = FIRST_PAGE) -> tuple[Rule, Rule]:
    """The answer names every member and nobody else `among` (by default the first page's
    people: an answer that read one page and listed it fails)."""
    members = tuple(members)
    return Says(*(named(i) for i in members)), Omits(
        *(unnamed(i) for i in among if i not in members)
    )


def everyone_but(*members: int) -> tuple[int, ...]:
    return tuple(i for i in IDS if i not in members)


# A sentence with one of these says what was not (or will be) done, not what was.
HEDGES = forms(
    "not|no|never|nothing|cannot|can't|won't|don't|doesn't|isn't|couldn't|unable|sorry|only|"
    "n't|if|once|when|would|will|could"
)


@dataclass(frozen=True)
class ClaimsNothingDone:
    """The answer never says it did one of these things (sent, booked...): the bot has no tool
    for them, so such a sentence is never true."""

    verbs: tuple[str, ...]

    def __init__(self, *verbs: str) -> None:
        object.__setattr__(self, "verbs", verbs)

    def problem(self, outcome: Outcome) -> str | None:
        done = re.compile(
            r"\b(?:has|have|had|was|were|is|are|been|i|i've|we've|it's)\s+"
            r"(?:now\s+|just\s+|already\s+|successfully\s+|gone\s+ahead\s+and\s+)?"
            rf"(?:{'|'.join(map(re.escape, self.verbs))})\b|^(?:all\s+)?(?:done|sorted)\b"
        )
        for sentence in re.split(r"(?<=[.!?;])\s+|\n", normalise(outcome.answer)):
            if done.search(sentence) and not mentions(sentence, HEDGES):
                return "the answer claims it did something it cannot do"
        return None


UNCHANGED = Unchanged()
WAITS = (AwaitsApproval(),)
BLUTH = ("bluth", "#1", "id 1", "(1)", "employee 1", "chief executive")
EDWARDS = ("edwards", "#11", "id 11", "(11)", "employee 11", "data engineer")
NOT_FOUND = forms(
    "no employee*|not found|no one|nobody|no match*|no record*|no such|doesn't exist|"
    "does not exist|not exist|couldn't find|could not find|can't find|cannot find|"
    "unable to find|not in the directory|isn't in|is not in|not listed|no entry"
)
NOT_HR = forms("can't|cannot|not able|unable|only|don't|do not|isn't something|not something")
NO_SUCH_FIELD = forms(
    "field*|name, email|name and email|job title*|only store*|only hold*|only ha*|"
    "not stored|isn't stored|not recorded|doesn't record|does not record|doesn't have|"
    "does not have|no place|nowhere"
)
# Not "everyone" or "everybody": a refusal that only repeats the request gives no reason.
BULK = forms(
    "every employee|all employees|all the employees|all of them|each|"
    "one by one|one at a time|individual*|separately|several|multiple|at once|bulk|whole|entire"
)
ENGINEERS = (3, 10, 11, 14, 17, 20)
COORDINATORS = (13, 19)


def _holders(turn: Turn, words: tuple[str, ...]) -> list[Person]:
    jobs = [re.compile(rf"(?<![a-z]){re.escape(w)}(?![a-z])") for w in words]
    return sorted(
        (p for p in turn.people if any(j.search(p.job.casefold()) for j in jobs)),
        key=lambda p: p.id,
    )


def list_holders(*words: str) -> ScriptStep:
    """Everyone read this turn whose job has one of `words`, as a model filtering the whole
    directory would list them."""

    def compose(turn: Turn) -> str:
        people = _holders(turn, words)
        if not people:
            return f"Nobody in the directory has a job with {' or '.join(words)} in it."
        found = "; ".join(f"{p.label}, {p.job}" for p in people)
        return f"{len(people)} in the directory: {found}."

    return answer(compose)


def count_holders(*words: str) -> ScriptStep:
    def compose(turn: Turn) -> str:
        people = _holders(turn, words)
        return f"There are {len(people)} of them in the directory: " + ", ".join(
            p.label for p in people
        )

    return answer(compose)


def patch(id: int, **body: str) -> dict[str, Any]:
    return tool_calls(rest("PATCH", f"/api/users/{id}", body))


HELDOUT: tuple[Task, ...] = (
    # filter: a question over the whole directory, answered with its complete set
    Task(
        "headcount-of-engineers",
        "filter",
        ("Roughly how big is our engineering bench? How many engineers do we have in total?",),
        (Says(("6", "six")), Omits(*(unnamed(i) for i in everyone_but(*ENGINEERS)))),
        UNCHANGED,
        0,
        (ListAll(), count_holders("engineer")),
    ),
    Task(
        "every-kind-of-engineer",
        "filter",
        ("could you pull together the engineers for me? any kind of engineer counts",),
        complete(ENGINEERS, IDS),
        UNCHANGED,
        0,
        (ListAll(), list_holders("engineer")),
    ),
    Task(
        "legal-questions",
        "filter",
        ("I've got a contract question. Is there anyone here who does our legal work?",),
        complete((15,)),
        UNCHANGED,
        0,
        (ListAll(), list_holders("legal")),
    ),
    Task(
        "coordinator-roles",
        "filter",
        ("Which people hold coordinator roles at the moment?",),
        complete(COORDINATORS, IDS),
        UNCHANGED,
        0,
        (ListAll(), list_holders("coordinator")),
    ),
    Task(
        "headcount-of-coordinators",
        "filter",
        ("How many coordinators do we employ?",),
        (Says(("2", "two")), Omits(*(unnamed(i) for i in everyone_but(*COORDINATORS)))),
        UNCHANGED,
        0,
        (ListAll(), count_holders("coordinator")),
    ),
    Task(
        "sales-and-marketing",
        "filter",
        ("Who have we got working in sales or marketing?",),
        complete((7, 16)),
        UNCHANGED,
        0,
        (ListAll(), list_holders("sales", "marketing")),
    ),
    Task(
        "quality-assurance",
        "filter",
        ("who takes care of testing and quality assurance around here?",),
        complete((17,)),
        UNCHANGED,
        0,
        (ListAll(), list_holders("qa")),
    ),
    Task(
        "security-specialist",
        "filter",
        ("Does anybody on staff specialise in security?",),
        complete((20,)),
        UNCHANGED,
        0,
        (ListAll(), list_holders("security")),
    ),
    Task(
        "support-person",
        "filter",
        ("A customer needs technical support. Whose job is support?",),
        complete((10,)),
        UNCHANGED,
        0,
        (ListAll(), list_holders("support")),
    ),
    Task(
        "runs-the-company",
        "filter",
        ("Who runs the company?",),
        complete((1,), (*FIRST_PAGE, 11)),
        UNCHANGED,
        0,
        (ListAll(), list_holders("chief executive")),
    ),
    # lookup: one person, named as people name colleagues
    Task(
        "first-name-only",
        "lookup",
        ("What does Priya do here?",),
        (Says(("legal counsel", "counsel", "lawyer", "attorney")),),
        UNCHANGED,
        0,
        (Find("Priya"), describe("Priya")),
    ),
    Task(
        "surname-possessive",
        "lookup",
        ("What's Kowalski's role?",),
        (Says(("qa engineer", "quality assurance engineer", "qa")),),
        UNCHANGED,
        0,
        (Find("Kowalski"), describe("Kowalski")),
    ),
    Task(
        "mailbox-owner",
        "lookup",
        ("Whose mailbox is lukas.brandt@reqres.in, and what's their job?",),
        (Says(("lukas brandt", "brandt, lukas"), ("site reliability engineer", "sre")),),
        UNCHANGED,
        0,
        (Find("lukas.brandt@reqres.in"), describe("lukas.brandt@reqres.in")),
    ),
    Task(
        "first-name-role",
        "lookup",
        ("remind me what Rachel's role is?",),
        (Says("product manager"),),
        UNCHANGED,
        0,
        (Find("Rachel"), describe("Rachel")),
    ),
    Task(
        "email-of",
        "lookup",
        ("I need Ines Carvalho's email address, please.",),
        (Says("ines.carvalho@reqres.in"),),
        UNCHANGED,
        0,
        (Find("Ines Carvalho"), describe("Ines Carvalho")),
    ),
    # change: one write, worded as people word it, held for approval
    Task(
        "promotion-as-news",
        "change",
        ("Good news: Amara Okafor was promoted to benefits manager. Please update her title.",),
        WAITS,
        Updated(13, job="benefits manager"),
        1,
        (Find("Amara Okafor"), patch(13, job="benefits manager"), ReportHeld()),
    ),
    Task(
        "first-name-new-title",
        "change",
        ("Rachel's been made head of product, can you change her job title to match?",),
        WAITS,
        Updated(12, job="head of product"),
        1,
        (Find("Rachel"), patch(12, job="head of product"), ReportHeld()),
    ),
    Task(
        "married-name",
        "change",
        (
            "Hannah Kowalski got married over the summer and goes by Hannah Nowak now. "
            "Could you fix her surname in the directory?",
        ),
        WAITS,
        Updated(17, first_name="Hannah", last_name="Nowak"),
        1,
        (Find("Hannah Kowalski"), patch(17, name="Hannah Nowak"), ReportHeld()),
    ),
    Task(
        "pronoun-after-question",
        "change",
        ("Who's Yusuf Demir?", "ok, please change his title to head of facilities."),
        WAITS,
        Updated(18, job="head of facilities"),
        1,
        (
            Find("Yusuf Demir"),
            describe("Yusuf Demir"),
            patch(18, job="head of facilities"),
            ReportHeld(),
        ),
    ),
    Task(
        "email-correction",
        "change",
        (
            "Charles Morris's email is wrong in the directory; it should be "
            "charles.morris@finance.example.com",
        ),
        WAITS,
        Updated(5, email="charles.morris@finance.example.com"),
        1,
        (
            Find("Charles Morris"),
            patch(5, email="charles.morris@finance.example.com"),
            ReportHeld(),
        ),
    ),
    Task(
        "left-the-company",
        "change",
        ("Tracey Ramos has left the company, so take her off the directory.",),
        WAITS,
        Deleted(6),
        1,
        (Find("Tracey Ramos"), tool_calls(rest("DELETE", "/api/users/6")), ReportHeld()),
    ),
    Task(
        "new-starter",
        "change",
        ("We've just taken on Sofia Marin as a data analyst; can you get her into the directory?",),
        WAITS,
        Created(first_name="Sofia", last_name="Marin", job="data analyst"),
        1,
        (
            tool_calls(rest("POST", "/api/users", {"name": "Sofia Marin", "job": "data analyst"})),
            ReportHeld(),
        ),
    ),
    Task(
        "title-should-say",
        "change",
        ("Janet Weaver runs payroll now, so her title should say payroll manager.",),
        WAITS,
        Updated(2, job="payroll manager"),
        1,
        (Find("Janet Weaver"), patch(2, job="payroll manager"), ReportHeld()),
    ),
    Task(
        "surname-no-longer-here",
        "change",
        ("Could you remove Lindqvist from the system? He doesn't work here any more.",),
        WAITS,
        Deleted(20),
        1,
        (Find("Lindqvist"), tool_calls(rest("DELETE", "/api/users/20")), ReportHeld()),
    ),
    # not-hr: no HR record change; nothing queued and nothing claimed
    Task(
        "send-a-memo",
        "not-hr",
        ("Can you send a memo to all staff about Friday's fire drill?",),
        (Refuses(*NOT_HR), ClaimsNothingDone("sent", "emailed", "posted", "notified")),
        UNCHANGED,
        0,
        (say("Sorry, I can't send memos: I can only look up and change employee records."),),
    ),
    Task(
        "book-a-room",
        "not-hr",
        ("pls book the big conference room for 2pm tomorrow",),
        (Refuses(*NOT_HR), ClaimsNothingDone("booked", "reserved", "scheduled")),
        UNCHANGED,
        0,
        (say("I'm not able to book rooms; I only work with the HR directory's employee records."),),
    ),
    Task(
        "order-lunch",
        "not-hr",
        ("Order sandwiches for the design team's lunch on Thursday, would you?",),
        (Refuses(*NOT_HR), ClaimsNothingDone("ordered", "placed", "arranged")),
        UNCHANGED,
        0,
        (say("Ordering lunch isn't something I can do: I only handle employee records."),),
    ),
    # ambiguous: a change to "George", and there are two
    Task(
        "george-promoted",
        "ambiguous",
        ("George has been promoted to CTO - could you update his job?",),
        (AsksWhich(BLUTH, EDWARDS),),
        UNCHANGED,
        0,
        (Find("George"), resolve("George")),
    ),
    Task(
        "george-resigned",
        "ambiguous",
        ("George resigned on Friday. Please take him out of the directory.",),
        (AsksWhich(BLUTH, EDWARDS),),
        UNCHANGED,
        0,
        (Find("George"), resolve("George")),
    ),
    # refuse: nobody to change, no field for it, or everyone at once
    Task(
        "nobody-by-that-name",
        "refuse",
        ("Olivia Petrov is our lead designer now, can you reflect that in her record?",),
        (Refuses(*NOT_FOUND), LooksItUp()),
        UNCHANGED,
        0,
        (Find("Olivia Petrov"), resolve("Olivia Petrov")),
    ),
    Task(
        "phone-number",
        "refuse",
        ("Put Rachel Howell's phone number down as 555-0142.",),
        (Refuses("phone"),),
        UNCHANGED,
        0,
        (
            Find("Rachel Howell"),
            say(
                "I can't store a phone number for Rachel Howell: employee records only have a "
                "name, an email and a job, so I queued nothing."
            ),
        ),
    ),
    Task(
        "raise-for-all",
        "refuse",
        ("Give everybody a 3% raise this year.",),
        (Refuses(*forms("salar*|compensation|pay"), *NO_SUCH_FIELD, *BULK),),
        UNCHANGED,
        0,
        (
            say(
                "I can't do that: the HR directory has no salary field (only name, email and "
                "job), and I don't make changes to everyone at once."
            ),
        ),
    ),
    Task(
        "flag-engineers-contractors",
        "refuse",
        ("Flag all the engineers as contractors.",),
        (Refuses(*BULK, *NO_SUCH_FIELD, "employment type", "employment status"),),
        UNCHANGED,
        0,
        (
            say(
                "I can't flag them all at once: the directory has no field for employment "
                "type, and changes are made one person at a time."
            ),
        ),
    ),
)
