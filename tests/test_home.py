"""App Home over signed requests: each person's page (what waits for them as an approver, their
requests, their HR link, how approvals go), published on opening and kept up to date; Approve,
Reject, Withdraw and a batch approval from the page, checked exactly like on cards."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID
from approvals.slack.home_blocks import BATCH_APPROVE_ID, BATCH_CONFIRM_ID
from approvals.slack.modals import REASON_BLOCK_ID, REASON_INPUT_ID
from bot.hr.link_messages import CONNECT_FROM_HOME_ID, DISCONNECT_ACTION_ID
from sandbox.scripted_model import rest, tool_calls
from tests.slack_harness import HR_CHANNEL, Stack, mention_event
from tests.test_policy import ask_for


def ask_for_jobs(stack: Stack, *changes: tuple[int, str], user: str = "U0DANA") -> None:
    """`user` asks, one thread each, for employee → job changes; waits for every card."""
    for count, (employee, job) in enumerate(changes, start=1):
        stack.model.add(tool_calls(rest("PATCH", f"/api/users/{employee}", {"job": job})))
        event = mention_event(user, f"make employee {employee} a {job}")
        stack.send_event(event)
        stack.replies(HR_CHANNEL, event["ts"])
        stack.answered(event)
        stack.approval_cards(count)


def text_of(home: dict) -> str:
    """The view's blocks as JSON, then its rich text as read (a mention as <@U…>)."""
    runs = [
        f"<@{run['user_id']}>" if run["type"] == "user" else run.get("text", "")
        for block in home["blocks"]
        if block["type"] == "rich_text"
        for section in block["elements"]
        for run in [*section["elements"], {"type": "text", "text": "\n"}]
    ]
    return json.dumps(home["blocks"], ensure_ascii=False) + "\n" + "".join(runs)


def headers(home: dict) -> list[str]:
    return [b["text"]["text"] for b in home["blocks"] if b["type"] == "header"]


def buttons(home: dict, action_id: str) -> list[str]:
    found = []
    for block in home["blocks"]:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                found.append(element["value"])
    return found


def test_an_approver_sees_what_waits_for_them_with_buttons_and_how_approvals_go(stack):
    ask_for_jobs(stack, (2, "lead"), (3, "analyst"))

    home = stack.open_home("U0BOB")

    assert headers(home) == ["Waiting for you", "Your requests", "How approvals are going"]
    shown = text_of(home)
    assert "#1 Update employee Janet Weaver (#2), payroll specialist — job: lead" in shown
    assert "#2 Update employee Emma Wong (#3), software engineer — job: analyst" in shown
    assert "Asked by <@U0DANA>" in shown and "left (expires <!date^" in shown
    assert len(buttons(home, APPROVE_ACTION_ID)) == 2 and len(buttons(home, REJECT_ACTION_ID)) == 2
    batch = [b for b in home["blocks"] if b.get("block_id") == "home-batch"]
    assert [o["value"] for o in batch[0]["elements"][0]["options"]] == buttons(
        home, APPROVE_ACTION_ID
    )
    assert "*2* requests in the last 30 days (pending 2)" in shown
    # The fake checked the view as Slack would; the bot called views.publish for Bob alone.
    assert [c.args["user_id"] for c in stack.slack.calls_to("views.publish")] == ["U0BOB"]


def test_a_request_about_the_approvers_own_record_is_not_waiting_for_them(stack):
    stack.hr.directory.update(2, {"email": "bob@hr.example"})  # employee 2 is Bob
    ask_for_jobs(stack, (2, "lead"), (3, "analyst"))

    bob = stack.open_home("U0BOB")

    assert "(#2)" not in text_of(bob) and "#2 Update employee Emma Wong (#3)" in text_of(bob)
    batch = [b for b in bob["blocks"] if b.get("block_id") == "home-batch"]
    assert [o["value"] for o in batch[0]["elements"][0]["options"]] == buttons(
        bob, APPROVE_ACTION_ID
    )
    assert len(buttons(bob, APPROVE_ACTION_ID)) == 1
    carol = stack.open_home("U0CAROL")  # anyone else decides it
    assert len(buttons(carol, APPROVE_ACTION_ID)) == 2


