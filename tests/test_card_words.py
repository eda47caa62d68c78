"""The card quotes, verbatim, the messages that led to the action: approvers judge what people
asked for, never the model's account of it."""

from __future__ import annotations

import itertools
import json

from approvals import cards
from approvals.cards import APPROVE_ACTION_ID
from sandbox.fake_slack import check_blocks
from sandbox.scripted_model import rest, say, tool_calls
from tests.slack_harness import HR_CHANNEL, mention_event
from tests.test_cards import action as make_action

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
    stack.model.add(
        tool_calls(rest("PATCH", "/api/users/3", {"job": "lead"})),
        say(PARAPHRASE),
    )
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
