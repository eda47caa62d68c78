"""What the requester and the approvers read about a change: the record named as people know it,
and one sentence for how it ended, with names and values shown literally (approvals.slack.words)."""

from __future__ import annotations

import dataclasses

import pytest

from approvals.slack import cards, channel_cards, modals, words
from tests.test_cards import action

JANET = {
    "id": 2,
    "name": "Janet Weaver",
    "email": "janet.weaver@reqres.in",
    "job": "payroll specialist",
}


def janet(**changes):
    base = action(
        method="PATCH",
        path="/api/users/2",
        body={"job": "Head of People"},
        fields_before=JANET,
        before={"id": 2, "first_name": "Janet"},
    )
    return dataclasses.replace(base, **changes)


def test_the_record_is_named_as_people_know_it_beside_its_id():
    assert words.label(janet()) == "Janet Weaver (#2), payroll specialist"
    assert cards.summary(janet()) == (
        "Update employee Janet Weaver (#2), payroll specialist — job: Head of People"
    )
    delete = janet(method="DELETE", body=None)
    assert cards.summary(delete) == "Delete employee Janet Weaver (#2), payroll specialist"
    # A create is named by the name it gives; its number once the HR system gave one.
    create = action(body={"name": "Neo Anderson", "job": "engineer"})
    assert words.label(create) == "Neo Anderson, engineer"
    made = dataclasses.replace(create, status="succeeded", hr_body={"id": 21})
    assert words.label(made) == "Neo Anderson (#21), engineer"
    # No name read (an API without one): the id alone, as before.
    assert words.label(janet(fields_before=None)) is None
    assert cards.summary(janet(fields_before=None)) == "Update employee 2 — job: Head of People"


def test_the_reject_dialog_the_edit_modal_and_the_card_all_name_her():
    a = janet()
    for blocks in (
        cards.render_card(a, approve_token="a", reject_token="r"),
        modals.reject_modal(a, "{}")["blocks"],
        modals.edit_modal(a, [modals.EditableField("job")], "{}")["blocks"],
        channel_cards.details_modal(a, approve_token="a", reject_token="r")["blocks"],
    ):
        assert "Janet Weaver (#2), payroll specialist" in str(blocks)


def test_a_channel_card_still_names_no_one():
    shown = str(channel_cards.summary_card(janet(), approve_token="a", reject_token="r"))
    assert "Janet" not in shown and "payroll" not in shown and "Head of People" not in shown


APPROVED = dict(decided_by="U0BOB", decided_at=1.7e9, approved_by=("U0BOB",))


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        (
            dict(status="succeeded", hr_status=200, **APPROVED),
            "Done: Janet Weaver's job is now Head of People. Approved by @U0BOB.",
        ),
        (
            dict(
                status="succeeded",
                body={"job": "Head of People", "email": "j@x.org"},
                decided_by="U0CAROL",
                approved_by=("U0BOB", "U0CAROL"),
            ),
            "Done: Janet Weaver's job is now Head of People and email is now j@x.org. "
            "Approved by @U0BOB and @U0CAROL.",
        ),
        (
            dict(status="succeeded", method="DELETE", body=None, **APPROVED),
            "Done: deleted the employee record of Janet Weaver (#2), payroll specialist. "
            "Approved by @U0BOB.",
        ),
        (
            dict(status="failed", hr_status=422, **APPROVED),
            "Not done: the HR system refused the change. Approved by @U0BOB.",
        ),
        (
            dict(status="failed", hr_status=503, **APPROVED),
            "Not done: the HR system reported an error and did not confirm the change. "
            "Approved by @U0BOB.",
        ),
        (
            dict(status="failed", error="ConnectionError: http://hr.internal:8443/x", **APPROVED),
            "Not done: the change could not be sent to the HR system; the approvers' card says "
            "why. Approved by @U0BOB.",
        ),
        (
            dict(
                status="failed",
                error="not sent: <@U0DANA>'s HR account is no longer connected. No other HR "
                "credential is ever used instead.",
                **APPROVED,
            ),
            "Not done: @U0DANA's HR account is no longer connected. No other HR credential is "
            "ever used instead. Approved by @U0BOB.",
        ),
        (
            dict(status="unknown", **APPROVED),
            "Outcome unknown: the HR system may or may not have made the change. Check Janet "
            "Weaver's record there; it will not be tried again. Approved by @U0BOB.",
        ),
        (
            dict(status="rejected", decided_by="U0BOB", reason="Not before her review"),
            "Not done: rejected by @U0BOB. Reason: Not before her review",
        ),
        (
            dict(status="expired"),
            "Not done: no approver decided it in time, so it expired.",
        ),
        (
            dict(status="withdrawn", decided_by="U0DANA"),
            "Not done: withdrawn by @U0DANA.",
        ),
        (
            dict(status="stale", error="the record changed after the card was made"),
            "Not done: the record changed after the card was made. Ask again if it is still "
            "wanted.",
        ),
    ],
    ids=lambda v: v.get("status", "") if isinstance(v, dict) else "",
)
def test_how_it_ended_is_one_sentence_in_plain_words(changes, said):
    a = janet(**changes)
    assert words.plain(words.outcome_parts(a)) == said
    told = cards.requester_outcome_blocks(a)
    (section,) = told[0]["elements"]
    assert "code" not in str(section)  # no red monospace: names as plain text
    assert "HR API" not in str(told) and "answered" not in str(told)  # the status is the audit's


def test_a_value_in_the_outcome_is_literal_text_never_markup():
    hostile = janet(
        status="succeeded",
        body={"job": "<!channel> *boss* <https://evil.example|x>"},
        **APPROVED,
    )
    (section,) = cards.requester_outcome_blocks(hostile)[0]["elements"]
    runs = section["elements"]
    assert {"type": "text", "text": "<!channel> *boss* <https://evil.example|x>"} in runs
    assert [r["type"] for r in runs].count("user") == 1  # the approver, a real mention
    text = cards.requester_outcome(hostile)  # the notification: values in code spans, escaped
    assert "`&lt;!channel&gt; *boss* &lt;https://evil.example|x&gt;`" in text
    assert "<!channel>" not in text


def test_a_decided_card_says_how_it_stands_in_its_title():
    assert cards.title(janet()) == "Approval needed: action #7"
    assert cards.title(janet(status="succeeded")) == "Action #7: done"
    assert cards.title(janet(status="rejected")) == "Action #7: rejected"
    decided = cards.render_card(janet(status="expired"))
    assert decided[0]["text"]["text"] == "Action #7: expired"
    summary = channel_cards.summary_card(janet(status="withdrawn"))
    assert summary[0]["text"]["text"] == "Action #7: withdrawn"


def test_only_a_field_that_says_what_someone_does_describes_them():
    # Picked by name, never by position: an address or a salary never reaches a notice.
    record = {"id": 2, "name": "Janet Weaver", "address": "1 Main St", "salary": "90000"}
    assert words.label(janet(fields_before=record)) == "Janet Weaver (#2)"
    titled = {**record, "title": "payroll specialist"}
    assert words.label(janet(fields_before=titled)) == "Janet Weaver (#2), payroll specialist"