def test_a_requester_sees_their_requests_with_withdraw_and_nothing_to_approve(stack):
    ask_for_jobs(stack, (2, "lead"))

    home = stack.open_home("U0DANA")

    assert headers(home) == ["Your requests"]
    assert "#1 Update employee Janet Weaver (#2)" in text_of(home)
    assert len(buttons(home, WITHDRAW_ACTION_ID)) == 1 and not buttons(home, APPROVE_ACTION_ID)
    assert stack.home_click("U0DANA", WITHDRAW_ACTION_ID).status_code == 200
    withdrawn = stack.slack.wait_for(
        lambda: "withdrawn by <@U0DANA>" in text_of(h := stack.slack.homes["U0DANA"]) and h
    )
    assert not buttons(withdrawn, WITHDRAW_ACTION_ID)
    assert "Last outcomes" in text_of(withdrawn)


def test_approving_in_place_runs_once_and_refreshes_both_pages(stack):
    ask_for_jobs(stack, (2, "lead"))
    stack.open_home("U0DANA")
    stack.open_home("U0BOB")

    assert stack.home_click("U0BOB", APPROVE_ACTION_ID).status_code == 200

    stack.slack.wait_for(lambda: stack.hr.writes_seen())
    bob = stack.slack.wait_for(
        lambda: "Nothing is waiting" in text_of(h := stack.slack.homes["U0BOB"]) and h
    )
    assert not buttons(bob, APPROVE_ACTION_ID)
    dana = stack.slack.wait_for(
        lambda: "Approved by <@U0BOB>" in text_of(h := stack.slack.homes["U0DANA"]) and h
    )
    assert not buttons(dana, WITHDRAW_ACTION_ID)
    assert len(stack.hr.writes_seen()) == 1
    assert stack.hr.directory.get(2)["job"] == "lead"


def test_rejecting_in_place_asks_for_a_reason_then_refreshes_the_cards_and_both_pages(stack):
    ask_for_jobs(stack, (2, "lead"))
    (card,) = stack.approval_cards()
    stack.open_home("U0DANA")
    stack.open_home("U0BOB")

    assert stack.home_click("U0BOB", REJECT_ACTION_ID).status_code == 200

    modal = stack.slack.wait_for(lambda: stack.slack.views and stack.slack.views[-1])
    assert modal["title"]["text"] == "Reject action #1"
    assert stack.app.actions.get(1).status == "pending"  # nothing decided before the reason
    reason = {REASON_BLOCK_ID: {REASON_INPUT_ID: "not before the review"}}
    assert stack.submit("U0BOB", modal, reason).status_code == 200

    bob = stack.slack.wait_for(
        lambda: "Nothing is waiting" in text_of(h := stack.slack.homes["U0BOB"]) and h
    )
    assert not buttons(bob, REJECT_ACTION_ID)
    dana = stack.slack.wait_for(
        lambda: "rejected by <@U0BOB>" in text_of(h := stack.slack.homes["U0DANA"]) and h
    )
    assert "not before the review" in text_of(dana) and not buttons(dana, WITHDRAW_ACTION_ID)
    shown = stack.slack.wait_for(
        lambda: (
            "Rejected by" in (b := json.dumps(stack.slack.messages[(card.channel, card.ts)].blocks))
            and b
        )
    )
    assert APPROVE_ACTION_ID not in shown and REJECT_ACTION_ID not in shown  # the card updated
    action = stack.app.actions.get(1)
    assert (action.status, action.decided_by, action.reason) == (
        "rejected",
        "U0BOB",
        "not before the review",
    )
    assert stack.hr.writes_seen() == []


def test_a_batch_approval_runs_each_on_its_own_and_reports_the_stale_one(stack):
    ask_for_jobs(stack, (2, "lead"), (3, "analyst"), (4, "designer"))
    on_screen = stack.open_home("U0BOB")
    ticked = buttons(on_screen, APPROVE_ACTION_ID)
    cards = stack.approval_cards(3)
    stack.reject_with_reason("U0CAROL", cards[1], None)  # #2 is decided meanwhile
    stack.slack.wait_for(lambda: any(e.event == "rejected" for e in stack.audit()))

    # Bob presses the button on the page as he ticked it, before it was refreshed.
    response = stack.home_click("U0BOB", BATCH_APPROVE_ID, tick=ticked, view=on_screen)
    assert response.status_code == 200

    home = stack.slack.wait_for(
        lambda: "Your batch approval" in text_of(h := stack.slack.homes["U0BOB"]) and h
    )
    report = home["blocks"][0]["text"]["text"]
    lines = report.splitlines()[1:]
    assert len(lines) == 3
    assert "#1" in lines[0] and "Approved by <@U0BOB>" in lines[0]
    assert lines[1] == "• Action #2 was already rejected by <@U0CAROL>."
    assert "#3" in lines[2] and "Approved by <@U0BOB>" in lines[2]
    assert sorted(r.path for r in stack.hr.writes_seen()) == ["/api/users/2", "/api/users/4"]
    assert [e.action_id for e in stack.audit("executed")] == [1, 3]
    # The same list reaches Bob alone, in his DM with the bot.
    dm = stack.slack.wait_for(
        lambda: [m for m in stack.slack.in_channel("D0BOB") if "batch approval" in (m.text or "")]
    )
    assert "already rejected" in dm[0].text


