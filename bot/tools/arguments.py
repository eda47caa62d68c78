"""A tool call's arguments checked against the tool's JSON schema before anything runs: one
object, no stray keys, the required ones present, each of its declared type; every refusal says
what to send instead. Any tool family can use it; what the values mean is each tool's business."""

from __future__ import annotations

import json
from typing import Any

MAX_ARGUMENT_CHARS = 16 * 1024
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
# Keys a model wraps the real arguments in, as if it were writing the whole tool call.
WRAPPERS = frozenset({"arguments", "parameters", "args", "input"})


class BadArguments(Exception):
    """The arguments do not fit the tool's schema; the message tells the model what to send.
    `unexpected`: the keys the tool does not take, when that is what is wrong."""

    def __init__(self, message: str, unexpected: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.unexpected = unexpected


def parse_arguments(tool: str, raw: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a call to `tool`, or BadArguments. `parameters` is the tool's JSON schema
    (an object's properties and required keys); keys it does not declare are refused unless it
    sets additionalProperties. A null for an optional key counts as not given."""
    properties: dict[str, Any] = parameters.get("properties") or {}
    expected = f"with {_names(properties)}" if properties else "({} for none)"
    if len(raw) > MAX_ARGUMENT_CHARS:
        raise BadArguments(f"the arguments are longer than {MAX_ARGUMENT_CHARS} characters.")
    try:
        args = json.loads(raw.strip() or "{}")
    except ValueError as e:
        raise BadArguments(
            f"the arguments are not valid JSON ({e}). Send one JSON object {expected}."
        ) from e
    if isinstance(args, str) and isinstance(_decoded(args), dict):
        raise BadArguments(
            "the arguments are a string that holds a JSON object (encoded twice); nothing was "
            'run. Send the object itself, {...}, not "{...}".'
        )
    if not isinstance(args, dict):
        several = (
            " To do several things, make one tool call each." if isinstance(args, list) else ""
        )
        raise BadArguments(
            f"the arguments must be a JSON object {expected}, got {_kind(args)}; nothing was "
            f"run.{several}"
        )
    unknown = sorted(set(args) - set(properties))
    if unknown and not parameters.get("additionalProperties"):
        if len(args) == 1 and unknown[0] in WRAPPERS and isinstance(args[unknown[0]], dict):
            raise BadArguments(
                f"the arguments are wrapped in `{unknown[0]}`; nothing was run. Send what is "
                f"inside it as the arguments themselves, one object {expected}."
            )
        raise BadArguments(
            f"unexpected argument(s) {_names(unknown)}; nothing was run. {tool} takes only "
            f"{_names(properties) or 'no arguments'}.",
            unexpected=tuple(unknown),
        )
    given = {key: value for key, value in args.items() if value is not None}
    missing = [key for key in parameters.get("required") or () if key not in given]
    if missing:
        raise BadArguments(
            f"missing required argument(s) {_names(missing)}; nothing was run. Send one JSON "
            f"object {expected}."
        )
    for key, value in given.items():
        kind = (properties.get(key) or {}).get("type")
        if kind is None or _is_a(value, kind):
            continue
        twice = isinstance(value, str) and _is_a(_decoded(value), kind)
        raise BadArguments(
            f"`{key}` must be {_described(kind)}, got {_kind(value)}"
            + (f" that holds one (encoded twice); send the {kind} itself" if twice else "")
            + "; nothing was run."
        )
    return given


def _is_a(value: Any, kind: str | list[str]) -> bool:
    for one in [kind] if isinstance(kind, str) else kind:
        types = JSON_TYPES.get(one)
        if types is None:  # a type this check does not know is the tool's to judge
            return True
        # JSON's numbers are not booleans, though Python's bool is an int.
        if isinstance(value, types) and (one == "boolean" or not isinstance(value, bool)):
            return True
    return False


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else "a number"


def _described(kind: str | list[str]) -> str:
    if not isinstance(kind, str):
        return " or ".join(_described(one) for one in kind)
    return {"array": "a list", "integer": "a whole number", "null": "null"}.get(
        kind, f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    )


def _names(keys: Any) -> str:
    return ", ".join(str(key) for key in keys)
