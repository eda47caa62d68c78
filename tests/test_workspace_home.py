"""The bot's App Home on the local workspace page, in Chromium: opening it sends app_home_opened,
the page shows the view the bot published and follows it as the bot republishes, and its
buttons and checkboxes reach the bot as signed block_actions from a view."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from approvals.slack.cards import APPROVE_ACTION_ID, WITHDRAW_ACTION_ID
from approvals.slack.home_blocks import BATCH_APPROVE_ID, BATCH_SELECT_ID
from bot.hr.link_messages import CONNECT_ACTION_ID
from sandbox.scripted_model import rest, tool_calls
from sandbox.workspace import dm_of
from tests.slack_harness import HR_CHANNEL, PEOPLE_NAMES, Stack
from tests.test_workspace_page import be, open_page, shoot, workspace_stack


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    s = workspace_stack(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def page(chromium, stack):
    yield from open_page(chromium, stack)


def ask_for_jobs(stack: Stack, *changes: tuple[int, str]) -> None:
    """Dana asks in #hr, as the page sends it, for employee → job changes, one at a time;
    waits for each answer and card."""
    for count, (employee, job) in enumerate(changes, start=1):
        stack.model.add(tool_calls(rest("PATCH", f"/api/users/{employee}", {"job": job})))
        text = f"@HR Assistant make employee {employee} a {job}"
        said = stack.slack.say({"as": "U0DANA", "channel": HR_CHANNEL, "text": text})
        stack.replies(HR_CHANNEL, said["ts"])  # the held change's notice is the answer
        stack.approval_cards(count)


def open_home(page):
    page.get_by_role("navigation").get_by_role("button", name="Home", exact=True).click()
    return page.get_by_test_id("home")


def test_an_approver_ticks_two_requests_on_home_and_approves_both_at_once(stack, page):
    ask_for_jobs(stack, (4, "designer"), (2, "lead"), (3, "analyst"))
    stack.clock.advance(20 * 60)
    stack.click("U0CAROL", stack.approval_cards(3)[0], APPROVE_ACTION_ID)  # #1, 20 min later
    stack.slack.wait_for(lambda: stack.hr.writes_seen())
    be(page, "U0BOB")

    home = open_home(page)

    home.get_by_role("heading", name="Waiting for you").wait_for()
    boxes = home.get_by_role("checkbox")
    assert boxes.count() == 2
    home.get_by_role(
        "checkbox", name=re.compile(r"^#2 Update employee Janet Weaver \(#2\)")
    ).check()
    home.get_by_role("checkbox", name=re.compile(r"^#3 Update employee Emma Wong \(#3\)")).check()
    home.get_by_text("Time to decision: median 20.0 min").wait_for()  # from Carol's decision
    shoot(home, "home-approver.png")
    home.get_by_role("button", name="Approve selected").click()

    home.get_by_text("Your batch approval:").wait_for()
    home.get_by_text("Nothing is waiting for your approval.").wait_for()
    assert [w.path for w in stack.hr.writes_seen()] == [
        "/api/users/4",
        "/api/users/2",
        "/api/users/3",
    ]
    assert stack.hr.directory.get(3)["job"] == "analyst"
    # Each tick and the button went to the bot as Slack sends them from a view (signed, or
    # the bot would have answered 401 and the page would say so).
    assert [c["action_id"] for c in stack.slack.clicks] == [
        BATCH_SELECT_ID,
        BATCH_SELECT_ID,
        BATCH_APPROVE_ID,
    ]
    assert stack.slack.notices == []


def connect(stack: Stack, user: str) -> None:
    """`user` says "connect" in their DM with the bot, follows the single-use link it shows
    them alone, and signs in to the HR system as themselves."""
    stack.slack.say({"as": user, "channel": dm_of(user), "text": "connect"})

    def link() -> str | None:
        shown = [e.get("blocks") or [] for e in stack.slack.ephemeral if e["user"] == user]
        shown += [m.blocks or [] for m in stack.slack.in_channel(dm_of(user))]
        urls = [
            element["url"]
            for blocks in shown
            for block in blocks
            for element in block.get("elements") or []
            if element.get("action_id") == CONNECT_ACTION_ID
        ]
        return urls[-1] if urls else None

    email = f"{PEOPLE_NAMES[user]}@hr.example"
    assert stack.sign_in_and_return(stack.slack.wait_for(link), email).status_code == 200


def test_after_a_batch_the_home_tab_lists_each_result_the_hr_link_and_the_figures(
    chromium, tmp_path
):
    stack = workspace_stack(tmp_path, oauth=True)
    try:
        connect(stack, "U0DANA")
        connect(stack, "U0BOB")
        ask_for_jobs(stack, (2, "lead"), (3, "analyst"))
        stack.clock.advance(15 * 60)
        page = next(tab := open_page(chromium, stack))
        be(page, "U0BOB")
        home = open_home(page)
        home.get_by_role("checkbox", name=re.compile(r"^#1 ")).check()
        home.get_by_role("checkbox", name=re.compile(r"^#2 ")).check()

        home.get_by_role("button", name="Approve selected").click()

        home.get_by_text("Your batch approval:").wait_for()
        home.get_by_text("Nothing is waiting for your approval.").wait_for()
        home.get_by_text("You: 2 approvals, 0 rejections, median time to act 15.0 min").wait_for()
        shown = home.inner_text()
        assert len(re.findall(r"• #[12] .*Approved by @Bob", shown)) == 2, shown
        assert "Your HR account is connected." in shown
        shoot(home, "home-batch-results.png")
        assert [s.subject for s in stack.hr.seen if s.method == "PATCH"] == ["sub-dana"] * 2
        tab.close()
    finally:
        stack.stop()


def test_the_home_tab_follows_the_view_the_bot_republishes(stack, page):
    be(page, "U0CAROL")
    home = open_home(page)
    home.get_by_text("Nothing is waiting for your approval.").wait_for()

    ask_for_jobs(stack, (4, "designer"))  # no click on Carol's page: the bot republishes it

    home.get_by_text(re.compile(r"#1.*Update employee Eve Holt \(#4\)")).first.wait_for()
    assert home.get_by_role("button", name="Approve", exact=True).count() == 1


def test_a_requester_withdraws_a_request_from_their_home_tab(stack, page):
    ask_for_jobs(stack, (2, "lead"))

    home = open_home(page)  # Dana, the page's first person

    home.get_by_role("heading", name="Your requests").wait_for()
    assert home.get_by_role("heading", name="Waiting for you").count() == 0
    withdraw = home.get_by_role("button", name="Withdraw")
    shoot(home, "home-requester.png")
    withdraw.click()

    home.get_by_text("Last outcomes").wait_for()
    assert home.get_by_role("button", name="Withdraw").count() == 0
    assert [c["action_id"] for c in stack.slack.clicks] == [WITHDRAW_ACTION_ID]
    assert stack.audit("withdrawn") and stack.hr.writes_seen() == []


def test_the_page_can_press_and_tick_only_what_the_published_home_shows(stack):
    ask_for_jobs(stack, (2, "lead"))
    stack.open_home("U0BOB")
    pressed = {"as": "U0BOB", "home": True, "action_id": BATCH_APPROVE_ID}
    batch = {**pressed, "block_id": "home-batch", "value": "batch"}

    answers = [
        requests.post(stack.slack.base_url + "/workspace/click", json=body, timeout=5)
        for body in (
            {**batch, "ticked": {"home-batch": {BATCH_SELECT_ID: ["a value not offered"]}}},
            {**pressed, "action_id": APPROVE_ACTION_ID, "block_id": "home-1", "value": "forged"},
            {**batch, "as": "U0GINA"},  # Gina has no Home tab published
        )
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert stack.slack.clicks == []
