"""The second sandbox HR API, shaped like Personio's public API v2, over real HTTP: cursor pages,
each resource, time off approved or rejected exactly once, the manager relation, strict input with
the vendor's error body, the API key, and an OpenAPI document that matches what is served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from openapi_schema_validator import validate as conform
from openapi_spec_validator import validate as validate_spec

from bot.children import Child
from sandbox.__main__ import main
from sandbox.hris import SANDBOX_API_KEY, HRISSandbox
from sandbox.hris.api import ROUTES
from sandbox.hris.openapi import DOCUMENT_FILE, render
from sandbox.hris.seed import seed_id
from tests.test_children import free_port

JANET_MARCH = seed_id("absence-period", "janet-march")
BOB_APRIL = seed_id("absence-period", "bob-april")
DANA_MAY = seed_id("absence-period", "dana-may")
JULIA_JUNE = seed_id("absence-period", "julia-june")
VACATION = seed_id("absence-type", "paid_vacation")
SICK_LEAVE = seed_id("absence-type", "sick_leave")
BASE_SALARY = seed_id("compensation-type", "Base salary")


class HRIS:
    """The sandbox and a session that carries its API key."""

    def __init__(self, sandbox: HRISSandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers.update(sandbox.auth)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.sandbox.url + path, timeout=5, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def ok(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.request("PATCH", path, json=body)

    def everything(self, path: str) -> list[dict[str, Any]]:
        """Every record of a list, following `next` links to the end."""
        found, url = [], self.sandbox.url + path
        while url:
            page = self.session.get(url, timeout=5).json()
            found += page["_data"]
            url = page["_meta"]["links"].get("next", {}).get("href")
        return found


@pytest.fixture
def hris(tmp_path) -> Iterator[HRIS]:
    with HRISSandbox(tmp_path / "hris.sqlite3") as sandbox:
        client = HRIS(sandbox)
        yield client
        client.session.close()


def problems(response: requests.Response) -> list[str]:
    """The details of a refusal, after checking it has the vendor's error shape."""
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == {"personio_trace_id", "timestamp", "errors"}
    assert all({"title", "detail", "type", "_meta"} == set(error) for error in body["errors"])
    return [error["detail"] for error in body["errors"]]


def supervisor_of(hris: HRIS, person_id: str) -> str | None:
    (employment,) = hris.everything(f"/v2/persons/{person_id}/employments")
    return employment["supervisor"] and employment["supervisor"]["id"]


# Pages


def test_following_the_next_cursor_reaches_every_person_once(hris):
    first = hris.ok("/v2/persons?limit=4")
    assert len(first["_data"]) == 4
    assert first["_meta"]["links"]["next"]["href"].startswith(hris.sandbox.url + "/v2/persons?")
    assert "page" not in first["_meta"]["links"]["next"]["href"]  # a cursor, not a page number
    people = hris.everything("/v2/persons?limit=4")
    assert [p["id"] for p in people] == [str(n) for n in range(1001, 1016)]
    assert len(hris.ok("/v2/persons")["_data"]) == 10  # the vendor's default page size
    last = hris.ok("/v2/persons?limit=50")
    assert len(last["_data"]) == 15 and "next" not in last["_meta"]["links"]


def test_a_cursor_only_works_on_its_own_list_and_filters_follow_it(hris):
    next_href = hris.ok("/v2/persons?limit=2")["_meta"]["links"]["next"]["href"]
    cursor = next_href.split("cursor=")[1]
    wrong = hris.get(f"/v2/absence-periods?cursor={cursor}")
    assert wrong.status_code == 400 and problems(wrong) == ["'cursor' is not a cursor of this list"]
    assert hris.get("/v2/persons?cursor=cur_forged").status_code == 400
    pending = hris.everything("/v2/absence-periods?approval.status=PENDING&limit=1")
    assert {p["id"] for p in pending} == {
        JANET_MARCH,
        BOB_APRIL,
        DANA_MAY,
        seed_id("absence-period", "carol-course"),
    }


# Each resource


def test_people_carry_email_and_an_employment_with_manager_department_and_title(hris):
    bob = hris.ok("/v2/persons/1003")
    assert bob["email"] == "bob.lindqvist@northwind.example"
    employment = hris.ok(f"/v2/persons/1003/employments/{bob['employments'][0]['id']}")
    assert employment["supervisor"] == {"id": "1002"}
    assert employment["org_units"] == [{"id": "301", "type": "department"}]
    assert employment["position"] == {"title": "Backend Engineer"}
    found = hris.ok("/v2/persons?email=Janet.Weaver@northwind.example")["_data"]
    assert [person["first_name"] for person in found] == ["Janet"]


