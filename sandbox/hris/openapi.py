"""The HRIS sandbox's OpenAPI 3.0 document, written from its route table (sandbox/hris/api.py).
A copy is kept in the repository (sandbox/hris/personio-openapi.json) for tools that read a file;
a test keeps it equal to what the server serves, and `python -m sandbox --hris personio
--openapi` prints it afresh."""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sandbox.hris.api import ROUTES, Route
from sandbox.hris.errors import PROBLEM_JSON
from sandbox.hris.shapes import Field

DOCUMENT_FILE = Path(__file__).with_name("personio-openapi.json")
DEFAULT_SERVER = "http://127.0.0.1:8088"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_STRING = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_MOMENT = {"type": "string", "format": "date-time"}
_ID = _object(["id"], id=_STRING)

SCHEMAS: dict[str, Any] = {
    "Reference": _ID,
    "Person": _object(
        ["id", "first_name", "last_name", "email", "status", "employments"],
        id=_STRING,
        first_name=_STRING,
        last_name=_STRING,
        preferred_name=_STRING,
        email={"type": "string", "format": "email"},
        status={"type": "string", "enum": ["ACTIVE", "INACTIVE"]},
        employments={"type": "array", "items": _ref("Reference")},
        created_at=_MOMENT,
        updated_at=_MOMENT,
    ),
    "Employment": _object(
        ["id", "person", "supervisor", "org_units", "position", "status"],
        id=_STRING,
        person=_ref("Reference"),
        supervisor={**_ID, "nullable": True, "description": "Who the person reports to."},
        org_units={
            "type": "array",
            "items": _object(["id", "type"], id=_STRING, type={"type": "string"}),
            "description": "The person's department.",
        },
        position={**_object(["title"], title=_STRING), "nullable": True},
        status={"type": "string", "enum": ["ACTIVE", "INACTIVE", "LEAVE", "ONBOARDING"]},
        type={"type": "string"},
        start_date=_DATE,
        weekly_working_hours={"type": "number"},
        full_time_weekly_working_hours={"type": "number"},
        created_at=_MOMENT,
        updated_at=_MOMENT,
    ),
    "OrgUnit": _object(
        ["id", "type", "name"],
        id=_STRING,
        type={"type": "string", "enum": ["department"]},
        name=_STRING,
        abbreviation=_STRING,
        parent_id={"type": "string", "nullable": True},
    ),
    "AbsenceType": _object(
        ["id", "name", "unit", "approval_required"],
        id=_STRING,
        name=_STRING,
        category=_STRING,
        unit={"type": "string", "enum": ["DAY"]},
        approval_required={"type": "boolean"},
    ),
    "AbsencePeriod": _object(
        ["id", "person", "absence_type", "starts_from", "ends_at", "approval"],
        id=_STRING,
        person=_ref("Reference"),
        absence_type=_ref("Reference"),
        starts_from=_object(["date_time"], date_time=_MOMENT),
        ends_at=_object(["date_time"], date_time=_MOMENT),
        approval=_object(
            ["status"], status={"type": "string", "enum": ["PENDING", "APPROVED", "REJECTED"]}
        ),
        working_days={"type": "integer", "description": "Monday to Friday, both ends included."},
        comment=_STRING,
        created_at=_MOMENT,
        updated_at=_MOMENT,
    ),
    "AbsenceBalance": _object(
        ["absence_type", "unit", "entitlement", "used", "pending", "balance"],
        absence_type=_object(["id", "name"], id=_STRING, name=_STRING),
        unit={"type": "string", "enum": ["DAY"]},
        entitlement={"type": "number", "description": "Days allowed a year."},
        used={"type": "number", "description": "Days of approved requests."},
        pending={"type": "number", "description": "Days of requests waiting for a decision."},
        balance={"type": "number", "description": "Days left: entitlement minus used."},
    ),
    "CompensationType": _object(
        ["id", "name", "category"],
        id=_STRING,
        name=_STRING,
        category={"type": "string", "enum": ["FIXED", "ONE_TIME"]},
    ),
    "Compensation": _object(
        ["id", "person", "type", "value", "currency", "effective_from"],
        id=_STRING,
        person=_ref("Reference"),
        type=_ref("CompensationType"),
        value={"type": "number"},
        currency=_STRING,
        interval={"type": "string", "enum": ["MONTHLY", "YEARLY", None], "nullable": True},
        effective_from=_DATE,
        comment=_STRING,
        created_at=_MOMENT,
    ),
    "Links": _object(
        ["self"],
        self=_object(["href"], href=_STRING),
        next={
            **_object(["href"], href=_STRING),
            "description": "The next page; absent on the last one.",
        },
    ),
    "Errors": _object(
        ["personio_trace_id", "timestamp", "errors"],
        personio_trace_id=_STRING,
        timestamp=_MOMENT,
        errors={
            "type": "array",
            "items": _object(
                ["title", "detail", "type"],
                title=_STRING,
                detail=_STRING,
                type=_STRING,
                _meta={"type": "object", "properties": {"field": _STRING}},
            ),
        },
    ),
    "Document": {"type": "object", "description": "An OpenAPI 3.0 document."},
}


