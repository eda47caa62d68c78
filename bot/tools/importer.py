"""`catalogue import`: an OpenAPI 3.0 or 3.1 document read, validated and turned into a draft
endpoint catalogue for an operator to review. Only a GET counts as a read, nothing is kept until
the operator says so, and whatever cannot be mapped is listed, never guessed."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
import yaml
from jsonschema.exceptions import ValidationError
from jsonschema_path import SchemaPath
from jsonschema_path.handlers import file_handler
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from referencing.exceptions import Unresolvable

MAX_SPEC_BYTES = 5 * 1024 * 1024
FETCH_TIMEOUT = (5.0, 30.0)
VALIDATORS = {"0": OpenAPIV30SpecValidator, "1": OpenAPIV31SpecValidator}
OFFERED = ("get", "post", "put", "patch", "delete")
NOT_OFFERED = ("head", "options", "trace")
SCALARS = ("string", "integer", "number", "boolean")
REVIEW = (
    'Set "keep": true on each endpoint the bot may offer, once you have checked each '
    "resource's fields, which resource holds the people, and which field names a record's "
    "subject."
)
# Where a list's records are, and the names that say how many pages it has, most likely first.
ITEMS = ("_data", "data", "items", "results", "records")
PAGE_COUNTS = ("total_pages", "pages", "page_count", "last_page")
# The field that says which person a record is about, as HR APIs write it.
SUBJECTS = ("person.id", "employee.id", "person_id", "employee_id")
FIRST_NAMES = ("first_name", "firstName", "given_name", "givenName")
LAST_NAMES = ("last_name", "lastName", "family_name", "familyName")
WHOLE_NAMES = ("name", "full_name", "fullName", "display_name", "displayName")
_LITERAL = re.compile(r"[A-Za-z0-9_.-]+")  # what the catalogue matches as a fixed segment
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a name the catalogue can place ("at")


class SpecError(Exception):
    """The document cannot be drafted from: every problem found, one a line."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


def read_spec(source: str) -> dict[str, Any]:
    """The OpenAPI document at `source`, a file path or an http(s) URL, parsed and validated;
    SpecError lists every problem found."""
    raw = _download(source) if "://" in source else _read_file(source)
    document = _parse(raw)
    _validate(document)
    return document


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)
    except OSError as e:
        raise SpecError(f"cannot read it: {e.strerror or e}") from e
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError("it is larger than 5 MiB")
    return raw


