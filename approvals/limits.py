"""Per-person limits kept in memory: a sliding window of recent events for each key. Both
sides use it (messages per minute, refusal notices), so it lives with the lower package."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable


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
