"""A bounded worker pool for model work that keeps each Slack thread's messages in order."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")


class OrderedPool(Generic[T]):
    """Runs `handler` on at most `workers` items at once; items with the same key run one at a
    time, in the order submitted. Submitting never blocks and never refuses."""

    def __init__(
        self,
        handler: Callable[[T], None],
        key: Callable[[T], Hashable],
        workers: int,
        name: str = "ordered",
    ):
        self._handler = handler
        self._key = key
        self._queues: dict[Hashable, deque[T]] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def submit(self, item: T) -> None:
        key = self._key(item)
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None:  # a worker is on this key already and will get to it
                queue.append(item)
                return
            self._queues[key] = deque([item])
        self._executor.submit(self._drain, key)

    def _drain(self, key: Hashable) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                item = queue.popleft()
            try:
                self._handler(item)
            except Exception:  # one bad message must not stop its thread's queue
                log.exception("pool.handler_failed", key=str(key))

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait)
