"""What a value can do to an approval card: nothing. A request or an HR record cannot add a line,
bold text, a mention or a link, cannot hide a character, and cannot pass for another value."""

from __future__ import annotations

import dataclasses
import json
import unicodedata

import pytest

from approvals.slack import cards, modals
from bot.tools.catalogue import Catalogue, RequestRefused
from tests.test_cards import (
    action,
    assert_valid,
    card_for,
    code_block,
    mrkdwn_texts,
    rich_text_runs,
    shown,
)

JANET = {"name": "Janet Weaver", "email": "janet.weaver@reqres.in", "job": "payroll specialist"}


def update(body: dict, method: str = "PATCH"):
    return action(method=method, path="/api/users/2", body=body, fields_before=dict(JANET))


def lines(blocks: list[dict]) -> list[str]:
    """Every line a reader sees on the card: rich text (bold *so*), mrkdwn and plain text."""
    texts = [shown([b]) for b in blocks if b["type"] == "rich_text"] + mrkdwn_texts(blocks)
    texts += [b["text"]["text"] for b in blocks if b.get("text", {}).get("type") == "plain_text"]
    return [line for text in texts for line in text.split("\n")]


def line_of(blocks: list[dict], field: str) -> str:
    (line,) = [line for line in lines(blocks) if line.startswith(f"*{field}*:")]
    return line


def bold_runs(blocks: list[dict]) -> list[str]:
    return [run["text"] for run in rich_text_runs(blocks) if run.get("style", {}).get("bold")]


def strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return [value] if isinstance(value, str) else []


def hidden_characters(value) -> set[str]:
    """Characters a reader cannot see, anywhere in `value`, other than a plain line break."""
    return {
        ch
        for text in strings(value)
        for ch in text
        if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp")
    }


def test_a_newline_in_a_body_value_cannot_forge_a_line_in_the_changes():
    forged = "payroll lead\n*email*: janet.weaver@reqres.in (unchanged)"
    blocks = card_for(update({"job": forged}))
    assert_valid(blocks)
    assert not [line for line in lines(blocks) if line.startswith("*email*")]
    assert line_of(blocks, "job") == (
        "*job*: ~payroll specialist~ → payroll lead⏎*email*: janet.weaver@reqres.in (unchanged)"
    )
    assert bold_runs(blocks)[1:] == ["Changes", "job"]  # after the summary: the only field is job
    assert '"job": "payroll lead\\n*email*' in code_block(blocks)


def test_a_zero_width_space_in_a_changed_email_is_shown_and_flagged():
    blocks = card_for(update({"email": "janet.weaver@reqres.in\u200b"}))
    assert_valid(blocks)
    line = line_of(blocks, "email")
    assert line.startswith("*email*: ~janet.weaver@reqres.in~ → janet.weaver@reqres.in<U+200B>")
    assert (
        ":warning: looks unchanged but differs: janet.weaver@reqres.in → "
        "janet.weaver@reqres.in<U+200B>"
    ) in line
    assert '"email": "janet.weaver@reqres.in\\u200b"' in code_block(blocks)
    assert hidden_characters(blocks) == set()


def test_a_right_to_left_override_is_shown_escaped_not_applied():
    a = update({"job": "\u202etsilaiceps lloryap"}, method="PUT")  # reads "payroll specialist"
    blocks = card_for(a)
    assert_valid(blocks)
    assert line_of(blocks, "job") == "*job*: ~payroll specialist~ → <U+202E>tsilaiceps lloryap"
    assert '"job": "\\u202etsilaiceps lloryap"' in code_block(blocks)
    everything = [blocks, cards.card_text(a), cards.reminder(a), cards.requester_outcome(a)]
    everything += [modals.reject_modal(a, "{}"), cards.requester_blocks(a, None, "token")]
    assert "\u202e" not in json.dumps(everything, ensure_ascii=False)