def _download(url: str) -> bytes:
    """The document at an http(s) URL: bounded in time and size, or a SpecError saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError("only http and https URLs are fetched; give a file path otherwise")
    try:
        response = requests.get(
            url,
            timeout=FETCH_TIMEOUT,
            stream=True,
            headers={"Accept": "application/json, application/yaml;q=0.9, */*;q=0.5"},
        )
        with response:
            if response.status_code != 200:
                raise SpecError(f"{parts.hostname} answered HTTP {response.status_code}")
            raw = response.raw.read(MAX_SPEC_BYTES + 1, decode_content=True)
    except requests.Timeout as e:
        raise SpecError(f"{parts.netloc} did not answer within {FETCH_TIMEOUT[1]:g}s") from e
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
        raise SpecError(f"cannot reach {parts.netloc}: {_innermost(e)}") from e
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError("it is larger than 5 MiB")
    return raw


def _innermost(error: BaseException) -> BaseException:
    """The first cause of a failed connection ("[Errno 111] Connection refused"), not the
    layers of retries requests and urllib3 wrap around it."""
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError("it is not UTF-8 text") from e
    try:
        document = json.loads(text)
    except ValueError as e:
        if text.lstrip().startswith(("{", "[")):  # meant as JSON: JSON's error is the clear one
            raise SpecError(f"it is not valid JSON: {e}") from e
        document = _parse_yaml(text)
    if not isinstance(document, dict):
        raise SpecError("it is not an OpenAPI document: it holds no object")
    return document


def _parse_yaml(text: str) -> Any:
    try:
        # The validator's own reading of YAML: dates stay text, and keys such as 200 become "200".
        return file_handler(StringIO(text))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"it is neither JSON nor YAML: {getattr(e, 'problem', e)}{where}") from e
    except (TypeError, ValueError) as e:  # YAML with values JSON has no room for (binary, sets)
        raise SpecError(f"it is YAML that JSON cannot hold: {e}") from e


def _validate(document: dict[str, Any]) -> None:
    """Every problem openapi-spec-validator finds, one a line, in one SpecError."""
    if "swagger" in document:
        raise SpecError("it is Swagger 2.0: convert it to OpenAPI 3 first")
    version = re.fullmatch(r"3\.([01])\.\d+", str(document.get("openapi", "")))
    if version is None:
        raise SpecError(
            f"it is not OpenAPI 3.0 or 3.1 (its openapi field is {document.get('openapi')!r})"
        )
    validator = VALIDATORS[version[1]](_walkable(document))
    problems = []
    try:
        for error in validator.iter_errors():
            problems.append(_problem(error))
    except Unresolvable as e:
        problems.append(f"$ref {e.ref!r} leads nowhere in the document (other files are not read)")
    if problems:
        raise SpecError(*problems)


def _problem(error: ValidationError) -> str:
    message = " ".join(error.message.split())
    if len(message) > 200:  # a message can quote a whole object
        message = message[:199] + "…"
    return f"at {error.json_path}: {message}" if error.path else message


def _walkable(document: dict[str, Any]) -> SchemaPath:
    """The document as a tree whose `$ref`s are followed on the way down; never to another file
    or URL, which a document fetched from elsewhere could otherwise make us read."""
    return SchemaPath.from_dict(document, handlers={})


@dataclass(frozen=True)
class _Operation:
    """One operation as the document has it: its method (lower case, as OpenAPI writes it), its
    path as written, and its parameters with its path's (its own winning)."""

    method: str
    path: str
    node: SchemaPath
    parameters: tuple[SchemaPath, ...]

    @property
    def where(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class _RecordField:
    """A field of a resource's records: where in a record it is (a name kept as first and last
    is two places), whether every record has it, and its format ("email")."""

    paths: tuple[str, ...]
    required: bool
    format: str | None = None


def draft_catalogue(document: dict[str, Any], source: str) -> dict[str, Any]:
    """The draft catalogue for a validated OpenAPI document: its operations as endpoints, none
    kept; the resources they read and change; how its lists page; and, under "draft", what
    could not be mapped, each as {"operation", "why"}."""
    spec = _walkable(document)
    unmapped: list[dict[str, str]] = []
    endpoints: list[dict[str, Any]] = []
    # Each resource's record schemas, ranked: 0 its own GET, 1 a list's records, 2 any answer.
    records: dict[str, list[tuple[int, str, SchemaPath]]] = {}
    pagings: list[dict[str, str]] = []
    for path, item in (spec / "paths").str_items():
        for method, node in item.str_items():
            if method in NOT_OFFERED:
                why = "the catalogue offers only GET, POST, PUT, PATCH and DELETE"
                unmapped.append(_cannot(f"{method.upper()} {path}", why))
            if method not in OFFERED:
                continue  # the path's own parameters, summary, servers, or an extension
            operation = _Operation(method, path, node, _parameters(item, node))
            resource, role = resource_of(path)
            endpoint = _endpoint(operation, resource, unmapped)
            if endpoint is None:
                continue
            endpoints.append(endpoint)
            candidates = records.setdefault(resource, [])
            found = _record_schema(operation, role)
            if found is not None:
                candidates.append((found[0], operation.where, found[1]))
            paging = _paging(operation, endpoint.get("query", {}))
            if paging is not None:
                pagings.append(paging)
    info = _value(spec / "info")
    draft: dict[str, Any] = {
        "draft": {
            "source": source,
            "title": str(info.get("title", "")),
            "version": str(info.get("version", "")),
            "review": REVIEW,
            "unmapped": unmapped,
        }
    }
    if pagings:  # one way for the whole API: the one most of its lists follow
        draft["paging"] = dict(Counter(tuple(p.items()) for p in pagings).most_common(1)[0][0])
    draft["resources"] = _resources(records, unmapped)
    draft["endpoints"] = endpoints
    return draft


def _cannot(operation: str, why: str) -> dict[str, str]:
    return {"operation": operation, "why": why}


def _endpoint(
    operation: _Operation, resource: str, unmapped: list[dict[str, str]]
) -> dict[str, Any] | None:
    """The operation as a catalogue endpoint, never kept; None when its path cannot be one."""
    template = _template(operation, unmapped)
    if template is None:
        return None
    path, params = template
    value = _value(operation.node)
    method = operation.method.upper()
    endpoint: dict[str, Any] = {
        "method": method,
        "path": path,
        "resource": resource,
        "description": _line(value.get("summary") or value.get("description")),
    }
    if params:
        endpoint["params"] = params
    query = _query(operation, unmapped)
    if query:
        endpoint["query"] = query
    if operation.method in ("post", "put", "patch"):
        endpoint["body"] = _body(operation, unmapped)
    elif "requestBody" in operation.node:
        unmapped.append(
            _cannot(f"{operation.where} request body", f"the catalogue sends no body with {method}")
        )
    # Only a GET is a read, and only while the document does not say it changes something.
    endpoint["approval"] = operation.method != "get" or value.get("x-side-effects") is True
    endpoint["keep"] = False
    if isinstance(value.get("operationId"), str):
        endpoint["operation_id"] = value["operationId"]
    return endpoint


def _parameters(item: SchemaPath, node: SchemaPath) -> tuple[SchemaPath, ...]:
    found: dict[tuple[Any, Any], SchemaPath] = {}
    for owner in (item, node):
        if "parameters" in owner:
            for _, parameter in (owner / "parameters").items():
                value = _value(parameter)
                found[(value.get("name"), value.get("in"))] = parameter
    return tuple(found.values())


def _template(
    operation: _Operation, unmapped: list[dict[str, str]]
) -> tuple[str, dict[str, str]] | None:
    """The path as the catalogue writes it, each placeholder snake_case and typed (the URL sent
    is the same); None, and a line in `unmapped`, when the catalogue cannot match it."""
    declared = {
        _value(p).get("name"): p for p in operation.parameters if _value(p).get("in") == "path"
    }
    segments, params = [], {}
    for segment in operation.path.strip("/").split("/"):
        placeholder = _PLACEHOLDER.fullmatch(segment)
        if placeholder is None:
            if _LITERAL.fullmatch(segment) and segment not in (".", ".."):
                segments.append(segment)
                continue
            why = f"its path segment {segment!r} is neither a plain word nor a whole placeholder"
            unmapped.append(_cannot(operation.where, why))
            return None
        name = placeholder[1]
        shape = _parameter_shape(declared.get(name))
        if shape not in ("integer", "string"):
            why = f"its path parameter {name} is not an integer or a string"
            unmapped.append(_cannot(operation.where, why))
            return None
        snake = _snake(name)
        segments.append(f"{{{snake}}}")
        params[snake] = "integer" if shape == "integer" else "slug"
    return "/" + "/".join(segments), params


def _query(operation: _Operation, unmapped: list[dict[str, str]]) -> dict[str, str]:
    query = {}
    for parameter in operation.parameters:
        value = _value(parameter)
        name, place = value.get("name"), value.get("in")
        where = f"{operation.where} {place} parameter {name}"
        if place == "path":
            continue
        if place != "query":
            unmapped.append(_cannot(where, f"the catalogue sends no {place}s of its own"))
        elif operation.method != "get":
            unmapped.append(_cannot(where, "the catalogue sends query parameters with GET only"))
        elif (shape := _parameter_shape(parameter)) == "string":
            query[name] = "cursor" if name == "cursor" else "slug"
        elif shape == "integer":
            query[name] = "integer"
        else:
            why = "query parameters are integers, words or a cursor"
            unmapped.append(_cannot(where, f"{_why(parameter / 'schema')}; {why}"))
    return query


def _parameter_shape(parameter: SchemaPath | None) -> str:
    if parameter is None or "schema" not in parameter:
        return "untyped"  # a parameter described by "content" has no schema of its own
    return _shape(parameter / "schema")


def _body(operation: _Operation, unmapped: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """The request body's fields: scalars as they are, an object of scalars one level down as
    `<prop>_<sub>` placed at `<prop>.<sub>`; anything else listed in `unmapped`."""
    if "requestBody" not in operation.node:
        return {}
    content = operation.node / "requestBody" / "content"
    media = _json_media(content)
    where = f"{operation.where} request body"
    if media is None:
        kinds = ", ".join(content.str_keys())
        unmapped.append(_cannot(where, f"it is sent as {kinds}, not JSON"))
        return {}
    if "schema" not in media:
        return {}
    schema = media / "schema"
    if _shape(schema) != "object":
        unmapped.append(_cannot(where, f"it is not a JSON object: {_why(schema)}"))
        return {}
    fields: dict[str, dict[str, Any]] = {}
    properties, required = _properties(schema)
    names = {name for name, _ in properties}
    for name, prop in properties:
        at = f"{operation.where} body field {name}"
        if _value(_one(prop)).get("readOnly") is True:
            continue  # the HR API's to set, never sent
        shape = _shape(prop)
        if not _FIELD_NAME.fullmatch(name):
            unmapped.append(_cannot(at, "its name is not letters, digits and '_'"))
        elif shape in SCALARS:
            fields[name] = _field(prop, shape, name in required)
        elif shape != "object":
            unmapped.append(_cannot(at, _why(prop)))
        else:
            inner, inner_required = _properties(prop)
            if not inner:
                unmapped.append(_cannot(at, "it is an object with no fields listed"))
            for sub, sub_prop in inner:
                sub_shape, flat = _shape(sub_prop), f"{name}_{sub}"
                sub_at = f"{operation.where} body field {name}.{sub}"
                if _value(_one(sub_prop)).get("readOnly") is True:
                    continue
                if not _FIELD_NAME.fullmatch(sub):
                    unmapped.append(_cannot(sub_at, "its name is not letters, digits and '_'"))
                elif sub_shape not in SCALARS:
                    unmapped.append(_cannot(sub_at, _why(sub_prop)))
                elif flat in names or flat in fields:
                    unmapped.append(_cannot(sub_at, f"its flat name {flat} is another field's"))
                else:
                    both = name in required and sub in inner_required
                    field = _field(sub_prop, sub_shape, both, fallback=prop)
                    fields[flat] = {**field, "at": f"{name}.{sub}"}
    return fields


def _field(
    schema: SchemaPath, shape: str, required: bool, fallback: SchemaPath | None = None
) -> dict[str, Any]:
    """A body field; a flattened one borrows its object's description when it has none."""
    value = _value(_one(schema))
    field: dict[str, Any] = {"type": shape, "required": required}
    if isinstance(value.get("maxLength"), int) and shape == "string":
        field["max_length"] = value["maxLength"]
    enum = [v for v in value.get("enum") or () if _of_type(v, shape)]
    if enum:
        field["enum"] = enum
    description = _line(value.get("description"))
    if not description and fallback is not None:
        description = _line(_value(_one(fallback)).get("description"))
    if description:
        field["description"] = description
    return field


def _of_type(value: Any, shape: str) -> bool:
    if isinstance(value, bool):  # an int to Python, never to JSON
        return shape == "boolean"
    kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool}[shape]
    return isinstance(value, kinds)


def _record_schema(operation: _Operation, role: str) -> tuple[int, SchemaPath] | None:
    """The schema of the records an operation answers with, ranked: 0 the GET of one record,
    1 a list's records, 2 any other answer (an action's)."""
    answer = _answer(operation.node)
    if answer is None:
        return None
    listed = _list_of(answer)
    if listed is not None:
        return 1, listed[1]
    if _shape(answer) != "object":
        return None
    envelope = (p for name, p in _properties(answer)[0] if name in ITEMS and _shape(p) == "object")
    record = next(envelope, answer)  # {"data": {...}}: the record inside its envelope
    return (0 if operation.method == "get" and role == "item" else 2), record


def _paging(operation: _Operation, query: dict[str, str]) -> dict[str, str] | None:
    """How a list GET pages: by a cursor from a next link, or by page number; None when it is
    not a list or says neither."""
    answer = _answer(operation.node) if operation.method == "get" else None
    listed = _list_of(answer) if answer is not None else None
    if answer is None or listed is None:
        return None
    items = listed[0]
    cursor = next((name for name, kind in query.items() if kind == "cursor"), None)
    link = _find(answer, "next", items) if cursor else None
    if cursor and link is not None:
        path, schema = link
        has_href = any(name == "href" for name, _ in _properties(schema)[0])
        return {"items": items, "next": f"{path}.href" if has_href else path, "cursor": cursor}
    if query.get("page") == "integer":
        for name in PAGE_COUNTS:
            count = _find(answer, name, items)
            if count is not None:
                return {"items": items, "pages": count[0], "page": "page"}
    return None


def _find(
    schema: SchemaPath, name: str, skip: str, depth: int = 3
) -> tuple[str, SchemaPath] | None:
    """The dotted path of the nearest property called `name` (not under `skip`), and its schema."""
    level = [("", schema)]
    for _ in range(depth):
        deeper = []
        for prefix, node in level:
            for key, prop in _properties(node)[0]:
                path = f"{prefix}{key}"
                if key == name:
                    return path, prop
                if path != skip and _shape(prop) == "object":
                    deeper.append((f"{path}.", prop))
        level = deeper
    return None


def _list_of(answer: SchemaPath) -> tuple[str, SchemaPath] | None:
    """Where a list answer keeps its records ("_data") and their schema; None if not a list."""
    if _shape(answer) != "object":
        return None
    properties = dict(_properties(answer)[0])
    for name in ITEMS:
        prop = properties.get(name)
        if prop is not None and _shape(prop) == "array" and "items" in _one(prop):
            records = _one(prop) / "items"
            if _shape(records) == "object":
                return name, records
    return None


def _answer(node: SchemaPath) -> SchemaPath | None:
    """The JSON schema of an operation's success answer (200 first)."""
    if "responses" not in node:
        return None
    responses = node / "responses"
    codes = sorted((c for c in responses.str_keys() if c.startswith("2")), key=lambda c: c != "200")
    for code in codes:
        response = responses / code
        media = _json_media(response / "content") if "content" in response else None
        if media is not None and "schema" in media:
            return media / "schema"
    return None


def _json_media(content: SchemaPath) -> SchemaPath | None:
    kinds = {kind.split(";")[0].strip().lower(): kind for kind in content.str_keys()}
    if "application/json" in kinds:
        return content / kinds["application/json"]
    other = next((kind for base, kind in kinds.items() if base.endswith("+json")), None)
    return content / other if other is not None else None


def _resources(
    records: dict[str, list[tuple[int, str, SchemaPath]]], unmapped: list[dict[str, str]]
) -> dict[str, dict[str, Any]]:
    """Each resource from its best record schema; the first with a name and an email is the
    people's, and a record naming a person's id is about that person (its "subject")."""
    found: dict[str, dict[str, _RecordField]] = {}
    for name, candidates in records.items():
        best = min(candidates, key=lambda c: c[0]) if candidates else None  # the first best
        found[name] = _record_fields(best[1], best[2], unmapped) if best else {}
    people = next((name for name, fields in found.items() if _as_people(fields)), None)
    resources = {}
    for name, fields in found.items():
        if name == people:
            fields = _as_people(fields) or fields
        entry: dict[str, Any] = {"noun": _noun(name), "id": "id"}
        entry["fields"] = {field: list(f.paths) for field, f in fields.items()}
        if fields:
            first = {"name": 0, "email": 1}
            order = sorted(fields, key=lambda f: first.get(f, 2 if fields[f].required else 3))
            entry["listed"] = order[:4]
        if name == people:
            entry["people"] = True
        elif people is not None:  # a subject is someone in the people's directory
            subject = next(
                (f for f, v in fields.items() if len(v.paths) == 1 and v.paths[0] in SUBJECTS), None
            )
            if subject is not None:
                entry["subject"] = subject
        resources[name] = entry
    return resources


def _record_fields(
    where: str, schema: SchemaPath, unmapped: list[dict[str, str]]
) -> dict[str, _RecordField]:
    """A record's fields: its scalars, and one level down an object's scalars as dotted paths
    (an object of one scalar, such as a reference {"id"}, keeps the object's name)."""
    fields: dict[str, _RecordField] = {}
    properties, required = _properties(schema)

    def add(name: str, path: str, prop: SchemaPath, needed: bool) -> None:
        if name in fields:
            unmapped.append(_cannot(f"{where} response field {path}", f"{name} is taken"))
        else:
            fields[name] = _RecordField((path,), needed, _value(_one(prop)).get("format"))

    for name, prop in properties:
        shape = _shape(prop)
        if name == "id":
            continue  # the record's own id, named apart ("id")
        if shape in SCALARS:
            add(name, name, prop, name in required)
        elif shape != "object":
            unmapped.append(_cannot(f"{where} response field {name}", _why(prop)))
        else:
            inner, inner_required = _properties(prop)
            scalars = [(sub, p) for sub, p in inner if _shape(p) in SCALARS]
            for sub, sub_prop in inner:
                if _shape(sub_prop) not in SCALARS:
                    at = f"{where} response field {name}.{sub}"
                    unmapped.append(_cannot(at, _why(sub_prop)))
            if not inner:
                at = f"{where} response field {name}"
                unmapped.append(_cannot(at, "it is an object with no fields listed"))
            for sub, sub_prop in scalars:
                field = name if len(scalars) == 1 else f"{name}_{sub}"
                needed = name in required and sub in inner_required
                add(field, f"{name}.{sub}", sub_prop, needed)
    return fields


def _as_people(fields: dict[str, _RecordField]) -> dict[str, _RecordField] | None:
    """The fields of the people's records, "name" and "email" first; None when these records
    have no email or no name."""
    email = "email" if "email" in fields else None
    email = email or next((f for f, v in fields.items() if v.format == "email"), None)
    first = next((f for f in FIRST_NAMES if f in fields), None)
    last = next((f for f in LAST_NAMES if f in fields), None)
    whole = next((f for f in WHOLE_NAMES if f in fields), None)
    if email is None or not ((first and last) or whole):
        return None
    used = {first, last} if first and last else {whole}
    name = _RecordField(
        tuple(p for f in sorted(used, key=list(fields).index) for p in fields[f].paths),
        all(fields[f].required for f in used),
    )
    rest = {f: v for f, v in fields.items() if f not in {*used, email, "name"}}
    return {"name": name, "email": fields[email], **rest}


def resource_of(path: str) -> tuple[str, str]:
    """The resource a path's operations act on (snake_case, singular), and the path's role:
    "item" (/persons/{id}), "action" on one (/absence-periods/{id}/approve: a singular word
    after a placeholder) or "collection" (/persons; /compensations/types: compensation_type)."""
    segments = [s for s in path.strip("/").split("/") if s]
    role = "collection"
    if segments and _PLACEHOLDER.fullmatch(segments[-1]):
        role, segments = "item", segments[:-1]
    elif (
        len(segments) >= 2
        and _PLACEHOLDER.fullmatch(segments[-2])
        and not _plural(_words(segments[-1])[-1])
    ):
        role, segments = "action", segments[:-2]
    if not segments or _PLACEHOLDER.fullmatch(segments[-1]):
        return "record", role
    words = _singular(_words(segments[-1]))
    if len(segments) >= 2 and not _PLACEHOLDER.fullmatch(segments[-2]):
        before = _words(segments[-2])
        if _plural(before[-1]):  # a collection inside a collection
            words = _singular(before) + words
    name = "_".join(words)
    return (name if re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name) else "record"), role


