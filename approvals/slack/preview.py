"""What a change will do, as Block Kit rich text: one line per field of a new record, before →
after for an update, the record that goes for a delete. Slack shows rich text literally (no mrkdwn,
links or mentions); values that could mislead an approver carry a warning: look-alike letters, an
address that is not plain ASCII, a value none of the quoted messages holds."""

from __future__ import annotations

from typing import Any

from approvals.records import PendingAction
from approvals.slack import blocks as kit
from approvals.slack import values as shown_values
from approvals.slack.values import ascii_email, skeleton, spelled, visible

SECTION_LIMIT = 3000
PREVIEW_VALUE_LIMIT = 200
PREVIEW_FIELDS = 10


def _warning(text: str) -> list[dict[str, Any]]:
    return [
        kit.text("  "),
        {"type": "emoji", "name": "warning"},
        kit.text(f" {text}", italic=True),
    ]


def _shown(value: Any, **style: bool) -> list[dict[str, Any]]:
    if value is None or value == "":
        return [kit.text("(empty)", italic=True)]
    shown = [kit.text(visible(value, PREVIEW_VALUE_LIMIT), **style)]
    email = ascii_email(value) if isinstance(value, str) and not style else None
    if email:  # struck (old) values are not flagged: only what the change brings matters
        shown += _warning(f"not plain ASCII: {visible(email, 120)}")
    return shown


def _change(old: Any, new: Any) -> list[dict[str, Any]]:
    if old == new:
        return [*_shown(new), kit.text(" (unchanged)", italic=True)]
    shown = [*_shown(old, strike=True), kit.text(" → "), *_shown(new)]
    if isinstance(old, str) and isinstance(new, str):
        if skeleton(old) == skeleton(new):
            shown += _warning(f"looks unchanged but differs: {spelled(old)} → {spelled(new)}")
        elif foreign := shown_values.new_foreign_letters(old, new):
            shown += _warning(f"new characters that may look like others: {foreign}")
    return shown


def preview(action: PendingAction) -> list[dict[str, Any]]:
    """What will change, as a rich-text block with one line per field: new fields (POST), before
    → after (PUT, PATCH) or the record that goes (DELETE), from the stored request and snapshot;
    no block when there is nothing to compare."""
    before = action.before if isinstance(action.before, dict) else None
    current = action.fields_before if action.fields_before is not None else before
    said = () if action.edited_by else tuple(text for _, text in action.words)

    def unsaid(value: Any, old: Any = None) -> list[dict[str, Any]]:  # the model's choice
        typed = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        new = said and typed and value not in ("", old) and not shown_values.said_in(value, said)
        return _warning("in none of the messages quoted above") if new else []

    if action.method == "POST" and action.body:
        title = "New record"
        lines = [(k, [*_shown(v), *unsaid(v)]) for k, v in action.body.items()]
    elif action.method in ("PUT", "PATCH") and action.body and current is not None:
        title, old = "Changes", current.get
        lines = [(k, [*_change(old(k), v), *unsaid(v, old(k))]) for k, v in action.body.items()]
    elif action.method == "DELETE" and before is not None:
        title = "Record to delete"
        lines = [(k, _shown(v)) for k, v in before.items() if k != "avatar"]
    else:
        return []
    elements, size = [kit.text(title, bold=True)], 0
    for count, (field, values) in enumerate(lines):
        size += sum(len(element.get("text", "")) for element in values)
        if count == PREVIEW_FIELDS or size > SECTION_LIMIT:
            elements.append(kit.text(f"\n… {len(lines) - count} more fields", italic=True))
            break
        elements += [
            kit.text("\n"),
            kit.text(visible(field, 50), bold=True),
            kit.text(": "),
            *values,
        ]
    return [kit.rich_text(*elements)]
