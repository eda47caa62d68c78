"""An answer checked against what its turn read, before anyone sees it: the people it lists and
counts, the names, emails and numbers it gives, and no note meant for the model. What fails is
asked for once more with the discrepancy; then the bot words the answer itself, from the result."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from bot.tools.finder import MAX_CANDIDATES, Found
from bot.tools.suspicious import reads_like_instructions

NUMBER = re.compile(r"(?<![\w.@#-])(\d{1,6})(?![\w@]|\.\d)")
NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        (
            *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
            *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
            *("seventeen", "eighteen", "nineteen", "twenty"),
        )
    )
}
# A number counting people: "6 engineers", "six people", "4 of them", "12 in engineering".
COUNTED = re.compile(
    r"(?<![\w.@#-])(\d{1,6}|" + "|".join(NUMBER_WORDS) + r")\s+(?:[a-z-]+\s+)?"
    r"(?:people|persons|employees|staff|members|matches|of them|colleagues|[a-z-]+(?:ers|ists|"
    r"ants|ors|ians|ives|ads|eads|ns|ts|ds))\b",
    re.IGNORECASE,
)
# A question asking for a count: "how many", "number of", "headcount".
HOW_MANY = re.compile(r"\bhow many\b|\bnumber of\b|\bhead ?count\b", re.IGNORECASE)
# A question whose answer is people: "who…", "which of our staff…", "is there anyone…".
WHO = re.compile(
    r"\b(?:who|whom|which|list|anyone|anybody|someone|somebody|people|staff|employees)\b",
    re.IGNORECASE,
)
# An answer telling of a change as made: "has been updated", "I've deleted her record".
DONE = (
    r"updated|changed|deleted|removed|created|added|modified|renamed|promoted|corrected|fixed|"
    r"amended|edited|replaced"
)
CLAIMED = re.compile(
    rf"\b(?:has|have) (?:now )?been (?:successfully )?(?:{DONE})\b|"
    rf"\b(?:I|I've|I have|we|we've|we have) (?:now |just |successfully )*(?:{DONE})\b",
    re.IGNORECASE,
)
NOT_CHANGED = (
    "Nothing was changed, and nothing is waiting for approval. Ask again, naming the record and "
    "the change."
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# What a tool result tells the model, never meant for people's eyes.
RAW = re.compile(
    r'\{\s*"(?:matches|columns|rows|status|note|error)"|</?tool_\w+>|^\W*(?-i:Error):',
    re.IGNORECASE,
)
GUIDANCE = re.compile(
    r"\b(?:the user|say so|do not guess|don't guess|tell them|ask which|answer with|stop here|"
    r"ask the user)\b",
    re.IGNORECASE,
)
TOTAL = re.compile(r'"(?:total|count)"\s*:\s*(\d{1,6})\b')
FULLY_SHOWN = 3  # matches the bot's own answer gives with their email too
NOTE_MIN = 24  # a shorter stretch of a note may be a plain phrase an answer shares
INCOMPLETE = "I could not read the whole directory, so there may be more."
ASK_AGAIN = (
    "Your answer does not match the tool results: {problems}. Answer the user again, from the "
    "results alone: name every person who matches, give counts as the results do, and do not "
    "repeat the results' notes."
)


def problems(
    answer: str,
    found: list[Found],
    results: list[str],
    said: str,
    asked: str = "",
    *,
    held: bool = False,
) -> list[str]:
    """What is wrong with `answer` against the turn's reads (`found`, the people each read
    settled, and `results`, the tool results as the model saw them) and people's own words
    (`said`; `asked`, the requester's last message): nothing when it holds. Unless a change
    was `held` this turn, an answer may not say one was made."""
    wrong = _notes_repeated(answer, results)
    if not held and claims_a_change(answer):
        wrong.append(
            "it says a change was made, but nothing was changed or held for approval: say what "
            "was not done and why"
        )
    if not found:
        return wrong
    last = found[-1]
    if HOW_MANY.search(asked) and last.searched and not _says_count(answer, last.count):
        wrong.append(f"it does not say how many: {last.count} match")
    matched = [p for f in found for p in f.matches]
    read = {id(p): p for f in found for p in (*f.matches, *f.directory)}.values()
    firsts = _unique_first_names(read)
    named = [p for p in last.matches if _mentioned(p, answer, firsts)]
    people_asked = WHO.search(asked) and not HOW_MANY.search(asked) and last.searched
    if people_asked and not named and 0 < last.count <= MAX_CANDIDATES:
        wrong.append(f"it names none of the {last.count} who match")
    # From a search, any part of the set is a list cut short; from a listing (a page, the whole
    # directory) the model may pick some, so only a list of most of it, not all, is.
    least = 1 if last.searched else last.count // 2 + 1
    if 1 < last.count <= MAX_CANDIDATES and least <= len(named) < last.count:
        missing = [str(p.get("name")) for p in last.matches if p not in named]
        wrong.append(
            f"it names {len(named)} of the {last.count} who match, leaving out "
            + ", ".join(missing)
        )
    strays = [
        str(p.get("name"))
        for p in read
        if p not in matched
        and _mentioned(p, answer, firsts)
        and not any(_same(p, m) for m in matched)
    ]
    if strays:
        wrong.append(f"it names {', '.join(strays)}, who did not match")
    wrong += _numbers(answer, found, read, results, said)
    seen = " ".join([*results, said]).casefold()
    invented = [e for e in EMAIL.findall(answer) if e.casefold() not in seen]
    if invented:
        wrong.append(f"it gives {', '.join(invented)}, which no result holds")
    return wrong


def claims_a_change(answer: str) -> bool:
    """Whether an answer says a record was changed ("has been updated", "I've deleted…"): the
    bot's own words say what becomes of a change, and nothing changes before an approval."""
    return bool(CLAIMED.search(answer))


def together(founds: list[Found]) -> list[Found]:
    """A step's reads, and after several searches one more: everyone they found together
    ("sales", then "marketing"), so the answer is checked, and worded, against all of them."""
    searches = [f for f in founds if f.searched]
    if len(searches) < 2 or len(searches) != len(founds):
        return founds
    seen: dict[Any, dict[str, Any]] = {}
    for person in (p for f in searches for p in f.matches):
        seen.setdefault(person.get("id", id(person)), person)
    queries = list(dict.fromkeys(f.query for f in searches))
    query = f"{', '.join(queries[:-1])} or {queries[-1]}" if len(queries) > 1 else queries[0]
    directory = next((f.directory for f in searches if f.directory), ())
    complete = all(f.complete for f in searches)
    return [*founds, Found(query, tuple(seen.values()), complete, directory)]


def _says_count(answer: str, count: int) -> bool:
    """Whether an answer to "how many" gives the count: as a number or a number word; none as
    "no one", "nobody" or "none"; one needs no number ("Priya Raman is our lawyer")."""
    if count == 1:
        return True
    words = {w.casefold() for w in re.findall(r"[A-Za-z]+", answer)}
    given = {int(n) for n in re.findall(r"(?<![\w.])\d{1,6}(?![\w]|\.\d)", answer)}
    given |= {n for w, n in NUMBER_WORDS.items() if w in words}
    folded = answer.casefold()
    nobody = bool(words & {"nobody", "none"}) or "no one" in folded or "no-one" in folded
    return count in given or (count == 0 and nobody)


def bot_answer(found: Found) -> str:
    """The bot's own answer from what a read found: who matches, one line each, and how many."""
    if not found.matches:
        text = f"No one in the directory matches “{found.query}”."
    else:
        people = "person matches" if found.count == 1 else "people match"
        # A few people: each with what the directory says of them; many: name and job.
        shown = ("job", "email") if found.count <= FULLY_SHOWN else ("job",)
        lines = [
            f"• {p.get('name')}" + "".join(f", {p[k]}" for k in shown if p.get(k))
            for p in found.matches[:MAX_CANDIDATES]
        ]
        if found.count > MAX_CANDIDATES:
            lines.append(f"… and {found.count - MAX_CANDIDATES} more.")
        text = f"{found.count} {people} “{found.query}”:\n" + "\n".join(lines)
    return with_completeness(text, found)


def withheld_note(answer: str, found: list[Found]) -> str | None:
    """The bot's own note, when a record read this turn has a field that reads like
    instructions to an assistant (withheld from the model) and the answer does not say so:
    which field of whose record, so nobody takes the model's word for what it holds."""
    if re.search(r"withheld|instruction", answer, re.IGNORECASE):
        return None
    seen: dict[Any, list[str]] = {}
    for person in (p for f in found for p in (*f.matches, *f.directory)):
        fields = [k for k, v in person.items() if isinstance(v, str) and reads_like_instructions(v)]
        if fields:
            seen.setdefault(person.get("id"), [f"{person.get('name') or 'a record'}", *fields])
    if not seen:
        return None
    which = "; ".join(
        f"the {' and '.join(rest)} of {name} (#{key})" for key, (name, *rest) in seen.items()
    )
    return (
        f"Note: {which} reads like instructions to an assistant, so it was withheld and not "
        "shown to me; please check that record."
    )


def with_completeness(text: str, found: Found) -> str:
    """The answer, saying so when the directory could not be read whole."""
    return text if found.complete else f"{text}\n{INCOMPLETE}"


def _notes_repeated(answer: str, results: list[str]) -> list[str]:
    if RAW.search(answer):
        return ["it shows a tool result as it came"]
    folded = " ".join(answer.casefold().split())
    for note in _notes(results):
        if len(note) >= NOTE_MIN and " ".join(note.casefold().split()) in folded:
            return [f"it repeats a note meant for you ({note!r})"]
    return []


def _notes(results: list[str]) -> Iterable[str]:
    """The guidance in tool results, sentence by sentence: every sentence of a result's note,
    and the sentences of an error that tell the model what to do (its facts may be passed on)."""
    for result in results:
        try:
            value = json.loads(result)
        except ValueError:
            note, guidance_only = (result, True) if result.startswith("Error:") else ("", True)
        else:
            note = str(value.get("note")) if isinstance(value, dict) and "note" in value else ""
            guidance_only = False
        for sentence in (s.strip() for s in re.split(r"(?<=[.;!?])\s+", note) if s.strip()):
            if not guidance_only or GUIDANCE.search(sentence):
                yield sentence


def _unique_first_names(people: Iterable[dict[str, Any]]) -> set[str]:
    seen: dict[str, int] = {}
    for person in people:
        words = str(person.get("name") or "").casefold().split()
        if words:
            seen[words[0]] = seen.get(words[0], 0) + 1
    return {name for name, times in seen.items() if times == 1}


def _mentioned(person: dict[str, Any], answer: str, unique_firsts: set[str]) -> bool:
    """Whether the answer names the person: their full name, their surname, or a first name
    no one else read has."""
    words = str(person.get("name") or "").casefold().split()
    if not words:
        return False
    text = answer.casefold()
    forms = {" ".join(words), words[-1]} | ({words[0]} if words[0] in unique_firsts else set())
    return any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text) for form in forms)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("id") is not None and a.get("id") == b.get("id")


