"""The local workspace page in a real browser (Chromium through Playwright): a person plays the
rep, the approvers and the refused, and the real bot answers through Slack's Web API and signed
Events API and interactivity requests."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.slack.status import LOADING_MESSAGES
from sandbox.scripted_model import ScriptedModel, rest, say, tool_calls
from tests.browser import ARTIFACTS
from tests.slack_harness import Stack
from tests.test_children import free_port

WAIT_MS = 15_000
ROOT = Path(__file__).resolve().parent.parent


def workspace_stack(tmp_path, **options) -> Stack:
    """The bot behind the local workspace page, with the page's people and channels (an
    option set to None is left unset)."""
    settings = {
        "REQUESTERS": "U0DANA",
        "APPROVERS": "U0BOB,U0CAROL",
        "ALLOWED_CHANNELS": "C0HR",
        "APPROVAL_CHANNEL": "C0APPROVALS",
        **options,
    }
    return Stack(tmp_path, workspace=True, **settings).start()


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    s = workspace_stack(tmp_path)
    yield s
    s.stop()


def open_page(chromium, stack: Stack, **options) -> Iterator:
    """The workspace page in a fresh browser context (a fixture's body: yields the tab)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, **options)
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.goto(stack.slack.base_url + "/")
    yield tab
    context.close()


@pytest.fixture
def page(chromium, stack):
    yield from open_page(chromium, stack)


def be(page, person: str) -> None:
    """Switch the page to `person`, and wait until it shows what they see."""
    page.get_by_label("You are").select_option(person)
    page.locator(f'body[data-me="{person}"]').wait_for(state="attached")


def open_channel(page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("button", name=name, exact=True).click()


def write(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")


def thread(page):
    return page.get_by_role("complementary", name="Thread")


CARD_TITLE = re.compile(r"Approval needed: action #\d+|Action #\d+: ")


def card(page):
    """The newest approval card, waiting or decided (its title says which)."""
    return page.locator("[data-testid=card]", has_text=CARD_TITLE).last


def shoot(locator, name: str) -> None:
    """A screenshot for the docs (README's and docs/approvals.md's pictures), cropped to what it
    shows: `make test` takes it again each time, so the docs show the page as it is."""
    ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / name), animations="disabled")


def shoot_page(page, name: str, *, left) -> None:
    """The same for the page from `left`'s left edge on (the sidebar left out)."""
    box = left.bounding_box()
    size = page.viewport_size
    clip = {"x": box["x"], "y": 0, "width": size["width"] - box["x"], "height": size["height"]}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), clip=clip, animations="disabled")


def queue_delete_by_name(stack: Stack, page) -> None:
    stack.model.add(
        tool_calls(("find_employee", json.dumps({"query": "Tobias Funke"}))),
        tool_calls(rest("DELETE", "/api/users/9")),
    )
    open_channel(page, "# hr")
    write(page, "@HR Assistant please delete Tobias Funke")
    thread(page).get_by_text("Sent for approval (#1)").wait_for()


def test_a_rep_asks_in_a_channel_and_reads_the_answer_in_the_thread(stack, page):
    stack.model.add(
        tool_calls(rest("GET", "/api/users/2")), say("Employee 2 is *Janet Weaver*, payroll.")
    )
    open_channel(page, "# hr")
    write(page, "@HR Assistant who is employee 2?")

    answer = thread(page).get_by_text("Employee 2 is Janet Weaver, payroll.")
    answer.wait_for()

    assert thread(page).locator("strong", has_text="Janet Weaver").count() == 1  # mrkdwn
    request = stack.model.requests[0]["messages"][-1]
    assert request["content"] == "who is employee 2?" and request["name"] == "U0DANA"


