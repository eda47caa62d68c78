"""What each operation accepts, described once: the same `Field`s check a request (every problem
reported at once) and become the OpenAPI document's schemas and parameters."""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from sandbox.hris.errors import BadRequest, Problem

MAX_TEXT = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


@dataclass(frozen=True)
class Field:
    """A body field or query parameter. `kind` is one of string, email, date, date-time,
    integer, number, boolean, object (with `fields`) or array (of `item`)."""

    name: str
    kind: str
    description: str = ""
    required: bool = False
    nullable: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_length: int = 1
    fields: tuple[Field, ...] = ()
    item: Field | None = None
    at_least_one: bool = False  # an object that must set one of its fields at least
    default: Any = None  # a query parameter's value when it is not given

    def check(self, value: Any, where: str) -> list[Problem]:
        """The problems with `value` as this field (at `where`, a dotted path)."""
        if value is None:
            return [] if self.nullable else [Problem(f"'{where}' must not be null", where)]
        checker = getattr(self, "_check_" + self.kind.replace("-", "_"))
        return checker(value, where)

    def _check_string(self, value: Any, where: str) -> list[Problem]:
        if not isinstance(value, str):
            return [Problem(f"'{where}' must be a string", where)]
        if len(value.strip()) < self.min_length:
            return [Problem(f"'{where}' must not be empty", where)]
        if len(value) > MAX_TEXT:
            return [Problem(f"'{where}' is longer than {MAX_TEXT} characters", where)]
        if self.enum and value not in self.enum:
            return [Problem(f"'{where}' must be one of {', '.join(self.enum)}", where)]
        return []

    def _check_email(self, value: Any, where: str) -> list[Problem]:
        problems = self._check_string(value, where)
        if not problems and not _EMAIL.fullmatch(value):
            problems.append(Problem(f"'{where}' is not an email address", where))
        return problems

    def _check_date(self, value: Any, where: str) -> list[Problem]:
        if not isinstance(value, str) or not _is_date(value):
            return [Problem(f"'{where}' must be a date: YYYY-MM-DD", where)]
        return []

    def _check_date_time(self, value: Any, where: str) -> list[Problem]:
        if not isinstance(value, str) or not _is_date_time(value):
            return [Problem(f"'{where}' must be a date and time: YYYY-MM-DDTHH:MM:SS", where)]
        return []

    def _check_integer(self, value: Any, where: str) -> list[Problem]:
        if isinstance(value, bool) or not isinstance(value, int):
            return [Problem(f"'{where}' must be a whole number", where)]
        return self._within(value, where)

    def _check_number(self, value: Any, where: str) -> list[Problem]:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return [Problem(f"'{where}' must be a number", where)]
        return self._within(value, where)

    def _check_boolean(self, value: Any, where: str) -> list[Problem]:
        return (
            [] if isinstance(value, bool) else [Problem(f"'{where}' must be true or false", where)]
        )

    def _check_object(self, value: Any, where: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [Problem(f"'{where}' must be an object", where)]
        inside = f"{where}." if where else ""
        known = {field.name: field for field in self.fields}
        problems = [
            Problem(f"unknown field '{inside}{name}'", inside + name)
            for name in value
            if name not in known
        ]
        for name, field in known.items():
            if name in value:
                problems += field.check(value[name], inside + name)
            elif field.required:
                problems.append(Problem(f"'{inside}{name}' is required", inside + name))
        if self.at_least_one and not value:
            names = ", ".join(known)
            problems.append(Problem(f"set at least one of {names}", where or None))
        return problems

    def _check_array(self, value: Any, where: str) -> list[Problem]:
        if not isinstance(value, list):
            return [Problem(f"'{where}' must be a list", where)]
        assert self.item is not None
        return [p for i, each in enumerate(value) for p in self.item.check(each, f"{where}[{i}]")]

    def _within(self, value: float, where: str) -> list[Problem]:
        if self.minimum is not None and value < self.minimum:
            return [Problem(f"'{where}' must be at least {self.minimum:g}", where)]
        if self.maximum is not None and value > self.maximum:
            return [Problem(f"'{where}' must be at most {self.maximum:g}", where)]
        return []

    def read(self, text: str) -> tuple[Any, list[Problem]]:
        """A query parameter's text as this field's value, and what is wrong with it."""
        if self.kind == "integer":
            if not _WHOLE_NUMBER.fullmatch(text):
                return None, [Problem(f"'{self.name}' must be a whole number", self.name)]
            value: Any = int(text)
        else:
            value = text
        return value, self.check(value, self.name)

    def schema(self) -> dict[str, Any]:
        """This field as an OpenAPI 3.0 schema."""
        schema: dict[str, Any] = {"type": _TYPES[self.kind]}
        if self.kind in ("date", "date-time", "email"):
            schema["format"] = self.kind
        if self.kind in ("string", "email"):
            schema |= {"minLength": self.min_length, "maxLength": MAX_TEXT}
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.kind == "object":
            schema["properties"] = {field.name: field.schema() for field in self.fields}
            required = [field.name for field in self.fields if field.required]
            if required:
                schema["required"] = required
            schema["additionalProperties"] = False
            if self.at_least_one:
                schema["minProperties"] = 1
        if self.item is not None:
            schema["items"] = self.item.schema()
        if self.default is not None:
            schema["default"] = self.default
        if self.nullable:
            schema["nullable"] = True
        if self.description:
            schema["description"] = self.description
        return schema


_TYPES = {
    "string": "string",
    "email": "string",
    "date": "string",
    "date-time": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
}


def _is_date(text: str) -> bool:
    try:
        return bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text)) and bool(
            datetime.date.fromisoformat(text)
        )
    except ValueError:
        return False


def _is_date_time(text: str) -> bool:
    shape = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"
    try:
        return bool(re.fullmatch(shape, text)) and bool(datetime.datetime.fromisoformat(text))
    except ValueError:
        return False


def read_body(body: Field, value: Any) -> dict[str, Any]:
    """The body, checked against `body` (an object field); BadRequest lists every problem."""
    problems = body.check(value, "")
    if problems:
        raise BadRequest(problems)
    return value


def read_query(parameters: tuple[Field, ...], query: str) -> dict[str, Any]:
    """The query string as values by parameter name; BadRequest lists every problem: unknown or
    repeated parameters, missing required ones, values of the wrong kind."""
    given = parse_qs(query, keep_blank_values=True)
    known = {parameter.name: parameter for parameter in parameters}
    problems = [
        Problem(f"unknown query parameter '{name}'", name) for name in given if name not in known
    ]
    values = {}
    for name, parameter in known.items():
        texts = given.get(name)
        if texts is None:
            if parameter.required:
                problems.append(Problem(f"query parameter '{name}' is required", name))
            elif parameter.default is not None:
                values[name] = parameter.default
            continue
        if len(texts) > 1:
            problems.append(Problem(f"query parameter '{name}' is given more than once", name))
            continue
        values[name], found = parameter.read(texts[0])
        problems += found
    if problems:
        raise BadRequest(problems)
    return values
