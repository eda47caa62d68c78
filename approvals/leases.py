"""Who runs an executing action: the process (replica) that claimed it holds a lease and renews
it while it sends. Only an action whose lease has lapsed, its owner gone, may be declared
`unknown` by another process; a process starting up never touches a live one's work."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from approvals.records import PendingAction
from infra.db import Database
from infra.named_leases import renewing

LEASE_SECONDS = 120.0  # far longer than one HR request may take (its timeouts are 3 s + 15 s)


class Leases:
    def __init__(
        self,
        database: Database,
        *,
        owner: str | None = None,
        seconds: float = LEASE_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.owner = owner or uuid.uuid4().hex  # one per process: a restart is a new owner
        self.seconds = seconds
        self.now = now

    def terms(self) -> dict[str, object]:
        """The columns a claim sets: this owner, until one lease from now."""
        return {"owner": self.owner, "lease_until": self.now() + self.seconds}

    def renew(self, action_id: int) -> bool:
        """Extend this owner's lease on an executing action; False when it is not ours."""
        with self.database.immediate() as db:
            return (
                db.execute(
                    "UPDATE actions SET lease_until = ? "
                    "WHERE id = ? AND status = 'executing' AND owner = ?",
                    (self.now() + self.seconds, action_id, self.owner),
                ).rowcount
                == 1
            )

    @contextmanager
    def kept(self, action_id: int) -> Iterator[None]:
        """Renew the lease every third of its length until the block ends."""
        with renewing(
            lambda: self.renew(action_id),
            self.seconds / 3,
            f"action-{action_id}",
            self.database.close_thread,
        ):
            yield

    def lapsed(self, actions: Iterable[PendingAction]) -> list[PendingAction]:
        """The executing actions whose owner stopped renewing (or that predate leases)."""
        now = self.now()
        return [a for a in actions if a.lease_until is None or a.lease_until <= now]