def test_delete_by_name_then_an_approver_approves_after_the_confirm_dialog(stack, page):
    queue_delete_by_name(stack, page)
    be(page, "U0BOB")
    open_channel(page, "# approvals")
    approval = card(page)
    approval.get_by_role("button", name="Show details").wait_for()
    assert "Tobias" not in approval.inner_text()  # a channel card: the record stays out

    approval.get_by_role("button", name="Approve").click()
    dialog = page.get_by_role("dialog", name="Delete for real?")
    dialog.get_by_role("button", name="Approve delete").click()

    approval.get_by_text("Approved by @Bob").wait_for()
    shoot(page.locator(".app"), "workspace.png")  # README's first picture
    assert approval.get_by_role("heading").inner_text() == "Action #1: done"
    assert approval.get_by_role("button", name="Approve").count() == 0
    assert stack.hr.directory.get(9) is None
    be(page, "U0DANA")
    open_channel(page, "# hr")
    page.get_by_role("button", name="2 replies").click()  # the notice, then the outcome
    done = "Done: deleted the employee record of Tobias Funke (#9), analyst."
    thread(page).get_by_text(done).wait_for()
    said = thread(page).locator("[data-testid=card]").all_inner_texts()
    assert [t for t in said if "Approved by" in t] == [t for t in said if done in t]  # once
    assert not [t for t in said if "HR API" in t or "Withdraw" in t]
    assert thread(page).locator("code").count() == 0  # names and values as plain text
    shoot(thread(page), "outcome-thread.png")


def test_cancelling_the_confirm_dialog_sends_nothing(stack, page):
    queue_delete_by_name(stack, page)
    be(page, "U0CAROL")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Approve").click()

    page.get_by_role("dialog", name="Delete for real?").get_by_role("button", name="Cancel").click()

    # A later click that must come after: once its modal is open, the page has sent all it will.
    card(page).get_by_role("button", name="Reject").click()
    page.get_by_role("dialog", name="Reject action #1").wait_for()
    assert [c["action_id"] for c in stack.slack.clicks] == ["approval_reject"]
    stack.drain()
    assert stack.hr.writes_seen() == []


def test_an_approver_rejects_with_a_reason_in_the_modal(stack, page):
    queue_delete_by_name(stack, page)
    be(page, "U0CAROL")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Reject").click()

    modal = page.get_by_role("dialog", name="Reject action #1")
    modal.get_by_label("Reason (shown to the requester)").fill("Tobias stays until March.")
    modal.get_by_role("button", name="Reject").click()

    card(page).get_by_text("Rejected by @Carol").wait_for()
    modal.wait_for(state="hidden")
    assert stack.hr.writes_seen() == []
    be(page, "U0DANA")  # the reason is for the requester (a channel card leaves it out)
    open_channel(page, "# hr")
    page.get_by_role("button", name="2 replies").click()  # the notice, then the outcome
    thread(page).get_by_text("Tobias stays until March.").first.wait_for()


@pytest.mark.parametrize(
    ("person", "why"), [("U0GUEST", "not available to guests"), ("U0GINA", "on its list")]
)
def test_someone_who_may_not_ask_is_refused_with_a_message_only_they_see(stack, page, person, why):
    be(page, person)
    open_channel(page, "# hr")
    write(page, "@HR Assistant who is employee 2?")

    refusal = page.locator(".ephemeral", has_text="Only visible to you")
    refusal.wait_for()
    assert why in refusal.inner_text()
    assert stack.model.requests == []
    be(page, "U0DANA")  # in the same channel, someone else sees the question, not the refusal
    page.get_by_text("who is employee 2?").first.wait_for()
    assert page.locator(".ephemeral").count() == 0


def test_a_guest_refused_in_their_dm_is_still_told_when_they_ask_in_a_channel(stack, page):
    be(page, "U0GUEST")
    open_channel(page, "HR Assistant")
    write(page, "who is employee 2?")
    page.locator("#messages, #thread-messages").get_by_text(
        "not available to guests"
    ).first.wait_for()

    open_channel(page, "# hr")  # a minute later, elsewhere: a refusal is never silent
    write(page, "@HR Assistant who is employee 2?")

    refusal = page.locator(".ephemeral", has_text="not available to guests")
    refusal.wait_for()
    assert "Only visible to you" in refusal.inner_text()
    assert stack.model.requests == []


# --- what issue 15 added: the requester's words, the thinking status, streaming, modals ----