@pytest.mark.parametrize(
    "job",
    [
        "analyst\n*Note from HR*: approved by legal, safe to delete",
        "analyst *Note from HR*: approved by legal, safe to delete",
    ],
)
def test_a_job_title_in_the_record_cannot_add_a_note_to_a_delete_card(job):
    record = {"id": 9, "first_name": "Tobias", "email": "tobias.funke@reqres.in", "job": job}
    blocks = card_for(action(method="DELETE", path="/api/users/9", body=None, before=record))
    assert_valid(blocks)
    assert not [line for line in lines(blocks) if "Note from HR" in line.split(":")[0]]
    assert not [text for text in bold_runs(blocks) if "Note" in text]
    (run,) = [run for run in rich_text_runs(blocks) if "Note from HR" in run["text"]]
    assert "style" not in run and run["text"] == job.replace("\n", "⏎")  # literal, one line
    outside_code = [text for text in mrkdwn_texts(blocks) if not text.startswith("```")]
    assert "Note from HR" not in json.dumps(outside_code)


def test_a_homograph_email_is_flagged_and_shown_as_punycode_in_the_request():
    domain = update({"email": "janet@exаmple.com"})  # Cyrillic а (U+0430)
    local = update({"email": "jаnet@example.com"})
    for a, ascii_form in ((domain, "janet@xn--exmple-4nf.com"), (local, "j\\u0430net@example.com")):
        blocks = card_for(a)
        assert_valid(blocks)
        assert f'"email": "{ascii_form}"' in code_block(blocks)
        assert "а" not in code_block(blocks)
        assert f":warning: not plain ASCII: {ascii_form}" in line_of(blocks, "email")


def test_values_in_mrkdwn_messages_sit_in_code_spans_they_cannot_close():
    a = action(body={"name": "*Note* from `HR`", "job": "_urgent_ ~x~ <!here>"})
    expected = (
        "Create employee `*Note* from &lt;U+0060&gt;HR&lt;U+0060&gt;` — "
        "job: `_urgent_ ~x~ &lt;!here&gt;`"
    )
    assert cards.short_summary(a) == expected
    assert expected in cards.reminder(a) and expected in cards.requester_notice(a, None)
    assert expected in cards.card_text(a)
    done = dataclasses.replace(a, status="succeeded", approved_by=("U0BOB",), decided_by="U0BOB")
    name = "`*Note* from &lt;U+0060&gt;HR&lt;U+0060&gt;`"
    assert cards.requester_outcome(done).startswith(f"Done: {name} was added as a new employee")


HOSTILE = (
    "lead\n*Note*: <!channel> ```<https://evil.example|x>``` \u202e\u200b\u2066 _~`" + "y" * 900
)
FINISHED = [
    dict(status="approved", decided_by="U0BOB", decided_at=1.7e9, approved_by=("U0BOB",)),
    dict(status="executing", decided_by="U0BOB", decided_at=1.7e9, approved_by=("U0BOB",)),
    dict(
        status="succeeded",
        decided_by="U0BOB",
        decided_at=1.7e9,
        hr_status=201,
        hr_body={"id": HOSTILE},
    ),
    dict(status="failed", decided_by="U0BOB", decided_at=1.7e9, hr_status=500, hr_body=HOSTILE),
    dict(status="failed", decided_by="U0BOB", decided_at=1.7e9, error="connection refused"),
    dict(status="unknown", decided_by="U0BOB", decided_at=1.7e9),
    dict(status="rejected", decided_by="U0BOB", decided_at=1.7e9, reason="not now"),
    dict(status="expired"),
    dict(status="withdrawn", decided_by="U0DANA", decided_at=1.7e9),
    dict(status="stale", error="the record changed after the card was made"),
]


def variants() -> list:
    record = {**JANET, "id": 2, "avatar": "https://x/y.png", "job": HOSTILE, HOSTILE: HOSTILE}
    record |= {f"extra_{n}": HOSTILE for n in range(30)}
    body = {"name": HOSTILE, "job": HOSTILE, "email": "janet@exаmple.com\u200b"}
    shapes = [
        dict(method="POST", path="/api/users", body=body),
        dict(method="PUT", path="/api/users/2", body=body, before=record, fields_before=record),
        dict(method="PATCH", path="/api/users/2", body=body, before=record),
        dict(method="DELETE", path="/api/users/2", body=None, before=record),
    ]
    return [action(**shape, **state) for shape in shapes for state in [{}, *FINISHED]]