def test_a_batch_checks_each_click_like_a_card_does(stack):
    # Alice asked for #1, so her approval of it is refused; #2 (Dana's) runs.
    ask_for_jobs(stack, (2, "lead"), user="U0ALICE")
    ask_for_jobs(stack, (3, "analyst"))
    stack.open_home("U0BOB")  # Alice's page does not offer her own request:
    home = stack.open_home("U0ALICE")
    assert (
        "*#1*" not in json.dumps(home["blocks"][0:4]) and len(buttons(home, APPROVE_ACTION_ID)) == 1
    )
    forged = stack.slack.homes["U0BOB"]  # Bob's view, values and all, clicked by Alice
    stack.slack.homes["U0ALICE"] = forged

    assert stack.home_click("U0ALICE", BATCH_APPROVE_ID, tick=buttons(forged, APPROVE_ACTION_ID))

    home = stack.slack.wait_for(
        lambda: "Your batch approval" in text_of(h := stack.slack.homes["U0ALICE"]) and h
    )
    lines = home["blocks"][0]["text"]["text"].splitlines()[1:]
    assert lines[0] == "• You asked for action #1, so another approver must approve it."
    assert "Approved by <@U0ALICE>" in lines[1]
    assert [r.path for r in stack.hr.writes_seen()] == ["/api/users/3"]


def test_an_empty_batch_approves_nothing(stack):
    ask_for_jobs(stack, (2, "lead"))
    stack.open_home("U0BOB")

    stack.home_click("U0BOB", BATCH_APPROVE_ID)

    home = stack.slack.wait_for(
        lambda: "Your batch approval" in text_of(h := stack.slack.homes["U0BOB"]) and h
    )
    assert "Nothing was ticked" in text_of(home)
    assert stack.hr.writes_seen() == [] and stack.audit("approved") == []


@pytest.mark.parametrize("user", ["U0GUEST", "U0OUTSIDER"])
def test_a_guest_or_outsider_sees_no_hr_data_even_when_listed_as_an_approver(tmp_path, user):
    stack = Stack(tmp_path, APPROVERS=f"U0BOB,{user}").start()
    try:
        ask_for_jobs(stack, (2, "lead"))

        home = stack.open_home(user)

        assert "employee" not in text_of(home) and not buttons(home, APPROVE_ACTION_ID)
        assert "members of this workspace" in text_of(home)
    finally:
        stack.stop()


def test_the_hr_link_status_is_on_the_page_and_follows_connect_and_disconnect(tmp_path):
    stack = Stack(tmp_path, oauth=True).start()
    try:
        home = stack.open_home("U0DANA")
        assert "*not connected*" in text_of(home)
        stack.home_click("U0DANA", CONNECT_FROM_HOME_ID)
        assert stack.connect("U0DANA").status_code == 200  # the Connect link came by DM
        home = stack.slack.wait_for(
            lambda: "*connected*" in text_of(h := stack.slack.homes["U0DANA"]) and h
        )
        assert buttons(home, DISCONNECT_ACTION_ID)
        stack.home_click("U0DANA", DISCONNECT_ACTION_ID)
        stack.slack.wait_for(lambda: "*not connected*" in text_of(stack.slack.homes["U0DANA"]))
    finally:
        stack.stop()


