from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from approvals import Card, PendingAction, TokenSigner
from approvals.slack.announce import Announcer
from approvals.slack.card_copies import CardCopies
from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID
from tests.fakes import held_delete

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


@dataclass(frozen=True)
class SlackAnswer:
    data: dict[str, Any]


class RecordingSlack:
    """Stands in for slack_sdk's WebClient: records each call as (method, kwargs) and answers the
    way Slack does. A (method, channel-or-user) pair in `failing` raises SlackApiError instead."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failing: set[tuple[str, str | None]] = set()
        self._messages = 0

    def _answer(self, method: str, kwargs: dict[str, Any], data: dict[str, Any]) -> SlackAnswer:
        self.calls.append((method, kwargs))
        if (method, kwargs.get("channel") or kwargs.get("users")) in self.failing:
            raise SlackApiError("boom", {"ok": False, "error": "channel_not_found"})
        return SlackAnswer({"ok": True, **data})

    def chat_postMessage(self, **kwargs) -> SlackAnswer:
        self._messages += 1
        ts = f"1800000000.{self._messages:06d}"
        return self._answer("chat_postMessage", kwargs, {"channel": kwargs["channel"], "ts": ts})

    def chat_update(self, **kwargs) -> SlackAnswer:
        return self._answer(
            "chat_update", kwargs, {"channel": kwargs["channel"], "ts": kwargs["ts"]}
        )

    def chat_getPermalink(self, **kwargs) -> SlackAnswer:
        link = f"https://x/{kwargs['channel']}/p{kwargs['message_ts'].replace('.', '')}"
        return self._answer("chat_getPermalink", kwargs, {"permalink": link})

    def conversations_open(self, **kwargs) -> SlackAnswer:
        user = kwargs["users"]
        return self._answer("conversations_open", kwargs, {"channel": {"id": "D" + user[1:]}})

    def chat_postEphemeral(self, **kwargs) -> SlackAnswer:
        return self._answer("chat_postEphemeral", kwargs, {"message_ts": "1800000000.999999"})

    def views_open(self, **kwargs) -> SlackAnswer:
        return self._answer("views_open", kwargs, {"view": {"id": "V0MODAL"}})

    def made(self, method: str) -> list[dict[str, Any]]:
        """The kwargs of every call of `method`, in order, including those that failed."""
        return [kwargs for name, kwargs in self.calls if name == method]


@pytest.fixture
def slack() -> RecordingSlack:
    return RecordingSlack()


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(["k" * 40], max_age_seconds=3600)


@pytest.fixture
def copies(database) -> CardCopies:
    return CardCopies(database)


@pytest.fixture
def outcomes() -> list[PendingAction]:
    return []


def make_announcer(
    slack, copies, signer, outcomes, approval_channel="C0APPROVALS", on_outcome=None
) -> Announcer:
    return Announcer(
        slack,
        copies,
        signer,
        approvers=lambda: ["U0BOB", "U0CAROL"],
        approval_channel=approval_channel,
        on_outcome=on_outcome or outcomes.append,
    )


@pytest.fixture
def announcer(slack, copies, signer, outcomes) -> Announcer:
    return make_announcer(slack, copies, signer, outcomes)


@pytest.fixture
def dm_announcer(slack, copies, signer, outcomes) -> Announcer:
    return make_announcer(slack, copies, signer, outcomes, approval_channel=None)


def new_action(actions, **overrides) -> PendingAction:
    return held_delete(actions, **overrides)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id → value of every button in the blocks."""
    return {
        element["action_id"]: element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_post_sends_one_card_to_the_approval_channel_and_a_notice_in_the_requester_thread(
    actions, announcer, slack, copies, signer
):
    action = new_action(actions)
    announcer.post(action)

    card, notice = slack.made("chat_postMessage")
    assert card["channel"] == "C0APPROVALS"
    assert "thread_ts" not in card
    assert f"action #{action.id}" in card["text"]
    values = buttons(card["blocks"])
    assert signer.verify(values[APPROVE_ACTION_ID]).decision == "approve"
    assert signer.verify(values[REJECT_ACTION_ID]).decision == "reject"
    assert signer.verify(values[APPROVE_ACTION_ID]).request_hash == action.request_hash

    assert (notice["channel"], notice["thread_ts"]) == ("C0HR", "1.1")
    assert signer.verify(buttons(notice["blocks"])[WITHDRAW_ACTION_ID]).decision == "withdraw"

    assert copies.of(action.id) == [
        Card(action.id, "C0APPROVALS", "1800000000.000001", "approver"),
        Card(action.id, "C0HR", "1800000000.000002", "requester"),
    ]


def test_the_card_links_to_the_conversation_and_the_notice_links_to_the_card(
    actions, announcer, slack
):
    action = new_action(actions)
    announcer.post(action)

    card, notice = slack.made("chat_postMessage")
    link = {"type": "link", "url": "https://x/C0HR/p11", "text": "conversation"}
    assert str(link) in str(card["blocks"])  # a channel's card: rich text
    assert "https://x/C0APPROVALS/p1800000000000001" in str(notice["blocks"])


def test_without_an_approval_channel_each_approver_gets_a_card_by_dm(
    actions, dm_announcer, slack, copies
):
    action = new_action(actions)
    dm_announcer.post(action)

    assert [call["users"] for call in slack.made("conversations_open")] == ["U0BOB", "U0CAROL"]
    assert [post["channel"] for post in slack.made("chat_postMessage")] == [
        "D0BOB",
        "D0CAROL",
        "C0HR",
    ]
    assert [(card.channel, card.kind) for card in copies.of(action.id)] == [
        ("D0BOB", "approver"),
        ("D0CAROL", "approver"),
        ("C0HR", "requester"),
    ]


def test_an_approver_whose_dm_cannot_be_opened_is_skipped_and_the_others_get_the_card(
    actions, dm_announcer, slack, copies
):
    slack.failing.add(("conversations_open", "U0BOB"))
    action = new_action(actions)
    dm_announcer.post(action)

    assert [(card.channel, card.kind) for card in copies.of(action.id)] == [
        ("D0CAROL", "approver"),
        ("C0HR", "requester"),
    ]


def test_an_approver_whose_dm_failed_gets_the_card_later_and_nobody_gets_it_twice(
    actions, dm_announcer, slack, copies
):
    slack.failing.add(("chat_postMessage", "D0BOB"))  # Bob's card does not go out
    action = new_action(actions)
    dm_announcer.post(action)
    assert dm_announcer.unposted(action)

    slack.failing.clear()
    dm_announcer.post(action)  # what the sweep does with an action missing a copy

    assert sorted(c.channel for c in copies.of(action.id) if c.kind == "approver") == [
        "D0BOB",
        "D0CAROL",
    ]
    assert not dm_announcer.unposted(action)
    assert len(slack.made("conversations_open")) == 2  # each DM opened once, then remembered


def test_an_action_without_a_thread_needs_no_notice_to_be_fully_posted(actions, announcer, copies):
    action = new_action(actions, channel=None, thread_ts=None)
    announcer.post(action)
    assert not announcer.unposted(action)


def test_an_action_without_a_thread_gets_no_requester_notice(actions, announcer, slack, copies):
    action = new_action(actions, channel=None, thread_ts=None)
    announcer.post(action)

    assert [post["channel"] for post in slack.made("chat_postMessage")] == ["C0APPROVALS"]
    assert copies.kinds(action.id) == {"approver"}


def test_posting_again_after_the_notice_failed_posts_only_the_notice(
    actions, announcer, slack, copies
):
    action = new_action(actions)
    slack.failing.add(("chat_postMessage", "C0HR"))
    announcer.post(action)
    assert copies.kinds(action.id) == {"approver"}

    slack.failing.clear()
    slack.calls.clear()
    announcer.post(action)

    (notice,) = slack.made("chat_postMessage")
    assert (notice["channel"], notice["thread_ts"]) == ("C0HR", "1.1")
    assert [card.kind for card in copies.of(action.id)] == ["approver", "requester"]


def test_posting_again_after_the_card_failed_posts_only_the_card(actions, announcer, slack, copies):
    action = new_action(actions)
    slack.failing.add(("chat_postMessage", "C0APPROVALS"))
    announcer.post(action)
    assert copies.kinds(action.id) == {"requester"}

    slack.failing.clear()
    slack.calls.clear()
    announcer.post(action)

    (card,) = slack.made("chat_postMessage")
    assert card["channel"] == "C0APPROVALS"
    assert sorted(card.kind for card in copies.of(action.id)) == ["approver", "requester"]


def test_posting_what_is_already_posted_sends_nothing(actions, dm_announcer, slack, copies):
    action = new_action(actions)
    dm_announcer.post(action)
    slack.calls.clear()

    dm_announcer.post(action)

    assert slack.calls == []
    assert len(copies.of(action.id)) == 3


def test_finish_notes_the_outcome_first_then_updates_every_copy_and_tells_the_requester(
    actions, dm_announcer, slack, copies, signer, outcomes
):
    action = new_action(actions)
    dm_announcer.post(action)
    slack.calls.clear()
    rejected = actions.reject(action.id, "U0BOB", "dup")

    calls_before_noting: list[int] = []

    def note(done: PendingAction) -> None:
        outcomes.append(done)
        calls_before_noting.append(len(slack.calls))

    noting = make_announcer(slack, copies, signer, outcomes, approval_channel=None, on_outcome=note)
    noting.finish(rejected)

    assert outcomes == [rejected]
    assert calls_before_noting == [0]  # noted before any card changes
    (told,) = slack.made("chat_postMessage")  # one outcome message, in plain words
    assert (told["channel"], told["thread_ts"]) == ("C0HR", "1.1")
    assert told["text"] == f"Not done: rejected by <@U0BOB>. Reason: `dup` (Action #{action.id})"
    said = told["blocks"][0]["elements"][0]["elements"]
    assert {"type": "user", "user_id": "U0BOB"} in said and {"type": "text", "text": "dup"} in said
    updates = slack.made("chat_update")
    assert [(u["channel"], u["ts"]) for u in updates] == [
        (card.channel, card.ts) for card in copies.of(action.id)
    ]
    for update in updates:
        assert buttons(update["blocks"]) == {}  # a decided card has no buttons left
    *approver_cards, notice = updates
    assert all("Rejected by <@U0BOB>" in str(u["blocks"]) for u in approver_cards)
    assert "rejected" not in str(notice["blocks"]).lower()  # said once, in the reply
    assert "Sent for approval" in str(notice["blocks"])


def test_the_outcome_is_told_once_and_in_the_notice_when_no_reply_can_be_posted(
    actions, dm_announcer, slack, copies
):
    action = new_action(actions)
    dm_announcer.post(action)
    slack.failing.add(("chat_postMessage", "C0HR"))
    rejected = actions.reject(action.id, "U0BOB", None)
    slack.calls.clear()

    dm_announcer.finish(rejected)

    notice = slack.made("chat_update")[-1]
    assert notice["channel"] == "C0HR" and "Not done: rejected" in str(notice["blocks"])
    slack.failing.clear()
    slack.calls.clear()
    dm_announcer.finish(rejected)
    dm_announcer.finish(rejected)  # a second finish (a retry, another replica) adds nothing

    (told,) = slack.made("chat_postMessage")
    assert told["text"].startswith("Not done: rejected by <@U0BOB>.")
    notice = slack.made("chat_update")[-1]
    assert "rejected" not in str(notice["blocks"]).lower()


def test_a_failing_update_of_one_copy_does_not_stop_the_others(
    actions, dm_announcer, slack, copies, outcomes
):
    action = new_action(actions)
    dm_announcer.post(action)
    slack.calls.clear()
    slack.failing.add(("chat_update", "D0BOB"))
    withdrawn = actions.withdraw(action.id, "U0DANA")

    dm_announcer.finish(withdrawn)

    assert [u["channel"] for u in slack.made("chat_update")] == ["D0BOB", "D0CAROL", "C0HR"]
    (told,) = slack.made("chat_postMessage")
    assert told["channel"] == "C0HR" and "withdrawn by <@U0DANA>" in told["text"]
    assert outcomes == [withdrawn]


def test_refresh_shows_the_vote_count_and_keeps_the_buttons_while_pending(
    actions, announcer, slack, signer
):
    action = new_action(actions, approvals_required=2)
    announcer.post(action)
    slack.calls.clear()

    announcer.refresh(actions.approve(action.id, "U0BOB"))

    card_update, notice_update = slack.made("chat_update")
    assert "1 of 2 approvals (<@U0BOB>)" in str(card_update["blocks"])
    assert signer.verify(buttons(card_update["blocks"])[APPROVE_ACTION_ID]).action_id == action.id
    assert WITHDRAW_ACTION_ID in buttons(notice_update["blocks"])
    assert slack.made("chat_postMessage") == []


def test_tell_approvers_replies_under_each_approver_copy_only(actions, dm_announcer, slack, copies):
    action = new_action(actions)
    dm_announcer.post(action)
    slack.calls.clear()

    dm_announcer.tell_approvers(action, "still waiting")

    approver_cards = [card for card in copies.of(action.id) if card.kind == "approver"]
    assert [
        (post["channel"], post["thread_ts"], post["text"])
        for post in slack.made("chat_postMessage")
    ] == [(card.channel, card.ts, "still waiting") for card in approver_cards]


def test_tell_is_ephemeral_where_the_click_was_and_a_dm_when_it_came_from_no_channel(
    announcer, slack
):
    announcer.tell("C0APPROVALS", "U0EVE", "You are not an approver.")
    announcer.tell(None, "U0EVE", "from App Home")  # a click on the Home tab has no channel

    assert slack.calls[0] == (
        "chat_postEphemeral",
        {"channel": "C0APPROVALS", "user": "U0EVE", "text": "You are not an approver."},
    )
    assert slack.calls[1][0] == "conversations_open" and slack.calls[1][1]["users"] == "U0EVE"
    assert slack.calls[2] == ("chat_postMessage", {"channel": "D0EVE", "text": "from App Home"})


def test_a_failing_ephemeral_message_is_not_raised(announcer, slack):
    slack.failing.add(("chat_postEphemeral", "C0GONE"))
    announcer.tell("C0GONE", "U0EVE", "hello")
    assert len(slack.made("chat_postEphemeral")) == 1


def test_the_reject_modal_says_whether_it_opened(actions, announcer, slack):
    action = new_action(actions)

    assert announcer.open_reject_modal(action, "trig-1", "token", "C0APPROVALS") is True
    (opened,) = slack.made("views_open")
    assert opened["trigger_id"] == "trig-1"
    assert '"token": "token"' in opened["view"]["private_metadata"]

    slack.failing.add(("views_open", None))
    assert announcer.open_reject_modal(action, "trig-2", "token", "C0APPROVALS") is False
