"""Values in HR data that read like instructions to an assistant (an API request, "ignore your
instructions", a claimed approval): withheld from the model, which reads a placeholder saying
why, so that it neither takes them in nor repeats them as facts. A help, not the defence:
whatever a value says, a change still needs a human approver."""

from __future__ import annotations

import re
from typing import Any

WITHHELD = "[withheld: it reads like instructions to an assistant]"
_SIGNS = (
    re.compile(r"\b(?:GET|POST|PUT|PATCH|DELETE)\s+/\S*"),
    re.compile(r"\bignore\b.{0,40}\b(?:instructions?|rules|prompts?|above)\b", re.IGNORECASE),
    re.compile(
        r"\b(?:system|admin|developer)\s+(?:notice|prompt|message|override|instructions?)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:pre-?approved|already approved|no approval (?:is )?needed)\b", re.I),
    re.compile(r"\b(?:you are now|you must|as an ai)\b", re.IGNORECASE),
)


def reads_like_instructions(text: str) -> bool:
    return any(sign.search(text) for sign in _SIGNS)


def withheld(value: Any) -> Any:
    """`value` with every string that reads like instructions replaced by WITHHELD."""
    if isinstance(value, str):
        return WITHHELD if reads_like_instructions(value) else value
    if isinstance(value, list):
        return [withheld(item) for item in value]
    if isinstance(value, dict):
        return {key: withheld(item) for key, item in value.items()}
    return value
