"""The endpoint catalogue (data, in endpoints.json): what the model may call, and how; and how
the HR API's records look, the one place that knows a record's field names, so cards, the
finder and the model see records in the request's terms. One kind of record ("record") or
several ("resources", each endpoint naming its own), how lists page ("paging"), and, in a draft
made by `catalogue import`, which endpoints the operator kept."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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
    name: str = "record"  # its key under "resources"
    people: bool = False  # the directory of people: what the finder searches
    # The field (of its own, in the request's terms) holding the id of the one person a record
    # is about: a time-off request's employee. None: about nobody (a department), or, on the
    # people themselves, the record's own person.
    subject: str | None = None
    # How to read a person's manager (people only): the GET whose placeholder takes the person's
    # id, and the dotted field of its answer (or of its first record) holding the manager's id.
    manager: tuple[str, str] | None = None

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
        view: dict[str, Any] = {"id": as_id(dig(record, self.id_field))}
        for name, parts in self.fields.items():
            if len(parts) == 1:
                view[name] = dig(record, parts[0])
            else:
                values = [dig(record, p) for p in parts]
                view[name] = " ".join(str(v) for v in values if v not in (None, ""))
        return view


def as_id(value: Any) -> Any:
    """An id written in digits ("1003", as some HR APIs send them) as the number it is, so it
    is named, compared and put in a path like any other; anything else as it is."""
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,9}", value):
        return int(value)
    return value


def dig(record: Any, path: str) -> Any:
    """The value at a dotted path in a record (`position.title`, `org_units.0.name`); None
    where the record has nothing there."""
    value = record
    for key in path.split("."):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def placed(fields: dict[str, Any], at: dict[str, str]) -> dict[str, Any]:
    """A body in the request's terms (what the card shows) nested as the HR API takes it: each
    field at its dotted path (`person_id` at `person.id`), the others as they are."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        *outer, last = at.get(name, name).split(".")
        into = body
        for key in outer:
            into = into.setdefault(key, {})
        into[last] = value
    return body


def record_shape(entry: Any, name: str = "record") -> RecordShape:
    """The catalogue's "record" section, or one of its "resources"; ValueError says what is
    wrong with it. None means records are shown as they are."""
    if entry is None:
        return RecordShape()
    fields = entry.get("fields") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or not isinstance(fields, dict):
        raise ValueError(f'"{name}" is {{"noun": ..., "fields": {{"name": ["first_name", ...]}}}}')
    for field, parts in fields.items():
        if not (isinstance(parts, list) and parts and all(isinstance(p, str) for p in parts)):
            raise ValueError(f"{name} field {field!r} needs a list of the HR API's field names")
    noun = entry.get("noun")
    if noun is not None and not (
        isinstance(noun, str) and re.fullmatch(r"[a-z][a-z -]{0,30}", noun)
    ):
        raise ValueError(f"{name} noun must be short lower-case words, like 'employee'")
    listed = entry.get("listed")
    if listed is not None and not (
        isinstance(listed, list) and listed and all(field in fields for field in listed)
    ):
        raise ValueError(f'{name} "listed" is a list of its own field names, like ["name", "job"]')
    people, subject = entry.get("people", False), entry.get("subject")
    if not isinstance(people, bool):
        raise ValueError(f'{name} "people" is true or false')
    if subject is not None and subject not in fields:
        raise ValueError(f'{name} "subject" names one of its own fields, not {subject!r}')
    manager = entry.get("manager")
    if manager is not None and not (
        people
        and isinstance(manager, dict)
        and set(manager) == {"path", "field"}
        and isinstance(manager["path"], str)
        and manager["path"].count("{") == 1
        and isinstance(manager["field"], str)
        and manager["field"]
    ):
        raise ValueError(
            f'{name} "manager" is {{"path": "/persons/{{id}}/...", "field": "supervisor.id"}}, '
            "on the people's records only"
        )
    if people and not {"name", "email"} <= set(fields):
        raise ValueError(f'{name}: the people\'s records need a "name" and an "email" field')
    return RecordShape(
        noun=noun,
        id_field=str(entry.get("id", "id")),
        fields={field: tuple(parts) for field, parts in fields.items()},
        listed=tuple(listed) if listed is not None else None,
        name=name,
        people=people,
        subject=subject,
        manager=(manager["path"], manager["field"]) if manager else None,
    )


