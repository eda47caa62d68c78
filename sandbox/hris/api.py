"""The HRIS sandbox's endpoints as data: each `Route` names its method, path, parameters and body
(sandbox/hris/shapes.py) and the function that answers it. The server dispatches on this table
and the OpenAPI document is written from it, so the two cannot disagree."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from sandbox.hris.errors import BadRequest, Problem
from sandbox.hris.records import Page, Records
from sandbox.hris.shapes import Field

Answer = tuple[int, Any]


@dataclass(frozen=True)
class Call:
    """One request, read and checked: what an answering function is given."""

    records: Records
    base_url: str
    path: str
    params: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any] | None
    document: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a template: /v2/persons/{person_id}
    operation: str
    summary: str
    tag: str
    answer: Callable[[Call], Answer]
    query: tuple[Field, ...] = ()
    body: Field | None = None
    body_required: bool = True
    returns: str | None = None  # the schema of a success's body; None: it has none
    listed: bool = False  # the body is a page: `_data` holds `returns`, `_meta` its links
    status: HTTPStatus = HTTPStatus.OK
    conflicts: str = ""  # when the answer can be 409 Conflict, why
    unprocessable: str = ""  # when it can be 422 Unprocessable Entity, why
    public: bool = False  # answered without the API key
    description: str = ""

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")

    @cached_property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


# Query parameters


def _paging(default: int, maximum: int) -> tuple[Field, Field]:
    return (
        Field(
            "limit",
            "integer",
            f"How many records one page holds: 1 to {maximum}.",
            minimum=1,
            maximum=maximum,
            default=default,
        ),
        Field(
            "cursor",
            "string",
            "Where the page starts: the cursor in the previous page's `_meta.links.next.href`. "
            "Without it, the first page.",
        ),
    )


def _ids(name: str, what: str) -> Field:
    return Field(name, "string", f"Only records of these {what} (comma-separated ids).")


UNIT_TYPE = Field(
    "type", "string", "The kind of org unit; this sandbox has departments.", enum=("department",)
)
APPROVAL_STATUSES = ("PENDING", "APPROVED", "REJECTED")

# Bodies


def _ref(name: str, what: str, *, required: bool = False, nullable: bool = False) -> Field:
    return Field(
        name,
        "object",
        what,
        required=required,
        nullable=nullable,
        fields=(Field("id", "string", required=True),),
    )


def _moment(name: str, what: str) -> Field:
    return Field(
        name,
        "object",
        what,
        required=True,
        fields=(Field("date_time", "date-time", required=True),),
    )


COMMENT = Field("comment", "string", "A note for the record.", min_length=0)
PERSON_FIELDS = (
    Field("first_name", "string"),
    Field("last_name", "string"),
    Field("email", "email", "Unique across the company."),
    Field("preferred_name", "string", min_length=0),
)
NEW_PERSON = Field(
    "NewPerson",
    "object",
    "A new person; their employment is made with them, to fill in with PATCH.",
    fields=tuple(replace(f, required=f.name != "preferred_name") for f in PERSON_FIELDS),
)
PERSON_CHANGE = Field(
    "PersonChange", "object", "The fields to change.", fields=PERSON_FIELDS, at_least_one=True
)
EMPLOYMENT_CHANGE = Field(
    "EmploymentChange",
    "object",
    "The fields to change.",
    at_least_one=True,
    fields=(
        _ref("supervisor", "Who the person reports to; null for nobody.", nullable=True),
        Field(
            "org_units",
            "array",
            "The department the person belongs to (one at most).",
            item=Field(
                "org_unit",
                "object",
                fields=(
                    Field("id", "string", required=True),
                    Field("type", "string", required=True, enum=("department",)),
                ),
            ),
        ),
        Field(
            "position",
            "object",
            "The job title.",
            nullable=True,
            fields=(Field("title", "string", required=True),),
        ),
        Field("status", "string", enum=("ACTIVE", "INACTIVE", "LEAVE", "ONBOARDING")),
        Field("weekly_working_hours", "number", minimum=0, maximum=60),
    ),
)
NEW_ABSENCE_PERIOD = Field(
    "NewAbsencePeriod",
    "object",
    "A time-off request. Absences are whole days: from the date of `starts_from` to the date "
    "of `ends_at`, both included, Monday to Friday.",
    fields=(
        _ref("person", "Whose time off.", required=True),
        _ref("absence_type", "Which kind of absence.", required=True),
        _moment("starts_from", "The first day."),
        _moment("ends_at", "The last day."),
        COMMENT,
    ),
)
DECISION = Field("Decision", "object", "Nothing is needed: an empty object, or no body.")
NEW_COMPENSATION = Field(
    "NewCompensation",
    "object",
    "A compensation from its effective date. One of the same person, type and date is replaced.",
    fields=(
        _ref("person", "Whose pay.", required=True),
        _ref("type", "Which compensation type.", required=True),
        Field(
            "value", "number", "The amount, in `currency`.", required=True, minimum=0, maximum=1e7
        ),
        Field("currency", "string", "Default EUR.", enum=("EUR", "GBP", "USD", "CHF")),
        Field("effective_from", "date", "From when it is paid.", required=True),
        Field(
            "interval",
            "string",
            "How often it is paid (not for one-time types). Default MONTHLY.",
            enum=("MONTHLY", "YEARLY"),
        ),
        COMMENT,
    ),
)

# Paging by cursor: an opaque token that names the list it belongs to and where it stopped.


def _cursor(operation: str, after: int) -> str:
    return "cur_" + base64.urlsafe_b64encode(f"{operation}:{after}".encode()).decode().rstrip("=")


def _after(operation: str, cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.removeprefix("cur_") + "==").decode()
        name, _, after = text.partition(":")
        if cursor.startswith("cur_") and name == operation and after.isdigit():
            return int(after)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise BadRequest([Problem("'cursor' is not a cursor of this list", "cursor")])


def _page(call: Call, operation: str, page_of: Callable[..., Page], **filters: list[str]) -> Answer:
    after = _after(operation, call.query.get("cursor"))
    page = page_of(limit=call.query["limit"], after=after, **filters)
    return HTTPStatus.OK, {"_data": page.items, "_meta": {"links": _links(call, operation, page)}}


def _links(call: Call, operation: str, page: Page | None) -> dict[str, Any]:
    here = call.base_url + call.path
    query = {name: value for name, value in call.query.items() if name != "cursor"}
    links = {"self": {"href": here + ("?" + urlencode(call.query) if call.query else "")}}
    if page is not None and page.after is not None:
        query["cursor"] = _cursor(operation, page.after)
        links["next"] = {"href": f"{here}?{urlencode(query)}"}
    return links


def _split(call: Call, name: str) -> list[str]:
    text = call.query.get(name)
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


# The answers


def list_persons(call: Call) -> Answer:
    emails = [address.lower() for address in _split(call, "email")]
    return _page(
        call,
        "listPersons",
        call.records.persons,
        **_filters(
            id=_split(call, "id"),
            email=emails,
            first_name=_split(call, "first_name"),
            last_name=_split(call, "last_name"),
        ),
    )


def get_person(call: Call) -> Answer:
    return HTTPStatus.OK, call.records.person(call.params["person_id"])


def create_person(call: Call) -> Answer:
    return HTTPStatus.CREATED, call.records.create_person(call.body)


def update_person(call: Call) -> Answer:
    call.records.update_person(call.params["person_id"], call.body)
    return HTTPStatus.NO_CONTENT, None


def list_employments(call: Call) -> Answer:
    person_id = call.params["person_id"]
    return _page(
        call,
        "listEmployments",
        lambda **paging: call.records.employments(person_id, **paging),
    )


def get_employment(call: Call) -> Answer:
    return HTTPStatus.OK, call.records.employment(
        call.params["person_id"], call.params["employment_id"]
    )


def update_employment(call: Call) -> Answer:
    call.records.update_employment(
        call.params["person_id"], call.params["employment_id"], call.body
    )
    return HTTPStatus.NO_CONTENT, None


def get_absence_balance(call: Call) -> Answer:
    balances = call.records.balances(call.params["person_id"])
    return HTTPStatus.OK, {"_data": balances, "_meta": {"links": _links(call, "", None)}}


def list_org_units(call: Call) -> Answer:
    kinds = [call.query["type"]] if "type" in call.query else []
    return _page(call, "listOrgUnits", call.records.org_units, **_filters(type=kinds))


def get_org_unit(call: Call) -> Answer:
    return HTTPStatus.OK, call.records.org_unit(call.params["id"], call.query["type"])


def list_absence_types(call: Call) -> Answer:
    return _page(call, "listAbsenceTypes", call.records.absence_types)


def list_absence_periods(call: Call) -> Answer:
    statuses = [call.query["approval.status"]] if "approval.status" in call.query else []
    return _page(
        call,
        "listAbsencePeriods",
        call.records.absence_periods,
        **_filters(
            id=_split(call, "id"),
            person_id=_split(call, "person.id"),
            absence_type_id=_split(call, "absence_type.id"),
            status=statuses,
        ),
    )


def create_absence_period(call: Call) -> Answer:
    return HTTPStatus.CREATED, call.records.create_absence_period(call.body)


def get_absence_period(call: Call) -> Answer:
    return HTTPStatus.OK, call.records.absence_period(call.params["id"])


def delete_absence_period(call: Call) -> Answer:
    call.records.delete_absence_period(call.params["id"])
    return HTTPStatus.NO_CONTENT, None


def approve_absence_period(call: Call) -> Answer:
    return HTTPStatus.OK, call.records.decide(call.params["id"], "APPROVED")


def reject_absence_period(call: Call) -> Answer:
    return HTTPStatus.OK, call.records.decide(call.params["id"], "REJECTED")


def list_compensations(call: Call) -> Answer:
    return _page(
        call,
        "listCompensations",
        call.records.compensations,
        **_filters(person_id=_split(call, "person.id"), type_id=_split(call, "type.id")),
    )


def create_compensation(call: Call) -> Answer:
    return HTTPStatus.CREATED, call.records.create_compensation(call.body)


def list_compensation_types(call: Call) -> Answer:
    return _page(call, "listCompensationTypes", call.records.compensation_types)


def get_document(call: Call) -> Answer:
    return HTTPStatus.OK, {**call.document, "servers": [{"url": call.base_url}]}


def _filters(**filters: list[str]) -> dict[str, list[str]]:
    return {column: values for column, values in filters.items() if values}


PERSON_PAGING = _paging(10, 50)
PAGING = _paging(50, 100)
PERIOD_PAGING = _paging(100, 100)
DECIDED = "the request is no longer PENDING (approved or rejected already)"

ROUTES = (
    Route(
        "GET",
        "/v2/persons",
        "listPersons",
        "List persons.",
        "Persons",
        list_persons,
        query=(
            *PERSON_PAGING,
            _ids("id", "persons"),
            Field("email", "string", "Only persons with these emails (comma-separated)."),
            Field("first_name", "string", "Only persons with this first name."),
            Field("last_name", "string", "Only persons with this last name."),
        ),
        returns="Person",
        listed=True,
    ),
    Route(
        "POST",
        "/v2/persons",
        "createPerson",
        "Create a person.",
        "Persons",
        create_person,
        body=NEW_PERSON,
        returns="Person",
        status=HTTPStatus.CREATED,
        conflicts="the email belongs to another person",
    ),
    Route(
        "GET",
        "/v2/persons/{person_id}",
        "getPerson",
        "Retrieve a person.",
        "Persons",
        get_person,
        returns="Person",
    ),
    Route(
        "PATCH",
        "/v2/persons/{person_id}",
        "updatePerson",
        "Update a person.",
        "Persons",
        update_person,
        body=PERSON_CHANGE,
        status=HTTPStatus.NO_CONTENT,
        conflicts="the email belongs to another person",
    ),
    Route(
        "GET",
        "/v2/persons/{person_id}/employments",
        "listEmployments",
        "List a person's employments.",
        "Employments",
        list_employments,
        query=PAGING,
        returns="Employment",
        listed=True,
    ),
    Route(
        "GET",
        "/v2/persons/{person_id}/employments/{employment_id}",
        "getEmployment",
        "Retrieve an employment: supervisor, department, position.",
        "Employments",
        get_employment,
        returns="Employment",
    ),
    Route(
        "PATCH",
        "/v2/persons/{person_id}/employments/{employment_id}",
        "updateEmployment",
        "Update an employment: supervisor, department, position, status, hours.",
        "Employments",
        update_employment,
        body=EMPLOYMENT_CHANGE,
        status=HTTPStatus.NO_CONTENT,
        unprocessable="the supervisor or department names no record, the person would supervise "
        "themselves (directly or through others), or more than one department is given",
    ),
    Route(
        "GET",
        "/v2/persons/{person_id}/absences/balance",
        "getAbsenceBalance",
        "A person's time-off balance per absence type.",
        "Absence Periods",
        get_absence_balance,
        returns="AbsenceBalance",
        listed=True,
        description="Days allowed this year, used (approved), pending, and the balance left "
        "(allowed minus used). Absence types without an allowance are not listed.",
    ),
    Route(
        "GET",
        "/v2/org-units",
        "listOrgUnits",
        "List org units.",
        "Org Units",
        list_org_units,
        query=(*PAGING, UNIT_TYPE),
        returns="OrgUnit",
        listed=True,
    ),
    Route(
        "GET",
        "/v2/org-units/{id}",
        "getOrgUnit",
        "Retrieve an org unit.",
        "Org Units",
        get_org_unit,
        query=(replace(UNIT_TYPE, required=True),),
        returns="OrgUnit",
    ),
    Route(
        "GET",
        "/v2/absence-types",
        "listAbsenceTypes",
        "List absence types.",
        "Absence Periods",
        list_absence_types,
        query=PAGING,
        returns="AbsenceType",
        listed=True,
    ),
    Route(
        "GET",
        "/v2/absence-periods",
        "listAbsencePeriods",
        "List absence periods (time-off requests).",
        "Absence Periods",
        list_absence_periods,
        query=(
            *PERIOD_PAGING,
            _ids("id", "absence periods"),
            _ids("person.id", "persons"),
            _ids("absence_type.id", "absence types"),
            Field(
                "approval.status", "string", "Only requests in this state.", enum=APPROVAL_STATUSES
            ),
        ),
        returns="AbsencePeriod",
        listed=True,
    ),
    Route(
        "POST",
        "/v2/absence-periods",
        "createAbsencePeriod",
        "Request time off.",
        "Absence Periods",
        create_absence_period,
        body=NEW_ABSENCE_PERIOD,
        returns="AbsencePeriod",
        status=HTTPStatus.CREATED,
        unprocessable="the person or absence type names no record, the days are reversed or "
        "cover no working day, it overlaps another pending or approved absence of the person, "
        "or it asks for more days than are left",
        description="PENDING when the absence type needs approval, APPROVED otherwise.",
    ),
    Route(
        "GET",
        "/v2/absence-periods/{id}",
        "getAbsencePeriod",
        "Retrieve an absence period.",
        "Absence Periods",
        get_absence_period,
        returns="AbsencePeriod",
    ),
    Route(
        "DELETE",
        "/v2/absence-periods/{id}",
        "deleteAbsencePeriod",
        "Delete an absence period.",
        "Absence Periods",
        delete_absence_period,
        status=HTTPStatus.NO_CONTENT,
    ),
    Route(
        "POST",
        "/v2/absence-periods/{id}/approve",
        "approveAbsencePeriod",
        "Approve a pending time-off request.",
        "Absence Periods",
        approve_absence_period,
        body=DECISION,
        body_required=False,
        returns="AbsencePeriod",
        conflicts=DECIDED,
        description="The HR system's own approval: the request becomes APPROVED and its days "
        "count as used. Only a PENDING request can be approved, once.",
    ),
    Route(
        "POST",
        "/v2/absence-periods/{id}/reject",
        "rejectAbsencePeriod",
        "Reject a pending time-off request.",
        "Absence Periods",
        reject_absence_period,
        body=DECISION,
        body_required=False,
        returns="AbsencePeriod",
        conflicts=DECIDED,
        description="The HR system's own decision: the request becomes REJECTED and its days "
        "are free again. Only a PENDING request can be rejected, once.",
    ),
    Route(
        "GET",
        "/v2/compensations",
        "listCompensations",
        "List compensations, each with its effective date.",
        "Compensations",
        list_compensations,
        query=(*PAGING, _ids("person.id", "persons"), _ids("type.id", "compensation types")),
        returns="Compensation",
        listed=True,
    ),
    Route(
        "POST",
        "/v2/compensations",
        "createCompensation",
        "Create a compensation from an effective date.",
        "Compensations",
        create_compensation,
        body=NEW_COMPENSATION,
        returns="Compensation",
        status=HTTPStatus.CREATED,
        unprocessable="the person or compensation type names no record",
    ),
    Route(
        "GET",
        "/v2/compensations/types",
        "listCompensationTypes",
        "List compensation types.",
        "Compensations",
        list_compensation_types,
        query=PAGING,
        returns="CompensationType",
        listed=True,
    ),
    Route(
        "GET",
        "/openapi.json",
        "getOpenAPIDocument",
        "This document.",
        "Document",
        get_document,
        returns="Document",
        public=True,
    ),
)
