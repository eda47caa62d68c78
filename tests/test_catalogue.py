from __future__ import annotations

import json

import pytest

from approvals import Thread
from bot.tools.catalogue import Catalogue, CatalogueError, RequestRefused
from bot.tools.context import ToolContext
from sandbox import HRSandbox

# Whose words name the records the tests change: a change goes only to a record they name.
CONTEXT = ToolContext(
    requester="U0ALICE", thread=Thread("C0HR", "1.1"), words=(("U0ALICE", "employee 2"),)
)


@pytest.fixture
def trap(tmp_path):
    """A second server that hostile URLs try to reach; it must never hear from us."""
    with HRSandbox(tmp_path / "trap.sqlite3") as server:
        yield server


def hostile_urls(trap_host: str) -> list[str]:
    return [
        f"http://{trap_host}/api/users",
        f"https://{trap_host}/api/users/2",
        f"//{trap_host}/api/users",
        f"/@{trap_host}/api/users",
        f"/api/users@{trap_host}",
        "/api/users/../users/2",
        "/api/users/%2e%2e/2",
        "/api/%2E%2E/api/users",
        "/api/users/2%2f..%2f3",
        "/api/users/./2",
        "/api//users",
        "/api/users/2\r\nHost: evil",
        "/api/users/2\n",
        "/api/users/2\x00",
        "/api/users/2 ",
        "/api\\users",
        "/api/users/２",  # full-width digit
        "/аpi/users",  # Cyrillic a
        "/api/users?page=1#frag",
        "/" + "a/" * 400,
        "/api/users/" + "9" * 600,
        "/api/employees",
        "/api/users/abc",
        "/api/users/0",
        "/api/users/2/salary",
        "/api/users?page=1&page=2",
        "/api/users?page=-1",
        "/api/users?role=admin",
        "/api/users/2?page=1",
        "api/users",
        "",
        "javascript:alert(1)",
        f"{trap_host}/api/users",
    ]


def test_no_hostile_url_reaches_any_server(toolbox, hr_sandbox, trap, actions):
    trap_host = trap.url.removeprefix("http://")
    for url in hostile_urls(trap_host):
        for method in ("GET", "POST", "DELETE"):
            result = toolbox.run(
                "call_rest_api", json.dumps({"method": method, "url": url}), CONTEXT, "c1"
            )
            assert result.startswith("Error: request refused:"), (method, url, result)
    assert hr_sandbox.seen == [] and trap.seen == []
    assert actions.in_states() == []


@pytest.mark.parametrize(
    ("method", "url", "message"),
    [
        ("GET", "http://evil.example/api/users", "no scheme or host"),
        ("GET", "//evil.example/api/users", "must not start with '//'"),
        ("GET", "/api/users/%2e%2e", "percent-encoded"),
        ("GET", "/api/users/../users", "'..'"),
        ("GET", "/api/users\r\n", "control"),
        ("GET", "/api/employees", "unknown path /api/employees; the known paths are"),
        ("POST", "/api/users/2", "POST is not allowed on /api/users/2; allowed: GET, PUT, PATCH"),
        ("GET", "/api/users?page=x", "'page' must be a positive whole number"),
        ("GET", "/api/users?sort=name", "unknown query parameter 'sort'"),
        ("TRACE", "/api/users", "method must be one of"),
        ("GET", "/" + "x" * 600, "longer than 512"),
    ],
)
def test_each_refusal_says_what_to_change(method, url, message):
    with pytest.raises(RequestRefused, match=message.replace("?", r"\?")):
        Catalogue.load().validate(method, url, None)


@pytest.mark.parametrize(
    ("method", "url", "body", "expected_path"),
    [
        ("GET", "/api/users", None, "/api/users"),
        ("get", "/api/users?page=3", None, "/api/users?page=3"),
        ("GET", "/api/users/20", None, "/api/users/20"),
        ("POST", "/api/users", {"name": "Neo Anderson", "job": "engineer"}, "/api/users"),
        ("PUT", "/api/users/2", '{"job": "manager"}', "/api/users/2"),
        ("PATCH", "/api/users/2", {"email": "j@example.com"}, "/api/users/2"),
        ("DELETE", "/api/users/2", None, "/api/users/2"),
        ("DELETE", "/api/users/2", {}, "/api/users/2"),
    ],
)
def test_valid_requests_pass(method, url, body, expected_path):
    request = Catalogue.load().validate(method, url, body)
    assert request.path == expected_path
    assert request.needs_approval == (request.method != "GET")


@pytest.mark.parametrize(
    ("method", "body", "message"),
    [
        ("POST", None, "needs a JSON object body"),
        ("POST", "[1, 2]", "needs a JSON object body"),
        ("POST", "{not json", "not valid JSON"),
        ("POST", {"name": "Neo"}, "missing required field\\(s\\): job"),
        ("POST", {"name": "Neo", "job": "x", "salary": 1}, "unknown body field\\(s\\) salary"),
        ("POST", {"name": 7, "job": "x"}, "'name' must be a string"),
        ("POST", {"name": "  ", "job": "x"}, "'name' must not be empty"),
        ("POST", {"name": "N" * 300, "job": "x"}, "longer than 200"),
        ("POST", {"name": "Neo", "job": "x" * 9000}, "larger than 8192 bytes"),
        ("PUT", {}, "must set at least one of"),
    ],
)
def test_bad_bodies_are_refused_with_the_reason(method, body, message):
    url = "/api/users" if method == "POST" else "/api/users/2"
    with pytest.raises(RequestRefused, match=message):
        Catalogue.load().validate(method, url, body)


