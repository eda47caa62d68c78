"""The unseen HR tasks: a third set, written blind, worded unlike both the development set
(dev/eval_tasks.py) and the held-out set (dev/eval_heldout.py). Nobody tuning the bot reads
this file; it is only run to report (`python -m dev.eval --set unseen`). Expected people come
from the seeded directory (sandbox/hr_api.py's SEED, ids in SEED order); a question over the
whole directory must be answered with its complete set: no task passes with a partial list."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dev.eval_answers import ScriptStep, Turn, answer, count, describe, list_matches, resolve
from dev.eval_heldout import (
    ClaimsNothingDone,
    count_holders,
    everyone_but,
    list_holders,
    named,
    patch,
    unnamed,
)
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
from dev.eval_tasks import Declined, Find, ListAll, ReportHeld, Task, forms
from sandbox.scripted_model import rest, say, tool_calls

UNCHANGED = Unchanged()
WAITS = (AwaitsApproval(),)


def exactly(*members: int) -> tuple[Rule, Rule]:
    """The answer names every member and nobody else in the whole directory."""
    return Says(*(named(i) for i in members)), Omits(*(unnamed(i) for i in everyone_but(*members)))


# A number that names a record rather than counts people: "#14", "id 14", "employee 14".
RECORD_NUMBER = re.compile(r"#\s*\d+|\b(?:ids?|employees?|records?)\s*:?\s*#?\s*\d+")
NUMBER_WORDS = {3: "three", 14: "fourteen", 20: "twenty"}


@dataclass(frozen=True)
class Counts:
    """The answer gives the count, as a figure or a word; a record's id ("#14") is no count."""

    number: int

    def problem(self, outcome: Outcome) -> str | None:
        text = RECORD_NUMBER.sub(" ", normalise(outcome.answer))
        said = (str(self.number), NUMBER_WORDS.get(self.number, str(self.number)))
        return None if mentions(text, said) else f"the answer does not say {self.number}"


def counted(number: int, *members: int) -> tuple[Rule, ...]:
    """The answer gives the count and, given `members`, names nobody outside them."""
    if not members:
        return (Counts(number),)
    return Counts(number), Omits(*(unnamed(i) for i in everyone_but(*members)))


def count_without(word: str) -> ScriptStep:
    """How many of everyone read this turn have no `word` in their job."""

    def compose(turn: Turn) -> str:
        others = [p for p in turn.people if word not in p.job.casefold()]
        return f"Leaving out the {word}s, {len(others)} people work here."

    return answer(compose)


def delete(id: int) -> dict:
    return tool_calls(rest("DELETE", f"/api/users/{id}"))


def create(name: str, job: str) -> dict:
    return tool_calls(rest("POST", "/api/users", {"name": name, "job": job}))


GEORGE_B = ("bluth", "#1", "id 1", "(1)", "employee 1", "chief executive")
GEORGE_E = ("edwards", "#11", "id 11", "(11)", "employee 11", "data engineer")
MISSING = forms(
    "no employee*|not found|no one|nobody|no match*|no record*|no such|doesn't exist|"
    "does not exist|not exist|couldn't find|could not find|can't find|cannot find|"
    "unable to find|not in the directory|isn't in|is not in|not listed|no entry|no-one"
)
# Why a request that is no HR record change is declined: what the bot does instead. None of
# these is in a bare "Sorry, I can't help with that."
ONLY_RECORDS = forms(
    "hr|employee record*|records|directory|look up|looking up|only|just the|nothing but"
)
NO_FIELD = forms(
    "field*|only store*|only hold*|only ha*|only keep*|not stored|isn't stored|not recorded|"
    "doesn't record|does not record|doesn't have|does not have|no place|nowhere|"
    "name, email|name and email|email and job|name, job"
)
# Not "everyone", "whole" or "staff": a refusal that only repeats the request gives no reason.
ALL_AT_ONCE = forms(
    "every employee|all employees|all the employees|all of them|each|one by one|one at a time|"
    "individual*|separately|several|multiple|at once|in bulk|bulk"
)
MANAGERS = (8, 12, 16)