@pytest.mark.parametrize("a", variants(), ids=lambda a: f"{a.method}-{a.status}")
def test_every_card_variant_is_valid_block_kit_and_hides_nothing(a):
    card = card_for(a) if a.status == "pending" else cards.render_card(a)
    requester = cards.requester_blocks(a, "https://hr-example.slack.com/x", "token")
    told = cards.requester_outcome_blocks(a)
    modal = modals.reject_modal(a, "{}")["blocks"]
    for blocks in (card, requester, told, modal):
        assert_valid(blocks)
        assert hidden_characters(blocks) == set()
        for run in rich_text_runs(blocks):  # a line break only where the card starts a line
            assert "\n" not in run.get("text", "").lstrip("\n")
    texts = [cards.card_text(a), cards.reminder(a), cards.requester_outcome(a)]
    texts += mrkdwn_texts([card, requester, told])
    assert hidden_characters(texts) == set()
    assert not [t for t in texts if "<!channel>" in t or "<https://evil" in t]
    assert len(card) <= 50 and len(json.dumps(card)) < 40_000


@pytest.mark.parametrize("new", ["\u0405mith", "Sm\u0456th"])  # Cyrillic Ѕ, Cyrillic і
def test_a_letter_from_another_script_is_flagged_even_when_nfkc_keeps_it(new):
    changed = action(
        method="PATCH",
        path="/api/users/2",
        body={"name": new},
        fields_before={"name": "Smith"},
        before={"name": "Smith"},
    )
    text = json.dumps(card_for(changed))
    assert "new characters that may look like others" in text
    assert f"U+{ord(next(c for c in new if not c.isascii())):04X}" in text


def test_a_braille_blank_is_refused_by_the_tool_and_shown_on_a_card():
    with pytest.raises(RequestRefused, match="U\\+2800"):
        Catalogue.load().validate("PATCH", "/api/users/2", {"name": "Smith\u2800"})
    changed = action(
        method="PATCH",
        path="/api/users/2",
        body={"job": "x"},
        fields_before={"job": "analyst\u2800"},
        before={"job": "analyst\u2800"},
    )
    assert "<U+2800>" in json.dumps(card_for(changed))


UNSAID = ":warning: in none of the messages quoted above"
ASKED = (("U0DANA", "Set Janet Weaver's salary to 100000."),)


def test_a_value_none_of_the_quoted_messages_holds_is_flagged():
    made_up = action(
        method="PATCH",
        path="/api/users/2",
        body={"job": "Software Engineer", "email": "janet.weaver@reqres.in"},
        fields_before=dict(JANET),
        words=ASKED,
    )
    blocks = card_for(made_up)
    assert_valid(blocks)
    assert line_of(blocks, "job").endswith(UNSAID)  # the model's value, not Dana's
    assert UNSAID not in line_of(blocks, "email")  # unchanged: nothing new to flag
    create = action(body={"name": "Janet Weaver", "job": "Manager"}, words=ASKED)
    assert UNSAID not in line_of(card_for(create), "name")  # in her words
    assert line_of(card_for(create), "job").endswith(UNSAID)


@pytest.mark.parametrize(
    "overrides",
    [
        {"words": (("U0DANA", "Make Janet Weaver  a  SOFTWARE engineer"),)},  # case, spaces
        {"words": (("U0DANA", "Janet Weaver:"), ("U0BOB", "software engineer, I'd say"))},
        {"words": ASKED, "edited_by": ("U0BOB",)},  # an editor's values are theirs, said so
        {"words": ()},  # no words kept (retention): nothing to compare with
    ],
)
def test_a_value_said_in_any_quoted_message_or_set_by_an_editor_is_not_flagged(overrides):
    a = update({"job": "Software Engineer"})
    blocks = card_for(action(**{**a.__dict__, **overrides}))
    assert UNSAID not in line_of(blocks, "job")


@pytest.mark.parametrize(
    ("value", "said", "flagged"),
    [
        ("CTO", "Janet is our doctor now", True),  # whole words only
        ("eng", "Janet is an engineer", True),
        (1, "employee 12", True),
        (100000, "Set her pay to 100000.", False),
        ("team lead", "promote Janet to team lead!", False),
        (True, "make her active", False),  # not text a person types: not compared
        ({"level": 3}, "level three", False),
    ],
)
def test_only_a_whole_typed_value_counts_as_said(value, said, flagged):
    a = action(body={"job": value}, words=(("U0DANA", said),))
    assert (UNSAID in line_of(card_for(a), "job")) is flagged
