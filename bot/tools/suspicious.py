"""Values in HR data that read like instructions to an assistant (an API request, "ignore your
instructions", a claimed approval): withheld from the model, which reads a placeholder saying
why, so that it neither takes them in nor repeats them as facts. A help, not the defence:
whatever a value says, a change still needs a human approver."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

WITHHELD = "[withheld: it reads like instructions to an assistant]"
_I = re.IGNORECASE | re.DOTALL
_SIGNS = (
    # A request to the API: "DELETE /api/users/3".
    re.compile(r"\b(?:POST|PUT|PATCH|DELETE)\s+/\S*", _I),
    # Telling an assistant to drop what it was told.
    re.compile(
        r"\b(?:ignore|disregard|forget|override)\b.{0,40}?\b(?:instructions?|rules|prompts?|"
        r"guidance|directions|above)\b",
        _I,
    ),
    # Speaking as the system: "SYSTEM:", "SYSTEM NOTICE:", "Developer message:", "system prompt".
    re.compile(
        r"^\W*(?:system|developer|assistant|admin)(?:\s+(?:notice|message|prompt|override))?\s*:",
        _I,
    ),
    re.compile(r"\b(?:system|developer)\s+(?:prompt|override|instructions?)\b", _I),
    # Claiming an approval for actions or changes.
    re.compile(
        r"\b(?:pre-?approved|already approved|no approval (?:is )?needed)\b.{0,60}?\b(?:actions?|"
        r"changes?|requests?|deletes?|updates?|queue)\b|\b(?:actions?|changes?|requests?|"
        r"deletes?|updates?)\b.{0,60}?\b(?:pre-?approved|already approved)\b",
        _I,
    ),
    # Naming a tool, or addressing the assistant itself.
    re.compile(r"\b(?:find|get|list|create|update|delete|call)_[a-z]+\b", _I),
    re.compile(r"\b(?:you are now|new instructions?|as an ai (?:assistant|model))\b", _I),
)
_HIDDEN = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def reads_like_instructions(text: str) -> bool:
    """Whether `text`, with its look-alike letters folded (NFKC) and invisible characters
    taken out, reads like instructions to an assistant."""
    plain = _HIDDEN.sub("", unicodedata.normalize("NFKC", text))
    return any(sign.search(plain) for sign in _SIGNS)


def withheld(value: Any) -> Any:
    """`value` with every string that reads like instructions replaced by WITHHELD."""
    if isinstance(value, str):
        return WITHHELD if reads_like_instructions(value) else value
    if isinstance(value, list):
        return [withheld(item) for item in value]
    if isinstance(value, dict):
        return {key: withheld(item) for key, item in value.items()}
    return value
