"""Which record a call is about, settled in code. A typed call names it as the user did (an id,
a name or an email) and it is resolved here; a change goes only to a record people's own words
in the conversation name. A change to several people, nobody, everyone or a web address ends
with the bot's own question or answer, and the model never picks one of several people for a
change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from approvals.slack.values import visible
from bot.hr.client import HRError
from bot.tools.checks import RequestRefused
from bot.tools.context import coded
from bot.tools.finder import RECORD_ID, WEB_ADDRESS, EmployeeFinder
from bot.tools.suspicious import withheld
from bot.tools.typed import TypedTool

# Everyday words that are also people's names: a name made only of them (*Will Read*, *Mark
# Young*) is named only when written whole, as a name.
EVERYDAY_WORDS = frozenset(
    """
    april art ash august autumn baker banks bell best bill birch bishop black bliss bloom bob
    bond bright brook brooks brown bush carpenter case cash chance chase church clay cliff cook
    crane crystal dale dawn day dean don down drew duke dusty early earl east fair faith field
    fields finch fisher fox frank friend gene glen glory gold good grace grant gray green grey
    guy hall hart heath hill holly honor hope house hunter iris ivy jack joy june king lamb lane
    little long lord love lucky major mark marshall mason may miles miller more moss new noble
    north oak old page park pat pearl penny pierce porter price prince rich river rivers rob
    rock rod rose ruby rusty sandy sharp short sky smith south spring star sterling stone storm
    strong sue summer sunny swan swift taylor turner walker ward well wells west white will
    winter wise wolf wood woods young read reed rice ray
    """.split()  # noqa: SIM905 - a list of words reads best as words
)
# What follows a number that counts or measures: never a record's id ("record 3 hours").
UNITS = (
    r"s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|nights?|weeks?|wks?|months?|"
    r"years?|yrs?|times?|people|persons?|employees|staff|members|percent|per|pm|am|o'clock|"
    r"ways?|points?|places?|spots?|steps?|items?|pages?|shifts?|dollars?|euros?|pounds?|usd|"
    r"eur|gbp|k|m|bn|hundred|thousand|million"
)
MONTHS = (
    r"jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|"
    r"september|oct|october|nov|november|dec|december"
)
# Before "#N" or "No. N", what makes the number a rank or an ordinal: "ranked #1", "our #1".
RANKED = r"ranked|ranks?|ranking|top|placed|came|finished|our|the|a|an|his|her|their|my|your|its"
# Before "#N", things people number that are not records: "pay grade #7", "shift #2".
NUMBERED = (
    r"grade|band|level|step|shift|floor|room|desk|seat|table|line|week|day|team|group|tier|"
    r"phase|round|spot|item|point|option|question|slide|gate|building|office|lane|bay|zone|"
    r"unit|suite|ticket|invoice|order|case|issue|version|season|episode|chapter|section"
)
# Lowercase words that may follow an id written "#9" ("#9 please", "#9 and #11").
FOLLOWS_AN_ID = frozenset(
    """
    and or please pls now too also is was has had to from as with which who whose
    instead then thanks today tomorrow immediately asap right
    """.split()  # noqa: SIM905 - a list of words reads best as words
)
# A title before a name, which no record's name holds: "Mr Brandt", "Dr. Raman".
HONORIFIC = re.compile(r"^(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame)\.?\s+(?=\w)", re.IGNORECASE)
# Words that name no one person: a change to them is a change to everyone.
EVERYONE = frozenset({"all", "everyone", "everybody", "all of them", "every employee", "*"})
MAX_NAMED = 10  # candidates named in a question
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# After a sentence's first word, what makes it the subject a person is: "Kiera is now…",
# "Kiera got married", "Kiera has left". ("Cook something up" opens with a word, not a name.)
AS_SUBJECT = re.compile(
    r"\s+(?:is|was|has|had|got|gets|will|just|now|needs|wants|became|becomes|left|joined|"
    r"moved|married|starts|started|changed|should)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Unresolved:
    """Why a reference names no single record: `content` for the model; `answer`, when set, for
    the user (the turn ends there)."""

    content: str
    answer: str | None = None
    nobody: bool = False  # the reference names no record at all (not several, not everyone)


def resolve(finder: EmployeeFinder, value: Any, *, noun: str, change: bool) -> int | Unresolved:
    """The id `value` names: an id as it is; else, for a change, the one record whose email or
    whole name words match (never a part of a word); for a read, the one record the finder
    finds. Anything else is Unresolved."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = HONORIFIC.sub("", str(value).strip())  # "Mr Brandt" is Brandt
    number = RECORD_ID.fullmatch(text)
    if number:
        return int(number[1])
    elsewhere = off_the_api(text, noun)
    if elsewhere is not None:
        return elsewhere
    if not text.strip(" .!?"):
        return Unresolved(f"Error: `{noun}` is empty: give the {noun}'s id, name or email.")
    if text.casefold().strip(" .!") in EVERYONE:
        if change:
            return several_at_once(noun)
        return Unresolved(f"Error: `{noun}` names one {noun}; to read them all, list them.")
    try:
        found = finder.matches(text)
    except (HRError, RequestRefused) as e:
        return Unresolved(f"Error: the HR API could not be searched ({e}); nothing was run.")
    if not change:  # a read: the one found, or the candidates (or no one) for the model
        if len(found) == 1 and isinstance(found[0].get("id"), int):
            return int(found[0]["id"])
        return Unresolved(finder.described(text, found))
    matches = [record for record in found if _fits(text, record)]
    if not matches:  # "Ana Souza Pereira": a rename or a marriage names the record as it is now
        matches = _within(finder, text)
    if not matches:  # "yusufdemir", "yusuf_demir": a whole name the model wrote run together
        matches = _run_together(finder, text)
    if not matches:  # "the controller": the one person with that job (whom people must name)
        matches = _by_job(finder, text)
    if len(matches) == 1 and isinstance(matches[0].get("id"), int):
        return int(matches[0]["id"])
    if not matches and finder.incomplete:
        answer = (
            f"The directory is too large to search whole, so I cannot tell who {coded(text)} "
            f"is; nothing was queued. Name the {noun} by id or email."
        )
        return Unresolved(f"Error: {answer} The user has been told.", answer)
    if not matches:
        near = f" The nearest: {_labels(found)}." if found else ""
        answer = f"No {noun} is named {coded(text)}, so nothing was queued.{near}"
        return Unresolved(f"Error: {answer} The user has been told.", answer, nobody=True)
    more = f" (the first {MAX_NAMED} of {len(matches)})" if len(matches) > MAX_NAMED else ""
    answer = (
        f"{len(matches)} {noun}s match {coded(text)}{more}: {_labels(matches)}. Which one do "
        "you mean? Nothing was queued."
    )
    return Unresolved(
        f"Error: several match; nothing was queued. The user was asked which one: "
        f"{finder.described(text, matches)}",
        answer,
    )


