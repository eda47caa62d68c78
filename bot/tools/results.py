"""What the model is shown of an HR answer: compact JSON without noise fields, cut to a size,
with values that read like instructions withheld."""

from __future__ import annotations

import json
from typing import Any

from bot.tools.suspicious import withheld

MAX_RESULT_CHARS = 6000
NOISE = frozenset({"avatar", "support", "_links", "_meta", "links"})


def without_noise(value: Any) -> Any:
    """The answer minus fields that cost tokens and help no one (avatars, ads, hypermedia)."""
    if isinstance(value, dict):
        return {k: without_noise(v) for k, v in value.items() if k not in NOISE}
    if isinstance(value, list):
        return [without_noise(v) for v in value]
    return value


def compact_result(status: int, body: Any) -> str:
    result = {"status": status, "body": withheld(without_noise(body))}
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= MAX_RESULT_CHARS:
        return text
    return text[:MAX_RESULT_CHARS] + f"… [truncated: the answer was {len(text)} characters]"
