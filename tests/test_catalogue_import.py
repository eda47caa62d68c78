"""`catalogue import SPEC`: an OpenAPI document becomes a draft catalogue in which every write is
held, nothing is kept until the operator says so, and whatever could not be mapped is said."""

from __future__ import annotations

import copy
import functools
import json
import socket
import subprocess
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot import cli
from bot.tools.catalogue import Catalogue
from bot.tools.importer import resource_of
from sandbox.serving import BackgroundServer

ROOT = Path(__file__).resolve().parent.parent
PERSONIO = ROOT / "sandbox" / "hris" / "personio-openapi.json"
OK = {"200": {"description": "OK"}}


def run_import(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot catalogue import …`, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "catalogue", "import", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def imported(capsys, *args: str) -> tuple[dict, list[str]]:
    """The draft printed by `hr-approval-bot catalogue import …`, and its lines on stderr."""
    assert cli.main(["catalogue", "import", *args]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), err.splitlines()


def refused(capsys, *args: str) -> list[str]:
    """The lines on stderr of an import that exits 1."""
    assert cli.main(["catalogue", "import", *args]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    return err.splitlines()


def document(paths: dict, version: str = "3.0.3") -> dict:
    return {"openapi": version, "info": {"title": "Tiny HR", "version": "7"}, "paths": paths}


def written(tmp_path: Path, spec: dict, name: str = "spec.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


def endpoint(draft: dict, method: str, path: str) -> dict:
    return next(e for e in draft["endpoints"] if (e["method"], e["path"]) == (method, path))


@pytest.fixture(scope="module")
def personio(tmp_path_factory) -> tuple[dict, list[str]]:
    """The repository's Personio-shaped sandbox document, imported once into a file."""
    out = tmp_path_factory.mktemp("draft") / "catalogue.json"
    done = run_import(str(PERSONIO), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stderr.splitlines()


def test_every_operation_of_the_personio_spec_is_an_endpoint_and_none_is_kept(personio):
    draft, _ = personio
    spec = json.loads(PERSONIO.read_text())
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert {(e["method"], e["path"]) for e in draft["endpoints"]} == operations
    assert {e["keep"] for e in draft["endpoints"]} == {False}
    assert draft["draft"]["source"] == str(PERSONIO)
    assert (draft["draft"]["title"], draft["draft"]["version"]) == (
        spec["info"]["title"],
        spec["info"]["version"],
    )
    assert "keep" in draft["draft"]["review"]


def test_personio_writes_need_approval_and_its_gets_are_reads(personio):
    draft, _ = personio
    time_off = endpoint(draft, "POST", "/v2/absence-periods")
    assert time_off["approval"] is True and time_off["resource"] == "absence_period"
    assert time_off["body"]["person_id"] == {
        "type": "string",
        "required": True,
        "max_length": 200,
        "description": "Whose time off.",
        "at": "person.id",
    }
    assert time_off["operation_id"] == "createAbsencePeriod"
    approve = endpoint(draft, "POST", "/v2/absence-periods/{id}/approve")
    assert approve["approval"] is True and approve["resource"] == "absence_period"
    assert approve["params"] == {"id": "slug"} and approve["body"] == {}
    assert endpoint(draft, "DELETE", "/v2/absence-periods/{id}")["approval"] is True
    job = endpoint(draft, "PATCH", "/v2/persons/{person_id}/employments/{employment_id}")
    assert job["resource"] == "employment" and job["approval"] is True
    assert job["body"]["position_title"]["at"] == "position.title"
    assert job["body"]["status"]["enum"] == ["ACTIVE", "INACTIVE", "LEAVE", "ONBOARDING"]
    reads = [e for e in draft["endpoints"] if e["method"] == "GET"]
    assert len(reads) == 13 and {e["approval"] for e in reads} == {False}
    assert endpoint(draft, "GET", "/v2/absence-periods")["query"] == {
        "limit": "integer",
        "cursor": "cursor",
        "id": "slug",
        "person.id": "slug",
        "absence_type.id": "slug",
        "approval.status": "slug",
    }


def test_personio_persons_are_the_people_and_time_off_is_about_one_of_them(personio):
    draft, _ = personio
    resources = draft["resources"]
    person = resources["person"]
    assert person["people"] is True and "subject" not in person
    assert person["fields"]["name"] == ["first_name", "last_name"]
    assert person["fields"]["email"] == ["email"]
    assert person["listed"][:2] == ["name", "email"]
    absence = resources["absence_period"]
    assert absence["noun"] == "absence period" and absence["subject"] == "person"
    assert absence["fields"]["person"] == ["person.id"]
    assert resources["employment"]["fields"]["position"] == ["position.title"]
    assert [name for name, r in resources.items() if r.get("people")] == ["person"]
    assert "subject" not in resources["org_unit"]
    assert draft["paging"] == {
        "items": "_data",
        "next": "_meta.links.next.href",
        "cursor": "cursor",
    }


def test_personio_says_what_it_left_out_in_the_draft_and_on_stderr(personio):
    draft, err = personio
    unmapped = draft["draft"]["unmapped"]
    assert {
        "operation": "PATCH /v2/persons/{person_id}/employments/{employment_id} body field "
        "org_units",
        "why": "it is a list of objects; a field holds one value",
    } in unmapped
    told = [line for line in err if line.startswith("not mapped: ")]
    assert told == [f"not mapped: {u['operation']}: {u['why']}" for u in unmapped]


def test_a_draft_with_every_endpoint_kept_loads_as_a_catalogue(personio):
    kept = copy.deepcopy(personio[0])
    for entry in kept["endpoints"]:
        entry["keep"] = True
    catalogue = Catalogue.from_data(kept)
    assert len(catalogue.endpoints) == len(kept["endpoints"])
    assert catalogue.validate("GET", "/v2/persons/1003", None).needs_approval is False
    body = {
        "person_id": "1003",
        "absence_type_id": "1",
        "starts_from_date_time": "2030-01-07T00:00:00Z",
        "ends_at_date_time": "2030-01-08T00:00:00Z",
    }
    assert catalogue.validate("POST", "/v2/absence-periods", body).needs_approval is True


def test_a_get_the_spec_says_has_side_effects_is_held(tmp_path, capsys):
    spec = document(
        {
            "/reports": {"get": {"responses": OK}},
            "/reports/{id}": {
                "get": {
                    "x-side-effects": True,
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": OK,
                }
            },
        },
        version="3.1.0",
    )
    draft, _ = imported(capsys, written(tmp_path, spec))
    assert endpoint(draft, "GET", "/reports")["approval"] is False
    held = endpoint(draft, "GET", "/reports/{id}")
    assert held["approval"] is True and held["params"] == {"id": "integer"}


def test_a_list_paged_by_number_gives_page_number_paging_and_its_people(tmp_path, capsys):
    user = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "full_name": {"type": "string"},
            "work_email": {"type": "string", "format": "email"},
            "job": {"type": "string"},
        },
    }
    page = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": user},
            "total_pages": {"type": "integer"},
        },
    }
    answer = {"200": {"description": "OK", "content": {"application/json": {"schema": page}}}}
    spec = document(
        {
            "/api/users": {
                "get": {
                    "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}}],
                    "responses": answer,
                }
            }
        }
    )
    draft, _ = imported(capsys, written(tmp_path, spec))
    assert draft["paging"] == {"items": "data", "pages": "total_pages", "page": "page"}
    assert draft["resources"]["user"] == {
        "noun": "user",
        "id": "id",
        "fields": {"name": ["full_name"], "email": ["work_email"], "job": ["job"]},
        "listed": ["name", "email", "job"],
        "people": True,
    }


def test_what_cannot_be_mapped_is_listed_in_the_draft_and_told_a_line_each(tmp_path, capsys):
    person = {
        "type": "object",
        "required": ["name", "manager"],
        "properties": {
            "name": {"type": "string", "maxLength": 80},
            "manager": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer"}, "links": {"type": "array"}},
            },
            "tags": {"type": "array", "items": {"type": "object"}},
            "contact": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    }
    spec = document(
        {
            "/people": {
                "head": {"responses": OK},
                "get": {
                    "parameters": [
                        {"name": "X-Tenant", "in": "header", "schema": {"type": "string"}},
                        {"name": "active", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "responses": OK,
                },
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": person}}},
                    "responses": OK,
                },
            },
            "/rooms/{floor}": {
                "get": {
                    "parameters": [
                        {
                            "name": "floor",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "number"},
                        }
                    ],
                    "responses": OK,
                }
            },
            "/uploads": {
                "post": {
                    "requestBody": {"content": {"multipart/form-data": {"schema": {}}}},
                    "responses": OK,
                }
            },
        }
    )
    draft, err = imported(capsys, written(tmp_path, spec))
    unmapped = draft["draft"]["unmapped"]
    assert [u["operation"] for u in unmapped] == [
        "HEAD /people",
        "GET /people header parameter X-Tenant",
        "GET /people query parameter active",
        "POST /people body field manager.links",
        "POST /people body field tags",
        "POST /people body field contact",
        "GET /rooms/{floor}",
        "POST /uploads request body",
    ]
    assert unmapped[0]["why"] == "the catalogue offers only GET, POST, PUT, PATCH and DELETE"
    assert "several shapes" in unmapped[5]["why"] and "not JSON" in unmapped[7]["why"]
    for entry in unmapped:
        assert f"not mapped: {entry['operation']}: {entry['why']}" in err
    assert {(e["method"], e["path"]) for e in draft["endpoints"]} == {
        ("GET", "/people"),
        ("POST", "/people"),
        ("POST", "/uploads"),
    }
    assert endpoint(draft, "POST", "/people")["body"] == {
        "name": {"type": "string", "required": True, "max_length": 80},
        "manager_id": {"type": "integer", "required": True, "at": "manager.id"},
    }
    assert "query" not in endpoint(draft, "GET", "/people")


def test_a_spec_that_is_not_json_exits_1_and_writes_nothing(tmp_path):
    source = tmp_path / "spec.json"
    source.write_text('{"openapi": "3.0.3", "info": ')
    out = tmp_path / "catalogue.json"
    done = run_import(str(source), "--out", str(out))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{source}: it is not valid JSON: Expecting value: line 1 column 30 (char 29)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.json"]


def test_each_problem_the_validator_finds_is_one_line_and_nothing_is_written(tmp_path, capsys):
    spec = document({"/people": {"get": {"summary": "no responses"}}})
    del spec["info"]["version"]
    source, out = written(tmp_path, spec), tmp_path / "catalogue.json"
    assert refused(capsys, source, "--out", str(out)) == [
        f"{source}: at $.info: 'version' is a required property",
        f"{source}: at $.paths['/people'].get: 'responses' is a required property",
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("swagger: '2.0'\ninfo: {title: Old, version: '1'}\npaths: {}\n", "it is Swagger 2.0"),
        ("title: a shopping list\n", "it is not OpenAPI 3.0 or 3.1"),
        ("openapi: 3.0.3\npaths: [unclosed\n", "it is neither JSON nor YAML"),
        ("just some words\n", "it is not an OpenAPI document: it holds no object"),
    ],
)
def test_a_document_that_is_not_openapi_is_refused_in_one_line(tmp_path, capsys, text, said):
    source = tmp_path / "spec.yaml"
    source.write_text(text)
    (line,) = refused(capsys, str(source))
    assert line.startswith(f"{source}: {said}")


def test_a_yaml_spec_is_read_like_a_json_one(tmp_path, capsys):
    source = tmp_path / "hr.yaml"
    source.write_text(
        "openapi: 3.1.0\n"
        "info: {title: Tiny HR, version: 2024-05-01}\n"
        "paths:\n"
        "  /employees/{employeeId}:\n"
        "    patch:\n"
        "      parameters:\n"
        "        - {name: employeeId, in: path, required: true, schema: {type: integer}}\n"
        "      requestBody:\n"
        "        content:\n"
        "          application/json:\n"
        "            schema: {$ref: '#/components/schemas/Change'}\n"
        "      responses:\n"
        "        200: {description: OK}\n"  # a key YAML reads as a number
        "components:\n"
        "  schemas:\n"
        "    Change:\n"
        "      type: object\n"
        "      properties:\n"
        "        title: {type: [string, 'null'], enum: [Engineer, Manager, null]}\n"
    )
    draft, _ = imported(capsys, str(source))
    assert draft["draft"]["version"] == "2024-05-01"
    change = endpoint(draft, "PATCH", "/employees/{employee_id}")
    assert change["resource"] == "employee" and change["params"] == {"employee_id": "integer"}
    assert change["body"] == {
        "title": {"type": "string", "required": False, "enum": ["Engineer", "Manager"]}
    }


@pytest.fixture
def served(tmp_path):
    """A loopback web server giving the files in tmp_path/site."""
    site = tmp_path / "site"
    site.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    with BackgroundServer(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield site, server.base_url


def test_a_spec_is_fetched_from_a_url(served, capsys):
    site, url = served
    (site / "openapi.json").write_bytes(PERSONIO.read_bytes())
    draft, _ = imported(capsys, f"{url}/openapi.json")
    assert draft["draft"]["source"] == f"{url}/openapi.json"
    assert endpoint(draft, "POST", "/v2/absence-periods")["approval"] is True
    (line,) = refused(capsys, f"{url}/missing.json")
    assert line == f"{url}/missing.json: 127.0.0.1 answered HTTP 404"


def test_an_unreachable_url_says_it_cannot_be_reached(capsys):
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/openapi.json"
    (line,) = refused(capsys, url)
    assert line.startswith(f"{url}: cannot reach 127.0.0.1:{port}: ")
    assert "refused" in line.lower()


def test_out_refuses_to_replace_a_file_unless_forced(tmp_path, capsys):
    out = tmp_path / "catalogue.json"
    out.write_text("the operator's reviewed catalogue\n")
    (line,) = refused(capsys, str(PERSONIO), "--out", str(out))
    assert line == f"{out} exists; give --force to replace it"
    assert out.read_text() == "the operator's reviewed catalogue\n"
    assert cli.main(["catalogue", "import", str(PERSONIO), "--out", str(out), "--force"]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["draft"]["source"] == str(PERSONIO)
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/v2/persons", ("person", "collection")),
        ("/v2/persons/{person_id}/employments/{employment_id}", ("employment", "item")),
        ("/v2/absence-periods/{id}/approve", ("absence_period", "action")),
        ("/v2/compensations/types", ("compensation_type", "collection")),
        ("/v2/persons/{person_id}/absences/balance", ("absence_balance", "collection")),
        ("/api/people/{id}", ("person", "item")),
        ("/hr/companies", ("company", "collection")),
    ],
)
def test_a_resource_is_named_by_the_collection_its_path_ends_in(path, resource):
    assert resource_of(path) == resource