def build() -> dict[str, Any]:
    """The document for ROUTES, with the default server address."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "HRIS sandbox (Personio-shaped)",
            "version": "2.0.0",
            "description": "A local stand-in for an HR information system, shaped like "
            "Personio's public API v2: persons with employments (supervisor, department, "
            "position), org units, absence periods with their own approve and reject actions, "
            "absence balances, compensations with effective dates. Lists page by cursor; errors "
            "carry a trace id and one entry per problem. Every endpoint but this document needs "
            "the API key as a bearer token.",
        },
        "servers": [{"url": DEFAULT_SERVER}],
        "security": [{"BearerAuth": []}],
        "tags": [{"name": name} for name in dict.fromkeys(route.tag for route in ROUTES)],
        "paths": paths,
        "components": {
            "securitySchemes": {"BearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                str(int(status)): {
                    "description": status.phrase,
                    "content": {PROBLEM_JSON: {"schema": _ref("Errors")}},
                }
                for status in FAILURES
            },
        },
    }


FAILURES = (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "tags": [route.tag],
    }
    if route.description:
        operation["description"] = route.description
    if route.public:
        operation["security"] = []
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.path_params
    ] + [_parameter(field) for field in route.query]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": route.body.schema()}},
        }
    operation["responses"] = {str(int(route.status)): _success(route)} | {
        str(int(status)): _failure(status, why) for status, why in _failures(route)
    }
    return operation


def _parameter(field: Field) -> dict[str, Any]:
    schema = field.schema()
    description = schema.pop("description", "")
    parameter = {"name": field.name, "in": "query", "required": field.required, "schema": schema}
    return parameter | ({"description": description} if description else {})


def _success(route: Route) -> dict[str, Any]:
    if route.returns is None:
        return {"description": route.status.phrase}
    schema = _ref(route.returns)
    if route.listed:
        schema = _object(
            ["_data", "_meta"],
            _data={"type": "array", "items": schema},
            _meta=_object(["links"], links=_ref("Links")),
        )
    return {
        "description": route.status.phrase,
        "content": {"application/json": {"schema": schema}},
    }


def _failures(route: Route) -> list[tuple[HTTPStatus, str]]:
    """Each error status the route can answer with, and why when it is particular to it."""
    failures = [(HTTPStatus.BAD_REQUEST, "")]
    if not route.public:
        failures.append((HTTPStatus.UNAUTHORIZED, ""))
    if route.path_params:
        failures.append((HTTPStatus.NOT_FOUND, ""))
    if route.conflicts:
        failures.append((HTTPStatus.CONFLICT, route.conflicts))
    if route.unprocessable:
        failures.append((HTTPStatus.UNPROCESSABLE_ENTITY, route.unprocessable))
    return failures


def _failure(status: HTTPStatus, why: str) -> dict[str, Any]:
    if not why:
        return {"$ref": f"#/components/responses/{int(status)}"}
    return {"description": why, "content": {PROBLEM_JSON: {"schema": _ref("Errors")}}}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