LONG_ANSWER = """Here is how leave works at HR Example:

- **Annual leave**: 25 days a year, booked in the HR system.
- **Sick leave**: tell your manager the same day.
- **Parental leave**: see [section 4] of the handbook.

1. Ask your manager.
2. Book it in the HR system.
3. Wait for the confirmation.

Use `annual` as the leave type for holidays."""


def held(gate: threading.Event, text: str):
    """A model step that answers `text` once the test sets `gate`."""

    def step(body):
        assert gate.wait(WAIT_MS / 1000), "the test never let the model answer"
        return say(text)

    return step


def queue_job_change(stack: Stack, page, words: str = "make employee 2 a lead") -> None:
    """Dana asks on the page for employee 2's job to become "lead"; waits for the notice that
    answers her."""
    stack.model.add(tool_calls(rest("PATCH", "/api/users/2", {"job": "lead"})))
    open_channel(page, "# hr")
    write(page, f"@HR Assistant {words}")
    thread(page).get_by_text("Sent for approval (#1)").wait_for()


@pytest.fixture
def dm_cards(tmp_path) -> Iterator[Stack]:
    """No approval channel: each approver gets the full card by DM."""
    s = workspace_stack(tmp_path, APPROVAL_CHANNEL=None)
    yield s
    s.stop()


@pytest.fixture
def dm_page(chromium, dm_cards):
    yield from open_page(chromium, dm_cards)


def test_the_card_quotes_the_requesters_own_words(dm_cards, dm_page):
    page = dm_page
    words = "please make Janet (employee 2) our *lead* from <March>, not ~later~"
    queue_job_change(dm_cards, page, words)
    be(page, "U0BOB")
    open_channel(page, "HR Assistant")

    approval = card(page)
    quote = approval.locator("blockquote")

    assert quote.inner_text() == words  # verbatim: no mrkdwn, the <…> is text
    assert quote.locator("strong, s, a").count() == 0
    assert approval.get_by_text("@Dana asked:").count() == 1
    shoot(approval, "card-words.png")


def test_a_dm_shows_the_thinking_status_then_streams_a_long_answer_as_markdown(stack, page):
    first, second = threading.Event(), threading.Event()
    stack.model.add(held(first, LONG_ANSWER), held(second, "Tell your manager the same day."))
    open_channel(page, "HR Assistant")
    write(page, "how does leave work?")

    status = thread(page).get_by_test_id("status")
    status.wait_for()
    assert "HR Assistant is thinking…" in status.inner_text()
    assert any(m in status.inner_text() for m in LOADING_MESSAGES)
    first.set()

    answer = thread(page).locator("li.message:not(.streaming) .markdown")
    answer.get_by_text("as the leave type for holidays.").wait_for()
    assert answer.locator("strong").all_inner_texts() == [
        "Annual leave",
        "Sick leave",
        "Parental leave",
    ]
    assert answer.locator("li").count() == 6 and answer.locator("code").inner_text() == "annual"
    shown = answer.inner_text()
    assert "see [section 4] of the handbook" in shown and "**" not in shown and "\\" not in shown
    assert status.count() == 0
    assert stack.slack.calls_to("chat.startStream") and stack.slack.calls_to("chat.stopStream")

    # For the picture: a second question while the bot thinks, beside the streamed answer.
    write(page, "and sick leave?")
    page.locator("#messages").get_by_test_id("status").wait_for()
    page.get_by_role("button", name="1 reply").click()
    answer.get_by_text("as the leave type for holidays.").wait_for()
    page.set_viewport_size({"width": 1180, "height": 640})
    shoot_page(page, "thinking-and-streaming.png", left=page.locator("main"))
    second.set()
    page.get_by_role("button", name="1 reply").nth(1).wait_for()


