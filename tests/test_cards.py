from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import Block

from approvals import PendingAction
from approvals.slack import cards, preview
from approvals.tokens import TokenSigner
from bot.tools.catalogue import Catalogue
from sandbox.fake_slack import SlackError, check_blocks

SIGNER = TokenSigner(["k" * 40], max_age_seconds=86400)


def action(**overrides) -> PendingAction:
    values = dict(
        id=7,
        requester="U0DANA",
        channel="C0HR",
        thread_ts="1700000000.000100",
        method="POST",
        path="/api/users",
        body={"name": "Neo Anderson", "job": "engineer"},
        request_hash="ab" * 32,
        status="pending",
        approvals_required=1,
        created_at=1_700_000_000.0,
        expires_at=1_700_086_400.0,
        noun="employee",
    )
    values.update(overrides)
    return PendingAction(**values)


def card_for(a: PendingAction) -> list[dict]:
    return cards.render_card(
        a,
        approve_token=SIGNER.sign(a.id, "approve", a.request_hash),
        reject_token=SIGNER.sign(a.id, "reject", a.request_hash),
        conversation_link="https://hr-example.slack.com/archives/C0HR/p1700000000000100",
    )


def code_block(blocks: list[dict]) -> str:
    (text,) = [
        b["text"]["text"] for b in blocks if b.get("text", {}).get("text", "").startswith("```")
    ]
    return text


def assert_valid(blocks: list[dict]) -> None:
    """slack_sdk's block models raise on every limit Slack enforces; the fake adds the rest.
    Rich text is barely checked by either, so it must also survive a round trip unchanged (an
    unknown element or an empty text would not) and have no empty text runs."""
    assert len(blocks) <= 50
    for block in blocks:
        assert Block.parse(block).to_dict() == block
    check_blocks(blocks)
    for run in rich_text_runs(blocks):  # a link only to Slack itself (a card's permalink)
        link = run["type"] == "link" and run["url"].startswith("https://hr-example.slack.com/")
        assert (run["type"] in ("text", "emoji", "user") or link) and run.get("text", "x")


def rich_text_runs(blocks: list[dict]) -> list[dict]:
    return [
        run
        for block in blocks
        if block["type"] == "rich_text"
        for section in block["elements"]
        for run in section["elements"]
    ]


def shown(blocks: list[dict]) -> str:
    """What rich-text blocks show, with bold runs marked *so* and struck ones ~so~ (values are
    literal in rich text: an asterisk in a value is just an asterisk)."""
    marks = {"bold": "*", "strike": "~"}
    text = ""
    for run in rich_text_runs(blocks):
        part = run.get("text") or f":{run.get('name')}:"
        for style, mark in marks.items():
            if run.get("style", {}).get(style):
                part = f"{mark}{part}{mark}"
        text += part
    return text


def mrkdwn_texts(value) -> list[str]:
    """Every mrkdwn text object anywhere in `value` (sections, fields, confirm dialogs)."""
    if isinstance(value, list):
        return [text for item in value for text in mrkdwn_texts(item)]
    if not isinstance(value, dict):
        return []
    own = [value["text"]] if value.get("type") == "mrkdwn" else []
    return own + [text for item in value.values() for text in mrkdwn_texts(item)]


@pytest.mark.parametrize(
    ("a", "words"),
    [
        (action(), "Create employee Neo Anderson — job: engineer"),
        (
            action(method="PUT", path="/api/users/2", body={"job": "manager"}),
            "Update employee 2 — job: manager",
        ),
        (action(method="DELETE", path="/api/users/3", body=None), "Delete employee 3"),
    ],
)
def test_the_card_says_in_plain_words_what_will_happen(a, words):
    blocks = card_for(a)
    assert_valid(blocks)
    assert cards.summary(a) == words
    text = json.dumps(blocks)
    assert "<@U0DANA>" in text and "action #7" in text and "<!date^1700086400^" in text
    assert f"{a.method} {a.path}" in text


def test_buttons_carry_the_signed_values_and_approve_is_primary():
    actions_block = card_for(action())[-1]
    approve, reject = actions_block["elements"]
    assert (approve["action_id"], approve["style"]) == (cards.APPROVE_ACTION_ID, "primary")
    assert (reject["action_id"], reject["style"]) == (cards.REJECT_ACTION_ID, "danger")
    assert SIGNER.verify(approve["value"]).decision == "approve"
    assert SIGNER.verify(reject["value"]).decision == "reject"
    assert "confirm" not in approve


def test_approving_a_delete_asks_for_confirmation_first():
    approve = card_for(action(method="DELETE", path="/api/users/3", body=None))[-1]["elements"][0]
    assert approve["confirm"]["confirm"]["text"] == "Approve delete"


def test_a_huge_body_is_truncated_safely_within_slack_limits():
    body = {"name": "N" * 200, "job": "x" * 8000}
    blocks = card_for(action(body=body))
    assert_valid(blocks)
    code = code_block(blocks)
    assert len(code) <= preview.SECTION_LIMIT and "more characters" in code
    assert code.startswith("```") and code.endswith("```")
    assert len(cards.short_summary(action(body=body))) <= cards.SUMMARY_LIMIT
    assert len(cards.summary(action(body=body))) <= cards.SUMMARY_LIMIT
    assert "x" * 8000 not in shown(blocks) and "…" in shown(blocks)


def test_a_long_delete_summary_still_fits_the_confirm_dialog():
    long_path = "/api/users/" + "9" * 10
    a = action(method="DELETE", path=long_path, body={"name": "x" * 500})
    assert_valid(card_for(a))


