"""Edit and Reassign on a pending card: each button gets a decision's checks (clicks.py)
and opens a modal; its submission is checked again, then either changes the request (Edit) or
hands the card to a colleague (Reassign). Nothing is decided here: Approve stays four-eyed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import structlog

from approvals.records import ActionError, PendingAction, about, canonical_body
from approvals.slack import modals
from approvals.slack.clicks import Click, ClickHandler, Refused, collected
from infra.people import LookupFailed, membership_problem
from infra.roster import RosterLookupFailed

log = structlog.get_logger(__name__)

UNCHECKED = "This click could not be checked, so nothing was done."
# (field, old value, new value); None: the field is not in the body.
Change = tuple[str, Any, Any]


class BodyRefused(Exception):
    """An edited body breaks a rule of the endpoint catalogue; `field` names the field (None:
    the body as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class EditRules(Protocol):
    """What the bot lends an edit (approvals never imports it): the endpoint catalogue's
    fields and rules for a body, and telling the model afterwards."""

    def fields(self, method: str, path: str) -> list[modals.EditableField] | None:
        """The body fields an edit may set, in order; None: the request cannot be edited."""

    def check(self, method: str, path: str, typed: Mapping[str, str | None]) -> dict[str, Any]:
        """The body from what was typed (None: left empty), checked exactly as the model's
        input is; raises BodyRefused."""

    def edited(self, action: PendingAction, editor: str, changes: list[Change]) -> None:
        """`editor` changed the pending `action` (noted in its requester's conversation)."""


@dataclass(frozen=True)
class Submitted:
    """What a modal's submission came to: `errors` (block_id → message) keep it open and
    change nothing; otherwise it closes and `then` says the rest in Slack."""

    errors: dict[str, str] = field(default_factory=dict)
    then: Callable[[], None] | None = None


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    old = before or {}
    names = [*old, *(name for name in after if name not in old)]
    return [(n, old.get(n), after.get(n)) for n in names if old.get(n) != after.get(n)]


class Revisions:
    """Edit and Reassign, with the click handler's checks, store and announcer."""

    def __init__(self, clicks: ClickHandler, rules: EditRules) -> None:
        self.clicks = clicks
        self.rules = rules
        self.store = clicks.store
        self.announcer = clicks.announcer

    # --- the buttons --------------------------------------------------------------------

    def open(self, click: Click) -> None:
        """Edit or Reassign was clicked: after the checks, its modal (within the trigger's
        ~3 s, so this runs at once, not queued)."""
        try:
            action = self._checked(click)
        except Refused:
            return  # the clicker was told why
        if (problem := self._not_pending(action)) is not None:
            self.announcer.tell(click.channel, click.user, problem)
            return
        metadata = json.dumps({"token": click.value, "channel": click.channel})
        if click.action_id == modals.EDIT_ACTION_ID:
            fields = self.rules.fields(action.method, action.path)
            if not fields:
                self.announcer.tell(
                    click.channel, click.user, f"Action #{action.id} has nothing to edit."
                )
                return
            view = modals.edit_modal(action, fields, metadata)
        else:
            view = modals.reassign_modal(action, metadata)
        if not click.trigger_id or not self.announcer.open_modal(action, click.trigger_id, view):
            self.announcer.tell(
                click.channel, click.user, "The form could not be opened; try the button again."
            )

    def _checked(self, click: Click) -> PendingAction:
        """The action, if the click passes a decision's checks (the token's request hash is
        then the action's). Else raises Refused, the refusal audited and told the clicker."""
        try:
            action, _ = self.clicks.check_revision(click)
        except Refused as e:
            self.clicks.refuse(click, e)
            raise
        except Exception as e:  # fail closed, as for decisions
            log.exception("click.check_failed", user=click.user)
            refused = Refused(UNCHECKED)
            self.clicks.refuse(click, refused)
            raise refused from e
        return action

    def _checked_submission(self, click: Click) -> PendingAction:
        """The same for a modal's submission, whose modal shows the refusal instead."""
        with collected():
            return self._checked(click)

    def _not_pending(self, action: PendingAction) -> str | None:
        if action.status != "pending":
            return f"Action #{action.id} is already {action.status}; nothing was changed."
        if action.expires_at <= self.store.now():
            return f"Action #{action.id} has expired; nothing was changed."
        return None

    # --- Edit ---------------------------------------------------------------------------

    def submit_edit(self, click: Click, typed: Mapping[str, str | None]) -> Submitted:
        """The Edit modal's fields (field → text typed, in the modal's order): checked like the
        model's input, then the request replaced in one step; every card then shows it."""
        first = modals.field_block_id(next(iter(typed), ""))
        try:
            action = self._checked_submission(click)
        except Refused as e:
            return Submitted({first: str(e)})
        if (problem := self._not_pending(action)) is not None:
            return Submitted({first: problem})
        try:
            body = self.rules.check(action.method, action.path, typed)
        except BodyRefused as e:
            where = modals.field_block_id(e.field) if e.field in typed else first
            return Submitted({where: str(e)})
        if canonical_body(body) == canonical_body(action.body):
            return Submitted({first: "Nothing was changed: these are the request's values now."})
        if (problem := self._own_record(click.user, replace(action, body=body))) is not None:
            where = modals.field_block_id("email") if "email" in typed else first
            return Submitted({where: problem})
        try:
            edited = self.store.revise(action.id, click.user, body, signed_hash=action.request_hash)
        except ActionError as e:
            return Submitted({first: f"Nothing was changed: {e}."})
        log.info("action.edited", action_id=action.id, user=click.user)
        return Submitted(then=lambda: self._tell_edit(click, action, edited))

    def _own_record(self, editor: str, edited: PendingAction) -> str | None:
        """Why `editor` may not make this edit: it would make the request about their own HR
        record (which they may then neither edit nor approve)."""
        emails = self.clicks.subjects.emails(editor)
        if emails is None:
            return "Your account could not be checked just now; nothing was changed."
        if any(about(edited, email) for email in emails):
            return "This would make the request change your own HR record; nothing was changed."
        return None

    def _tell_edit(self, click: Click, before: PendingAction, after: PendingAction) -> None:
        """The model first (a quick follow-up question already knows), then every card (new
        buttons: the old ones no longer match), the requester's thread, and the editor."""
        changed = changes(before.body, after.body or {})
        try:
            self.rules.edited(after, click.user, changed)
        except Exception:  # the edit is made: its cards must still show it
            log.exception("action.edit_note_failed", action_id=after.id)
        self.announcer.refresh(after)
        self.announcer.tell_requester(after, modals.edit_notice(after, click.user, changed))
        # ALLOW_SELF_APPROVAL lifts four eyes for everyone who shaped a request, editors too.
        if self.clicks.allow_self_approval:
            then = "it needs approving again, and you may approve it yourself"
        else:
            then = "another approver must now approve it"
        self.announcer.tell(
            click.channel, click.user, f"Your edit of action #{after.id} is saved; {then}."
        )

    # --- Reassign -----------------------------------------------------------------------

    def submit_reassign(self, click: Click, assignee: str | None) -> Submitted:
        """The colleague chosen: an approver who is an active member and could approve this
        action; they get the card by DM."""
        block = modals.ASSIGNEE_BLOCK_ID
        try:
            action = self._checked_submission(click)
        except Refused as e:
            return Submitted({block: str(e)})
        if not assignee:
            return Submitted({block: "Choose a colleague."})
        problem = self._not_pending(action) or self._assignee_problem(action, click, assignee)
        if problem is not None:
            return Submitted({block: problem})
        return Submitted(then=lambda: self._hand_over(click, action.id, assignee))

    def _assignee_problem(self, action: PendingAction, click: Click, assignee: str) -> str | None:
        """Why `assignee` cannot take the action over (they could not approve it), or None."""
        if assignee == click.user:
            return "Choose a colleague, not yourself."
        try:
            if not self.clicks.approvers.includes(assignee):
                return "They are not an approver for HR changes, so they cannot decide it."
            person = self.clicks.people.get(assignee)
        except (RosterLookupFailed, LookupFailed):
            return "They could not be checked just now; try again in a minute."
        if membership_problem(person, self.clicks.team_id, self.clicks.enterprise_id):
            return (
                "Only active members of this workspace can decide HR changes (not guests, bots "
                "or people from other organisations)."
            )
        if assignee in action.shaped_by:
            return f"They asked for action #{action.id} or took part in it, so cannot approve it."
        return self.clicks.subjects.problem(action, assignee, person=person, you=False)

    def _hand_over(self, click: Click, action_id: int, assignee: str) -> None:
        action = self.store.get(action_id)  # as it is now: the card shows where it stands
        note = f"<@{click.user}> handed action #{action.id} to you to decide."
        if not self.announcer.hand_over(action, assignee, note):
            self.announcer.tell(
                click.channel,
                click.user,
                f"The card could not be sent to <@{assignee}>; try again in a minute.",
            )
            return
        self.store.record(
            "reassigned",
            action_id=action.id,
            actor=click.user,
            detail={"from": click.user, "to": assignee},
        )
        log.info("action.reassigned", action_id=action.id, user=click.user, to=assignee)
        self.announcer.tell(
            click.channel, click.user, f"Action #{action.id} was sent to <@{assignee}> by DM."
        )
