"""A bounded, fair worker pool: people are served in turn, each person's items one at a time and
in the order they came, so one person's flood never holds more than one worker."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

import structlog

from infra import metrics

log = structlog.get_logger(__name__)
T = TypeVar("T")


class FairPool(Generic[T]):
    """Runs `handler` on at most `workers` items at once. Items are grouped by `owner(item)`:
    an owner's items run one at a time, oldest first, and owners with work waiting take turns
    (after each item its owner goes to the back of the line). An owner may have at most
    `per_owner` items waiting; `submit` refuses more and never blocks."""

    def __init__(
        self,
        handler: Callable[[T], None],
        owner: Callable[[T], Hashable],
        *,
        workers: int,
        per_owner: int,
        name: str = "fair",
    ) -> None:
        self._handler = handler
        self._owner = owner
        self._per_owner = per_owner
        self._name = name
        # Each item with when it was queued (its wait goes into the metrics).
        self._waiting: dict[Hashable, deque[tuple[T, float]]] = {}
        self._busy: set[Hashable] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def submit(self, item: T) -> bool:
        """Queue `item`; False when its owner already has `per_owner` items waiting. Raises
        RuntimeError once shutdown has begun."""
        owner = self._owner(item)
        with self._lock:
            if self._closing:  # not "full": the caller must not treat the item as a flood
                raise RuntimeError("the pool is shutting down")
            queue = self._waiting.setdefault(owner, deque())
            if len(queue) >= self._per_owner:
                return False
            queue.append((item, time.monotonic()))
            metrics.QUEUE_DEPTH.labels(self._name).inc()
            if owner in self._busy or len(queue) > 1:
                return True  # already in line (or running): its turn will come
            self._busy.add(owner)
        self._executor.submit(self._turn, owner)
        return True

    def waiting(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._waiting.values())

    def _turn(self, owner: Hashable) -> None:
        """One item of `owner`'s, then `owner` goes to the back of the line. While shutting
        down (no new turns can be queued) the worker finishes the owner's items itself."""
        while True:
            with self._lock:
                item, queued_at = self._waiting[owner].popleft()
            metrics.QUEUE_DEPTH.labels(self._name).dec()
            metrics.QUEUE_WAIT.labels(self._name).observe(time.monotonic() - queued_at)
            try:
                self._handler(item)
            except BaseException:  # one bad item (even a SystemExit) must not stop its owner
                log.exception("pool.handler_failed", owner=str(owner))
            with self._lock:
                if not self._waiting[owner]:
                    del self._waiting[owner]
                    self._busy.discard(owner)
                    return
                closing = self._closing
            if not closing:
                try:
                    self._executor.submit(self._turn, owner)
                    return
                except RuntimeError:  # shutdown began in between
                    pass

    def shutdown(self, wait: bool = True) -> None:
        """Finish everything queued, then stop (items queued meanwhile still run)."""
        with self._lock:
            self._closing = True
        self._executor.shutdown(wait=wait)