def unnamed(
    record: dict[str, Any],
    said: list[str],
    noun: str,
    finder: EmployeeFinder | None = None,
    *,
    ident: str,
    changes: tuple[str, ...] = (),
) -> Unresolved | None:
    """None when people's own words in the conversation (`said`) name the record a change is
    about: its id (`ident`, from the path) written as an id, its email, every word of a name of
    two words or more, or a capitalised word of its name that no one else's name in the directory
    (read through `finder`) holds and that is not one of the new values (`changes`). Otherwise the
    bot asks which one: the model may not take a change to a record nobody named."""
    if id_written(said, ident, noun):
        return None
    if _named_in(record, " ".join(said)) or _singled_out(record, said, finder, changes):
        return None
    if said and PRONOUN.search(said[-1]) and _asked_about(record, said[:-1], finder):
        return None
    answer = (
        f"You did not name {_label(withheld(record))} in your messages, so nothing was queued. "
        f"Which {noun} do you mean? Name them by full name, email or id."
    )
    try:  # "Make George a director": the Georges their words could mean
        candidates = _named_by_a_word(finder, said[-1]) if finder is not None and said else []
    except (HRError, RequestRefused):
        candidates = []
    if len(candidates) > 1:
        answer = (
            f"Your words could mean several {noun}s: {_labels(candidates)}. Which one do you "
            "mean? Nothing was queued."
        )
    return Unresolved(f"Error: {answer} The user has been asked.", answer)


