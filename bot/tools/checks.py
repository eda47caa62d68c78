"""The checks on every request the model asks for: method, path, query and body, each refusal
saying what to change. Nothing here sends anything."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from bot.tools.catalogue import Endpoint

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_URL_LENGTH = 512
MAX_BODY_BYTES = 8 * 1024
PARAM_TYPES = {
    "integer": r"[1-9][0-9]{0,9}",
    "slug": r"[A-Za-z0-9_-]{1,64}",
    "cursor": r"[A-Za-z0-9_.~=-]{1,512}",  # an opaque page token, sent back as it came
}
PARAM_WORDS = {
    "integer": "a positive whole number",
    "slug": "1 to 64 letters, digits, '_' or '-'",
    "cursor": "the cursor the HR API gave, as it gave it",
}
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
# Every body field is single-line text: these characters would let a value forge lines, reorder
# what an approver reads, or hide a difference (approvals/slack/cards.py shows them).
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Default-ignorable code points outside the Cf category: fillers and variation selectors.
_FILLERS = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)


class RequestRefused(Exception):
    """The model's request breaks a rule; the message tells the model what to change."""


def check_method(method: Any) -> str:
    if not isinstance(method, str) or method.strip().upper() not in METHODS:
        raise RequestRefused(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    return method.strip().upper()


def split_url(url: Any) -> tuple[str, str]:
    if not isinstance(url, str) or not url:
        raise RequestRefused("url must be a path string such as /api/users/2")
    if len(url) > MAX_URL_LENGTH:
        raise RequestRefused(f"url is longer than {MAX_URL_LENGTH} characters")
    if any(not 33 <= ord(ch) <= 126 for ch in url):
        raise RequestRefused("url must not contain spaces, control or non-ASCII characters")
    if "://" in url or not url.startswith("/"):
        raise RequestRefused(
            "url must be a path on the HR API starting with '/', with no scheme or host "
            "(for example /api/users/2)"
        )
    if url.startswith("//"):
        raise RequestRefused("url must not start with '//' (that names another host)")
    for bad, why in (
        ("\\", "backslashes"),
        ("%", "percent-encoded characters"),
        ("@", "'@'"),
        ("#", "fragments ('#')"),
    ):
        if bad in url:
            raise RequestRefused(f"url must not contain {why}")
    path, _, query = url.partition("?")
    segments = path.split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments):
        raise RequestRefused("url must not contain empty, '.' or '..' path segments")
    if ":" in path:
        raise RequestRefused("url path must not contain ':'")
    return path, query


def check_query(endpoint: Endpoint, query: str) -> None:
    if not query:
        return
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError as e:
        raise RequestRefused(f"query string {query!r} is malformed") from e
    names = [name for name, _ in pairs]
    if not endpoint.query:
        raise RequestRefused(f"{endpoint.method} {endpoint.path} takes no query parameters")
    for name, value in pairs:
        kind = endpoint.query.get(name)
        if kind is None:
            raise RequestRefused(
                f"unknown query parameter {name!r}; allowed: {', '.join(endpoint.query)}"
            )
        if names.count(name) > 1:
            raise RequestRefused(f"query parameter {name!r} is given more than once")
        if not re.fullmatch(PARAM_TYPES[kind], value):
            raise RequestRefused(f"query parameter {name!r} must be {PARAM_WORDS[kind]}")


def check_body(endpoint: Endpoint, body: Any) -> dict[str, Any] | None:
    if isinstance(body, str):
        text = body.strip()
        if not text:
            body = None
        else:
            if len(text.encode(errors="surrogatepass")) > MAX_BODY_BYTES:
                raise RequestRefused(f"body is larger than {MAX_BODY_BYTES} bytes")
            try:
                body = json.loads(text)
            except ValueError as e:
                raise RequestRefused(f"body is not valid JSON: {e}") from e
    if endpoint.body is None:
        if body not in (None, {}):
            raise RequestRefused(f"{endpoint.method} {endpoint.path} takes no body")
        return None
    if not isinstance(body, dict):
        raise RequestRefused(f"{endpoint.method} {endpoint.path} needs a JSON object body")
    if len(json.dumps(body, ensure_ascii=False).encode(errors="surrogatepass")) > MAX_BODY_BYTES:
        raise RequestRefused(f"body is larger than {MAX_BODY_BYTES} bytes")
    fields = {f.name: f for f in endpoint.body}
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise RequestRefused(
            f"unknown body field(s) {', '.join(unknown)}; allowed: {', '.join(fields)}"
        )
    missing = [f.name for f in endpoint.body if f.required and f.name not in body]
    if missing:
        raise RequestRefused(f"body is missing required field(s): {', '.join(missing)}")
    if not body and fields:
        raise RequestRefused(f"body must set at least one of: {', '.join(fields)}")
    for name, value in body.items():
        spec = fields[name]
        types = FIELD_TYPES[spec.type]
        if not isinstance(value, types) or (spec.type != "boolean" and isinstance(value, bool)):
            raise RequestRefused(f"body field {name!r} must be a {spec.type}")
        if isinstance(value, str):
            unseen = unseen_character(value)
            if unseen:
                raise RequestRefused(
                    f"body field {name!r} contains {unseen}; send plain text on one line"
                )
            if not value.strip():
                raise RequestRefused(f"body field {name!r} must not be empty")
            if spec.max_length is not None and len(value) > spec.max_length:
                raise RequestRefused(f"body field {name!r} is longer than {spec.max_length}")
    return body


def unseen_character(text: str) -> str | None:
    """The first character of `text` a reader would not see as itself, described for the model
    ("an invisible character U+200B (ZERO WIDTH SPACE)"), or None."""
    for ch in text:
        category = unicodedata.category(ch)
        if ch in LINE_BREAKS or category in ("Zl", "Zp"):
            kind = "a line break"
        elif ch in BIDI_CONTROLS:
            kind = "a bidirectional control character"
        elif category == "Cc":
            kind = "a control character"
        elif category == "Cs":
            kind = "an unpaired surrogate"
        elif category == "Cf" or _FILLERS.match(ch):
            kind = "an invisible character"
        else:
            continue
        name = unicodedata.name(ch, "")
        return f"{kind} U+{ord(ch):04X}" + (f" ({name})" if name else "")
    return None