def test_a_body_on_delete_is_refused():
    with pytest.raises(RequestRefused, match="takes no body"):
        Catalogue.load().validate("DELETE", "/api/users/2", {"force": True})


def test_a_refused_body_creates_no_pending_action(toolbox, actions, hr_sandbox):
    arguments = json.dumps({"method": "POST", "url": "/api/users", "body": {"name": "Neo"}})
    result = toolbox.run("call_rest_api", arguments, CONTEXT, "c1")
    assert result.startswith("Error: request refused: body is missing required field(s): job")
    assert actions.in_states() == [] and hr_sandbox.seen == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"method": "DELETE", "path": "/x/{id}", "params": {"id": "integer"}, "approval": False},
            "writes always need approval",
        ),
        ({"method": "GET", "path": "/x/{id}"}, "needs a type in 'params'"),
        ({"method": "GET", "path": "x"}, "must start with '/'"),
        ({"method": "GET", "path": "/a/../b"}, "segment '..' is not allowed"),
        ({"method": "FETCH", "path": "/x"}, "needs a method"),
        ({"method": "POST", "path": "/x"}, "describe its body fields"),
        (
            {"method": "DELETE", "path": "/x", "approvals_required": 0},
            "approvals_required must be 1 to 10",
        ),
    ],
)
def test_an_invalid_catalogue_is_refused_at_load(entry, message):
    with pytest.raises(CatalogueError, match=message):
        Catalogue.from_data({"endpoints": [entry]})


def test_an_operator_can_point_the_bot_at_another_api_by_editing_data(tmp_path):
    path = tmp_path / "endpoints.json"
    path.write_text(
        json.dumps(
            {
                "endpoints": [
                    {
                        "method": "GET",
                        "path": "/v2/staff/{slug}",
                        "params": {"slug": "slug"},
                        "description": "One.",
                    },
                    {
                        "method": "DELETE",
                        "path": "/v2/staff/{slug}",
                        "params": {"slug": "slug"},
                        "approvals_required": 2,
                    },
                ]
            }
        )
    )
    catalogue = Catalogue.load(path)
    assert catalogue.validate("GET", "/v2/staff/jane-doe", None).needs_approval is False
    delete = catalogue.validate("DELETE", "/v2/staff/jane-doe", None)
    assert delete.needs_approval and delete.endpoint.approvals_required == 2
    assert "DELETE /v2/staff/{slug}" in catalogue.describe()


def test_the_record_shape_shows_a_record_under_the_requests_field_names():
    record = {
        "id": 9,
        "email": "tobias.funke@reqres.in",
        "first_name": "Tobias",
        "last_name": "Funke",
        "job": "analyst",
        "avatar": "https://x/y.png",
    }
    shape = Catalogue.load().record
    assert shape.noun == "employee"
    assert shape.view(record) == {
        "id": 9,
        "name": "Tobias Funke",
        "email": "tobias.funke@reqres.in",
        "job": "analyst",
    }
    assert shape.view({"id": 1, "first_name": "Cher"})["name"] == "Cher"


def test_without_a_record_section_records_are_shown_as_they_are():
    catalogue = Catalogue.from_data({"endpoints": []})
    assert catalogue.record.noun is None
    assert catalogue.record.view({"a": 1}) == {"a": 1}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"fields": []}, "record"),
        ({"fields": {"name": []}}, "list of the HR API's field names"),
        ({"fields": {"name": ["first_name"]}, "noun": "<!channel>"}, "short lower-case word"),
    ],
)
def test_a_bad_record_section_is_a_catalogue_error(record, message):
    with pytest.raises(CatalogueError, match=message):
        Catalogue.from_data({"endpoints": [], "record": record})


def test_the_listed_fields_must_be_the_records_own():
    from bot.tools.catalogue import record_shape

    fields = {"name": ["first_name", "last_name"], "job": ["job"]}
    assert record_shape({"fields": fields, "listed": ["name"]}).row(
        {"id": 1, "first_name": "Ann", "last_name": "Lee", "job": "cook"}
    ) == {"id": 1, "name": "Ann Lee"}
    with pytest.raises(ValueError, match='"listed" is a list of its own field names'):
        record_shape({"fields": fields, "listed": ["salary"]})


