"""The endpoint catalogue (data, in endpoints.json): what the model may call, and how; and how
the HR API's records look (its "record" section), the one place that knows a record's field
names, so cards, the finder and the model see records in the request's terms."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.tools.checks import (
    FIELD_TYPES,
    METHODS,
    PARAM_TYPES,
    RequestRefused,
    check_body,
    check_method,
    check_query,
    split_url,
)


@dataclass(frozen=True)
class RecordShape:
    """How the HR API's records look, from the catalogue's "record" section: what a record is
    called and which record fields hold each request field (a name kept as first and last)."""

    noun: str | None = None
    id_field: str = "id"
    fields: dict[str, tuple[str, ...]] | None = None
    # The fields a whole-directory listing shows (with the id); None: all of them.
    listed: tuple[str, ...] | None = None

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as a directory listing shows it: its view, cut to the listed fields."""
        view = self.view(record)
        if self.listed is None:
            return view
        return {k: v for k, v in view.items() if k == "id" or k in self.listed}

    def view(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record under the request's field names (plus its id): what the model is shown
        and what a card compares a change against. Without a mapping, the record as it is."""
        if self.fields is None:
            return dict(record)
        view: dict[str, Any] = {"id": record.get(self.id_field)}
        for name, parts in self.fields.items():
            if len(parts) == 1:
                view[name] = record.get(parts[0])
            else:
                words = [str(record[p]) for p in parts if record.get(p) not in (None, "")]
                view[name] = " ".join(words)
        return view


def record_shape(entry: Any) -> RecordShape:
    """The catalogue's "record" section; ValueError says what is wrong with it. None means
    records are shown as they are."""
    if entry is None:
        return RecordShape()
    fields = entry.get("fields") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or not isinstance(fields, dict):
        raise ValueError('"record" is {"noun": ..., "fields": {"name": ["first_name", ...]}}')
    for name, parts in fields.items():
        if not (isinstance(parts, list) and parts and all(isinstance(p, str) for p in parts)):
            raise ValueError(f"record field {name!r} needs a list of the HR API's field names")
    noun = entry.get("noun")
    if noun is not None and not (
        isinstance(noun, str) and re.fullmatch(r"[a-z][a-z ]{0,30}", noun)
    ):
        raise ValueError("record noun must be a short lower-case word, like 'employee'")
    listed = entry.get("listed")
    if listed is not None and not (
        isinstance(listed, list) and listed and all(name in fields for name in listed)
    ):
        raise ValueError('record "listed" is a list of its own field names, like ["name", "job"]')
    return RecordShape(
        noun=noun,
        id_field=str(entry.get("id", "id")),
        fields={name: tuple(parts) for name, parts in fields.items()},
        listed=tuple(listed) if listed is not None else None,
    )


DEFAULT_CATALOGUE = Path(__file__).with_name("endpoints.json")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LITERAL_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_PLACEHOLDER = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class CatalogueError(Exception):
    """The catalogue file is not a valid endpoint catalogue."""


@dataclass(frozen=True)
class BodyField:
    name: str
    type: str
    required: bool = False
    max_length: int | None = None
    description: str = ""
    enum: tuple[Any, ...] | None = None  # the only values allowed, when the catalogue lists them
    # Sent in the requester's own letter case where the model changed only that (a convention
    # such as lower-case job titles); names and emails are better left to the model.
    as_typed: bool = False


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    description: str
    approval: bool
    approvals_required: int
    params: dict[str, str]
    query: dict[str, str]
    body: tuple[BodyField, ...] | None
    pattern: re.Pattern[str]
    tool: str | None = None  # the typed tool's name, if not the one made from method and noun

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def describe(self) -> str:
        query = "".join(f"?{name}=N" for name in self.query)
        line = f"- {self.method} {self.path}{query}: {self.description}"
        if self.body:
            fields = ", ".join(
                f"{f.name} ({f.type}{', required' if f.required else ''}"
                + (f", one of {'|'.join(map(str, f.enum))})" if f.enum else ")")
                for f in self.body
            )
            line += f" Body: {{{fields}}}."
        if self.approval and not self.is_write:  # writes are always held; say so only for reads
            line += " Needs human approval."
        return line


@dataclass(frozen=True)
class ValidatedRequest:
    """A request that passed every rule: safe to send (GET) or to queue for approval (writes)."""

    endpoint: Endpoint
    method: str
    path: str
    body: dict[str, Any] | None

    @property
    def needs_approval(self) -> bool:
        return self.endpoint.approval


def _compile(template: str, params: dict[str, str]) -> re.Pattern[str]:
    if not template.startswith("/") or "//" in template:
        raise CatalogueError(f"path {template!r} must start with '/' and have no empty segment")
    parts = []
    for segment in template.strip("/").split("/"):
        placeholder = _PLACEHOLDER.match(segment)
        if placeholder:
            name = placeholder[1]
            if params.get(name) not in PARAM_TYPES:
                raise CatalogueError(
                    f"{template}: placeholder {{{name}}} needs a type in 'params', "
                    f"one of {sorted(PARAM_TYPES)}"
                )
            parts.append(f"(?P<{name}>{PARAM_TYPES[params[name]]})")
        elif _LITERAL_SEGMENT.match(segment) and segment not in (".", ".."):
            parts.append(re.escape(segment))
        else:
            raise CatalogueError(f"{template}: segment {segment!r} is not allowed")
    return re.compile("^/" + "/".join(parts) + "$")


def _endpoint(entry: dict[str, Any]) -> Endpoint:
    method = entry.get("method")
    path = entry.get("path")
    if method not in METHODS or not isinstance(path, str):
        raise CatalogueError(f"entry needs a method from {METHODS} and a path: {entry!r}")
    params = dict(entry.get("params") or {})
    query = dict(entry.get("query") or {})
    approval = bool(entry.get("approval", method in WRITE_METHODS))
    if method in WRITE_METHODS and not approval:
        raise CatalogueError(f"{method} {path}: writes always need approval")
    if method != "GET" and query:
        raise CatalogueError(f"{method} {path}: only GET endpoints take query parameters")
    if any(kind not in PARAM_TYPES for kind in query.values()):
        raise CatalogueError(f"{method} {path}: query types must be among {sorted(PARAM_TYPES)}")
    approvals_required = entry.get("approvals_required", 1)
    if not isinstance(approvals_required, int) or not 1 <= approvals_required <= 10:
        raise CatalogueError(f"{method} {path}: approvals_required must be 1 to 10")
    body = None
    if "body" in entry:
        if method not in ("POST", "PUT", "PATCH"):
            raise CatalogueError(f"{method} {path}: only POST, PUT and PATCH take a body")
        fields = []
        for name, spec in entry["body"].items():
            if spec.get("type") not in FIELD_TYPES:
                raise CatalogueError(f"{method} {path}: field {name} needs a type")
            if not isinstance(spec.get("as_typed", False), bool):
                raise CatalogueError(f"{method} {path}: field {name}: as_typed is true or false")
            fields.append(
                BodyField(
                    name=name,
                    type=spec["type"],
                    required=bool(spec.get("required", False)),
                    max_length=spec.get("max_length"),
                    description=spec.get("description", ""),
                    enum=_choices(f"{method} {path}: field {name}", spec),
                    as_typed=spec.get("as_typed", False),
                )
            )
        body = tuple(fields)
    elif method in ("POST", "PUT", "PATCH"):
        raise CatalogueError(f"{method} {path}: describe its body fields under 'body'")
    tool = entry.get("tool")
    if tool is not None and not (isinstance(tool, str) and _TOOL_NAME.match(tool)):
        raise CatalogueError(f"{method} {path}: tool must be a snake_case name, not {tool!r}")
    return Endpoint(
        method=method,
        path=path,
        description=str(entry.get("description", "")),
        approval=approval,
        approvals_required=approvals_required,
        params=params,
        query=query,
        body=body,
        pattern=_compile(path, params),
        tool=tool,
    )


def _choices(where: str, spec: dict[str, Any]) -> tuple[Any, ...] | None:
    """A field's "enum": the values it may take, each of the field's type."""
    if "enum" not in spec:
        return None
    values, types = spec["enum"], FIELD_TYPES[spec["type"]]
    if not isinstance(values, list) or not values:
        raise CatalogueError(f"{where}: enum must be a non-empty list")
    if any(not isinstance(v, types) or isinstance(v, bool) != (bool in types) for v in values):
        raise CatalogueError(f"{where}: every enum value must be a {spec['type']}")
    return tuple(values)


class Catalogue:
    """The endpoints the model may call; everything else is refused before any network I/O."""

    def __init__(self, endpoints: list[Endpoint], record: RecordShape | None = None) -> None:
        self.record = record or RecordShape()
        seen = set()
        for endpoint in endpoints:
            key = (endpoint.method, endpoint.path)
            if key in seen:
                raise CatalogueError(f"{endpoint.method} {endpoint.path} is listed twice")
            seen.add(key)
        self.endpoints = tuple(endpoints)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CATALOGUE) -> Catalogue:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise CatalogueError(f"cannot read catalogue {path}: {e}") from e
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> Catalogue:
        if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
            raise CatalogueError('a catalogue is {"endpoints": [...]}')
        try:
            record = record_shape(data.get("record"))
        except ValueError as e:
            raise CatalogueError(str(e)) from e
        return cls([_endpoint(entry) for entry in data["endpoints"]], record)

    def describe(self) -> str:
        return "\n".join(endpoint.describe() for endpoint in self.endpoints)

    def readable(self, path: str) -> bool:
        """Whether a GET of `path` is in the catalogue (so a write's target can be shown)."""
        try:
            self.validate("GET", path, None)
        except RequestRefused:
            return False
        return True

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        """The endpoint a stored request (method and path, as validated) was made for."""
        return next(
            (e for e in self.endpoints if e.method == method and e.pattern.match(path)), None
        )

    def validate(self, method: Any, url: Any, body: Any) -> ValidatedRequest:
        """Check method, url and body against the catalogue; raise RequestRefused saying why not."""
        method = check_method(method)
        path, query = split_url(url)
        on_path = [e for e in self.endpoints if e.pattern.match(path)]
        if not on_path:
            known = ", ".join(sorted({e.path for e in self.endpoints}))
            raise RequestRefused(f"unknown path {path}; the known paths are: {known}")
        endpoint = next((e for e in on_path if e.method == method), None)
        if endpoint is None:
            allowed = ", ".join(e.method for e in on_path)
            raise RequestRefused(f"{method} is not allowed on {path}; allowed: {allowed}")
        check_query(endpoint, query)
        checked_body = check_body(endpoint, body)
        for field in endpoint.body or ():  # check_body has checked every value's type
            given = (checked_body or {}).get(field.name)
            if field.enum and given is not None and given not in field.enum:
                allowed = ", ".join(map(str, field.enum))
                raise RequestRefused(f"body field {field.name!r} must be one of: {allowed}")
        full_path = path + (f"?{query}" if query else "")
        return ValidatedRequest(endpoint, method, full_path, checked_body)