def _names_id(text: str, ident: str, noun: str) -> bool:
    """Whether `text` writes `ident` as a record's id: `#9`, `employee 9`, `employees 2, 9 and
    11`, `id: 9`, `No. 9`, `/users/9`, or the whole message (an answer to "which one?"). Dates,
    times, fractions, ranks, ordinals, counts and amounts never are: not `3/1`, `24/7`, `9:00`,
    `#1 recruiter`, `no 2 ways`, `record 3 hours`, `$1,500`, `5 days`, `3rd`."""
    if not ident.isdigit():
        return False
    if re.fullmatch(rf"\s*#?\s*0*{ident}\s*[.!]?\s*", text):
        return True
    marker = (
        r"(?:(?<![\w#])#\s*|(?<=[a-z])/|\b(?:ids?|nr\.?|numbers?|records?|"
        + re.escape(noun)
        + r"s?)\b[\s:#.]*|\bno(?:\.\s*|\s*[:#]\s*))"
    )
    one = r"#?\d+(?![\w:%/,.$€£-]\d|[\w%/$€£:-]|\.\d|,\d{3})"
    listed = rf"({one}(?:\s*(?:,|and|&|or)\s*{one})*)"
    return any(
        int(number) == int(ident)
        for found in re.finditer(marker + listed, text, re.IGNORECASE)
        if not _counted_or_ranked(text, found)
        for number in re.findall(r"\d+", found[1])
    )


def _counted_or_ranked(text: str, found: re.Match[str]) -> bool:
    """Whether the numbers a marker led to count, rank or date something rather than name a
    record: a unit, a month or "of N" after them (`record 3 hours`, `employee 1 April`,
    `employee 3 of 4`), a date or fraction around them (`3/1`, `1/15`), a rank (`#1 recruiter`,
    `No. 1 fan`, `ranked #1`, `our #1`), or the number of something else (`pay grade #7`,
    `shift #2`)."""
    before, after = text[: found.start()], text[found.end() :]
    if re.match(r"\s*(?:/|-)\s*\d", after) or re.search(r"\d\s*[/-]\s*$", before):
        return True
    counted = rf"\s+(?:(?:business|working|calendar|full|half|more|extra|other)\s+)?(?:{UNITS})\b"
    if re.match(rf"{counted}|\s+(?:{MONTHS})\b|\s+of\s+\d", after, re.IGNORECASE):
        return True
    marker = found[0].lstrip().casefold()
    if not marker.startswith(("#", "no", "nr", "number")):
        return False  # "employee 9", "record 9", "id 9": the record's own marker
    if re.search(rf"\b(?:{RANKED}|{NUMBERED})\s*$", before, re.IGNORECASE):
        return True  # "ranked #1", "our #1", "pay grade #7", "shift #2"
    # "#1 recruiter", "No. 1 fan": a rank, where a word other than a name or a joining word
    # follows the number.
    word = re.match(r"\s+([A-Za-z]+)", after)
    return bool(word and word[1].islower() and word[1] not in FOLLOWS_AN_ID)


def _singled_out(
    record: dict[str, Any], said: list[str], finder: EmployeeFinder | None, changes: tuple[str, ...]
) -> bool:
    """Whether a word of the record's name, capitalised in people's words ("promote Janet";
    opening a sentence only as a name: "Janet's title", "Janet is now…"), is in no other name
    in the directory; a word of the new values ("make Janet our Cook") or of a one-word name
    does not count."""
    name = _name_words(record)
    proper = {
        word.casefold()
        for text in said
        for sentence in re.split(r"[.!?:;\n]+", text)
        for at, word in enumerate(_WORD.findall(sentence))
        if word[0].isupper() and not word.isdigit() and (at > 0 or _names_as_opener(sentence, word))
    }
    new_words = set(_WORD.findall(" ".join(changes).casefold()))
    partial = sorted((name & proper) - new_words)
    if len(name) < 2 or not partial or finder is None or everyday_name(record):
        return False  # an everyday name is named only whole (_written_as_name)
    try:
        people = finder.everyone()
    except (HRError, RequestRefused):
        return False  # not confirmed: ask
    if finder.incomplete:
        return False
    holders = [p.get("id") for p in people if set(partial) & _name_words(p)]
    return holders == [record.get("id")]


