"""How a value from a request or an HR record is shown to a person: every hidden character made
visible, look-alikes compared by what they look like, email addresses spelled in ASCII."""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, format, unassigned…
# Default-ignorable code points outside those categories: fillers and variation selectors.
_FILLERS = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)
_EMAIL = re.compile(r"([^@\s]+)@([^@\s]+)")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def hidden(ch: str) -> bool:
    """Whether a reader cannot see `ch` as itself: a line break, control, bidi or other format
    character, a space other than " ", a filler, a private-use or unassigned code point."""
    category = unicodedata.category(ch)
    return category in _HIDDEN or (category == "Zs" and ch != " ") or bool(_FILLERS.match(ch))


def visible(value: Any, limit: int | None = None) -> str:
    """A value as one line with nothing hidden: a newline as ⏎, any other hidden character as
    <U+200B>; clipped to `limit` with a visible "…"."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = "".join("⏎" if c == "\n" else f"<U+{ord(c):04X}>" if hidden(c) else c for c in text)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def skeleton(text: str) -> str:
    """What `text` looks like: NFKC, hidden characters dropped, casefolded, spaces collapsed."""
    kept = "".join(ch for ch in unicodedata.normalize("NFKC", text) if not hidden(ch))
    return " ".join(kept.casefold().split())


def new_foreign_letters(old: str, new: str) -> str:
    """The non-ASCII characters `new` has that `old` has not, each spelled as <U+XXXX>: a
    Cyrillic "Ѕ" in "Ѕmith" looks like the Latin "S" but NFKC does not fold it, so any letter
    new to the value is worth an approver's second look. Empty when there are none."""
    foreign = sorted({c for c in new if not c.isascii() and not hidden(c)} - set(old))
    shown = " ".join(f"{c}<U+{ord(c):04X}>" for c in foreign[:10])
    return shown + (f" and {len(foreign) - 10} more" if len(foreign) > 10 else "")


def ascii_email(text: str) -> str | None:
    """An email address that is not plain ASCII, spelled in ASCII: the local part with \\uXXXX
    escapes, the domain in punycode when that spells it exactly; None for anything else."""
    match = _EMAIL.fullmatch(text)
    if match is None or text.isascii():
        return None
    local, domain = json.dumps(match[1])[1:-1], match[2]
    with contextlib.suppress(UnicodeError):
        puny = domain.encode("idna")
        if puny.decode("idna") == domain:  # else nameprep dropped or folded something
            return f"{local}@{puny.decode()}"
    return f"{local}@{json.dumps(domain)[1:-1]}"


def spelled(text: str) -> str:
    """Everything outside printable ASCII as <U+XXXX>: how two look-alikes differ."""
    return visible("".join(c if " " <= c <= "~" else f"<U+{ord(c):04X}>" for c in text), 120)


def json_escaped(text: str) -> str:
    """Hidden characters and backticks as JSON \\u escapes: a JSON string keeps its value."""
    return "".join("\\u0060" if c == "`" else json.dumps(c)[1:-1] if hidden(c) else c for c in text)


def said_in(value: Any, texts: Sequence[str]) -> bool:
    """Whether `value` (text or a whole number) is in one of `texts` as whole words, ignoring
    letter case and runs of spaces: "CTO" is not in "doctor", nor 1 in "12"."""
    wanted = " ".join(str(value).split()).casefold()
    found = rf"(?<!\w){re.escape(wanted)}(?!\w)"
    return any(re.search(found, " ".join(text.split()).casefold()) for text in texts)


def readable_json(body: Any) -> str:
    """`body` as indented JSON of the same value, except that an email address that is not plain
    ASCII is spelled as ascii_email spells it; hidden characters and backticks as \\u escapes."""

    def literal(match: re.Match[str]) -> str:
        email = ascii_email(json.loads(match[0]))
        return json_escaped(f'"{email}"' if email else match[0])

    return _JSON_STRING.sub(literal, json.dumps(body, indent=2, ensure_ascii=False))
