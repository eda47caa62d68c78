"""Approvers on the local workspace page, in Chromium: a request left waiting reaches the
escalation group by DM, and the employee a change is about is refused privately."""

from __future__ import annotations

import pytest

from tests.slack_harness import Stack
from tests.test_workspace_page import (
    be,
    card,
    open_channel,
    open_page,
    queue_job_change,
    shoot_page,
    thread,
    workspace_stack,
)

ESCALATION = {"ESCALATE_AFTER_SECONDS": "3600", "ESCALATION_GROUP": "S0ESCALATE"}


@pytest.fixture
def stack(tmp_path):
    s = workspace_stack(tmp_path, **ESCALATION)
    s.slack.user_groups["S0ESCALATE"] = ["U0GINA"]  # not an approver: the group makes her one
    yield s
    s.stop()


@pytest.fixture
def page(chromium, stack: Stack):
    yield from open_page(chromium, stack)


def test_a_request_left_waiting_reaches_the_escalation_group_by_dm_and_they_decide_it(stack, page):
    queue_job_change(stack, page)
    stack.clock.advance(3600)

    stack.housekeep()

    be(page, "U0GINA")
    open_channel(page, "HR Assistant")
    escalated = card(page)
    escalated.get_by_role("button", name="1 reply").click()
    thread(page).get_by_text("so it was escalated to your group").wait_for()
    page.set_viewport_size({"width": 1180, "height": 640})
    shoot_page(page, "escalated-card.png", left=page.locator("main"))
    escalated.get_by_role("button", name="Approve").click()
    escalated.get_by_text("Approved by @Gina").wait_for()
    assert stack.hr.directory.get(2)["job"] == "lead"
    assert [e.detail for e in stack.audit("escalated")] == [{"to": "S0ESCALATE"}]


def test_the_employee_a_change_is_about_is_refused_privately_and_another_approves(stack, page):
    stack.hr.directory.update(2, {"email": "bob@hr.example"})  # employee 2 is Bob
    queue_job_change(stack, page)
    be(page, "U0BOB")
    open_channel(page, "# approvals")

    card(page).get_by_role("button", name="Approve").click()

    refusal = page.locator(".ephemeral", has_text="Only visible to you")
    refusal.get_by_text("changes your own HR record").wait_for()
    page.set_viewport_size({"width": 1180, "height": 500})
    shoot_page(page, "own-record-refused.png", left=page.locator("main"))
    be(page, "U0CAROL")  # nobody else sees the refusal; Carol may approve
    card(page).get_by_role("button", name="Approve").click()
    card(page).get_by_text("Approved by @Carol").wait_for()
    assert page.locator(".ephemeral").count() == 0
    assert stack.hr.directory.get(2)["job"] == "lead"