DEFAULT_CATALOGUE = Path(__file__).with_name("endpoints.json")
PRESETS = Path(__file__).with_name("presets")  # reviewed catalogues of known HR systems


def presets() -> list[str]:
    """The names of the catalogues that ship with the bot (HR_CATALOGUE=personio)."""
    return sorted(path.stem for path in PRESETS.glob("*.json"))


def catalogue_file(chosen: str | None) -> Path | None:
    """The catalogue HR_CATALOGUE names: a preset by its name, or a file; the shipped
    employees-only one when unset; None when it names neither."""
    if not chosen:
        return DEFAULT_CATALOGUE
    if chosen in presets():
        return PRESETS / f"{chosen}.json"
    path = Path(chosen)
    return path if path.is_file() else None


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LITERAL_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_PLACEHOLDER = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_AT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")
_RESOURCE_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")
SECTIONS = frozenset({"record", "resources", "paging", "endpoints", "draft"})
ENDPOINT_KEYS = frozenset(
    {
        "method",
        "path",
        "description",
        "params",
        "query",
        "body",
        "approval",
        "approvals_required",
        "tool",
        "resource",
        "keep",
        "operation_id",
        "hr_decision",
        "approvers",
    }
)


class CatalogueError(Exception):
    """The catalogue file is not a valid endpoint catalogue: every problem found, one a line."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Paging:
    """How the HR API's lists page: by page number (`pages`: the field with how many there
    are) or by cursor (`next`: the dotted path of the next page's link, whose `cursor` query
    parameter is sent back). `items`: the field holding a page's records."""

    items: str = "data"
    pages: str | None = "total_pages"
    page: str = "page"
    next: str | None = None
    cursor: str = "cursor"
    size: str | None = None  # the query parameter for a page's size: the bot's, not the model's

    @property
    def by_cursor(self) -> bool:
        return self.next is not None

    def records(self, body: Any) -> list[dict[str, Any]] | None:
        """A page's records; None when `body` is not a page of a list."""
        found = dig(body, self.items) if isinstance(body, dict) else None
        if not isinstance(found, list):
            return None
        return [r for r in found if isinstance(r, dict)]

    def total(self, body: Any) -> int | None:
        """How many pages there are, when the HR API says (page-number lists only)."""
        pages = dig(body, self.pages) if self.pages and isinstance(body, dict) else None
        return (
            pages if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0 else None
        )

    def after(self, body: Any, page: int) -> str | None:
        """The query that reads the page after `page` (whose answer was `body`); None on the
        last. A cursor is taken from the next link's query, never the link itself: every
        request stays a path on the configured HR API."""
        if not self.by_cursor:
            total = self.total(body)
            return f"{self.page}={page + 1}" if total is not None and page < total else None
        link = dig(body, str(self.next)) if isinstance(body, dict) else None
        if not isinstance(link, str):
            return None
        query = urlsplit(link).query  # with the list's own filters and page size
        return query if dict(parse_qsl(query)).get(self.cursor) else None