# A request for a new record says so: "add", "hire", "a new starter", "joins on Monday".
NEW_RECORD = re.compile(
    r"\b(?:add|adding|hire|hired|hiring|create|creating|onboard|onboarding|join|joins|joined|"
    r"joining|welcome|recruited|enrol|enroll|register|new (?:\w+ )?(?:employee|hire|starter|"
    r"joiner|colleague|person|record|member|engineer|team member)|set (?:them |him |her )?up|"
    r"(?:a|new) (?:record|profile|entry) for|(?:starts|starting|started) "
    r"(?:on|next|this|today|tomorrow|work|with us)|as (?:our|a|an) new)\b",
    re.IGNORECASE,
)
# The words by which people name a field of a record: "update her title", "her surname is now…".
FIELD_NAMED = {
    "job": re.compile(r"\b(?:title|job|role|position|promoted|promotion)\b", re.IGNORECASE),
    "name": re.compile(r"\b(?:name|surname|renamed?|married|maiden)\b", re.IGNORECASE),
    "email": re.compile(r"\b(?:e-?mail|mail address)\b", re.IGNORECASE),
}


# Words a value may hold that people leave out ("VP of Sales" for "VP Sales").
JOINING_WORDS = frozenset(["of", "the", "and", "a", "an", "for", "to", "in", "at", "on"])