def test_an_approver_edits_a_request_in_the_modal_and_another_approves_the_edit(stack, page):
    queue_job_change(stack, page)
    be(page, "U0BOB")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Edit").click()

    modal = page.get_by_role("dialog", name="Edit action #1")
    job = modal.get_by_role("textbox", name=re.compile(r"^job\b"))
    assert job.input_value() == "lead"
    job.fill("team lead")
    shoot(modal, "edit-modal.png")
    job.fill("lead")
    modal.get_by_role("button", name="Save").click()  # nothing changed: said in the modal
    modal.get_by_text("Nothing was changed").wait_for()
    job.fill("team lead")
    modal.get_by_role("button", name="Save").click()

    modal.wait_for(state="hidden")
    # Told to the requester once every card has the edited request's buttons.
    stack.slack.wait_for(
        lambda: any("edited action #1" in (m.text or "") for m in stack.slack.in_channel("C0HR"))
    )
    be(page, "U0CAROL")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Approve").click()
    card(page).get_by_text("Approved by @Carol").wait_for()
    assert stack.hr.directory.get(2)["job"] == "team lead"


def test_an_approver_hands_a_request_to_a_colleague_picked_in_the_modal(stack, page):
    queue_job_change(stack, page)
    be(page, "U0BOB")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Reassign").click()

    modal = page.get_by_role("dialog", name="Reassign action #1")
    colleague = modal.get_by_label("Colleague who should decide it")
    colleague.select_option(label="Carol")
    shoot(modal, "reassign-modal.png")
    colleague.select_option(label="Gina")
    modal.get_by_role("button", name="Send").click()
    modal.get_by_text("not an approver").wait_for()  # under the picker; nothing sent
    colleague.select_option(label="Carol")
    modal.get_by_role("button", name="Send").click()

    modal.wait_for(state="hidden")
    be(page, "U0CAROL")
    open_channel(page, "HR Assistant")
    assert card(page).get_by_role("button", name="Approve").count() == 1
    card(page).get_by_role("button", name="1 reply").click()  # the note, in the card's thread
    thread(page).get_by_text("@Bob handed action #1 to you to decide.").wait_for()
    assert [e.detail for e in stack.audit("reassigned")] == [{"from": "U0BOB", "to": "U0CAROL"}]


def test_a_channel_card_is_a_summary_and_only_an_approver_opens_the_details(stack, page):
    queue_job_change(stack, page, "make employee 2 (Janet) a lead")
    be(page, "U0GINA")  # in the channel, not an approver
    open_channel(page, "# approvals")
    summary = card(page)
    summary.get_by_text("asks to").wait_for()
    assert "Janet" not in summary.inner_text() and "lead" not in summary.inner_text()
    summary.get_by_role("button", name="Show details").click()
    page.locator(".ephemeral", has_text="Only approvers can see the details").wait_for()
    assert not page.get_by_role("dialog").is_visible()

    be(page, "U0BOB")
    shoot(summary, "channel-summary.png")
    summary.get_by_role("button", name="Show details").click()

    details = page.get_by_role("dialog", name="Action #1")
    details.get_by_text("@Dana asked:").wait_for()
    assert details.locator("blockquote").inner_text() == "make employee 2 (Janet) a lead"
    # Whose record, as people know her, beside the id: the approver can check #2 is Janet.
    details.get_by_text(
        "Update employee Janet Weaver (#2), payroll specialist — job: lead"
    ).wait_for()
    assert details.get_by_role("button").all_inner_texts() == ["Approve", "Reject", "Close"]
    shoot(details, "details-modal.png")
    details.get_by_role("button", name="Close").click()
    details.wait_for(state="hidden")
    assert [e.actor for e in stack.audit("details_viewed")] == ["U0BOB"]


def test_an_approver_decides_in_the_details_view_with_the_cards_checks(stack, page):
    queue_job_change(stack, page, "make employee 2 (Janet) a lead")
    open_channel(page, "# approvals")  # the requester is no approver: the details stay shut
    card(page).get_by_role("button", name="Show details").click()
    page.locator(".ephemeral", has_text="Only approvers can see the details").wait_for()

    be(page, "U0CAROL")
    card(page).get_by_role("button", name="Show details").click()
    details = page.get_by_role("dialog", name="Action #1")
    details.get_by_role("button", name="Approve").click()

    details.get_by_text("Approved by @Carol").wait_for()  # the view shows where it stands
    assert details.get_by_role("button").all_inner_texts() == ["Close"]
    assert stack.hr.directory.get(2)["job"] == "lead"
    card(page).get_by_text("Approved by @Carol").wait_for()
    assert [e.actor for e in stack.audit("approved")] == ["U0CAROL"]
    assert stack.slack.calls_to("views.update")  # the same view, shown anew


