"""What a click on an approval button does (a card's, or App Home's batch of approvals). Every
check fails closed: in doubt, nothing runs."""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from approvals.authority import Authority, NotConnected, SharedToken
from approvals.deciders import Deciders, manager_problem
from approvals.executor import Executor
from approvals.records import (
    ActionExpired,
    ActionNotFound,
    AlreadyDecided,
    AlreadyVoted,
    PendingAction,
)
from approvals.slack import cards, modals
from approvals.slack.announce import Announcements
from approvals.slack.home_blocks import BATCH_APPROVE_ID, WAITING_SHOWN, batch_confirmation
from approvals.store import ActionStore, RequestChanged
from approvals.subjects import Subjects
from approvals.tokens import BadToken, Decision, TokenExpired, TokenSigner
from infra import metrics, tracing
from infra.limits import RateWindow
from infra.people import Directory, LookupFailed, Person, membership_problem
from infra.roster import Roster

log = structlog.get_logger(__name__)

NOT_LINKED = "Approvers decide as themselves in the HR system too."
BUTTONS = {
    cards.APPROVE_ACTION_ID: "approve",
    cards.REJECT_ACTION_ID: "reject",
    cards.WITHDRAW_ACTION_ID: "withdraw",
}
REVISIONS = {modals.EDIT_ACTION_ID: "edit", modals.REASSIGN_ACTION_ID: "reassign"}


@dataclass(frozen=True)
class Click:
    """The parts of a block_actions (or reject-reason view_submission) payload that matter."""

    user: str
    team: str | None
    action_id: str
    value: str
    channel: str | None = None
    trigger_id: str | None = None
    reason: str | None = None
    submitted: bool = False  # the reject-reason modal was submitted
    view_id: str | None = None  # clicked in Show details (or its reject-reason modal)


# While a batch runs, what each click would tell its clicker is collected here instead.
_told: ContextVar[list[str] | None] = ContextVar("told", default=None)


@contextlib.contextmanager
def collected() -> Iterator[list[str]]:
    """What the clicks handled inside the block would tell their clicker, collected instead."""
    told: list[str] = []
    reset = _told.set(told)
    try:
        yield told
    finally:
        _told.reset(reset)


class HomePages(Protocol):
    """Where a batch's results are shown (App Home, approvals.slack.home)."""

    def publish(self, user: str, results: Sequence[str] = ()) -> None: ...


class Refused(Exception):
    """The click changes nothing; the message is shown to the clicker alone."""

    def __init__(self, message: str, action_id: int | None = None) -> None:
        super().__init__(message)
        self.action_id = action_id


