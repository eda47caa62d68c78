"""The Personio preset catalogue on the HRIS sandbox: several kinds of record, paged by cursor,
bodies nested as the HR API takes them, and the rules of a change (it goes to a person people
named; the person it is about cannot approve it) on records other than the people's own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from approvals import Thread
from approvals.records import about
from bot.hr.client import HRClient
from bot.tools.catalogue import Catalogue, NestedBodies
from bot.tools.context import ToolContext
from bot.tools.toolbox import Toolbox
from sandbox import HRISSandbox
from sandbox.hris.seed import seed_id

PRESET = Catalogue.load("bot/tools/presets/personio.json")


@pytest.fixture
def hris() -> Iterator[HRISSandbox]:
    with HRISSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def preset(hris, actions) -> Iterator[Toolbox]:
    client = HRClient(hris.url, token="hris-sandbox-key")
    yield Toolbox(PRESET, client, actions, approval_ttl_seconds=3600, family="typed")
    client.close()


def said(*words: str) -> ToolContext:
    return ToolContext(
        requester="U0ALICE",
        thread=Thread("C0HR", "1.1"),
        words=tuple(("U0ALICE", w) for w in words),
    )


def run(toolbox: Toolbox, name: str, arguments: dict, context: ToolContext):
    return toolbox.call(name, json.dumps(arguments), context, "call_1")


def test_the_whole_directory_is_read_by_cursor_and_searched(preset, hris):
    listed = json.loads(run(preset, "list_employees", {}, said("list everyone")).content)
    assert len(listed["rows"]) == 15  # two pages of the sandbox's ten
    assert listed["columns"] == ["id", "name", "email"]
    found = json.loads(run(preset, "find_employee", {"query": "Lindqvist"}, said("Bob?")).content)
    assert [m["id"] for m in found["matches"]] == [1003]
    assert found["complete"] is True
    pages = [r for r in hris.seen if r.path.startswith("/v2/persons")]
    assert any("cursor=" in r.path for r in pages)


def test_reads_across_resources_name_the_person_as_people_do(preset):
    balance = run(preset, "get_time_off_balance", {"employee": "Bob Lindqvist"}, said("Bob"))
    assert '"balance":23.0' in balance.content.replace(" ", "")
    jobs = run(
        preset, "list_employments", {"employee": "dana.whitfield@northwind.example"}, said("x")
    )
    assert "Site Reliability Engineer" in jobs.content
    pending = run(
        preset, "list_time_off_requests", {"approval.status": "PENDING"}, said("pending time off")
    )
    assert pending.content.count("PENDING") == 4  # Janet, Bob, Dana and Carol's


def test_a_change_to_an_employment_is_held_with_whose_it_is_and_sent_nested(preset, hris, actions):
    words = said("Bob Lindqvist is now a Staff Engineer, please update his job title")
    held = run(
        preset,
        "update_employment",
        {"employee": "Bob Lindqvist", "employment_id": 5003, "job": "Staff Engineer"},
        words,
    ).held
    assert held is not None and hris.writes_seen() == []
    assert (held.method, held.path, held.body) == (
        "PATCH",
        "/v2/persons/1003/employments/5003",
        {"job": "Staff Engineer"},
    )
    assert held.noun == "employment"
    assert held.fields_before["job"] == "Backend Engineer"
    assert held.fields_before["name"] == "Bob Lindqvist"
    assert about(held, "bob.lindqvist@northwind.example")  # Bob cannot approve his own
    client = HRClient(hris.url, token="hris-sandbox-key")
    response = NestedBodies(client, PRESET).request(held.method, held.path, body=held.body)
    assert response.status == 204
    assert json.loads(hris.writes_seen()[-1].body) == {"position": {"title": "Staff Engineer"}}


def test_a_change_about_someone_nobody_named_is_not_held(preset, hris):
    # The model picks Dana's employment while the words are about Bob.
    words = said("Bob Lindqvist is now a Staff Engineer")
    result = run(
        preset,
        "update_employment",
        {"employee": 1005, "employment_id": 5005, "job": "Staff Engineer"},
        words,
    )
    assert result.held is None and "Dana Whitfield" in (result.answer or "")


def test_time_off_is_requested_for_the_person_named_with_the_body_nested(preset, actions):
    vacation = seed_id("absence-type", "paid_vacation")
    words = said("Please book Nadia Karim's vacation: 2026-07-06 to 2026-07-10")
    held = run(
        preset,
        "create_time_off_request",
        {
            "employee": "Nadia Karim",
            "absence_type_id": vacation,
            "starts": "2026-07-06T00:00:00",
            "ends": "2026-07-10T23:59:59",
        },
        words,
    ).held
    assert held is not None and held.body["employee"] == "1015"
    assert PRESET.endpoint("POST", held.path).sent(held.body)["person"] == {"id": "1015"}
    assert about(held, "nadia.karim@northwind.example")


def test_approving_time_off_is_held_on_the_request_and_about_its_employee(preset, hris):
    period = {"id": seed_id("absence-period", "bob-april")}
    words = said("Approve Bob Lindqvist's vacation request please")
    result = run(preset, "approve_time_off", {"id": period["id"]}, words)
    held = result.held
    assert held is not None, result.content
    assert held.path == f"/v2/absence-periods/{period['id']}/approve"
    assert held.fields_before["status"] == "PENDING", held.fields_before
    assert about(held, "bob.lindqvist@northwind.example")
    assert hris.writes_seen() == []
    # Not named: the same request, asked about someone else.
    other = run(preset, "approve_time_off", {"id": period["id"]}, said("Approve Dana Whitfield's"))
    assert other.held is None and "Bob Lindqvist" in (other.answer or "")


def test_the_hr_systems_own_decision_says_so_on_its_card(preset):
    from approvals.slack.cards import HR_DECISION, render_card, summary

    period = seed_id("absence-period", "bob-april")
    held = run(
        preset, "approve_time_off", {"id": period}, said("Approve Bob Lindqvist's leave")
    ).held
    assert held is not None and held.verb == "Approve" and held.hr_decision
    assert summary(held).startswith("Approve time-off request")
    card = json.dumps(render_card(held, approve_token="a", reject_token="r"))
    assert HR_DECISION in card
    created = run(
        preset,
        "create_time_off_request",
        {
            "employee": "Nadia Karim",
            "absence_type_id": seed_id("absence-type", "paid_vacation"),
            "starts": "2026-07-06T00:00:00",
            "ends": "2026-07-10T23:59:59",
        },
        said("Book Nadia Karim's vacation 2026-07-06 to 2026-07-10"),
    ).held
    assert created is not None and not created.hr_decision
    assert HR_DECISION not in json.dumps(render_card(created, approve_token="a", reject_token="r"))
    assert summary(created).startswith("Create time-off request")


def test_a_change_held_for_the_manager_carries_the_manager_the_hr_data_names(preset):
    period = seed_id("absence-period", "bob-april")
    held = run(
        preset, "approve_time_off", {"id": period}, said("Approve Bob Lindqvist's leave")
    ).held
    assert held.manager == {
        "id": 1002,
        "name": "Janet Weaver",
        "email": "janet.weaver@northwind.example",
        "of": 1003,
    }
    assert preset.manager_now(held) == held.manager  # read again when she decides
    vacation = seed_id("absence-type", "paid_vacation")
    ceo = run(
        preset,
        "create_time_off_request",
        {
            "employee": "Margaret Okoye",
            "absence_type_id": vacation,
            "starts": "2026-08-03T00:00:00",
            "ends": "2026-08-07T23:59:59",
        },
        said("Book Margaret Okoye's vacation, 2026-08-03 to 2026-08-07"),
    ).held
    assert ceo is not None and ceo.manager is None  # nobody manages her: the approvers decide
    name_change = run(
        preset,
        "update_employee",
        {"employee": "Bob Lindqvist", "last_name": "Lind"},
        said("Bob Lindqvist's surname is now Lind"),
    ).held
    assert name_change is not None and name_change.manager is None  # not the manager's to decide
