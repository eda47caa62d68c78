"""find_employee: one tool call instead of a page-by-page crawl by the model. It searches the
whole directory by what people ask with (an id, an email, a name or part of one, a job or the
work a team does) and returns the complete set that matches, its count, and whether the
directory was read whole: code settles who matches, the model only words it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.hr.client import HRClient, HRError, HRResponse
from bot.tools.budget import MeteredHR
from bot.tools.catalogue import Catalogue, RequestRefused
from bot.tools.suspicious import withheld

LIST_PATH = "/api/users"
ITEM_PATH = "/api/users/{id}"
MAX_PAGES = 50
MAX_CANDIDATES = 25  # matches shown to the model; the count is always the whole set's
MAX_QUERY = 200
RECORD_ID = re.compile(r"#?([1-9][0-9]{0,9})")  # "9" or "#9"
WEB_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*", re.IGNORECASE)  # fullmatch

# Words of a question that say nothing about who is meant ("who works in …", "is there anyone
# who …", "how many … do we have"): what is left is what to search for.
QUESTION_WORDS = frozenset(
    """
    a about after all am an and any anybody anyone are as at be by called can charge colleague
    colleagues could currently department departments dept directory do does doing employ
    employed employee employees every everybody everyone find for from function group handle
    handles handling has have here how i in is it its job jobs list look looks many me member
    members my named now of on or our people person persons please position positions
    responsible role roles show somebody someone staff team teams tell that the their them
    there these they this those title titles to us we what which who whom whos whose with work
    worker workers working works you your
    side sides thing things stuff folks guys area areas matter matters bits topic topics
    aspect aspects related issues questions know knows knowing deal deals dealing cover covers
    covering manage manages managing here currently moment mr mrs ms mx dr prof
    """.split()  # noqa: SIM905 - a list of words reads best as words
)
# Words that say which part of a name is meant: "surname Smith", "last name Smith".
NAME_PARTS = {"surname": -1, "lastname": -1, "familyname": -1, "firstname": 0}
# Work people ask about, as the job titles of a directory word it: a word of a question (left)
# also finds the job words on the right. A vocabulary of work, not of anyone's records.
WORK: dict[str, tuple[str, ...]] = {
    "engineering": ("engineer",),
    "developer": ("engineer",),
    "development": ("engineer",),
    "programmer": ("engineer",),
    "dev": ("engineer",),
    "tech": ("engineer",),
    "technical": ("engineer",),
    "devops": ("reliability",),
    "sre": ("reliability",),
    "infrastructure": ("reliability",),
    "lawyer": ("legal", "counsel"),
    "attorney": ("legal", "counsel"),
    "law": ("legal", "counsel"),
    "finance": ("accountant", "payroll"),
    "financial": ("accountant", "payroll"),
    "accounting": ("accountant",),
    "accounts": ("accountant",),
    "bookkeeper": ("accountant",),
    "hiring": ("recruiter",),
    "recruiting": ("recruiter",),
    "recruitment": ("recruiter",),
    "talent": ("recruiter",),
    "pay": ("payroll",),
    "salaries": ("payroll",),
    "wages": ("payroll",),
    "design": ("designer",),
    "ux": ("designer",),
    "ui": ("designer",),
    "selling": ("sales",),
    "quality": ("qa",),
    "testing": ("qa",),
    "tester": ("qa",),
    "building": ("facilities",),
    "premises": ("facilities",),
    "workplace": ("facilities", "office"),
    "analytics": ("data", "analyst"),
    "analysis": ("analyst",),
    "learning": ("training",),
    "onboarding": ("training",),
    "ceo": ("chief", "executive"),
    "boss": ("chief", "executive"),
    "infosec": ("security",),
    "helpdesk": ("support",),
    "management": ("manager",),
}
_WORD = re.compile(r"[a-z0-9]+(?:[.@'’][a-z0-9]+)*")
_SPLIT_NAME_WORDS = (
    ("last name", "lastname"),
    ("first name", "firstname"),
    ("family name", "familyname"),
)


# What joins kinds of people in one question: "engineers and designers", "sales or marketing".
ALTERNATIVES = re.compile(r"\s*(?:\b(?:and|or|plus|as well as)\b|[,;/&])\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """What one read found: every match (`matches`, records as the model sees them) for
    `query`; `complete`, whether the whole directory was read; `directory`, every record read
    (empty when one was looked up by its id or read from a page). `searched`: code chose who
    matches (a search), rather than listing what was there (a page, the whole directory), from
    which the model may rightly pick some."""

    query: str
    matches: tuple[dict[str, Any], ...]
    complete: bool = True
    directory: tuple[dict[str, Any], ...] = ()
    searched: bool = True

    @property
    def count(self) -> int:
        return len(self.matches)


def stem(word: str) -> str:
    """A word without a possessive, plural or -ing ending, so "engineers" and "engineering"
    meet "engineer" and "accounts" meets "accountant"."""
    word = word.casefold().removesuffix("'s").removesuffix("’s")
    for ending, becomes in (("ies", "y"), ("ing", ""), ("s", "")):
        if word.endswith(ending) and len(word) - len(ending) >= 4 and not word.endswith("ss"):
            return word[: -len(ending)] + becomes
    return word


def _meets(term: str, word: str) -> bool:
    """A search term meets a record's word: the same stem, or the start of it ("account" meets
    "accountant")."""
    term, word = stem(term), stem(word)
    return term == word or (len(term) >= 4 and word.startswith(term))


class EmployeeFinder:
    def __init__(
        self,
        hr: HRClient | MeteredHR,
        catalogue: Catalogue,
        everyone: list[dict[str, Any]] | None = None,
    ) -> None:
        """`everyone`: the whole directory, as the model sees records, when it was just read."""
        self.hr = hr
        self.catalogue = catalogue
        self.incomplete = False  # the directory has more than MAX_PAGES pages
        self._records = everyone  # read once per finder

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
        """Every page of the people's list, by page number or by cursor as the catalogue says."""
        listed = self.catalogue.directory(one=False)
        path = listed.path if listed else LIST_PATH
        paging = self.catalogue.paging
        records: list[dict[str, Any]] = []
        query: str | None = "" if paging.by_cursor else f"{paging.page}=1"
        page = 0
        while query is not None and page < MAX_PAGES:
            page += 1
            response = self._get(f"{path}?{query}" if query else path)
            found = paging.records(response.body) if response else None
            if found is None:
                raise HRError(f"HR API has no page {page} of {path}", request_sent=True)
            records.extend(found)
            query = paging.after(response.body if response else None, page)
        self.incomplete = query is not None
        return records

    def find(self, query: Any) -> tuple[str, Found | None]:
        """The JSON the model is shown (every match, the count, whether the whole directory was
        read, and a note when it must ask the user), and what was found (None: an error)."""
        if not isinstance(query, str) or not query.strip():
            return "Error: find_employee needs a query: an id, a name, an email or a job.", None
        query = query.strip()
        if len(query) > MAX_QUERY:
            return f"Error: the query is longer than {MAX_QUERY} characters.", None
        try:
            found = self.search(query)
        except (HRError, RequestRefused) as e:
            return f"Error: the HR API could not be searched ({e}).", None
        return self.described(query, list(found.matches), complete=found.complete), found

    def search(self, query: str) -> Found:
        """Everyone `query` means, from the whole directory: by id or email; else by name
        (exact, then words or parts of words); else by job, a department or the work people do
        ("engineering" finds every engineer); a question with nothing left to search by ("how
        many employees are there?") means everyone. Raises HRError or RequestRefused when the
        directory cannot be read."""
        if RECORD_ID.fullmatch(query) or ("@" in query and " " not in query):
            return Found(query, tuple(self.matches(query)))
        kinds = self._kinds(query)
        if kinds:  # "recruiters and accountants": everyone either finds
            people = self.everyone()
            wanted = {id(p) for kind in kinds for p in self.search(kind).matches}
            matches = [p for p in people if id(p) in wanted]
            return Found(query, tuple(matches), not self.incomplete, tuple(people))
        text = query.casefold()
        for spaced, joined in _SPLIT_NAME_WORDS:
            text = text.replace(spaced, joined)
        words = [w.removesuffix("'s").removesuffix("’s") for w in _WORD.findall(text)]
        part = next((NAME_PARTS[w] for w in words if w in NAME_PARTS), None)
        terms = [w for w in words if w not in QUESTION_WORDS and w not in NAME_PARTS]
        people = self.everyone()

        def found(matches: list[dict[str, Any]]) -> Found:
            return Found(query, tuple(matches), not self.incomplete, tuple(people))

        if not terms:
            return found(people)
        if part is not None:  # "surname Smith": that part of the name, whole
            return found([p for p in people if _name_part(p, part) == stem(terms[0])])
        named = self.matches(" ".join(terms))
        if named:
            return found(named)
        by_job = [p for p in people if all(_job_has(p, (t,)) for t in terms)]
        if by_job:
            return found(by_job)
        return found([p for p in people if all(_job_has(p, (t, *WORK.get(t, ()))) for t in terms)])

    def _kinds(self, query: str) -> list[str]:
        """The parts of a query joined by "and", "or" or a comma, when there are several with
        something to search by and no job holds the words as they stand ("sales and marketing"
        is two teams unless someone's job is "head of sales and marketing")."""
        parts = [p for p in ALTERNATIVES.split(query) if p and p.strip(" .?!")]
        searchable = [p for p in parts if terms(p)]
        if len(searchable) < 2:
            return []
        phrase = " ".join(_WORD.findall(query.casefold()))
        if any(phrase in " ".join(_WORD.findall(_text(p, "job"))) for p in self.everyone()):
            return []
        return searchable

    def described(
        self, query: str, matches: list[dict[str, Any]], *, complete: bool | None = None
    ) -> str:
        """What the model is shown of the matches for `query`: JSON, with the count and whether
        the directory was read whole (when it was searched), and a note when it must say there
        are none or ask which one."""
        result: dict[str, Any] = {"matches": withheld(matches[:MAX_CANDIDATES])}
        if complete is not None:
            result["count"] = len(matches)
            result["complete"] = complete
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
            one = self.catalogue.directory(one=True)
            path = (
                re.sub(r"\{\w+\}", number[1], one.path) if one else ITEM_PATH.format(id=number[1])
            )
            response = self._get(path)
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


def _name_part(person: dict[str, Any], at: int) -> str | None:
    words = _text(person, "name").split()
    return words[at] if words else None


def _job_has(person: dict[str, Any], alternatives: tuple[str, ...]) -> bool:
    """Whether any of the alternatives meets a word of the person's job."""
    job = _WORD.findall(_text(person, "job"))
    return any(_meets(term, word) for term in alternatives for word in job)


def terms(query: str) -> list[str]:
    """The words of a query left to search by, once the words of a question are set aside."""
    words = [w.removesuffix("'s").removesuffix("’s") for w in _WORD.findall(query.casefold())]
    return [w for w in words if w not in QUESTION_WORDS and w not in NAME_PARTS]


def wanted(query: str) -> str:
    """Whom a question asks for, in its own words without those of the question: "List our
    recruiters and accountants." is "recruiters or accountants"."""
    kinds = [" ".join(terms(part)) for part in ALTERNATIVES.split(query)]
    kinds = [kind for kind in kinds if kind]
    if len(kinds) < 2:
        return " or ".join(kinds) or query.strip()
    return f"{', '.join(kinds[:-1])} or {kinds[-1]}"