def unsaid(
    body: dict[str, Any], said: list[str], before: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """The (field, value) pairs of a change whose value holds a word that neither people's words
    in the conversation (`said`) nor the record as it is now (`before`: "Ana Pereira" keeps
    her first name) hold: a value the model made up ("Software Engineer" for a fix to an email).
    Only words of letters count: numbers, dates and codes are the model's to write out."""
    known = set(_WORD.findall(" ".join(said).casefold()))
    known |= {w for v in (before or {}).values() for w in _WORD.findall(str(v).casefold())}
    return [
        (field, value)
        for field, value in body.items()
        if isinstance(value, str)
        and any(
            w not in known and w not in JOINING_WORDS and w.isalpha()
            for w in _WORD.findall(value.casefold())
        )
    ]


def asks_for_new_record(said: list[str]) -> bool:
    """Whether people's words ask for a new record at all (not a memo, a room or a lunch)."""
    return any(NEW_RECORD.search(text) for text in said)


def new_record_unasked(noun: str) -> Unresolved:
    answer = (
        f"I can only add a new {noun} to the directory when you ask for one (to add or hire "
        "someone), so nothing was queued. I look up and change HR records; I cannot send "
        "messages, book or order anything."
    )
    return Unresolved(f"Error: {answer} The user has been told.", answer)


def field_named(text: str, fields: tuple[str, ...]) -> str | None:
    """The one field of `fields` a message names by its words ("update her title": job), or
    None when it names none or several."""
    named = [f for f in fields if f in FIELD_NAMED and FIELD_NAMED[f].search(text)]
    return named[0] if len(named) == 1 else None


def _names_as_opener(sentence: str, word: str) -> bool:
    """Whether a sentence's first word is written as a name: possessive ("Kiera's new title")
    or the subject of what follows ("Kiera is now…")."""
    rest = sentence[sentence.find(word) + len(word) :]
    return bool(re.match(r"['’]s\b", rest) or AS_SUBJECT.match(rest))


def _by_job(finder: EmployeeFinder, reference: str) -> list[dict[str, Any]]:
    """The one record a job or work word finds ("the controller"), or none; never by a name
    or a part of one ("Tobias Funke" is not "Tobias Funkelstein")."""
    try:
        found = finder.search(reference)
    except (HRError, RequestRefused):
        return []
    words = set(_WORD.findall(reference.casefold()))
    if found.count != 1 or not found.complete or words & _name_words(found.matches[0]):
        return []
    name = " ".join(sorted(_name_words(found.matches[0])))
    return [] if any(w in name for w in words) else list(found.matches)


# "his job", "her title", "change them": a person the conversation was just about.
PRONOUN = re.compile(r"\b(?:he|him|his|she|her|hers|they|them|their)\b", re.IGNORECASE)


def _asked_about(record: dict[str, Any], earlier: list[str], finder: EmployeeFinder | None) -> bool:
    """Whether the person's last question before this message was about this record alone: a
    search of its words finds it and no one else ("Who is our controller?")."""
    if finder is None or not earlier:
        return False
    try:
        found = finder.search(earlier[-1])
    except (HRError, RequestRefused):
        return False
    return found.complete and [m.get("id") for m in found.matches] == [record.get("id")]


def _within(finder: EmployeeFinder, reference: str) -> list[dict[str, Any]]:
    """The records whose whole name (two words or more) stands inside the reference, each word
    whole: "Ana Souza Pereira" holds "Ana Souza"."""
    words = set(_WORD.findall(reference.casefold()))
    try:
        people = finder.everyone()
    except (HRError, RequestRefused):
        return []
    return [p for p in people if len(name := _name_words(p)) >= 2 and name <= words]


def _run_together(finder: EmployeeFinder, reference: str) -> list[dict[str, Any]]:
    """The records whose whole name, letters only, is the reference's letters ("yusufdemir",
    "Yusuf_Demir"): a name run together, never a part of one."""
    letters = "".join(_WORD.findall(reference.casefold().replace("_", " ")))
    if " " in reference.strip() or len(letters) < 2:
        return []
    try:
        people = finder.everyone()
    except (HRError, RequestRefused):
        return []
    return [
        p
        for p in people
        if len(_WORD.findall(str(p.get("name") or ""))) >= 2
        and "".join(_WORD.findall(str(p.get("name") or "").casefold())) == letters
    ]


def named_record(
    finder: EmployeeFinder, text: str, changes: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """The one record a message names (its email, its whole name, or a capitalised word of its
    name no one else's holds, as `unnamed` counts them), or None when it names none or
    several."""
    try:
        people = finder.everyone()
    except (HRError, RequestRefused):
        return None
    if finder.incomplete:
        return None
    whole = [p for p in people if _named_in(p, text)]
    if whole:
        return whole[0] if len(whole) == 1 else None
    capitalised = {w.casefold() for w in _WORD.findall(text) if w[0].isupper()}
    capitalised -= set(_WORD.findall(" ".join(changes).casefold()))
    if len([p for p in people if _name_words(p) & capitalised]) > 1:
        return None  # "Lukas and Noah": several people, wherever their names stand
    singled = [p for p in people if _singled_out(p, [text], finder, changes)]
    return singled[0] if len(singled) == 1 else None


def named_instead(
    finder: EmployeeFinder, reference: Any, text: str, changes: tuple[str, ...]
) -> dict[str, Any] | None:
    """For a reference that names no one ("Amara Okofor", the new name of someone just married,
    "priya@company.com"): the one record whose whole name or email `text` (the requester's last
    message) holds; else the one a word of its name singles out there, when the reference holds
    that word too and `text` names no one else. None otherwise: "Tobias Funke" is not Tobias
    Funkelstein."""
    record = named_record(finder, text, changes)
    if record is None or _named_in(record, text):
        return record
    return record if _shares_a_name_word(record, reference, text, changes) else None


def _shares_a_name_word(
    record: dict[str, Any], reference: Any, text: str, changes: tuple[str, ...]
) -> bool:
    """Whether the reference holds a word of the record's name, and `text` holds no capitalised
    word, past a sentence's first, that is neither in that name nor in the new values: "Delete
    Tobias Funke" names someone who is not Tobias Funkelstein."""
    name = _name_words(record)
    if not name & set(_WORD.findall(str(reference).casefold())):
        return False
    known = name | set(_WORD.findall(" ".join(changes).casefold())) | {"i"}
    for sentence in re.split(r"[.!?:;\n]+", HONORIFIC.sub("", text)):
        for word in _WORD.findall(sentence)[1:]:
            if word[0].isupper() and word.isalpha() and word.casefold() not in known:
                return False
    return True


def named_labels(finder: EmployeeFinder, text: str) -> str:
    """The records a capitalised word of `text` could mean (`_named_by_a_word`), labelled as the
    bot labels candidates; empty when there are none."""
    return _labels(_named_by_a_word(finder, text))


def _named_by_a_word(finder: EmployeeFinder, text: str) -> list[dict[str, Any]]:
    """The records whose name holds a capitalised word of `text`; none when the directory could
    not be read whole."""
    people = finder.everyone()
    capitalised = {w.casefold() for w in _WORD.findall(text) if w[0].isupper() and w.isalpha()}
    return [] if finder.incomplete else [p for p in people if _name_words(p) & capitalised]


def id_written(said: list[str], ident: str, noun: str) -> bool:
    """Whether people's words (`said`) write `ident` as a record's id."""
    return any(_names_id(text, ident, noun) for text in said)


def _fits(reference: str, record: dict[str, Any]) -> bool:
    """Whether a reference names the record: its email, or only whole words of its name."""
    if reference.casefold() == str(record.get("email") or "").casefold():
        return True
    words = _WORD.findall(reference.casefold())
    return bool(words) and set(words) <= _name_words(record)


def _named_in(record: dict[str, Any], text: str) -> bool:
    """Whether `text` holds the record's email address (whole), or every word of a name of two
    words or more, each as a whole word."""
    email = str(record.get("email") or "").strip()
    if "@" in email and re.search(rf"(?<![\w.@-]){re.escape(email)}(?![\w@-]|\.\w)", text, re.I):
        return True
    name = _name_words(record)
    if len(name) >= 2 and everyday_name(record):
        return _written_as_name(record, text)
    return len(name) >= 2 and name <= set(_WORD.findall(text.casefold()))


def everyday_name(record: dict[str, Any]) -> bool:
    """Whether a name is made only of everyday words (*Will Read*, *Mark Young*), which
    ordinary prose holds without meaning anyone."""
    name = _name_words(record)
    return bool(name) and name <= EVERYDAY_WORDS


def _written_as_name(record: dict[str, Any], text: str) -> bool:
    """Whether `text` writes the whole name as a name: its words together, in order, each
    capitalised (*Will Read*, *Will Read's*), not *will read* nor *Read… Will*."""
    words = _WORD.findall(str(record.get("name") or ""))
    together = r"\s+".join(re.escape(w) for w in words)
    return any(
        all(w[0].isupper() for w in _WORD.findall(m[0]))
        for m in re.finditer(rf"(?<![\w-]){together}(?![\w-])", text, re.IGNORECASE)
    )


def _name_words(record: dict[str, Any]) -> set[str]:
    """The whole words of a record's name, in one letter case."""
    return set(_WORD.findall(str(record.get("name") or "").casefold()))


def no_such_field(typed: TypedTool, fields: tuple[str, ...], noun: str) -> str:
    """The requester's answer when a change names fields its record does not have."""
    named = ", ".join(coded(field) for field in fields)
    taken = [f.name for f in typed.endpoint.body or ()]
    takes = " and ".join(filter(None, [", ".join(taken[:-1]), *taken[-1:]]))
    if typed.endpoint.method == "POST":
        return (
            f"I can't set {named}: a new {noun} is given only {takes} here, so nothing was queued."
        )
    return f"I can't change {named}: only {takes} can be changed here, so nothing was queued."


def several_at_once(noun: str) -> Unresolved:
    """A change to several records at once, or to all of them: one at a time, or none."""
    return Unresolved(
        f"Error: one {noun} per change; nothing was queued. The user has been told.",
        f"I change one {noun} at a time, never everyone at once, so nothing was queued: ask "
        f"for each change on its own, naming the {noun}.",
    )


def off_the_api(text: str, noun: str) -> Unresolved | None:
    """A web address where a record should be named: whatever was asked of it, the bot itself
    says what it can reach."""
    if not WEB_ADDRESS.fullmatch(text.strip()):
        return None
    return Unresolved(
        f"Error: a web address names no {noun}, and no tool reaches anything but the HR API; "
        "nothing was run. The user has been told.",
        f"I can only reach the HR API's {noun} records, not web addresses such as "
        f"{coded(text.strip())}, so I did not try.",
    )


def _labels(records: list[dict[str, Any]]) -> str:
    return "; ".join(_label(record) for record in withheld(records[:MAX_NAMED]))


def _label(record: dict[str, Any]) -> str:
    """ "`George Bluth` (#1, chief executive)": what tells two people of one name apart."""
    if not record.get("name"):
        return f"#{record.get('id')}"
    details = [f"#{record.get('id')}"]
    details += [str(record[k]) for k in ("job", "email") if record.get(k)][:1]
    return f"{coded(record.get('name'))} ({visible(', '.join(details), 120)})"
