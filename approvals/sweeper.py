"""Background care of pending actions: expiry, one reminder each, and recovery at start-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import structlog

from approvals.executor import Executor
from approvals.records import AlreadyDecided, PendingAction
from approvals.store import ActionStore
from approvals.upkeep import Upkeep

log = structlog.get_logger(__name__)


class Notices(Protocol):
    """What the sweeper needs said in Slack (approvals.slack.announce does it)."""

    def post(self, action: PendingAction) -> None: ...

    def unposted(self, action: PendingAction) -> bool: ...

    def finish(self, action: PendingAction) -> None: ...

    def remind(self, action: PendingAction) -> None: ...

    def tell_approvers(
        self, action: PendingAction, text: str, in_channel: str | None = None
    ) -> None: ...

    def escalate(self, action: PendingAction, people: list[str]) -> None: ...


@dataclass(frozen=True)
class Escalation:
    """ESCALATE_AFTER_SECONDS and ESCALATION_GROUP: who else gets a request waiting that long
    (`members`: the group's active, full members)."""

    after_seconds: float
    group: str
    members: Callable[[], Iterable[str]]


REMINDER_AT = 0.8  # of the approval window
REPOST_AFTER_SECONDS = 60  # never race the post that follows an action's creation
INTERRUPTED = "the bot stopped while this request was being sent; it may or may not have arrived"


class Sweeper:
    def __init__(
        self,
        store: ActionStore,
        upkeep: Upkeep,
        announcer: Notices,
        executor: Executor,
        escalation: Escalation | None = None,
    ) -> None:
        """With the executor's leases, only an executing action whose owner stopped renewing
        is settled as unknown (at start-up and on every sweep): another process may be running
        it right now."""
        self.store = store
        self.upkeep = upkeep
        self.announcer = announcer
        self.executor = executor
        self.escalation = escalation

    def sweep(self) -> dict[str, int]:
        """Expire what is due (telling everyone) and remind approvers once at 80% of the window."""
        expired = 0
        for action in self.upkeep.due_for_expiry():
            try:
                done = self.store.expire(action.id)
            except AlreadyDecided:  # decided between the query and the update
                continue
            expired += 1
            log.info("action.expired", action_id=done.id)
            self.announcer.finish(done)
        reminded = self.upkeep.claim_reminder(REMINDER_AT)
        for action in reminded:
            self.announcer.remind(action)
        escalated = self.escalate() if self.escalation else 0
        reposted = self.repost_missing()
        lapsed, ran = 0, 0
        if self.executor.leases:  # with replicas, one may have died mid-way
            lapsed = self.settle_interrupted()
            ran = self.run_orphaned()
        return {
            "expired": expired,
            "reminded": len(reminded),
            "reposted": reposted,
            "unknown": lapsed,
            "ran": ran,
            **({"escalated": escalated} if self.escalation else {}),
        }

    def escalate(self) -> int:
        """Pending actions waiting past ESCALATE_AFTER_SECONDS go to the escalation group too,
        once; their members may then decide them (the click handler's rule)."""
        due = self.upkeep.claim_escalation(self.escalation.after_seconds, self.escalation.group)
        for action in due:
            log.info("action.escalated", action_id=action.id, group=self.escalation.group)
            self.announcer.escalate(action, list(self.escalation.members()))
        return len(due)

    def repost_missing(self) -> int:
        """Pending actions with a copy of their card, or their notice, that never went out
        (a crash, Slack down, one approver's DM failing) get it now."""
        due = self.store.now() - REPOST_AFTER_SECONDS
        missing = [
            action
            for action in self.store.in_states("pending")
            if action.created_at <= due and self.announcer.unposted(action)
        ]
        for action in missing:
            log.warning("action.card_missing", action_id=action.id)
            self.announcer.post(action)
        return len(missing)

    def recover(self) -> dict[str, int]:
        """After a restart: run approved actions that never started, once; mark interrupted ones
        `unknown` and tell everyone. Never re-sends a request that may have gone out."""
        return {"ran": self.run_orphaned(), "unknown": self.settle_interrupted()}

    def run_orphaned(self) -> int:
        """Run, once, the approved actions nobody started: the process that approved one died
        before starting it. With leases (replicas), only one approved more than a lease ago:
        a live process starts its own at once. Starting is a compare-and-set either way."""
        ran = 0
        leases = self.executor.leases
        before = self.store.now() - (leases.seconds if leases else 0)
        for action in self.store.in_states("approved"):
            if leases and (action.decided_at or 0) > before:
                continue
            self.store.record(
                "recovery_run",
                action_id=action.id,
                actor=None,
                detail={"why": "approved, but the process that approved it never started it"},
            )
            try:
                done = self.executor.run(action.id, action.request_hash)
            except AlreadyDecided:
                continue
            ran += 1
            self.announcer.finish(done)
        return ran

    def settle_interrupted(self) -> int:
        """Executing actions whose process is gone become `unknown`, everyone told; never
        re-sent. Without leases (one process) every executing action found is one."""
        executing = self.store.in_states("executing")
        leases = self.executor.leases
        unknown = 0
        for action in leases.lapsed(executing) if leases else executing:
            # Lapsed still, checked in the same compare-and-set: a renewal in between wins.
            lapsed = (
                ("(lease_until IS NULL OR lease_until <= ?)", (leases.now(),)) if leases else None
            )
            try:
                done = self.store.mark_unknown(
                    action.id, INTERRUPTED, interrupted=True, condition=lapsed
                )
            except AlreadyDecided:  # finished, or renewed, meanwhile
                continue
            unknown += 1
            log.warning("action.outcome_unknown", action_id=done.id)
            self.announcer.finish(done)
            self.announcer.tell_approvers(
                done,
                f"Action #{done.id}: outcome unknown — {INTERRUPTED}. Check the HR system; "
                "it will not be retried.",
            )
        return unknown
