"""Show details, on a card in a channel: the full record (values, snapshot, the quoted words),
in a modal only an approver of the request can open, and decide in (its Approve and Reject are
the card's, checked alike). Everyone else in the channel sees the summary alone
(channel_cards); a refusal is theirs alone, and every opening and every refusal is audited."""

from __future__ import annotations

import structlog

from approvals.records import ActionNotFound, PendingAction
from approvals.slack.clicks import Click, ClickHandler, Refused

log = structlog.get_logger(__name__)


class Details:
    def __init__(self, clicks: ClickHandler) -> None:
        self.clicks = clicks

    def open(self, click: Click) -> None:
        """Runs at once, not queued: the modal needs Slack's trigger, which lives ~3 s."""
        try:
            action = self._checked(click)
        except Refused as e:
            self.clicks.refuse(click, e)
            return
        except Exception:  # fail closed
            log.exception("details.check_failed", user=click.user)
            self.clicks.refuse(click, Refused("This click could not be checked; nothing shown."))
            return
        announcer = self.clicks.announcer
        opened = bool(click.trigger_id) and announcer.open_modal(
            action, click.trigger_id or "", announcer.details_view(action, click.channel)
        )
        if opened:
            self.clicks.store.record(
                "details_viewed", action_id=action.id, actor=click.user, detail={}
            )
        else:
            self.clicks.announcer.tell(
                click.channel, click.user, "The details could not be opened; try again."
            )

    def _checked(self, click: Click) -> PendingAction:
        """The action, when the clicker is an active member of this workspace and may decide
        it (an approver, or in the escalation group once it is escalated)."""
        if not click.value.isdigit():
            raise Refused("This is not a valid details button; nothing is shown.")
        action_id = int(click.value)
        if click.team != self.clicks.team_id:
            raise Refused("Clicks from another workspace are not accepted.", action_id)
        person = self.clicks.check_member(click, action_id)
        try:
            action = self.clicks.store.get(action_id)
        except ActionNotFound as e:
            raise Refused(f"There is no action #{action_id}.") from e
        escalation = self.clicks.escalation
        escalated_to = (
            action.escalated_at is not None
            and escalation is not None
            and escalation.includes(click.user)
        )
        if not (self.clicks.approvers.includes(click.user) or escalated_to):
            raise Refused(f"Only approvers can see the details of action #{action.id}.", action.id)
        subject = self.clicks.subjects.problem(action, click.user, person=person)
        if subject is not None:  # the person it is about never reads the requester's words
            raise Refused(f"{subject} Its details are not shown to you.", action.id)
        return action