def test_every_problem_in_a_catalogue_is_reported_at_once_one_a_line():
    data = {
        "resources": {
            "person": {"noun": "person", "fields": {"name": ["name"]}, "people": True},
            "Bad Name": {"noun": "x", "fields": {"a": ["a"]}},
        },
        "paging": {"items": "data"},
        "endpoints": [
            {"method": "GET", "path": "/people", "resource": "persons"},
            {
                "method": "DELETE",
                "path": "/people/{id}",
                "params": {"id": "integer"},
                "resource": "person",
                "approval": False,
            },
            {
                "method": "POST",
                "path": "/people",
                "resource": "person",
                "body": {"name": {"type": "text"}, "boss": {"type": "string", "at": "a..b"}},
            },
        ],
    }
    with pytest.raises(CatalogueError) as refused:
        Catalogue.from_data(data)
    problems = refused.value.problems
    assert problems == str(refused.value).splitlines()
    expected = [
        'the people\'s records need a "name" and an "email" field',
        "resource name 'Bad Name' must be snake_case",
        '"paging" needs either "pages" (page numbers) or "next" (a cursor)',
        "GET /people: resource must name one of the catalogue's resources",
        "DELETE /people/{id}: writes always need approval",
        "POST /people: field name needs a type",
        "POST /people: field boss: at is a dotted path",
    ]
    assert len(problems) == len(expected)
    for problem, words in zip(problems, expected, strict=True):
        assert words in problem


def test_a_draft_offers_only_the_endpoints_the_operator_kept():
    endpoint = {"method": "GET", "path": "/api/users", "query": {"page": "integer"}}
    draft = {"draft": {"source": "spec.json"}, "endpoints": [{**endpoint, "keep": False}]}
    with pytest.raises(CatalogueError, match="no endpoint is kept \\(1 are listed\\)"):
        Catalogue.from_data(draft)
    delete = {"method": "DELETE", "path": "/api/users/{id}", "params": {"id": "integer"}}
    kept = Catalogue.from_data(
        {**draft, "endpoints": [{**endpoint, "keep": True}, {**delete, "keep": False}]}
    )
    assert [e.path for e in kept.endpoints] == ["/api/users"]
    assert [e.method for e in kept.held_back] == ["DELETE"]
    with pytest.raises(RequestRefused):
        kept.validate("DELETE", "/api/users/2", None)


def test_paging_by_cursor_reads_the_next_links_query_never_its_host():
    catalogue = Catalogue.from_data(
        {
            "paging": {"items": "_data", "next": "_meta.links.next.href", "size": "limit"},
            "endpoints": [],
        }
    )
    page = {
        "_data": [{"id": "1"}, "x"],
        "_meta": {
            "links": {
                "next": {"href": "https://elsewhere.example/v2/persons?limit=2&cursor=cur_abc"}
            }
        },
    }
    assert catalogue.paging.records(page) == [{"id": "1"}]
    assert catalogue.paging.after(page, 1) == "limit=2&cursor=cur_abc"
    assert catalogue.paging.after({"_data": []}, 2) is None
    numbered = Catalogue.from_data({"endpoints": []}).paging
    assert numbered.after({"data": [], "total_pages": 3}, 2) == "page=3"
    assert numbered.after({"data": [], "total_pages": 3}, 3) is None


def test_a_field_the_hr_api_takes_nested_is_sent_nested_and_shown_flat():
    catalogue = Catalogue.from_data(
        {
            "endpoints": [
                {
                    "method": "POST",
                    "path": "/leave",
                    "body": {
                        "employee": {"type": "string", "at": "person.id"},
                        "note": {"type": "string"},
                    },
                }
            ]
        }
    )
    request = catalogue.validate("POST", "/leave", {"employee": "7", "note": "hi"})
    assert request.body == {"employee": "7", "note": "hi"}
    assert request.endpoint.sent(request.body) == {"person": {"id": "7"}, "note": "hi"}


def test_the_manager_as_approver_needs_a_way_to_read_managers_that_the_catalogue_offers():
    people = {"noun": "person", "fields": {"name": ["name"], "email": ["email"]}, "people": True}
    leave = {
        "method": "POST",
        "path": "/leave",
        "resource": "person",
        "approvers": "manager",
        "body": {"note": {"type": "string"}},
    }
    with pytest.raises(CatalogueError, match='approvers is "manager", but the people'):
        Catalogue.from_data({"resources": {"person": people}, "endpoints": [leave]})
    managed = {**people, "manager": {"path": "/people/{id}/boss", "field": "boss.id"}}
    with pytest.raises(CatalogueError, match=r"GET /people/\{id\}/boss is not an endpoint kept"):
        Catalogue.from_data({"resources": {"person": managed}, "endpoints": [leave]})
    boss = {
        "method": "GET",
        "path": "/people/{id}/boss",
        "resource": "person",
        "params": {"id": "integer"},
    }
    catalogue = Catalogue.from_data({"resources": {"person": managed}, "endpoints": [leave, boss]})
    assert catalogue.endpoint("POST", "/leave").approvers == "manager"
    assert catalogue.record.manager == ("/people/{id}/boss", "boss.id")
    read = {"method": "GET", "path": "/x", "resource": "person", "approvers": "manager"}
    with pytest.raises(CatalogueError, match='approvers is "manager" \\(on an endpoint held'):
        Catalogue.from_data({"resources": {"person": managed}, "endpoints": [read, boss]})