def paging(entry: Any) -> Paging:
    """The catalogue's "paging" section; ValueError says what is wrong with it."""
    if entry is None:
        return Paging()
    keys = {"items", "pages", "page", "next", "cursor", "size"}
    if not isinstance(entry, dict) or not isinstance(entry.get("items"), str):
        raise ValueError(
            '"paging" is {"items": "data", "pages": "total_pages"} or '
            '{"items": "_data", "next": "_meta.links.next.href"}'
        )
    if set(entry) - keys or not all(isinstance(v, str) and v for v in entry.values()):
        raise ValueError(f'"paging" takes only text values for {", ".join(sorted(keys))}')
    if ("next" in entry) == ("pages" in entry):
        raise ValueError('"paging" needs either "pages" (page numbers) or "next" (a cursor)')
    if "next" in entry:
        return Paging(
            items=entry["items"],
            pages=None,
            next=entry["next"],
            cursor=entry.get("cursor", "cursor"),
        )
    return Paging(
        items=entry["items"],
        pages=entry["pages"],
        page=entry.get("page", "page"),
        size=entry.get("size"),
    )


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
    at: str | None = None  # where the HR API takes it, when nested: person_id at person.id


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
    resource: str = "record"  # the kind of record it reads or changes, from "resources"
    # It is the HR system's own decision on a record (approving a time-off request there).
    hr_decision: bool = False
    # "manager": the manager of the person the change is about decides it (read from the HR
    # data); None: the approver group.
    approvers: str | None = None

    @property
    def verb(self) -> str | None:
        """An action on a record, in words: POST /absence-periods/{id}/approve is "Approve";
        None for the method's own (create, update, delete)."""
        *_, before, last = ["", *self.path.split("/")]
        if self.method != "POST" or not before.startswith("{") or last.startswith("{"):
            return None
        return last.replace("-", " ").replace("_", " ").capitalize()

    def sent(self, body: dict[str, Any] | None) -> dict[str, Any] | None:
        """The body as the HR API takes it: fields nested where the catalogue says ("at")."""
        if body is None:
            return None
        return placed(body, {f.name: f.at for f in self.body or () if f.at})

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


def _endpoint(entry: Any, resources: dict[str, RecordShape]) -> Endpoint:
    """One entry of "endpoints"; CatalogueError lists every problem with it."""
    if not isinstance(entry, dict):
        raise CatalogueError(f"an endpoint is an object with a method and a path, not {entry!r}")
    method = entry.get("method")
    path = entry.get("path")
    if method not in METHODS or not isinstance(path, str):
        raise CatalogueError(f"entry needs a method from {METHODS} and a path: {entry!r}")
    where = f"{method} {path}"
    problems: list[str] = []
    unknown = sorted(set(entry) - ENDPOINT_KEYS)
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    params = dict(entry.get("params") or {})
    query = dict(entry.get("query") or {})
    approval = bool(entry.get("approval", method in WRITE_METHODS))
    if method in WRITE_METHODS and not approval:
        problems.append(f"{where}: writes always need approval")
    if method != "GET" and query:
        problems.append(f"{where}: only GET endpoints take query parameters")
    if any(kind not in PARAM_TYPES for kind in query.values()):
        problems.append(f"{where}: query types must be among {sorted(PARAM_TYPES)}")
    approvals_required = entry.get("approvals_required", 1)
    if not isinstance(approvals_required, int) or not 1 <= approvals_required <= 10:
        problems.append(f"{where}: approvals_required must be 1 to 10")
    if not isinstance(entry.get("keep", True), bool):
        problems.append(f"{where}: keep is true or false")
    approvers = entry.get("approvers")
    if approvers not in (None, "manager") or (approvers and not approval):
        problems.append(f'{where}: approvers is "manager" (on an endpoint held for approval)')
    hr_decision = entry.get("hr_decision", False)
    if hr_decision is not False and not (hr_decision is True and method == "POST"):
        problems.append(f"{where}: hr_decision (the HR system's own decision) is true, on a POST")
    resource = entry.get("resource", "record" if "record" in resources else None)
    if resource not in resources:
        known = ", ".join(sorted(resources))
        problems.append(f"{where}: resource must name one of the catalogue's resources ({known})")
    body = None
    if "body" in entry:
        body = _body(where, method, entry["body"], problems)
    elif method in ("POST", "PUT", "PATCH"):
        problems.append(f"{where}: describe its body fields under 'body' ({{}} for none)")
    tool = entry.get("tool")
    if tool is not None and not (isinstance(tool, str) and _TOOL_NAME.match(tool)):
        problems.append(f"{where}: tool must be a snake_case name, not {tool!r}")
    try:
        pattern = _compile(path, params)
    except CatalogueError as e:
        problems.extend(e.problems)
    if problems:
        raise CatalogueError(*problems)
    return Endpoint(
        method=method,
        path=path,
        description=str(entry.get("description", "")),
        approval=approval,
        approvals_required=approvals_required,
        params=params,
        query=query,
        body=body,
        pattern=pattern,
        tool=tool,
        resource=str(resource),
        hr_decision=hr_decision,
        approvers=approvers,
    )


