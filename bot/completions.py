"""One completion's reply: whether it can be used, what of it the conversation keeps, and how
long to wait before asking again. Servers may send any shape: the SDK does not check it."""

from __future__ import annotations

import json
import random
from typing import Any

# One completion is tried again (at most the client's max_retries times, OPENAI_MAX_RETRIES)
# when another try may cure it, after RETRY_FIRST_DELAY, then twice as long each time.
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
MIN_ATTEMPT_SECONDS = 1.0  # no try starts with less of the message's deadline left
RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx


def backoff(attempt: int) -> float:
    """Seconds to wait before try `attempt + 1`: doubling, capped, less up to a quarter so that
    many conversations failing together do not come back together."""
    delay = min(RETRY_FIRST_DELAY * 2 ** (attempt - 1), RETRY_MAX_DELAY)
    return delay * (1 - random.random() / 4)


def retry_after(response: Any) -> float:
    """The wait a server asked for in seconds (Retry-After), or 0."""
    try:
        return max(0.0, float(response.headers.get("retry-after") or 0))
    except (AttributeError, ValueError):  # absent, or an HTTP date
        return 0.0


def answer_in(completion: Any) -> tuple[Any, str | None, str | None]:
    """(message, finish reason, why the reply cannot be used or None)."""
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return None, None, "an answer without choices"
    finish_reason = getattr(choices[0], "finish_reason", None)
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    calls = getattr(message, "tool_calls", None)
    if message is None or not isinstance(content, str | None) or not isinstance(calls, list | None):
        return None, finish_reason, "a malformed message"
    if not calls and not (content or "").strip():
        return message, finish_reason, "neither text nor tool calls"
    return message, finish_reason, None


def assistant_message(message: Any) -> dict[str, Any]:
    """The model's answer as a plain dict, keeping exactly what the API needs back."""
    assistant: dict[str, Any] = {"role": "assistant", "content": message.content}
    calls = []
    for index, call in enumerate(message.tool_calls or []):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        arguments = getattr(function, "arguments", None)
        if not isinstance(arguments, str):  # some servers send an object; the API carries text
            arguments = "" if arguments is None else json.dumps(arguments)
        call_id = getattr(call, "id", None)
        if not isinstance(call_id, str) or not call_id or call_id in {c["id"] for c in calls}:
            call_id = f"call_{index}_{random.getrandbits(48):012x}"  # each result needs its call
        calls.append(
            {
                "id": call_id,
                "type": getattr(call, "type", None) or "function",
                "function": {
                    "name": name if isinstance(name, str) else "",
                    "arguments": arguments,
                },
            }
        )
    if calls:
        assistant["tool_calls"] = calls
    return assistant
