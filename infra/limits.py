"""Per-person limits: a sliding window of recent events for each key, kept in memory (one
process) or in the database (every replica counts against the same limit). Both sides use them
(messages per minute, refusal notices), so they live with the lower package."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable
from typing import Protocol

from infra.db import Database


class Limit(Protocol):
    """At most so many events per key in a sliding window (RateWindow, SharedRateWindow)."""

    def allow(self, key: str) -> bool: ...

    def forget_idle(self) -> None: ...


class RateWindow:
    """At most `limit` events per key in any `window` seconds. Memory stays bounded by the keys
    seen within the last window once forget_idle() runs (the housekeeper calls it)."""

    def __init__(
        self, limit: int, window: float = 60.0, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.now = now
        self._recent: dict[Hashable, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> bool:
        """Count one event for `key` if it is within the limit; False (and not counted) if not."""
        now = self.now()
        with self._lock:
            recent = self._recent[key]
            while recent and now - recent[0] > self.window:
                recent.popleft()
            if len(recent) >= self.limit:
                return False
            recent.append(now)
            return True

    def forget_idle(self) -> None:
        now = self.now()
        with self._lock:
            idle = [
                k for k, times in self._recent.items() if not times or now - times[-1] > self.window
            ]
            for key in idle:
                del self._recent[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._recent)


class SharedRateWindow:
    """A RateWindow kept in the database under `name`: every process sharing the database
    counts against the same limit, so a person's messages spread over several replicas get no
    more than one process would give them. Keys are strings (Slack user IDs)."""

    def __init__(
        self,
        database: Database,
        name: str,
        limit: int,
        window: float = 60.0,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.name = name
        self.limit = limit
        self.window = window
        self.now = now

    def allow(self, key: str) -> bool:
        """Count one event for `key` if it is within the limit; False (and not counted) if not.
        Counting and adding are one write transaction, so replicas cannot overshoot together."""
        now = self.now()
        with self.database.immediate() as db:
            db.execute(
                "DELETE FROM rate_events WHERE name = ? AND key = ? AND at < ?",
                (self.name, key, now - self.window),
            )
            (count,) = db.execute(
                "SELECT COUNT(*) FROM rate_events WHERE name = ? AND key = ?", (self.name, key)
            ).fetchone()
            if count >= self.limit:
                return False
            db.execute(
                "INSERT INTO rate_events (name, key, at) VALUES (?, ?, ?)", (self.name, key, now)
            )
        return True

    def forget_idle(self) -> None:
        with self.database.immediate() as db:
            db.execute(
                "DELETE FROM rate_events WHERE name = ? AND at < ?",
                (self.name, self.now() - self.window),
            )
