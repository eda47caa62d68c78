"""Typed tools made from the endpoint catalogue: one function per endpoint, named from its method
and the catalogue's record noun (get_employee, list_employees, create_employee, update_employee,
delete_employee); list_employees without a page reads the whole directory at once. A typed
call becomes exactly the (method, url, body) the generic call_rest_api would send; the Toolbox
checks, reads and holds it the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from bot.hr.client import HRError
from bot.tools.budget import MeteredHR, OverBudget
from bot.tools.catalogue import Catalogue, CatalogueError, Endpoint
from bot.tools.checks import PARAM_TYPES, RequestRefused
from bot.tools.finder import Found
from bot.tools.suspicious import withheld

RESERVED = frozenset({"find_employee", "call_rest_api"})  # the Toolbox's own tools
MAX_PAGES = 50
_PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"},
    "slug": {"type": "string", "pattern": f"^{PARAM_TYPES['slug']}$"},
}
_PARAM_WORDS = {
    "integer": "a whole number from 1 up",
    "slug": "1 to 64 letters, digits, '_' or '-'",
}


@dataclass(frozen=True)
class TypedTool:
    """One typed function: the endpoint it calls; `lists_all`: called without its page, it
    reads every page of the list (list_all)."""

    name: str
    endpoint: Endpoint
    definition: dict[str, Any]
    lists_all: bool = False
    # The argument naming the one person the endpoint is about (by id, name or email), which
    # the Toolbox resolves to the id its placeholder takes; None when the path names no one.
    refers: str | None = None
    placeholder: str | None = None  # the path's placeholder `refers` fills

    def changes_several(self, raw: str) -> bool:
        """Whether a call of this write names a list of records: a change several at once."""
        named = self._named(raw)
        return self.endpoint.is_write and isinstance(named, list) and len(named) > 1

    def one_named(self, raw: str) -> str:
        """The call's arguments with a record named as a list of one named as that one."""
        named = self._named(raw)
        if not (isinstance(named, list) and len(named) == 1):
            return raw
        return json.dumps({**json.loads(raw), str(self.refers): named[0]})

    def _named(self, raw: str) -> Any:
        """What the call gives for the record it is about; None when that cannot be told."""
        try:
            args = json.loads(raw) if self.refers else None
        except ValueError:
            return None
        return args.get(self.refers) if isinstance(args, dict) else None

    def request(self, args: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        """The generic call this one stands for, once a record named by `refers` is resolved
        to its id; RequestRefused says which value cannot be."""
        endpoint = self.endpoint
        path = endpoint.path
        for name, kind in endpoint.params.items():
            given = self.refers if self.refers and name == self.placeholder else name
            path = path.replace(f"{{{name}}}", _placed(given, kind, args.get(given)))
        try:
            query = "&".join(
                f"{name}={_placed(name, kind, args[name])}"
                for name, kind in endpoint.query.items()
                if args.get(name) is not None
            )
        except RequestRefused as e:
            if self.lists_all:
                raise RequestRefused(f"{e}; leave `page` out to list them all") from e
            raise
        body = None
        if endpoint.body is not None:
            body = {f.name: args[f.name] for f in endpoint.body if args.get(f.name) is not None}
            if not body and endpoint.body:
                names = ", ".join(f.name for f in endpoint.body)
                raise RequestRefused(f"{self.name} needs at least one of: {names}")
        return endpoint.method, path + (f"?{query}" if query else ""), body


def _placed(name: str, kind: str, value: Any) -> str:
    """A value for the path or query string, checked as the catalogue types it."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if (kind == "integer") != isinstance(value, int) or not re.fullmatch(PARAM_TYPES[kind], text):
        raise RequestRefused(f"`{name}` must be {_PARAM_WORDS[kind]}")
    return text


def plural(noun: str) -> str:
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + ("es" if re.search(r"(s|x|z|ch|sh)$", noun) else "s")


def _snake(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", words).strip("_")


def _name(endpoint: Endpoint, noun: str, patched: set[str]) -> str | None:
    """The tool's name from its method and the noun; None for a PUT folded into its PATCH."""
    if endpoint.tool:
        return endpoint.tool
    one, many = _snake(noun), _snake(plural(noun))
    if endpoint.method == "GET":
        return f"get_{one}" if endpoint.params else f"list_{many}"
    if endpoint.method == "PUT" and endpoint.path in patched:
        return None  # one update tool per record: PATCH, which changes only what is given
    verb = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
    return f"{verb[endpoint.method]}_{one}"


def _function(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def _refers(catalogue: Catalogue, endpoint: Endpoint) -> tuple[str, str] | None:
    """The argument that names the one person the endpoint's path is about, called after the
    people's noun, and the placeholder it fills: the id in the path of one of the people's
    records (`/v2/persons/{person_id}`), on that path or under it (its employments, its
    balance); None when the path names no one by an integer id."""
    one = catalogue.directory(one=True)
    noun = _snake(catalogue.record.noun or "record")
    if one is None:  # one kind of record and no read of one: any path with a single id
        single = list(catalogue.resources) == ["record"]
        ids = list(endpoint.params.items())
        return (noun, ids[0][0]) if single and [k for _, k in ids] == ["integer"] else None
    (placeholder,) = one.params
    prefix = one.path.split("{")[0]
    if one.params[placeholder] != "integer" or not endpoint.path.startswith(prefix):
        return None
    rest = endpoint.path[len(prefix) :].split("/", 1)[0]
    if not (rest.startswith("{") and endpoint.params.get(rest.strip("{}")) == "integer"):
        return None
    return noun, rest.strip("{}")


def _definition(
    name: str,
    endpoint: Endpoint,
    refers: str | None,
    placeholder: str | None = None,
    paged: tuple[str, ...] = (),
) -> dict[str, Any]:
    where = f"{endpoint.method} {endpoint.path}"
    properties: dict[str, Any] = {}
    if refers:  # the record as the user named it; a small model makes up ids without this
        properties[refers] = {
            "type": ["integer", "string"],
            "description": f"the {refers.replace('_', ' ')}: id, full name or email",
        }
    params = {k: v for k, v in endpoint.params.items() if not (refers and k == placeholder)}
    query = {
        k: v for k, v in endpoint.query.items() if v != "cursor"
    }  # the bot pages, not the model
    for key, kind in [*params.items(), *query.items()]:
        if key in properties:
            raise CatalogueError(f"typed tools: {where} names {key!r} twice")
        properties[key] = dict(_PARAM_SCHEMAS[kind])
    for field in endpoint.body or ():
        if field.name in properties:
            raise CatalogueError(
                f"typed tools: {where}: {field.name!r} is both a placeholder or query "
                "parameter and a body field; rename one, or set TOOLS=generic"
            )
        schema: dict[str, Any] = {"type": field.type}
        if field.enum:
            schema["enum"] = list(field.enum)
        if field.description:
            schema["description"] = field.description
        properties[field.name] = schema
    placed = [*([refers] if refers else []), *params]
    required = [*placed, *(f.name for f in endpoint.body or () if f.required)]
    description = endpoint.description
    if endpoint.approval and not endpoint.is_write:  # as the generic tool says it
        description += " Needs human approval."
    return _function(name, description, properties, required)


def typed_tools(catalogue: Catalogue) -> dict[str, TypedTool]:
    """Every typed tool the catalogue makes, by name; CatalogueError when two would share one."""
    patched = {e.path for e in catalogue.endpoints if e.method == "PATCH"}
    tools: dict[str, TypedTool] = {}

    def add(tool: TypedTool) -> None:
        taken = tools.get(tool.name)
        if taken is not None or tool.name in RESERVED:
            other = f"{taken.endpoint.method} {taken.endpoint.path}" if taken else "a built-in tool"
            raise CatalogueError(
                f"typed tools: {other} and {tool.endpoint.method} {tool.endpoint.path} would "
                f'both be called {tool.name}; give one of them its own "tool" name in the '
                "catalogue, or set TOOLS=generic"
            )
        tools[tool.name] = tool

    paging = catalogue.paging
    for endpoint in catalogue.endpoints:
        name = _name(endpoint, catalogue.shape(endpoint).noun or "record", patched)
        if name is None:
            continue
        pages = paging.cursor if paging.by_cursor else paging.page
        lists = endpoint.method == "GET" and not endpoint.params and pages in endpoint.query
        refers, placeholder = _refers(catalogue, endpoint) or (None, None)
        paged = (paging.size,) if paging.size else ()
        definition = _definition(name, endpoint, refers, placeholder, paged)
        if lists and not paging.by_cursor:  # one tool for both: fewer tools, fewer wrong picks
            definition["function"]["description"] += " No page: all of them, compactly."
        elif lists:
            definition["function"]["description"] += " All of them, compactly."
        tool = TypedTool(name, endpoint, definition, lists_all=lists, refers=refers)
        add(replace(tool, placeholder=placeholder))
    return tools


def typed_call(
    tools: dict[str, TypedTool], method: str, url: str, body: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The typed call (name, arguments) that makes this generic request, the inverse of
    TypedTool.request; None when no typed tool makes it (a path off the catalogue, a PUT whose
    path has a PATCH)."""
    path, _, query = url.partition("?")
    for tool in tools.values():
        endpoint = tool.endpoint
        match = endpoint.pattern.match(path)
        if endpoint.method != method or match is None:
            continue
        kinds = {**endpoint.params, **endpoint.query}
        given = {**match.groupdict(), **dict(parse_qsl(query))}
        if tool.refers and tool.placeholder:  # the person by their id, under the argument's name
            kinds[tool.refers] = kinds[tool.placeholder]
            given[tool.refers] = given.pop(tool.placeholder)
        if tool.lists_all and "page" in endpoint.query:
            given.setdefault("page", "1")  # without it the typed tool would read every page
        args = {
            k: int(v) if kinds.get(k) == "integer" and v.isdigit() else v for k, v in given.items()
        }
        return tool.name, {**args, **(body or {})}
    return None


def list_all(
    hr: MeteredHR,
    catalogue: Catalogue,
    endpoint: Endpoint,
    *,
    max_chars: int,
    clean: Callable[[Any], Any] = lambda value: value,
    filters: str = "",
) -> tuple[str, Found | None]:
    """Every page of a list endpoint as one compact table (JSON for the model), within this
    message's HR request budget and about `max_chars`; what is left out is said, never hidden.
    With it, everyone read (None when the list could not be read, or is not of people).
    `filters`: the list's own query parameters the model gave (`person.id=1003`)."""
    views: list[dict[str, Any]] = []
    everyone: list[dict[str, Any]] = []
    shape, paging = catalogue.shape(endpoint), catalogue.paging
    first = [] if paging.by_cursor else [f"{paging.page}=1"]
    query: str | None = "&".join([*first, *([filters] if filters else [])])
    page, size, stopped, total = 0, 0, None, None
    try:
        while query is not None:
            if page >= MAX_PAGES or size > max_chars:
                stopped = f"read {_pages(page, total)}, all there is room for"
                break
            request = catalogue.validate(
                "GET", f"{endpoint.path}?{query}" if query else endpoint.path, None
            )
            try:
                response = hr.request("GET", request.path)
            except OverBudget:
                if not views:
                    raise
                stopped = f"read {_pages(page, total)} before this message's HR requests ran out"
                break
            page += 1
            found = paging.records(response.body) if response.status == 200 else None
            if found is None:
                raise HRError(f"it answered {response.status} for page {page}", request_sent=True)
            for record in found:
                everyone.append(shape.view(record))
                views.append(withheld(clean(shape.row(record))))
                size += len(json.dumps(list(views[-1].values()), ensure_ascii=False)) + 1
            query = paging.after(response.body, page)
            total = paging.total(response.body) or total
    except (HRError, RequestRefused) as e:
        return f"Error: the HR API could not be read ({e}). Tell the user it is unavailable.", None
    columns = list(dict.fromkeys(key for view in views for key in view))
    rows = [[view.get(column) for column in columns] for view in views]
    read = tuple(everyone)
    if shape is not catalogue.record:
        return _table(columns, rows, stopped, max_chars), None
    return _table(columns, rows, stopped, max_chars), Found(
        "everyone", read, stopped is None, read, searched=False
    )


def _pages(read: int, total: int | None) -> str:
    return f"{read} of {total} pages" if total else f"{read} pages"


def _table(columns: list[str], rows: list[list[Any]], stopped: str | None, max_chars: int) -> str:
    """Rows under one list of column names: a third of the tokens of a list of objects."""

    def text(shown: list[list[Any]]) -> str:
        table: dict[str, Any] = {"columns": columns, "rows": shown}
        if stopped or len(shown) < len(rows):
            why = stopped or f"only {len(shown)} of {len(rows)} rows fit"
            table["note"] = f"incomplete: {why}. Say so; find_employee finds anyone by name."
        else:  # a small model asked for a list otherwise tends to give only the count
            shown_columns = ", ".join(c for c in columns if c != "id")
            table["note"] = f"all {len(rows)}; to list them, write one line each: {shown_columns}"
        return json.dumps(table, ensure_ascii=False, separators=(",", ":"))

    shown = rows
    while len(text(shown)) > max_chars and shown:
        shown = shown[:-1]  # whole rows, so the answer stays valid JSON
    return text(shown)
