"""The card quotes, verbatim, the messages that led to the action: approvers judge what people
asked for, never the model's account of it."""

from __future__ import annotations

import itertools
import json

from approvals.slack import cards
from approvals.slack.cards import APPROVE_ACTION_ID
from sandbox.fake_slack import check_blocks
from sandbox.scripted_model import rest, say, tool_calls
from tests.slack_harness import HR_CHANNEL, mention_event
from tests.test_cards import action as make_action
from tests.test_edit import card_after_edit
from tests.test_slack_e2e import queue_a_create

ASKED = "Bob moved teams.\nMake him a *lead* <@U0ALICE> <!channel> <https://evil.example|here>"
PARAPHRASE = "The requester urgently wants Bob promoted; the CEO already agreed."


def quotes(blocks: list[dict]) -> list[tuple[str, str]]:
    """(speaker, quoted text) pairs from a card's rich-text quotes."""
    found = []
    for block in blocks:
        elements = block.get("elements") or [] if block["type"] == "rich_text" else []
        for heading, quote in itertools.pairwise(elements):
            if quote["type"] == "rich_text_quote":
                who = heading["elements"][0].get("user_id") or heading["elements"][0]["text"]
                found.append((who, "".join(e["text"] for e in quote["elements"])))
    return found


def test_the_card_quotes_the_requesters_own_messages_not_the_models_paraphrase(stack):
    stack.model.add(say("Which Bob? Give me the employee number."))
    first = mention_event("U0DANA", ASKED)
    stack.send_event(first)
    stack.replies(HR_CHANNEL, first["ts"])
    stack.model.add(tool_calls(rest("PATCH", "/api/users/3", {"job": "lead"})))
    stack.send_event(mention_event("U0DANA", "number 3", thread_ts=first["ts"]))

    (card,) = stack.approval_cards()
    full = stack.details("U0BOB", card)

    assert quotes(full) == [("U0DANA", ASKED), ("U0DANA", "number 3")]
    assert quotes(card.blocks) == []  # the channel's card quotes nobody
    shown = json.dumps(full)
    assert PARAPHRASE not in shown and "Which Bob?" not in shown
    # Verbatim and inert: the quote is rich text, where Slack forms no mention, link or bold.
    assert "<@U0ALICE>" in quotes(full)[0][1]
    assert all(b["type"] != "section" or "<!channel>" not in json.dumps(b) for b in full)
    # The words stay in the record once it is decided.
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.slack.wait_for(lambda: stack.hr.writes_seen())
    final = stack.slack.wait_for(
        lambda: (m := stack.slack.messages[(card.channel, card.ts)]).history and m
    )
    assert quotes(stack.details("U0CAROL", final))[1] == ("U0DANA", "number 3")


def ask_again(stack, event: dict, text: str) -> list:
    """Dana asks for another employee in the same thread; returns the new card's full quotes."""
    stack.model.add(
        tool_calls(rest("POST", "/api/users", {"name": "Trinity Moss", "job": "engineer"}))
    )
    stack.send_event(mention_event("U0DANA", text, thread_ts=event["ts"]))
    second = stack.approval_cards(2)[-1]
    return quotes(stack.details("U0CAROL", second))


def test_a_later_card_never_quotes_the_bots_note_of_an_edit_as_the_editors_words(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()
    stack.edit("U0BOB", card, {"job": "architect"})
    card_after_edit(stack, card)

    quoted = ask_again(stack, event, "and Trinity Moss as a pilot")

    assert quoted == [
        ("U0DANA", "add Neo Anderson as an engineer"),
        ("U0DANA", "and Trinity Moss as a pilot"),
    ]
    assert "U0BOB" in stack.app.actions.get(2).contributors  # his edit still shaped it


def test_a_reject_reason_is_quoted_on_a_later_card_exactly_as_the_approver_typed_it(stack):
    event = queue_a_create(stack)
    (card,) = stack.approval_cards()
    stack.reject_with_reason("U0BOB", card, "we have a Neo already")
    stack.replies(HR_CHANNEL, event["ts"], count=2)

    quoted = ask_again(stack, event, "then add Trinity Moss instead")

    assert quoted == [
        ("U0DANA", "add Neo Anderson as an engineer"),
        ("U0BOB", "we have a Neo already"),
        ("U0DANA", "then add Trinity Moss instead"),
    ]


def test_hidden_characters_in_the_words_are_shown_and_long_messages_are_clipped():
    action = make_action(
        words=(("U0DANA", "pay Bob\u202e00001\u200b"), ("U0CAROL", "x" * 2000)),
        requester="U0DANA",
    )

    blocks = cards.quoted(action)

    check_blocks(blocks)
    (first, second) = quotes(blocks)
    assert first == ("U0DANA", "pay Bob<U+202E>00001<U+200B>")
    assert second[0] == "U0CAROL" and second[1].endswith("… (1100 more characters)")
    assert "said" in json.dumps(blocks) and "asked" in json.dumps(blocks)


def test_a_card_without_kept_words_has_no_quote():
    assert cards.quoted(make_action()) == []
    assert quotes(cards.render_card(make_action())) == []