def _numbers(
    answer: str, found: list[Found], read: Iterable[dict[str, Any]], results: list[str], said: str
) -> list[str]:
    """A count of people that differs from every count found, or a number nothing read or said
    holds."""
    wrong = []
    everyone_read = {p.get("id") for f in found for p in f.matches}
    counts = {f.count for f in found} | {len(everyone_read)} | _totals(results)
    theirs = {int(n) for n in re.findall(r"\d{1,6}", said)}
    # A count is checked against a search's; from a listing the model may count a part itself.
    for match in COUNTED.finditer(answer) if found[-1].searched else ():
        told = match[1].casefold()
        if told == "one":  # "one of them", "one engineer": seldom a count of the result
            continue
        number = NUMBER_WORDS[told] if told in NUMBER_WORDS else int(told)
        if number not in counts | theirs:
            wrong.append(f"it says {match[1]}, but {found[-1].count} match")
    known = _known(found[-1], read, results, said)
    for match in NUMBER.finditer(answer):
        if int(match[1]) not in known:
            wrong.append(f"it says {match[1]}, which nothing read shows")
    return wrong


def _totals(results: list[str]) -> set[int]:
    """The counts the HR API itself gave in the results ("total", "count"), at any depth."""
    return {int(n) for r in results for n in TOTAL.findall(r)}


def _known(last: Found, read: Iterable[dict[str, Any]], results: list[str], said: str) -> set[int]:
    """The numbers an answer may give: the count, list numbering up to it, ids read, and any
    number in the tool results or in people's words."""
    known = {last.count, *range(1, last.count + 1)}
    known |= {p["id"] for p in read if isinstance(p.get("id"), int)}
    for text in [*results, said]:
        known |= {int(n) for n in re.findall(r"\d{1,6}", text)}
    return known
