"""Structured logging (structlog): console lines or JSON, with secrets redacted on the way out."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

# A key is secret when its last word names a secret ("bot_token", "api_key", "password"); counts
# such as "prompt_tokens" are not secrets and stay readable.
SECRET_KEYS = re.compile(
    r"(^|_)(token|secrets?|password|passwd|authorization|api_?key"
    r"|(secret|private|signing|encryption)_keys?|cookie|credentials?|code_verifier)$",
    re.I,
)
SECRET_VALUES = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{8,}|Bearer \S+"
)
# Which events the bot logs never carry a request or response body (personal data); these keys
# are refused on the way out as a second line of defence.
BODY_KEYS = frozenset({"body", "hr_body", "arguments", "content", "text"})


def redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event.items()):
        if key == "event":
            continue
        if SECRET_KEYS.search(key) or key in BODY_KEYS:
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = SECRET_VALUES.sub("[redacted]", value)
    if isinstance(event.get("event"), str):
        event["event"] = SECRET_VALUES.sub("[redacted]", event["event"])
    return event


def configure(log_format: str = "console", level: int = logging.INFO, stream: Any = None) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stdout),
        cache_logger_on_first_use=False,
    )
