"""Leases on names, shared by every process using the database: a conversation's turn, the
housekeeping round. A name is held by one owner (process) until a time; the holder renews it
while it works and releases it when done. A holder that dies stops renewing, and once its lease
lapses another process may take the name: nothing is ever held forever."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

from infra.db import Database

log = structlog.get_logger(__name__)


@contextmanager
def renewing(
    renew: Callable[[], bool],
    every: float,
    name: str,
    on_exit: Callable[[], object] | None = None,
) -> Iterator[None]:
    """Call `renew` every `every` seconds, on a thread of its own, until the block ends. A
    renewal that fails (an error, or False) is tried again within a couple of seconds, well
    before the lease can lapse; `on_exit` runs on that thread when it ends (to close what it
    opened)."""
    done = threading.Event()

    def keep() -> None:
        wait = every
        try:
            while not done.wait(wait):
                try:
                    renewed = renew()
                except Exception:
                    log.exception("lease.renewal_failed", name=name)
                    renewed = False
                wait = every if renewed else min(every / 4, 2.0)
        finally:
            if on_exit is not None:
                on_exit()

    renewer = threading.Thread(target=keep, name=f"renew-{name}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


class NamedLeases:
    def __init__(
        self,
        database: Database,
        *,
        owner: str,
        seconds: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.owner = owner
        self.seconds = seconds
        self.now = now

    def take(self, name: str, seconds: float | None = None, *, again: bool = False) -> bool:
        """Hold `name` until `seconds` (default: one lease) from now, if nobody holds it (never
        held, released, or lapsed), nor this owner's other threads; with `again`, also when this
        owner holds it already (a renewal). One compare-and-set: of processes (or threads)
        racing for a free name, one wins."""
        now = self.now()
        until = now + (self.seconds if seconds is None else seconds)
        mine = self.owner if again else None
        with self.database.immediate() as db:
            return (
                db.execute(
                    "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                    "until = excluded.until WHERE leases.until <= ? OR leases.owner = ?",
                    (name, self.owner, until, now, mine),
                ).rowcount
                == 1
            )

    def renew(self, name: str) -> bool:
        """Extend this owner's lease on `name`; False when it is not held by this owner."""
        with self.database.immediate() as db:
            return (
                db.execute(
                    "UPDATE leases SET until = ? WHERE name = ? AND owner = ?",
                    (self.now() + self.seconds, name, self.owner),
                ).rowcount
                == 1
            )

    def release(self, name: str) -> None:
        with self.database.immediate() as db:
            db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, self.owner))

    def held(self, name: str) -> bool:
        """Someone (this owner or another) holds `name` now."""
        row = self.database.execute(
            "SELECT 1 FROM leases WHERE name = ? AND until > ?", (name, self.now())
        ).fetchone()
        return row is not None

    @contextmanager
    def kept(self, name: str) -> Iterator[None]:
        """Renew the lease on `name` every third of its length until the block ends."""
        with renewing(lambda: self.renew(name), self.seconds / 3, name, self.database.close_thread):
            yield

    def purge(self) -> int:
        """Forget lapsed leases (housekeeping)."""
        with self.database.immediate() as db:
            return db.execute("DELETE FROM leases WHERE until <= ?", (self.now(),)).rowcount