def test_a_reject_from_the_details_view_asks_for_the_reason_on_top_of_it(stack, page):
    queue_job_change(stack, page, "make employee 2 (Janet) a lead")
    be(page, "U0BOB")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Show details").click()
    page.get_by_role("dialog", name="Action #1").get_by_role("button", name="Reject").click()

    reason = page.get_by_role("dialog", name="Reject action #1")
    reason.get_by_text("Update employee Janet Weaver (#2), payroll specialist").wait_for()
    reason.get_by_label("Reason (shown to the requester)").fill("Not before her review.")
    reason.get_by_role("button", name="Reject").click()

    details = page.get_by_role("dialog", name="Action #1")  # back to the details, updated
    details.get_by_text("Rejected by @Bob").wait_for()
    assert details.get_by_role("button").all_inner_texts() == ["Close"]
    assert stack.hr.writes_seen() == []
    details.get_by_role("button", name="Close").click()
    be(page, "U0DANA")
    open_channel(page, "# hr")
    page.get_by_role("button", name="2 replies").click()
    thread(page).get_by_text(
        "Not done: rejected by @Bob. Reason: Not before her review."
    ).wait_for()


def test_a_reload_closes_a_modal_left_open_as_slack_does(stack, page):
    queue_job_change(stack, page)
    be(page, "U0BOB")
    open_channel(page, "# approvals")
    card(page).get_by_role("button", name="Show details").click()
    page.get_by_role("dialog", name="Action #1").wait_for()

    page.reload()

    card(page).get_by_role("button", name="Show details").wait_for()
    assert not page.get_by_role("dialog", name="Action #1").is_visible()
    write(page, "@HR Assistant hello")  # the page is not blocked: its composer answers
    page.get_by_text("hello").first.wait_for()


def test_what_people_and_the_bot_write_is_shown_as_text_never_as_html(stack, page):
    hostile = '<img src=x onerror="document.body.dataset.owned=1"> and <b>bold</b>'
    stack.model.add(say(f"You wrote: {hostile}"))
    open_channel(page, "HR Assistant")
    write(page, hostile)

    thread(page).get_by_text("You wrote:").wait_for()
    assert page.locator(".messages img, .messages b").count() == 0
    assert page.locator("body[data-owned]").count() == 0
    assert thread(page).get_by_text(hostile, exact=False).count() >= 1


def test_the_page_script_never_turns_text_into_html():
    script = "".join(p.read_text() for p in (ROOT / "sandbox" / "workspace_page").glob("*.js"))
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")
    assert [sink for sink in sinks if sink in script] == []


def test_the_docs_show_each_feature_with_the_screenshot_a_test_takes():
    shown = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        # Every picture, each followed by its one-line italic caption.
        pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)\n\n *\*[^*\n]+\*\n", text)
        assert len(pictures) == text.count("!["), page.name
        shown += [(page.parent / p).resolve().relative_to(ROOT).as_posix() for p in pictures]
    tests = (ROOT / "tests").glob("test_workspace_*.py")
    taken = re.findall(
        r'shoot(?:_page)?\([^\n]*"([\w-]+\.png)"', "".join(t.read_text() for t in tests)
    )
    assert sorted(shown) == sorted(f"test-artifacts/{name}" for name in set(taken))


# --- `make run` with nothing configured but a model ----------------------------------------