def test_one_item_failing_does_not_stop_the_rest_of_a_batch(actions):
    from approvals.slack.clicks import Click, approve_each
    from approvals.tokens import TokenSigner
    from tests.test_store import new_action

    signer = TokenSigner(["k" * 40], 3600)
    made = [new_action(actions, path=f"/api/users/{n}", method="DELETE", body=None) for n in (2, 3)]
    handled = []

    class Handler:  # a handler whose Slack update breaks on the first item
        store, signer = actions, None

        def handle(self, click: Click) -> None:
            handled.append(click.value)
            if len(handled) == 1:
                raise ConnectionError("Slack went away")

    handler = Handler()
    handler.signer = signer
    clicks = [
        Click("U0BOB", "T0TEAM", APPROVE_ACTION_ID, signer.sign(a.id, "approve", a.request_hash))
        for a in made
    ]

    with capture_logs() as logs:
        lines = approve_each(handler, clicks)

    assert len(handled) == 2 and len(lines) == 2
    assert [e["event"] for e in logs] == ["batch.item_failed"]
    assert lines[0].startswith("#1 ") and lines[0].endswith("(its cards may not show it yet)")


def test_someone_taken_off_the_approver_list_loses_the_pending_requests_on_their_page(tmp_path):
    stack = Stack(tmp_path).start()
    try:
        ask_for_jobs(stack, (2, "lead"))
        assert buttons(stack.open_home("U0CAROL"), APPROVE_ACTION_ID)
        stack.env["APPROVERS"] = "U0BOB,U0ALICE"  # Carol leaves the approvers
        stack.restart()

        stack.open_home("U0BOB")
        stack.home_click("U0BOB", APPROVE_ACTION_ID)  # something changes

        home = stack.slack.wait_for(
            lambda: "Waiting for you" not in text_of(h := stack.slack.homes["U0CAROL"]) and h
        )
        assert "employee 2" not in text_of(home) and not buttons(home, APPROVE_ACTION_ID)
    finally:
        stack.stop()


def batch_with_a_delete(stack: Stack) -> dict:
    """#1 changes a job, #2 deletes Tobias Funke; Bob ticks both and presses the batch button.
    Returns the modal it opened."""
    ask_for_jobs(stack, (3, "analyst"))
    ask_for(stack, "DELETE", "/api/users/9")
    stack.approval_cards(2)
    home = stack.open_home("U0BOB")
    stack.home_click("U0BOB", BATCH_APPROVE_ID, tick=buttons(home, APPROVE_ACTION_ID))
    return stack.slack.wait_for(lambda: stack.slack.views and stack.slack.views[-1])


def test_a_batch_with_a_delete_names_each_delete_and_runs_only_once_confirmed(stack):
    modal = batch_with_a_delete(stack)

    assert modal["callback_id"] == BATCH_CONFIRM_ID
    assert modal["submit"]["text"] == "Approve all 2"
    words = text_of(modal)
    assert "*#2* Delete employee `Tobias Funke` (#9), `analyst`" in words
    assert "#1" not in words  # only the deletes are named
    assert stack.audit("approved") == []

    stack.submit("U0BOB", modal, {})

    stack.slack.wait_for(lambda: len(stack.audit("executed")) == 2)
    assert sorted((r.method, r.path) for r in stack.hr.writes_seen()) == [
        ("DELETE", "/api/users/9"),
        ("PATCH", "/api/users/3"),
    ]


def test_a_batch_with_a_delete_left_unconfirmed_approves_nothing(stack):
    batch_with_a_delete(stack)  # Bob closes the modal: Slack sends the bot nothing

    stack.drain()

    assert stack.audit("approved") == [] and stack.hr.writes_seen() == []


def published_to(stack: Stack, user: str) -> int:
    return sum(1 for c in stack.slack.calls_to("views.publish") if c.args.get("user_id") == user)


def test_a_change_republishes_only_the_pages_of_the_people_it_concerns(stack):
    for user in ("U0BOB", "U0DANA", "U0EVE", "U0GINA"):  # Eve and Gina: not concerned
        stack.open_home(user)
    ask_for_jobs(stack, (3, "analyst"))  # Dana asks; Bob, Carol and Alice approve

    stack.slack.wait_for(lambda: published_to(stack, "U0BOB") >= 2)
    stack.slack.wait_for(lambda: published_to(stack, "U0DANA") >= 2)
    stack.drain()  # every refresh handed over has run

    assert published_to(stack, "U0EVE") == 1 and published_to(stack, "U0GINA") == 1
    assert published_to(stack, "U0CAROL") == 0  # an approver who never opened the tab
