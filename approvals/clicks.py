"""What an Approve or Reject click does. Every check fails closed: when in doubt, nothing runs."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass

import structlog

from approvals import cards
from approvals.announce import Announcer
from approvals.executor import Executor
from approvals.store import ActionExpired, ActionNotFound, ActionStore, AlreadyDecided
from approvals.tokens import BadToken, TokenExpired, TokenSigner

log = structlog.get_logger(__name__)

BUTTONS = {cards.APPROVE_ACTION_ID: "approve", cards.REJECT_ACTION_ID: "reject"}


@dataclass(frozen=True)
class Click:
    """The parts of a block_actions payload a decision depends on."""

    user: str
    team: str | None
    action_id: str
    value: str
    channel: str | None = None


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
        announcer: Announcer,
        *,
        approvers: Collection[str],
        allow_self_approval: bool = False,
        team_id: str | None = None,
    ) -> None:
        self.store = store
        self.signer = signer
        self.executor = executor
        self.announcer = announcer
        self.approvers = frozenset(approvers)
        self.allow_self_approval = allow_self_approval
        self.team_id = team_id

    def handle(self, click: Click) -> None:
        try:
            action_id, decision, signed_hash = self._check(click)
        except Refused as e:
            self._refuse(click, e.action_id, str(e))
            return
        except Exception:  # fail closed: a broken check is a refusal, never a run
            log.exception("click.check_failed", user=click.user)
            self._refuse(click, None, "This click could not be checked, so nothing was done.")
            return
        self._decide(click, action_id, decision, signed_hash)

    def _check(self, click: Click) -> tuple[int, str, str]:
        try:
            token = self.signer.verify(click.value)
        except TokenExpired as e:
            raise Refused("This approval button has expired; nothing was done.") from e
        except BadToken as e:
            raise Refused("This button is not a valid approval button; nothing was done.") from e
        if BUTTONS.get(click.action_id) != token.decision:
            raise Refused("This button does not match its decision; nothing was done.")
        if self.team_id is not None and click.team != self.team_id:
            raise Refused("Clicks from another workspace are not accepted.")
        try:
            action = self.store.get(token.action_id)
        except ActionNotFound as e:
            raise Refused(f"There is no action #{token.action_id}.") from e
        if click.user not in self.approvers:
            raise Refused(
                f"You are not an approver for HR changes, so action #{action.id} is unchanged.",
                action.id,
            )
        if (
            token.decision == "approve"
            and click.user == action.requester
            and not self.allow_self_approval
        ):
            raise Refused(
                f"You asked for action #{action.id}, so another approver must approve it.",
                action.id,
            )
        if not hmac.compare_digest(token.request_hash, action.request_hash):
            raise Refused(
                f"This button does not match action #{action.id}; nothing was done.", action.id
            )
        return action.id, token.decision, token.request_hash

    def _refuse(self, click: Click, action_id: int | None, message: str) -> None:
        log.info("click.refused", user=click.user, action_id=action_id, why=message)
        self.store.record(
            "click_refused", action_id=action_id, actor=click.user, detail={"why": message}
        )
        self.announcer.tell(click.channel, click.user, message)

    def _decide(self, click: Click, action_id: int, decision: str, signed_hash: str) -> None:
        try:
            if decision == "reject":
                action = self.store.reject(action_id, click.user)
                log.info("action.rejected", action_id=action_id, user=click.user)
                self.announcer.finish(action)
                return
            action = self.store.approve(action_id, click.user)
        except ActionExpired:
            self._expire(click, action_id)
            return
        except AlreadyDecided as e:
            current = e.action
            by = f" by <@{current.decided_by}>" if current.decided_by else ""
            self.announcer.tell(
                click.channel, click.user, f"Action #{action_id} was already {current.status}{by}."
            )
            return
        log.info("action.approved", action_id=action_id, user=click.user)
        self.announcer.refresh(action)
        done = self.executor.run(action.id, signed_hash)
        log.info(
            "action.executed", action_id=action_id, status=done.status, hr_status=done.hr_status
        )
        self.announcer.finish(done)

    def _expire(self, click: Click, action_id: int) -> None:
        self.announcer.tell(
            click.channel, click.user, f"Action #{action_id} has expired and was not run."
        )
        with contextlib.suppress(AlreadyDecided):  # the sweep got there first and told everyone
            self.announcer.finish(self.store.expire(action_id))