def free_pair() -> int:
    """A free port whose next one is free too: the page takes PORT, the bot PORT+1."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def start_bot(tmp_path, **env: str) -> tuple[subprocess.Popen, list[str]]:
    """`python -m bot` as `make run` starts it, in `tmp_path`, once it says it is ready."""
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**base, "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    said: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [said.put(line) for line in bot.stdout], daemon=True)
    reader.start()
    bot.reader = reader  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 30
        while not (lines and lines[-1].startswith("Ready: open")):
            try:
                lines.append(said.get(timeout=max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                raise AssertionError(f"not ready ({bot.poll()}): {''.join(lines)}") from None
    except BaseException:
        stop_bot(bot)
        raise
    return bot, lines


def stop_bot(bot: subprocess.Popen) -> int:
    bot.terminate()
    try:
        bot.wait(20)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
        bot.reader.join(10)  # type: ignore[attr-defined]
        bot.stdout.close()
    return bot.returncode


@pytest.fixture
def local_run(tmp_path) -> Iterator[dict]:
    """No Slack settings, nothing but a model: the sandbox HR API and the local workspace,
    with the sandbox's own port (8088) taken, as by a `make run` already open."""
    model = ScriptedModel().start()
    port = free_pair()
    held = socket.socket()
    with contextlib.suppress(OSError):  # taken by someone else already: taken either way
        held.bind(("127.0.0.1", 8088))
        held.listen()
    try:
        bot, lines = start_bot(
            tmp_path,
            OPENAI_BASE_URL=model.url,
            OPENAI_MODEL="scripted",
            OPENAI_MAX_RETRIES="0",
            PORT=str(port),
        )
        try:
            yield {"url": f"http://127.0.0.1:{port}/", "lines": lines, "model": model}
        finally:
            assert stop_bot(bot) == 0
    finally:
        held.close()
        model.stop()


def test_make_run_without_slack_serves_the_workspace_and_the_bot_answers(chromium, local_run):
    printed = "".join(local_run["lines"])
    assert f"Open {local_run['url']}" in printed and "Requester: Dana" in printed
    assert "Port 8088 is taken, so the sandbox HR API uses port " in printed
    local_run["model"].add(
        tool_calls(("get_employee", json.dumps({"employee": 2}))), say("Janet Weaver.")
    )  # `make run` offers the typed tools (TOOLS unset)
    tab = chromium.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.goto(local_run["url"])
    open_channel(tab, "HR Assistant")

    write(tab, "who is employee 2?")

    thread(tab).get_by_text("Janet Weaver.").wait_for()
    tool_result = local_run["model"].requests[-1]["messages"][-1]
    assert tool_result["role"] == "tool" and "Weaver" in tool_result["content"]  # from the HR API
    tab.close()


def eventually(check, timeout: float = 15.0):
    """check()'s first truthy value, polling until `timeout` (waits for something to happen)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_without_a_model_the_conversation_says_what_to_set(tmp_path):
    port = free_pair()
    bot, _ = start_bot(tmp_path, PORT=str(port))
    try:
        said = requests.post(
            f"http://127.0.0.1:{port}/workspace/say",
            json={"as": "U0DANA", "channel": "D0DANA", "text": "hello"},
            timeout=5,
        ).json()

        def answered():
            state = requests.get(f"http://127.0.0.1:{port}/workspace/state?as=U0DANA", timeout=5)
            return [m for m in state.json()["messages"] if m.get("thread_ts") == said["ts"]]

        answers = eventually(answered)
        assert "OPENAI_API_KEY" in answers[0]["text"] and "OPENAI_BASE_URL" in answers[0]["text"]
    finally:
        assert stop_bot(bot) == 0


def test_with_per_user_access_connect_opens_the_hr_sign_in_in_a_new_tab(chromium, tmp_path):
    stack = workspace_stack(tmp_path, oauth=True)
    context = chromium.new_context()
    try:
        stack.model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver."))
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        tab.goto(stack.slack.base_url + "/")
        open_channel(tab, "HR Assistant")
        write(tab, "who is employee 2?")
        connect = tab.get_by_role("button", name="Connect your HR account")

        with context.expect_page() as opened:
            connect.click()
        sign_in = opened.value
        sign_in.get_by_label("Email").fill("dana@hr.example")
        sign_in.get_by_label("Password").fill("sandbox")
        sign_in.get_by_role("button", name="Allow").click()
        sign_in.get_by_text("Your HR account is connected").wait_for()

        thread(tab).get_by_text("Janet Weaver.").wait_for()
        assert stack.hr.seen[-1].subject == "sub-dana"
    finally:
        context.close()
        stack.stop()