def test_one_person_has_no_manager_and_one_manager_has_several_reports(hris):
    managers = {p["id"]: supervisor_of(hris, p["id"]) for p in hris.everything("/v2/persons")}
    assert [person for person, manager in managers.items() if manager is None] == ["1001"]
    assert sorted(p for p, manager in managers.items() if manager == "1002") == [
        "1003",
        "1005",
        "1006",
        "1015",
    ]


def test_departments_are_org_units_of_type_department(hris):
    units = hris.everything("/v2/org-units?type=department")
    assert [unit["name"] for unit in units] == ["Platform", "Sales", "Operations", "Finance"]
    assert hris.ok("/v2/org-units/304?type=department")["name"] == "Finance"
    missing_type = hris.get("/v2/org-units/304")
    assert missing_type.status_code == 400
    assert problems(missing_type) == ["query parameter 'type' is required"]
    assert hris.get("/v2/org-units/999?type=department").status_code == 404


def test_time_off_has_types_requests_and_balances(hris):
    kinds = {kind["name"]: kind for kind in hris.everything("/v2/absence-types")}
    assert kinds["Paid vacation"]["approval_required"] is True
    assert kinds["Sick leave"]["approval_required"] is False
    bobs = hris.everything("/v2/absence-periods?person.id=1003")
    assert {(p["approval"]["status"], p["working_days"]) for p in bobs} == {
        ("APPROVED", 5),
        ("PENDING", 5),
    }
    (vacation, training) = hris.ok("/v2/persons/1003/absences/balance")["_data"]
    assert vacation["absence_type"]["name"] == "Paid vacation"
    assert (vacation["entitlement"], vacation["used"], vacation["pending"]) == (28, 5, 5)
    assert vacation["balance"] == 23
    assert (training["absence_type"]["name"], training["balance"]) == ("Training days", 5)


def test_compensation_has_a_history_and_a_raise_takes_an_effective_date(hris):
    history = hris.everything("/v2/compensations?person.id=1005")
    assert [(c["effective_from"], c["value"]) for c in history] == [
        ("2023-03-01", 62000),
        ("2025-03-01", 66000),
    ]
    assert {c["type"]["name"] for c in history} == {"Base salary"}
    raise_ = {
        "person": {"id": "1005"},
        "type": {"id": BASE_SALARY},
        "value": 69300,
        "interval": "YEARLY",
        "effective_from": "2026-03-01",
    }
    created = hris.post("/v2/compensations", raise_)
    assert created.status_code == 201 and created.json()["effective_from"] == "2026-03-01"
    corrected = hris.post("/v2/compensations", {**raise_, "value": 69500})
    assert corrected.json()["id"] == created.json()["id"]  # same date: replaced, as the vendor does
    history = hris.everything("/v2/compensations?person.id=1005")
    assert [c["value"] for c in history] == [62000, 66000, 69500]
    types = hris.everything("/v2/compensations/types")
    assert {(t["name"], t["category"]) for t in types} == {
        ("Base salary", "FIXED"),
        ("Annual bonus", "ONE_TIME"),
    }


# Approve and reject: the HR system's own decision, once


def test_a_pending_request_is_approved_exactly_once(hris):
    approved = hris.post(f"/v2/absence-periods/{JANET_MARCH}/approve")
    assert approved.status_code == 200 and approved.json()["approval"]["status"] == "APPROVED"
    again = hris.post(f"/v2/absence-periods/{JANET_MARCH}/approve", {})
    assert again.status_code == 409
    assert problems(again) == [
        f"Absence period {JANET_MARCH} is APPROVED; only a PENDING one can be approved."
    ]
    assert hris.post(f"/v2/absence-periods/{JANET_MARCH}/reject").status_code == 409
    (vacation, _) = hris.ok("/v2/persons/1002/absences/balance")["_data"]
    assert (vacation["used"], vacation["pending"], vacation["balance"]) == (5, 0, 23)


def test_a_rejected_request_frees_its_days_and_cannot_be_approved_after(hris):
    rejected = hris.post(f"/v2/absence-periods/{BOB_APRIL}/reject")
    assert rejected.json()["approval"]["status"] == "REJECTED"
    assert hris.post(f"/v2/absence-periods/{BOB_APRIL}/approve").status_code == 409
    assert hris.post(f"/v2/absence-periods/{JULIA_JUNE}/approve").status_code == 409
    (vacation, _) = hris.ok("/v2/persons/1003/absences/balance")["_data"]
    assert (vacation["pending"], vacation["balance"]) == (0, 23)


