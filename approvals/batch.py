"""Approving several actions at once (App Home): each click checked and run on its own, exactly
as if clicked alone, and one line per action saying what came of it."""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from approvals import cards
from approvals.clicks import Click, ClickHandler, collected

log = structlog.get_logger(__name__)


def approve_each(handler: ClickHandler, clicks: Iterable[Click]) -> list[str]:
    lines = []
    for click in clicks:
        with collected() as told:
            try:
                handler.handle(click)
            except Exception:  # one item's failure (Slack, say) never stops the others
                log.exception("batch.item_failed", user=click.user)
                told.append(f"{_outcome_line(handler, click)} (its cards may not show it yet)")
        lines.append(told[-1] if told else _outcome_line(handler, click))
    return lines


def _outcome_line(handler: ClickHandler, click: Click) -> str:
    """What the action now shows, when the click told its clicker nothing (it ran)."""
    try:
        action = handler.store.get(handler.signer.verify(click.value).action_id)
    except Exception:  # the click was handled; only its summary line is missing
        return "Done; its card shows the outcome."
    return f"#{action.id} {cards.short_summary(action)}: {cards.outcome(action)}"