def test_hostile_body_values_cannot_ping_link_or_break_out_of_the_code_block():
    body = {"name": "<!channel> <@U0CEO>", "job": "```<https://evil.example|x>```"}
    a = action(body=body)
    blocks = card_for(a)
    assert_valid(blocks)
    # Values reach Slack only as literal rich text or escaped in mrkdwn: no mention or link forms.
    assert "<!channel> <@U0CEO>" in shown(blocks)
    text = json.dumps([*mrkdwn_texts(blocks), cards.card_text(a), cards.reminder(a)])
    assert "<!channel>" not in text and "<@U0CEO>" not in text and "<https://evil" not in text
    assert code_block(blocks).count("```") == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            dict(
                status="succeeded",
                decided_by="U0BOB",
                decided_at=1.7e9,
                hr_status=201,
                hr_body={"id": 21},
            ),
            "Approved by <@U0BOB>",
        ),
        (
            dict(
                status="failed", decided_by="U0BOB", decided_at=1.7e9, hr_status=500, hr_body="oops"
            ),
            "failed: HR API answered 500",
        ),
        (
            dict(status="rejected", decided_by="U0BOB", decided_at=1.7e9, reason="not now"),
            "Rejected by <@U0BOB>",
        ),
        (dict(status="unknown", decided_by="U0BOB", decided_at=1.7e9), "outcome unknown"),
        (dict(status="expired"), "Expired, not run"),
    ],
)
def test_a_decided_card_shows_the_outcome_instead_of_buttons(changes, expected):
    blocks = cards.render_card(action(**changes))
    assert_valid(blocks)
    assert "actions" not in [b["type"] for b in blocks]
    assert expected in blocks[-1]["text"]["text"]


def test_the_fake_rejects_what_slack_rejects():
    too_many = [{"type": "divider"}] * 51
    long_button = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "a",
                    "text": {"type": "plain_text", "text": "x" * 76},
                }
            ],
        }
    ]
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    for blocks in (too_many, long_button, long_section, [{"type": "no_such_block"}]):
        with pytest.raises(SlackError, match="invalid_blocks"):
            check_blocks(blocks)


def test_escaping_cannot_push_the_summary_past_slack_limits():
    a = action(method="DELETE", path="/api/users/3", body={"name": "<" * 500})
    assert_valid(card_for(a))
    assert len(cards.card_text(a)) < 300


def test_a_post_card_shows_the_new_records_fields():
    text = shown(card_for(action()))
    assert "*New record*" in text and "*name*: Neo Anderson" in text and "*job*: engineer" in text


def test_an_update_card_shows_before_and_after_for_each_field():
    before = {
        "id": 2,
        "email": "janet.weaver@reqres.in",
        "first_name": "Janet",
        "last_name": "Weaver",
        "job": "payroll specialist",
    }
    update = action(
        method="PUT",
        path="/api/users/2",
        body={"job": "payroll lead", "name": "Janet Weaver"},
        before=before,
        fields_before=Catalogue.load().record.view(before),  # as the toolbox stores it
    )
    blocks = card_for(update)
    assert_valid(blocks)
    changes = shown(cards.preview(update)).splitlines()
    assert changes == [
        "*Changes*",
        "*job*: ~payroll specialist~ → payroll lead",
        "*name*: Janet Weaver (unchanged)",
    ]


def test_a_delete_card_shows_the_record_that_will_go():
    before = {
        "id": 9,
        "email": "tobias.funke@reqres.in",
        "first_name": "Tobias",
        "last_name": "Funke",
        "job": "analyst",
        "avatar": "https://x/y.png",
    }
    gone = action(method="DELETE", path="/api/users/9", body=None, before=before)
    blocks = card_for(gone)
    assert_valid(blocks)
    text = shown(cards.preview(gone))
    assert "*Record to delete*" in text and "Tobias" in text and "tobias.funke@reqres.in" in text
    assert "avatar" not in text


def test_hostile_record_values_in_a_preview_cannot_ping():
    before = {"first_name": "<!channel>", "last_name": "x", "job": "<@U0CEO>"}
    update = action(method="PATCH", path="/api/users/2", body={"job": "ok"}, before=before)
    gone = action(method="DELETE", path="/api/users/2", body=None, before=before)
    for a, expected in ((update, "*job*: ~<@U0CEO>~ → ok"), (gone, "*first_name*: <!channel>")):
        blocks = card_for(a)
        assert_valid(blocks)
        assert expected in shown(blocks)  # literal rich text: Slack pings nobody
        text = json.dumps(mrkdwn_texts(blocks))
        assert "<!channel>" not in text and "<@U0CEO>" not in text


def test_the_requesters_notice_says_whose_record_the_change_is_for():
    update = action(
        method="PATCH",
        path="/api/users/9",
        body={"job": "senior analyst"},
        fields_before={"id": 9, "name": "Tobias *Funke*", "email": "t@x.org", "job": "analyst"},
    )
    assert cards.requester_notice(update, None) == (
        "Sent for approval (#7): Update employee `Tobias *Funke*` (#9), `analyst` — "
        "job: `senior analyst`"
    )
    (notice,) = cards.requester_blocks(update, None, None)[0]["elements"]
    assert notice["elements"] == [  # rich text: the name shown as it is, never as mrkdwn
        {"type": "text", "text": "Sent for approval (#7): "},
        {
            "type": "text",
            "text": "Update employee Tobias *Funke* (#9), analyst — job: senior analyst",
            "style": {"bold": True},
        },
    ]
    unnamed = action(method="PATCH", path="/api/users/9", body={"job": "x"})
    assert cards.summary(unnamed) == "Update employee 9 — job: x"  # no name read: the id alone