def _body(where: str, method: str, entry: Any, problems: list[str]) -> tuple[BodyField, ...]:
    """An endpoint's "body" fields; what is wrong with each is added to `problems`."""
    if method not in ("POST", "PUT", "PATCH"):
        problems.append(f"{where}: only POST, PUT and PATCH take a body")
        return ()
    if not isinstance(entry, dict):
        problems.append(f'{where}: "body" is {{"field": {{"type": "string"}}, ...}}')
        return ()
    fields = []
    for name, spec in entry.items():
        if not isinstance(spec, dict) or spec.get("type") not in FIELD_TYPES:
            problems.append(f"{where}: field {name} needs a type, one of {sorted(FIELD_TYPES)}")
            continue
        if not isinstance(spec.get("as_typed", False), bool):
            problems.append(f"{where}: field {name}: as_typed is true or false")
            continue
        at = spec.get("at")
        if at is not None and not (isinstance(at, str) and _AT.fullmatch(at)):
            problems.append(f"{where}: field {name}: at is a dotted path, like person.id")
            continue
        try:
            choices = _choices(f"{where}: field {name}", spec)
        except CatalogueError as e:
            problems.extend(e.problems)
            continue
        fields.append(
            BodyField(
                name=name,
                type=spec["type"],
                required=bool(spec.get("required", False)),
                max_length=spec.get("max_length"),
                description=spec.get("description", ""),
                enum=choices,
                as_typed=spec.get("as_typed", False),
                at=at,
            )
        )
    return tuple(fields)