def test_two_approvals_at_once_make_one_decision(hris):
    url = f"{hris.sandbox.url}/v2/absence-periods/{DANA_MAY}/approve"
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: requests.post(url, headers=hris.sandbox.auth, timeout=5), range(8))
        )
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 7


def test_a_time_off_request_is_checked_as_the_real_service_would(hris):
    def request(person: str, kind: str, first: str, last: str) -> dict[str, Any]:
        return {
            "person": {"id": person},
            "absence_type": {"id": kind},
            "starts_from": {"date_time": f"{first}T00:00:00"},
            "ends_at": {"date_time": f"{last}T23:59:59"},
        }

    created = hris.post(
        "/v2/absence-periods", request("1005", VACATION, "2026-08-03", "2026-08-07")
    )
    assert created.status_code == 201 and created.json()["approval"]["status"] == "PENDING"
    sick = hris.post("/v2/absence-periods", request("1005", SICK_LEAVE, "2026-09-01", "2026-09-01"))
    assert sick.json()["approval"]["status"] == "APPROVED"  # no approval for this type

    overlap = hris.post(
        "/v2/absence-periods", request("1005", VACATION, "2026-08-07", "2026-08-10")
    )
    assert overlap.status_code == 422
    assert problems(overlap) == [f"overlaps absence period {created.json()['id']} (PENDING)"]
    too_long = hris.post(
        "/v2/absence-periods", request("1003", VACATION, "2026-09-01", "2026-10-30")
    )
    assert problems(too_long) == ["44 working days asked, 18 left of Paid vacation"]
    reversed_ = hris.post(
        "/v2/absence-periods", request("1003", VACATION, "2026-09-04", "2026-09-01")
    )
    assert problems(reversed_) == ["'ends_at' is before 'starts_from'"]
    nobody = hris.post(
        "/v2/absence-periods", request("9999", "no-such-type", "2026-09-01", "2026-09-01")
    )
    assert nobody.status_code == 422
    assert problems(nobody) == [
        "'person.id' names no record: 9999",
        "'absence_type.id' names no record: no-such-type",
    ]


# Changes to people


def test_moving_someone_to_another_department_and_manager(hris):
    moved = hris.patch(
        "/v2/persons/1004/employments/5004",
        {"org_units": [{"id": "301", "type": "department"}], "supervisor": {"id": "1002"}},
    )
    assert moved.status_code == 204 and moved.content == b""
    employment = hris.ok("/v2/persons/1004/employments/5004")
    assert employment["org_units"] == [{"id": "301", "type": "department"}]
    assert employment["supervisor"] == {"id": "1002"}


def test_a_manager_relation_cannot_loop_or_name_nobody(hris):
    path = "/v2/persons/1001/employments/5001"
    loop = hris.patch(path, {"supervisor": {"id": "1003"}})  # Bob → Janet → Margaret
    assert loop.status_code == 422 and problems(loop) == ["1003 already reports to 1001"]
    itself = hris.patch(path, {"supervisor": {"id": "1001"}})
    assert problems(itself) == ["a person cannot be their own supervisor"]
    both = hris.patch(
        path, {"supervisor": {"id": "4242"}, "org_units": [{"id": "399", "type": "department"}]}
    )
    assert problems(both) == [
        "'supervisor.id' names no person: 4242",
        "'org_units[0].id' names no department: 399",
    ]
    assert supervisor_of(hris, "1001") is None


def test_a_person_is_created_with_an_employment_and_emails_stay_unique(hris):
    created = hris.post(
        "/v2/persons",
        {"first_name": "Olga", "last_name": "Ivanova", "email": "olga.ivanova@northwind.example"},
    )
    assert created.status_code == 201
    olga = created.json()
    assert olga["id"] == "1016" and len(olga["employments"]) == 1
    employment = hris.ok(f"/v2/persons/1016/employments/{olga['employments'][0]['id']}")
    assert (employment["status"], employment["supervisor"]) == ("ONBOARDING", None)
    taken = hris.patch("/v2/persons/1016", {"email": "Bob.Lindqvist@northwind.example"})
    assert taken.status_code == 409
    assert problems(taken) == ["The email bob.lindqvist@northwind.example belongs to person 1003."]
    assert hris.patch("/v2/persons/1016", {"preferred_name": "Olya"}).status_code == 204
    assert hris.ok("/v2/persons/1016")["preferred_name"] == "Olya"


# Strict like a real service