class ClickHandler:
    def __init__(
        self,
        store: ActionStore,
        signer: TokenSigner,
        executor: Executor,
        announcer: Announcements,
        *,
        approvers: Roster,
        people: Directory,
        team_id: str,
        enterprise_id: str | None = None,
        allow_self_approval: bool = False,
        refusals: RateWindow | None = None,
        authority: Authority | None = None,
        offer_link: Callable[[str | None, str, str], None] | None = None,
        escalation: Roster | None = None,
        home: HomePages | None = None,
        subjects: Subjects | None = None,
        deciders: Deciders | None = None,
        manager_now: Callable[[PendingAction], dict[str, Any] | None] | None = None,
    ) -> None:
        """`refusals` bounds the notices and audit rows one person's refused clicks on one
        action can cause (a guest clicking the same button again and again). With per-user HR
        authority (`authority.required`) an approver decides only with their HR account
        connected (their HR identity goes into the audit); `offer_link(channel, user, why)`
        sends them the Connect button. `home` shows a batch's results on the clicker's page.
        `deciders` tells when the person's manager decides instead of the approvers, and
        `manager_now` reads that manager again from the HR data when they decide."""
        self.store = store
        self.signer = signer
        self.executor = executor
        self.announcer = announcer
        self.approvers = approvers
        self.people = people
        self.allow_self_approval = allow_self_approval
        self.deciders = deciders
        self.manager_now = manager_now
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.refusals = refusals
        self.authority = authority or SharedToken()
        self.offer_link = offer_link
        self.escalation = escalation  # who may also decide an escalated action
        self.home = home
        # The person a change is about takes no part in it (fails closed: approvals.subjects).
        self.subjects = subjects or Subjects(people, self.authority)

    def handle(self, click: Click) -> None:
        """A card's button, a submitted reject reason, or App Home's batch approval."""
        if click.action_id == BATCH_APPROVE_ID:
            self.approve_batch(click)
            return
        try:
            action, token = self._check(click)
        except Refused as e:
            self._refuse(click, e.action_id, str(e))
            return
        except Exception:  # fail closed: a broken check is a refusal, never a run
            log.exception("click.check_failed", user=click.user)
            self._refuse(click, None, "This click could not be checked, so nothing was done.")
            return
        thread = action.thread.key if action.thread else None
        with (
            structlog.contextvars.bound_contextvars(action_id=action.id, thread=thread),
            tracing.decision_span(action.id, token.decision, action.trace_parent),
        ):
            self._decide(click, action, token)
        if click.view_id is not None:  # decided in Show details: it now shows where it stands
            self.announcer.update_details(click.view_id, self.store.get(action.id), click.channel)

    def check_revision(self, click: Click) -> tuple[PendingAction, Decision]:
        """Edit's and Reassign's checks: a decision's, save four eyes. Raises Refused."""
        return self._check(click, revising=True)

    def refuse(self, click: Click, refused: Refused) -> None:
        self._refuse(click, refused.action_id, str(refused))

    def _decide(self, click: Click, action: PendingAction, token: Decision) -> None:
        if token.decision == "withdraw":
            self._settle(click, action.id, lambda: self.store.withdraw(action.id, click.user))
        elif token.decision == "reject":
            asks_reason = not click.submitted and click.trigger_id
            if asks_reason and self.announcer.open_reject_modal(
                action, click.trigger_id, click.value, click.channel, click.view_id
            ):
                return  # the decision comes with the modal's submission
            reason = (click.reason or "").strip()[: cards.MAX_REASON] or None
            subject = self.authority.subject(click.user)
            self._settle(
                click,
                action.id,
                lambda: self.store.reject(action.id, click.user, reason, hr_subject=subject),
            )
        else:
            self._approve(click, action, token.request_hash)

    def _check(self, click: Click, revising: bool = False) -> tuple[PendingAction, Decision]:
        try:
            token = self.signer.verify(click.value)
        except TokenExpired as e:
            raise Refused("This approval button has expired; nothing was done.") from e
        except BadToken as e:
            raise Refused("This button is not a valid approval button; nothing was done.") from e
        if (REVISIONS if revising else BUTTONS).get(click.action_id) != token.decision:
            raise Refused("This button does not match its decision; nothing was done.")
        if click.team != self.team_id:
            raise Refused("Clicks from another workspace are not accepted.", token.action_id)
        person = self.check_member(click, token.action_id)
        try:
            action = self.store.get(token.action_id)
        except ActionNotFound as e:
            raise Refused(f"There is no action #{token.action_id}.") from e
        if not hmac.compare_digest(token.request_hash, action.request_hash):
            raise Refused(
                f"This button does not match action #{action.id}; nothing was done.", action.id
            )
        if token.decision == "withdraw":
            if click.user != action.requester:
                raise Refused(
                    f"Only <@{action.requester}> can withdraw action #{action.id}.", action.id
                )
            return action, token
        escalated_to = (
            action.escalated_at is not None
            and self.escalation is not None
            and self.escalation.includes(click.user)
        )
        manager = self.deciders.manager(action) if self.deciders else None
        if manager is not None and click.user != manager and not escalated_to:
            name = (action.manager or {}).get("name") or "their manager"
            raise Refused(
                f"Action #{action.id} is decided by {name}, the manager of the person it is "
                "about in the HR data, so it is unchanged.",
                action.id,
            )
        if manager is None and not (self.approvers.includes(click.user) or escalated_to):
            raise Refused(
                f"You are not an approver for HR changes, so action #{action.id} is unchanged.",
                action.id,
            )
        if manager is not None and click.user == manager:
            changed = manager_problem(action, self.manager_now)
            if changed is not None:
                raise Refused(changed, action.id)
        if (
            token.decision == "approve"
            and click.user in action.shaped_by
            and not self.allow_self_approval
        ):
            if click.user == action.requester:
                why = f"You asked for action #{action.id}"
            else:
                why = f"Your words were part of the conversation that led to action #{action.id}"
            raise Refused(f"{why}, so another approver must approve it.", action.id)
        subject = self.subjects.problem(action, click.user, person=person)
        if subject is not None:  # no decision of any kind: approve, reject, edit, reassign
            raise Refused(subject, action.id)
        if self.authority.required and not self._linked(click.user):
            if self.offer_link is not None:
                self.offer_link(click.channel, click.user, NOT_LINKED)
            raise Refused(
                f"Connect your HR account before deciding HR changes; action #{action.id} is "
                "unchanged.",
                action.id,
            )
        return action, token

    def _linked(self, user: str) -> bool:
        """The approver's HR account is linked and still works (renewed if it was due)."""
        try:
            self.authority.headers(user)
        except NotConnected:
            return False
        return True

    def check_member(self, click: Click, action_id: int) -> Person:
        """The clicker is an active human member here: no guest, outsider, bot or leaver."""
        try:
            person = self.people.get(click.user)
        except LookupFailed as e:
            raise Refused(
                "Your account could not be checked just now, so nothing was done. "
                "Try again in a minute.",
                action_id,
            ) from e
        if membership_problem(person, self.team_id, self.enterprise_id) is not None:
            raise Refused(
                "Only active members of this workspace can decide HR changes (not guests, "
                "bots or people from other organisations); nothing was done.",
                action_id,
            )
        return person

    def _refuse(self, click: Click, action_id: int | None, message: str) -> None:
        log.info("click.refused", user=click.user, action_id=action_id, why=message)
        metrics.REFUSALS.labels("click").inc()
        told = _told.get()
        if told is not None:
            told.append(message)  # a batch lists every refusal, limited or not
        if self.refusals is not None and not self.refusals.allow((click.user, action_id)):
            return
        self.store.record(
            "click_refused", action_id=action_id, actor=click.user, detail={"why": message}
        )
        if told is None:
            self.announcer.tell(click.channel, click.user, message)

    def _tell(self, click: Click, text: str) -> None:
        told = _told.get()
        if told is not None:
            told.append(text)
        else:
            self.announcer.tell(click.channel, click.user, text)

    def _already(self, click: Click, action: PendingAction) -> None:
        by = f" by <@{action.decided_by}>" if action.decided_by else ""
        self._tell(click, f"Action #{action.id} was already {action.status}{by}.")

    def _settle(self, click: Click, action_id: int, decide) -> None:
        """Reject or withdraw: one compare-and-set, then everyone is told."""
        try:
            action = decide()
        except AlreadyDecided as e:
            self._already(click, e.action)
            return
        log.info("action.decided", action_id=action_id, status=action.status, user=click.user)
        self.announcer.finish(action)

    def _approve(self, click: Click, action: PendingAction, signed_hash: str) -> None:
        try:
            action = self.store.approve(
                action.id,
                click.user,
                hr_subject=self.authority.subject(click.user),
                signed_hash=signed_hash,
                contributors_may=self.allow_self_approval,
            )
        except RequestChanged:
            self._tell(click, f"Action #{action.id} was edited meanwhile; nothing was done.")
            return
        except AlreadyVoted as e:
            self._tell(
                click,
                f"You have already approved action #{e.action.id}; it needs "
                f"{cards.approvals_line(e.action)} from different approvers.",
            )
            return
        except ActionExpired:
            self._tell(click, f"Action #{action.id} has expired and was not run.")
            with contextlib.suppress(AlreadyDecided):  # the sweep got there first and told everyone
                self.announcer.finish(self.store.expire(action.id))
            return
        except AlreadyDecided as e:
            self._already(click, e.action)
            return
        if action.status == "pending":  # more approvers needed: show the count and wait
            log.info("action.vote", action_id=action.id, user=click.user)
            self.announcer.refresh(action)
            self._tell(
                click,
                f"Your approval of action #{action.id} is recorded: "
                f"{cards.approvals_line(action)}.",
            )
            return
        log.info("action.approved", action_id=action.id, user=click.user)
        # The HR request first: Slack updates can wait a moment, the approver's intent cannot.
        done = self.executor.run(action.id, signed_hash)
        log.info(
            "action.executed", action_id=action.id, status=done.status, hr_status=done.hr_status
        )
        self.announcer.finish(done)

    # --- several at once ---------------------------------------------------------------

    def _action_of(self, value: str) -> int | None:
        """The action a signed approve value is for; None when it is not one (the click's own
        checks then refuse it)."""
        try:
            return self.signer.verify(value).action_id
        except (BadToken, TokenExpired):
            return None

    def _deletes_among(self, batch: Click, values: Sequence[str]) -> list[PendingAction]:
        """The pending deletes a batch's values would approve, which ask for confirmation: only
        those the clicker passes every check for, as if clicked alone (the others are refused,
        and described to no one, when the batch runs)."""
        deletes = {}
        for value in values:
            click = Click(batch.user, batch.team, cards.APPROVE_ACTION_ID, value, None)
            try:
                action, _ = self._check(click)
            except Exception:  # refused (or not checkable): it is refused again when run
                continue
            if _pending_delete(action):
                deletes.setdefault(action.id, action)
        return list(deletes.values())

    def approve_batch(self, batch: Click) -> None:
        """App Home's batch button: each ticked action approved on its own, exactly as if
        clicked alone; the results listed on the page and sent to the clicker's DM (theirs
        alone)."""
        try:
            values = json.loads(batch.value)
        except ValueError:
            values = None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            lines = ["This batch could not be read; nothing was approved."]
        elif not values:
            lines = ["Nothing was ticked, so nothing was approved."]
        elif len(values) > WAITING_SHOWN:
            lines = [f"At most {WAITING_SHOWN} at once; nothing was approved."]
        else:
            deletes = [] if batch.submitted else self._deletes_among(batch, values)
            if deletes and batch.trigger_id:
                view = batch_confirmation(values, deletes)
                if self.announcer.open_modal(deletes[0], batch.trigger_id, view):
                    return  # the batch runs when the modal naming each delete is submitted
            unconfirmed = {a.id for a in deletes}
            each = [
                Click(batch.user, batch.team, cards.APPROVE_ACTION_ID, value, None)
                for value in values
                if self._action_of(value) not in unconfirmed
            ]
            lines = approve_each(self, each) + [
                f"• Action #{i} deletes a record, which needs its confirmation: approve it on "
                "its own, or press the batch button again."
                for i in sorted(unconfirmed)
            ]
        self.announcer.tell(None, batch.user, "Your batch approval:\n" + "\n".join(lines))
        if self.home is not None:
            self.home.publish(batch.user, lines)


def _pending_delete(action: PendingAction) -> bool:
    return action.method == "DELETE" and action.status == "pending"


def approve_each(handler: ClickHandler, clicks: Iterable[Click]) -> list[str]:
    """Each click handled as if clicked alone; one line per click saying what came of it."""
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