def _resources(data: dict[str, Any], problems: list[str]) -> dict[str, RecordShape]:
    """The catalogue's kinds of record: its "resources", or its one "record"."""
    if "record" in data and "resources" in data:
        problems.append('give "record" (one kind of record) or "resources" (several), not both')
    if "resources" not in data:
        try:
            return {"record": record_shape(data.get("record"))}
        except ValueError as e:
            problems.append(str(e))
            return {"record": RecordShape()}
    entries = data["resources"]
    if not isinstance(entries, dict) or not entries:
        problems.append('"resources" is {"person": {"noun": "person", "fields": {...}}, ...}')
        return {}
    resources: dict[str, RecordShape] = {}
    for name, entry in entries.items():
        if not _RESOURCE_NAME.fullmatch(name):
            problems.append(f"resource name {name!r} must be snake_case, like time_off")
            continue
        try:
            resources[name] = record_shape(entry, name)
        except ValueError as e:
            problems.append(str(e))
            resources[name] = RecordShape(name=name)  # known, so its endpoints add no problem
    people = [name for name, shape in resources.items() if shape.people]
    if len(people) > 1:
        problems.append(f'only one resource holds the people ("people": true), not {people}')
    if any(shape.subject for shape in resources.values()) and not people:
        problems.append('a resource names a "subject", but none holds the people ("people": true)')
    return resources


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

    def __init__(
        self,
        endpoints: list[Endpoint],
        record: RecordShape | None = None,
        *,
        resources: dict[str, RecordShape] | None = None,
        paging: Paging | None = None,
        held_back: tuple[Endpoint, ...] = (),
    ) -> None:
        """`resources`: every kind of record by name (by default `record` alone); `held_back`:
        a draft's endpoints the operator has not kept, listed but never offered."""
        self.resources = resources or {"record": record or RecordShape()}
        self.paging = paging or Paging()
        self.held_back = held_back
        seen = set()
        for endpoint in endpoints:
            key = (endpoint.method, endpoint.path)
            if key in seen:
                raise CatalogueError(f"{endpoint.method} {endpoint.path} is listed twice")
            seen.add(key)
        self.endpoints = tuple(endpoints)
        people = [shape for shape in self.resources.values() if shape.people]
        # The directory the finder searches: the people's records, or the one kind there is.
        self.record = people[0] if people else self.resources.get("record", RecordShape())

    def shape(self, endpoint: Endpoint | None) -> RecordShape:
        """How the records `endpoint` reads or changes look; the people's by default."""
        if endpoint is None:
            return self.record
        return self.resources.get(endpoint.resource, self.record)

    def directory(self, *, one: bool) -> Endpoint | None:
        """The people's list endpoint (GET, no placeholder), or with `one` the GET of one of
        them by a single placeholder; None when the catalogue has none."""
        for endpoint in self.endpoints:
            if (
                endpoint.method == "GET"
                and self.shape(endpoint) is self.record
                and len(endpoint.params) == (1 if one else 0)
            ):
                return endpoint
        return None

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CATALOGUE) -> Catalogue:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise CatalogueError(f"cannot read catalogue {path}: {e}") from e
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> Catalogue:
        """The catalogue `data` describes; CatalogueError lists every problem found in it, one
        a line, rather than the first alone."""
        if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
            raise CatalogueError('a catalogue is {"endpoints": [...]}')
        problems: list[str] = []
        unknown = sorted(set(data) - SECTIONS)
        if unknown:
            problems.append(
                f"unknown section(s) {', '.join(unknown)}; "
                f"a catalogue has {', '.join(sorted(SECTIONS))}"
            )
        resources = _resources(data, problems)
        try:
            lists = paging(data.get("paging"))
        except ValueError as e:
            problems.append(str(e))
            lists = Paging()
        kept: list[Endpoint] = []
        held_back: list[Endpoint] = []
        seen: set[tuple[str, str]] = set()
        for entry in data["endpoints"]:
            try:
                endpoint = _endpoint(entry, resources)
            except CatalogueError as e:
                problems.extend(e.problems)
                continue
            key = (endpoint.method, endpoint.path)
            if key in seen:
                problems.append(f"{endpoint.method} {endpoint.path} is listed twice")
            seen.add(key)
            (kept if entry.get("keep", True) else held_back).append(endpoint)
        people = next((shape for shape in resources.values() if shape.people), None)
        if people is not None and people.manager is not None:
            example = re.sub(r"\{\w+\}", "1", people.manager[0])  # a path the GET must match
            if not any(e.method == "GET" and e.pattern.match(example) for e in kept):
                problems.append(
                    f"{people.name} manager: GET {people.manager[0]} is not an endpoint kept in "
                    "the catalogue"
                )
        if any(e.approvers == "manager" for e in kept) and (people is None or not people.manager):
            problems.append(
                'an endpoint\'s approvers is "manager", but the people\'s records say no "manager"'
            )
        if held_back and not kept and not problems:
            problems.append(
                f"no endpoint is kept ({len(held_back)} are listed): review each, and set "
                '"keep": true on those the bot may offer'
            )
        if problems:
            raise CatalogueError(*problems)
        return cls(kept, resources=resources, paging=lists, held_back=tuple(held_back))

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


class NestedBodies:
    """The HR transport the executor sends approved changes through: each body goes out nested
    as the catalogue says (`person_id` at `person.id`), while the stored action, its hash and
    its card keep the flat fields the approver read."""

    def __init__(self, transport: Any, catalogue: Catalogue) -> None:
        self.transport = transport
        self.catalogue = catalogue

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        endpoint = self.catalogue.endpoint(method, path.partition("?")[0])
        body = kwargs.get("body")
        if endpoint is not None and isinstance(body, dict):
            kwargs["body"] = endpoint.sent(body)
        return self.transport.request(method, path, **kwargs)
