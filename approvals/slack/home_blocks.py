"""Block Kit for the approvals' part of a person's App Home (pure functions, like cards.py):
what waits for them as an approver, with Approve and Reject in place and a batch approval; the
requests they made; how approvals are going. Buttons carry the same signed values as cards."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from approvals import stats as figures
from approvals.records import PendingAction
from approvals.slack import blocks as kit
from approvals.slack import words
from approvals.slack.cards import (
    REJECT_ACTION_ID,
    WITHDRAW_ACTION_ID,
    approvals_line,
    approve_button,
    outcome,
    short_summary,
    summary,
    when,
)
from approvals.slack.preview import SECTION_LIMIT
from approvals.slack.values import visible

BATCH_BLOCK_ID = "home-batch"
BATCH_SELECT_ID = "home_batch_select"
BATCH_APPROVE_ID = "home_approve_selected"
BATCH_CONFIRM_ID = "home_batch_confirm"  # the modal naming each delete of a batch
WAITING_SHOWN = 10  # Slack's limit on the options of one checkbox group
OPTION_TEXT_LIMIT = 75

Sign = Callable[[PendingAction, str], str]  # (action, decision) -> signed button value


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": kit.plain(text)}


def time_left(action: PendingAction, now: float) -> str:
    seconds = max(action.expires_at - now, 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min left"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h left"
    return f"{seconds / 86400:.0f} days left"


def waiting(actions: Sequence[PendingAction], sign: Sign, now: float) -> list[dict[str, Any]]:
    """*Waiting for you*: each action with what it will do, who asked and when, the time left,
    Approve and Reject; then a checkbox per action and one button that approves those ticked
    (each still checked and run on its own)."""
    blocks = [_header("Waiting for you")]
    if not actions:
        return [*blocks, kit.section("Nothing is waiting for your approval.")]
    shown = actions[:WAITING_SHOWN]
    for action in shown:
        approve = approve_button(action, sign(action, "approve"))
        reject = kit.button(REJECT_ACTION_ID, "Reject", sign(action, "reject"), style="danger")
        blocks += [
            _row(action),
            _context(
                f"Asked by <@{action.requester}> {when(action.created_at)} · "
                f"{time_left(action, now)} (expires {when(action.expires_at)}) · "
                f"{approvals_line(action)}"
            ),
            {"type": "actions", "block_id": f"home-{action.id}", "elements": [approve, reject]},
        ]
    if len(actions) > len(shown):
        blocks.append(_context(f"…and {len(actions) - len(shown)} more, the soonest due first."))
    options = [
        {
            "text": kit.plain(visible(f"#{a.id} {summary(a)}", OPTION_TEXT_LIMIT)),
            "value": sign(a, "approve"),
        }
        for a in shown
    ]
    batch = {
        "type": "actions",
        "block_id": BATCH_BLOCK_ID,
        "elements": [
            {"type": "checkboxes", "action_id": BATCH_SELECT_ID, "options": options},
            kit.button(BATCH_APPROVE_ID, "Approve selected", "batch", style="primary"),
        ],
    }
    return [*blocks, {"type": "divider"}, kit.section("*Approve several at once*"), batch]


def your_requests(
    pending: Sequence[PendingAction], finished: Sequence[PendingAction], sign: Sign
) -> list[dict[str, Any]]:
    """*Your requests*: those still waiting, each with Withdraw, and the last outcomes."""
    blocks = [_header("Your requests")]
    if not pending and not finished:
        return [*blocks, kit.section("You have not asked for any change yet.")]
    for action in pending:
        withdraw = kit.button(WITHDRAW_ACTION_ID, "Withdraw", sign(action, "withdraw"))
        blocks += [_row(action), {**kit.section(outcome(action)), "accessory": withdraw}]
    if finished:
        lines = [
            {
                "type": "rich_text_section",
                "elements": [
                    kit.text(f"#{a.id} ", bold=True),
                    kit.text(f"{summary(a)}: "),
                    *words.rich(words.outcome_parts(a)),
                ],
            }
            for a in finished
        ]
        blocks += [_context("Last outcomes"), {"type": "rich_text", "elements": lines}]
    return blocks


def _row(action: PendingAction) -> dict[str, Any]:
    """ "#2 Update employee Janet Weaver (#2), payroll specialist — job: lead": rich text, so
    names and values show as typed (no code spans, nothing read as mrkdwn)."""
    return kit.rich_text(kit.text(f"#{action.id} ", bold=True), kit.text(summary(action)))


def how_it_goes(stats: figures.Stats, user: str, days: int) -> list[dict[str, Any]]:
    """The last `days` days of approvals, from the audit trail, and the viewer's own share."""
    counts = ", ".join(f"{status} {n}" for status, n in sorted(stats.outcomes.items()))
    mine = stats.approvers.get(user)
    lines = [
        f"*{stats.requested}* requests in the last {days} days"
        + (f" ({counts})" if counts else ""),
        f"Time to decision: median {figures.duration(stats.median_decision_seconds)}, "
        f"p90 {figures.duration(stats.p90_decision_seconds)}; expired undecided: {stats.expired}",
    ]
    if mine:
        lines.append(
            f"You: {mine.approvals} approvals, {mine.rejections} rejections, median time to act "
            f"{figures.duration(mine.median_seconds)}"
        )
    return [_header("How approvals are going"), kit.section("\n".join(lines))]


def results(lines: Sequence[str]) -> list[dict[str, Any]]:
    """What the last batch approval did, one line per action (mrkdwn our own code wrote, values
    escaped where they were put in)."""
    text = "\n".join(f"• {line}" for line in lines)
    return [kit.section(f"*Your batch approval:*\n{text}"[:SECTION_LIMIT])]


def batch_confirmation(values: Sequence[str], deletes: Sequence[PendingAction]) -> dict[str, Any]:
    """The modal a batch with deletes opens before anything runs: each delete named, as a single
    Approve's confirmation names it; submitting approves the whole batch, Cancel nothing."""
    count = len(values)
    lines = "\n".join(f"• *#{a.id}* {short_summary(a)}" for a in deletes)
    return {
        "type": "modal",
        "callback_id": BATCH_CONFIRM_ID,
        "private_metadata": json.dumps(list(values)),
        "title": kit.plain("Approve selected"),
        "submit": kit.plain(f"Approve all {count}"),
        "close": kit.plain("Cancel"),
        "blocks": [
            kit.section(
                f"You ticked {count}. Approving runs each one on its own; "
                f"{'this deletes a record' if len(deletes) == 1 else 'these delete records'} "
                "for good:"
            ),
            kit.section(visible(lines, 2900)),
        ],
    }