def test_bad_input_is_refused_with_every_problem_in_the_vendor_error_body(hris):
    wrong = hris.patch(
        "/v2/persons/1003/employments/5003",
        {"position": {"title": 7}, "weekly_working_hours": "forty", "salary": 1, "status": "HAPPY"},
    )
    assert wrong.status_code == 400
    assert sorted(problems(wrong)) == [
        "'position.title' must be a string",
        "'status' must be one of ACTIVE, INACTIVE, LEAVE, ONBOARDING",
        "'weekly_working_hours' must be a number",
        "unknown field 'salary'",
    ]
    error = wrong.json()["errors"][0]
    assert error["title"] == "Bad Request" and error["type"].endswith("#invalid_request")
    missing = hris.post("/v2/compensations", {"person": {"id": "1005"}, "value": True})
    assert sorted(problems(missing)) == [
        "'effective_from' is required",
        "'type' is required",
        "'value' must be a number",
    ]
    assert problems(hris.patch("/v2/persons/1003", {})) == [
        "set at least one of first_name, last_name, email, preferred_name"
    ]
    not_json = hris.request(
        "PATCH", "/v2/persons/1003", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and problems(not_json)[0].startswith("The body is not valid")
    as_form = hris.request("PATCH", "/v2/persons/1003", data={"first_name": "Robert"})
    assert problems(as_form) == ["Send the body as application/json."]
    huge = hris.request(
        "POST",
        "/v2/compensations",
        data=b" " * 70_000,
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and problems(huge) == ["The body is larger than 65536 bytes."]
    for query in ("limit=0", "limit=51", "limit=ten", "page=2", "limit=5&limit=6"):
        assert hris.get(f"/v2/persons?{query}").status_code == 400, query
    assert problems(hris.get("/v2/absence-periods?approval.status=MAYBE")) == [
        "'approval.status' must be one of PENDING, APPROVED, REJECTED"
    ]


def test_unknown_ids_and_paths_are_404_and_unknown_methods_405(hris):
    for path in (
        "/v2/persons/9999",
        "/v2/persons/9999/employments",
        "/v2/persons/1003/employments/5004",  # Carol's employment, not Bob's
        "/v2/persons/9999/absences/balance",
        "/v2/absence-periods/no-such-period",
        "/v2/employees",
    ):
        response = hris.get(path)
        assert response.status_code == 404, path
        assert problems(response)
    assert hris.post("/v2/absence-periods/no-such-period/approve").status_code == 404
    put = hris.request("PUT", "/v2/persons/1003", json={"first_name": "Robert"})
    assert put.status_code == 405 and put.headers["Allow"] == "GET, PATCH"
    assert hris.sandbox.records.person("1003")["first_name"] == "Bob"


def test_without_the_api_key_or_with_a_wrong_one_nothing_is_answered(hris):
    url = hris.sandbox.url
    for route in ROUTES:
        if route.public:
            continue
        path = route.path.format(person_id="1003", employment_id="5003", id=JANET_MARCH)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": SANDBOX_API_KEY}):
            answer = requests.request(route.method, url + path, headers=headers, timeout=5)
            assert answer.status_code == 401, (route.operation, headers)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert problems(answer) == ["Send the API key as 'Authorization: Bearer KEY'."]
    assert requests.get(url + "/v2/no-such-thing", timeout=5).status_code == 401  # tells nothing
    assert requests.get(url + "/openapi.json", timeout=5).status_code == 200  # the document is open
    assert hris.ok(f"/v2/absence-periods/{JANET_MARCH}")["approval"]["status"] == "PENDING"


def test_reads_record_no_write_and_every_write_is_recorded(hris):
    hris.everything("/v2/persons?limit=5")
    hris.ok("/v2/persons/1003/absences/balance")
    assert hris.sandbox.writes_seen() == []
    hris.post(f"/v2/absence-periods/{BOB_APRIL}/approve")
    hris.post(f"/v2/absence-periods/{BOB_APRIL}/approve")  # refused, but still sent
    writes = hris.sandbox.writes_seen()
    assert [(w.method, w.path) for w in writes] == [
        ("POST", f"/v2/absence-periods/{BOB_APRIL}/approve")
    ] * 2
    assert writes[0].headers["Authorization"] == f"Bearer {SANDBOX_API_KEY}"


def test_changes_outlive_a_restart(tmp_path):
    path = tmp_path / "hris.sqlite3"
    with HRISSandbox(path) as sandbox:
        HRIS(sandbox).post(f"/v2/absence-periods/{DANA_MAY}/approve")
    with HRISSandbox(path) as sandbox:
        period = HRIS(sandbox).ok(f"/v2/absence-periods/{DANA_MAY}")
        assert period["approval"]["status"] == "APPROVED"
        assert len(HRIS(sandbox).everything("/v2/persons")) == 15  # seeded once


# The OpenAPI document


def served_document(hris: HRIS) -> dict[str, Any]:
    response = requests.get(hris.sandbox.url + "/openapi.json", timeout=5)
    assert response.status_code == 200
    return response.json()


def test_the_document_validates_and_the_copy_in_the_repository_is_what_is_served(hris):
    served = served_document(hris)
    validate_spec(served)
    kept = json.loads(DOCUMENT_FILE.read_text())
    validate_spec(kept)
    assert served["servers"] == [{"url": hris.sandbox.url}]
    assert {**served, "servers": kept["servers"]} == kept, (
        "run: python -m sandbox --hris personio --openapi > sandbox/hris/personio-openapi.json"
    )
    assert DOCUMENT_FILE.read_text() == render(hris.sandbox.document)


# What to fill in for each path parameter, per operation: a record the operation may change.
PATH_VALUES = {
    "getOrgUnit": {"id": "302"},
    "getAbsencePeriod": {"id": JANET_MARCH},
    "deleteAbsencePeriod": {"id": JULIA_JUNE},
    "approveAbsencePeriod": {"id": BOB_APRIL},
    "rejectAbsencePeriod": {"id": DANA_MAY},
}
QUERIES = {"getOrgUnit": "?type=department"}


def response_schema(document: dict[str, Any], operation: dict[str, Any], status: int) -> Any:
    """The schema the document gives for the body of this answer (None: no body)."""
    response = operation["responses"][str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content")
    return next(iter(content.values()))["schema"] if content else None


def test_the_document_lists_every_route_the_server_serves_and_each_answer_is_as_documented(hris):
    document = served_document(hris)
    documented = {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert set(documented) == {(route.method, route.path) for route in ROUTES}
    for (method, path), operation in documented.items():
        values = {"person_id": "1003", "employment_id": "5003"}
        values |= PATH_VALUES.get(operation["operationId"], {})
        target = path.format(**values) + QUERIES.get(operation["operationId"], "")
        body = {} if "requestBody" in operation else None
        answer = hris.request(method, target, json=body)
        assert str(answer.status_code) in operation["responses"], (method, path, answer.text)
        schema = response_schema(document, operation, answer.status_code)
        if schema is None:
            assert answer.content == b""
        else:
            conform(answer.json(), {**schema, "components": document["components"]}, OAS30Validator)
        for other in {"GET", "POST", "PATCH", "PUT", "DELETE"} - {
            m for m, p in documented if p == path
        }:
            assert hris.request(other, target).status_code == 405, (other, path)
    assert hris.get("/v2/persons/1003/contracts").status_code == 404


def test_listed_records_conform_to_the_documented_schemas(hris):
    document = served_document(hris)
    for route in ROUTES:
        if route.method != "GET" or not route.listed:
            continue
        path = route.path.format(person_id="1004")
        operation = document["paths"][route.path]["get"]
        schema = response_schema(document, operation, 200)
        paged = any(parameter["name"] == "limit" for parameter in operation.get("parameters", []))
        page = hris.ok(path + ("?limit=50" if paged else ""))
        assert page["_data"], route.path
        conform(page, {**schema, "components": document["components"]}, OAS30Validator)


# The command line


def test_the_command_line_offers_the_hris_and_refuses_oauth_with_it(capsys):
    with pytest.raises(SystemExit) as helped:
        main(["--hris", "personio", "--help"])
    assert helped.value.code == 0 and "--hris NAME" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["--hris", "personio", "--oauth", "--client-id", "x"])
    assert refused.value.code == 2 and "not OAuth" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--hris", "workday"])
    assert "invalid choice: 'workday'" in capsys.readouterr().err
    assert main(["--hris", "personio", "--openapi"]) == 0
    assert capsys.readouterr().out == DOCUMENT_FILE.read_text()


def test_python_m_sandbox_hris_serves_until_its_parent_stops(tmp_path: Path):
    port = free_port()
    args = ["-m", "sandbox", "--hris", "personio", "--port", str(port)]
    child = Child("the HRIS sandbox", [*args, "--db", str(tmp_path / "hris.sqlite3")])
    child.wait_until_ready()
    url = f"http://127.0.0.1:{port}/v2/persons"
    try:
        key = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
        assert len(requests.get(url, headers=key, timeout=5).json()["_data"]) == 10
        assert requests.get(url, timeout=5).status_code == 401
    finally:
        child.stop()
    assert child.process.returncode == 0
