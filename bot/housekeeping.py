"""Background care on a timer (expiry, reminders, retention) and recovery at start-up."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import structlog

from approvals.sweeper import Sweeper
from approvals.upkeep import Upkeep
from bot.agent.history import ConversationStore
from bot.conversation.inbox import Inbox
from bot.conversation.turns import Turns
from bot.slack.events import Incoming
from infra.limits import Limit
from infra.named_leases import NamedLeases

log = structlog.get_logger(__name__)
ROUND = "housekeeping-round"


class Housekeeper:
    def __init__(
        self,
        sweeper: Sweeper,
        upkeep: Upkeep,
        conversations: ConversationStore,
        inbox: Inbox,
        windows: list[Limit],
        *,
        queue_answer: Callable[[Incoming], bool],
        retention_days: int,
        interval_seconds: float,
        chores: Sequence[Callable[[], object]] = (),
        leases: NamedLeases | None = None,
        turns: Turns | None = None,
    ) -> None:
        """`chores` run on every round too (dropping old OAuth link states). With `leases`, the
        shared jobs run in one process per round, whichever takes the round's lease; with
        `turns`, this process's messages left waiting with nobody answering are queued again."""
        self.sweeper = sweeper
        self.upkeep = upkeep
        self.conversations = conversations
        self.inbox = inbox
        self.windows = windows
        self.queue_answer = queue_answer
        self.retention_days = retention_days
        self.interval_seconds = interval_seconds
        self.chores = chores
        self.leases = leases
        self.turns = turns
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def resume(self) -> int:
        """At start-up: settle actions a crash interrupted, then queue the messages that
        arrived but were never answered. Returns how many messages were queued."""
        recovered = self.sweeper.recover()
        if any(recovered.values()):
            log.warning("actions.recovered", **recovered)
        return self.take_over()

    def take_over(self) -> int:
        """Queue the stored messages no live process is answering: a crash's, at start-up or
        once their claim lapses (another replica's, too). Returns how many were queued."""
        queued = 0
        for message in self.inbox.take_over():
            if self.queue_answer(message):
                queued += 1
            else:  # that person's queue is full: dropped, like a flood at intake
                log.warning("answer.dropped", user=message.user, event_id=message.event_id)
                self.inbox.answered(message.event_id)
        return queued

    def sweep(self) -> bool:
        """One round. Every process keeps its claims, takes over lapsed ones and forgets idle
        rate windows; the shared jobs (expiry, reminders, unposted cards, lapsed writes,
        retention) run only in the process holding this round's lease. Whether they ran here."""
        self.inbox.renew_claims()  # ours stay ours while we are alive
        if queued := self.take_over():
            log.warning("answers.taken_over", queued=queued)
        for message in self.turns.stalled() if self.turns else ():
            log.warning("answer.requeued", event_id=message.event_id)
            self.queue_answer(message)
        for window in self.windows:
            window.forget_idle()
        if self.leases is None:
            self._shared_jobs()
            return True
        # Held for one interval (renewed while the jobs run, so a long round never overlaps
        # another replica's) and never released: the next round goes to whichever process asks
        # first once it lapses, so a process that died is replaced within a round or two.
        if not self.leases.take(ROUND, self.interval_seconds, again=True):
            return False
        with self.leases.kept(ROUND):
            self._shared_jobs()
        return True

    def _shared_jobs(self) -> None:
        self.sweeper.sweep()
        self.conversations.purge(self.retention_days)
        self.inbox.purge(self.retention_days)
        self.upkeep.forget_personal_data(self.retention_days)
        for chore in self.chores:
            chore()
        if self.leases is not None:
            self.leases.purge()

    def start(self) -> None:
        def loop() -> None:
            while not self._stopping.wait(self.interval_seconds):
                try:
                    self.sweep()
                except Exception:  # keep sweeping; the next round retries
                    log.exception("housekeeping.failed")

        self._thread = threading.Thread(target=loop, name="housekeeping", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