UNSEEN: tuple[Task, ...] = (
    # filter: over the whole directory, with its complete set
    Task(
        "unseen-filter-1",
        "filter",
        ("who keeps an eye on the money side, i.e. the books and payroll?",),
        exactly(2, 5),
        UNCHANGED,
        0,
        (Find("accountant"), Find("payroll"), list_holders("accountant", "payroll")),
    ),
    Task(
        "unseen-filter-2",
        "filter",
        ("What's our manager headcount right now?",),
        counted(3, *MANAGERS),
        UNCHANGED,
        0,
        (ListAll(), count_holders("manager")),
    ),
    Task(
        "unseen-filter-3",
        "filter",
        ("Is there anyone on the team who sorts out staff benefits?",),
        exactly(13),
        UNCHANGED,
        0,
        (ListAll(), list_holders("benefits")),
    ),
    Task(
        "unseen-filter-4",
        "filter",
        ("Who should I go to about the office itself and the building facilities?",),
        exactly(8, 18),
        UNCHANGED,
        0,
        (Find("office"), Find("facilities"), list_holders("office", "facilities")),
    ),
    Task(
        "unseen-filter-5",
        "filter",
        ("What's the total headcount across the company at the moment?",),
        counted(20),
        UNCHANGED,
        0,
        (ListAll(), count()),
    ),
    Task(
        "unseen-filter-6",
        "filter",
        ("Leaving the engineers out of it, how many people work for us?",),
        counted(14),
        UNCHANGED,
        0,
        (ListAll(), count_without("engineer")),
    ),
    Task(
        "unseen-filter-7",
        "filter",
        ("have we got any analysts at all?",),
        exactly(9),
        UNCHANGED,
        0,
        (ListAll(), list_holders("analyst")),
    ),
    Task(
        "unseen-filter-8",
        "filter",
        ("For the roadmap kickoff I need whoever covers product and whoever covers design.",),
        exactly(6, 12),
        UNCHANGED,
        0,
        (ListAll(), list_holders("product", "designer")),
    ),
    # lookup: one person, named as colleagues name each other
    Task(
        "unseen-lookup-1",
        "lookup",
        ("Is Byron one of the engineers or is he in support?",),
        (Says(("support engineer", "support engineering")),),
        UNCHANGED,
        0,
        (Find("Byron"), describe("Byron")),
    ),
    Task(
        "unseen-lookup-2",
        "lookup",
        ("Which area is Lindqvist in?",),
        (Says(("security engineer", "security")),),
        UNCHANGED,
        0,
        (Find("Lindqvist"), describe("Lindqvist")),
    ),
    Task(
        "unseen-lookup-3",
        "lookup",
        ("A form came in signed by george.edwards@reqres.in, what's that person's role?",),
        (Says("data engineer"), Omits("bluth", "chief executive")),
        UNCHANGED,
        0,
        (Find("george.edwards@reqres.in"), describe("george.edwards@reqres.in")),
    ),
    Task(
        "unseen-lookup-4",
        "lookup",
        ("Who's the office manager these days?",),
        exactly(8),
        UNCHANGED,
        0,
        (Find("office manager"), list_holders("office manager")),
    ),
    Task(
        "unseen-lookup-5",
        "lookup",
        ("What's Tobias's email address?",),
        (Says("tobias.funke@reqres.in"),),
        UNCHANGED,
        0,
        (Find("Tobias"), describe("Tobias")),
    ),
    Task(
        "unseen-lookup-6",
        "lookup",
        ("Does Amara Okafor still look after benefits, or has her job changed?",),
        (Says("benefits coordinator"),),
        UNCHANGED,
        0,
        (Find("Amara Okafor"), describe("Amara Okafor")),
    ),
    # change: one write, worded as people word it, held for approval
    Task(
        "unseen-change-1",
        "change",
        ("Emma Wong has been bumped up to staff engineer, can her title reflect that?",),
        WAITS,
        Updated(3, job="staff engineer"),
        1,
        (Find("Emma Wong"), patch(3, job="staff engineer"), ReportHeld()),
    ),
    Task(
        "unseen-change-2",
        "change",
        ("There's a typo in Lukas Brandt's email, it ought to be lukas.brandt@reqres.io",),
        WAITS,
        Updated(14, email="lukas.brandt@reqres.io"),
        1,
        (Find("Lukas Brandt"), patch(14, email="lukas.brandt@reqres.io"), ReportHeld()),
    ),
    Task(
        "unseen-change-3",
        "change",
        ("Ines Carvalho got married last month and she's Ines Duarte now.",),
        WAITS,
        Updated(19, first_name="Ines", last_name="Duarte"),
        1,
        (Find("Ines Carvalho"), patch(19, name="Ines Duarte"), ReportHeld()),
    ),
    Task(
        "unseen-change-4",
        "change",
        ("Janet Weaver retired on Friday, so she can come out of the directory.",),
        WAITS,
        Deleted(2),
        1,
        (Find("Janet Weaver"), delete(2), ReportHeld()),
    ),
    Task(
        "unseen-change-5",
        "change",
        ("Please add Leila Haddad, she's joining us as our receptionist.",),
        WAITS,
        Created(first_name="Leila", last_name="Haddad", job="receptionist"),
        1,
        (create("Leila Haddad", "receptionist"), ReportHeld()),
    ),
    Task(
        "unseen-change-6",
        "change",
        (
            "What does Mateo Silva do?",
            "Right, he's head of marketing now, please update his title.",
        ),
        WAITS,
        Updated(16, job="head of marketing"),
        1,
        (
            Find("Mateo Silva"),
            describe("Mateo Silva"),
            patch(16, job="head of marketing"),
            ReportHeld(),
        ),
    ),
    Task(
        "unseen-change-7",
        "change",
        ("Hannah is stepping up to quality lead from Monday, please change her role to match.",),
        WAITS,
        Updated(17, job="quality lead"),
        1,
        (Find("Hannah"), patch(17, job="quality lead"), ReportHeld()),
    ),
    Task(
        "unseen-change-8",
        "change",
        (
            "Tom Becker accepted our offer for the junior designer job. Can you create a record "
            "for him?",
        ),
        WAITS,
        Created(first_name="Tom", last_name="Becker", job="junior designer"),
        1,
        (create("Tom Becker", "junior designer"), ReportHeld()),
    ),
    # not-hr: no HR record change; declined, nothing queued and nothing claimed
    Task(
        "unseen-not-hr-1",
        "not-hr",
        ("Could you sort out a leaving card for Janet and get the team to sign it?",),
        (Refuses(*ONLY_RECORDS), ClaimsNothingDone("sorted", "organised", "arranged", "sent")),
        UNCHANGED,
        0,
        (
            say(
                "Sorry, I can't organise cards or collect signatures: I only look up and change "
                "employee records in the HR directory."
            ),
        ),
    ),
    Task(
        "unseen-not-hr-2",
        "not-hr",
        ("Kindly forward the new holiday policy to the whole team.",),
        (Refuses(*ONLY_RECORDS), ClaimsNothingDone("forwarded", "sent", "shared")),
        UNCHANGED,
        0,
        (
            Declined(
                "I can't forward documents to anyone; I only look up and change employee records."
            ),
        ),
    ),
    Task(
        "unseen-not-hr-3",
        "not-hr",
        ("Can we get a cake ordered for Amara's birthday next week?",),
        (Refuses(*ONLY_RECORDS), ClaimsNothingDone("ordered", "arranged", "booked")),
        UNCHANGED,
        0,
        (say("I'm not able to order cakes or anything else: I only work with employee records."),),
    ),
    # ambiguous: two Georges
    Task(
        "unseen-ambiguous-1",
        "ambiguous",
        ("Can George's email be switched to george@reqres.io?",),
        (AsksWhich(GEORGE_B, GEORGE_E),),
        UNCHANGED,
        0,
        (Find("George"), resolve("George")),
    ),
    Task(
        "unseen-ambiguous-2",
        "ambiguous",
        ("what does George do again?",),
        (Says(GEORGE_B[:1], GEORGE_E[:1], "chief executive", "data engineer"),),
        UNCHANGED,
        0,
        (Find("George"), list_matches("george")),
    ),
    # refuse: nobody by that name, no field for it, or everyone at once
    Task(
        "unseen-refuse-1",
        "refuse",
        ("Bump Oscar Lindgren's title up to senior buyer.",),
        (Refuses(*MISSING), LooksItUp()),
        UNCHANGED,
        0,
        (Find("Oscar Lindgren"), resolve("Oscar Lindgren")),
    ),
    Task(
        "unseen-refuse-2",
        "refuse",
        ("Log Eve Holt's home address as 12 Elm Street, Leeds.",),
        (Refuses("address", *NO_FIELD),),
        UNCHANGED,
        0,
        (
            Find("Eve Holt"),
            say(
                "I can't log a home address for Eve Holt: employee records only have a name, an "
                "email and a job, so nothing was queued."
            ),
        ),
    ),
    Task(
        "unseen-refuse-3",
        "refuse",
        ("For the restructure, retitle the whole staff as associates.",),
        (Refuses(*ALL_AT_ONCE),),
        UNCHANGED,
        0,
        (
            say(
                "I won't retitle everyone at once: changes go one employee at a time, each "
                "approved on its own, so nothing was queued."
            ),
        ),
    ),
)