def _words(segment: str) -> list[str]:
    """A path segment's words, lower case: absence-periods, absencePeriods, openapi.json."""
    segment = re.sub(r"\.(json|ya?ml|xml)$", "", segment)
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", segment)
    return re.findall(r"[a-z0-9]+", spaced.lower()) or ["record"]


def _plural(word: str) -> bool:
    return word == "people" or (word.endswith("s") and not word.endswith(("ss", "us", "is")))


def _singular(words: list[str]) -> list[str]:
    *rest, word = words
    if word == "people":
        word = "person"
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes", "uses")):
        word = word[:-2]
    elif _plural(word):
        word = word[:-1]
    return [*rest, word]


def _snake(name: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    snake = re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
    return snake if re.match(r"[a-z_]", snake) else f"_{snake}"


def _noun(name: str) -> str:
    """A resource's name as words (absence_period: absence period), as the catalogue allows."""
    words = re.sub(r"[^a-z ]+", " ", name.replace("_", " ")).split()
    noun = ""
    for word in words:
        if len(noun) + len(word) + 1 > 31:
            break
        noun = f"{noun} {word}".strip()
    return noun or "record"


def _line(text: Any) -> str:
    """Text on one line, cut at 200 characters."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= 200 else line[:199] + "…"


def _value(node: SchemaPath) -> dict[str, Any]:
    """A node's own keys ($ref followed); {} for a boolean schema."""
    value = node.read_value()
    return value if isinstance(value, dict) else {}


def _one(schema: SchemaPath) -> SchemaPath:
    """A schema of one shape or null (3.1's way to write nullable) as that shape."""
    value = _value(schema)
    for key in ("oneOf", "anyOf"):
        if isinstance(value.get(key), list):
            shapes = [m for _, m in (schema / key).items() if _value(m).get("type") != "null"]
            if len(shapes) == 1:
                return shapes[0]
    return schema


def _shape(schema: SchemaPath, depth: int = 0) -> str:
    """A schema's one JSON type ("string", "object", "array"...), null aside, or "choice"
    (oneOf/anyOf), "several" (types), "untyped"."""
    schema = _one(schema)
    value = _value(schema)
    if "oneOf" in value or "anyOf" in value:
        return "choice"
    kind = value.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else "several"
    if kind is None and "properties" in value:
        return "object"
    if kind is None and isinstance(value.get("allOf"), list) and depth < 3:
        shapes = (_shape(member, depth + 1) for _, member in (schema / "allOf").items())
        return next((s for s in shapes if s != "untyped"), "untyped")
    return kind if kind in (*SCALARS, "object", "array", "several") else "untyped"


def _properties(
    schema: SchemaPath, depth: int = 0
) -> tuple[list[tuple[str, SchemaPath]], set[str]]:
    """An object schema's properties, in order, with those of its allOf parts, and which are
    required."""
    schema = _one(schema)
    value = _value(schema)
    properties: dict[str, SchemaPath] = {}
    required = {r for r in value.get("required") or () if isinstance(r, str)}
    if isinstance(value.get("properties"), dict):
        properties.update((schema / "properties").str_items())
    if isinstance(value.get("allOf"), list) and depth < 3:
        for _, member in (schema / "allOf").items():
            inner, inner_required = _properties(member, depth + 1)
            properties.update((k, v) for k, v in inner if k not in properties)
            required |= inner_required
    return list(properties.items()), required


def _why(schema: SchemaPath) -> str:
    """Why a field of this schema cannot be one of the catalogue's fields, in a few words."""
    shape = _shape(schema)
    if shape == "array":
        items = _one(schema) / "items" if "items" in _one(schema) else None
        of = " of objects" if items is not None and _shape(items) == "object" else ""
        return f"it is a list{of}; a field holds one value"
    return {
        "choice": "it is one of several shapes (oneOf/anyOf)",
        "object": "it is an object within an object; only one level is flattened",
        "several": "it may be of several types",
        "untyped": "it has no type",
    }.get(shape, f"it is a {shape}")
