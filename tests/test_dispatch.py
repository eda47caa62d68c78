from __future__ import annotations

import threading
import time

from bot.dispatch import OrderedPool


def test_messages_of_one_thread_run_in_order_while_threads_run_in_parallel():
    seen: list[tuple[str, int]] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def handle(item: tuple[str, int]) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            seen.append(item)
            running -= 1

    pool = OrderedPool(handle, key=lambda item: item[0], workers=4)
    for n in range(20):
        for thread in "abcdefgh":
            pool.submit((thread, n))
    pool.shutdown(wait=True)

    assert len(seen) == 160  # nothing refused, nothing lost
    for thread in "abcdefgh":
        assert [n for t, n in seen if t == thread] == list(range(20))
    assert most == 4


def test_a_failing_message_does_not_stop_its_thread():
    done = []

    def handle(n: int) -> None:
        if n == 1:
            raise RuntimeError("boom")
        done.append(n)

    pool = OrderedPool(handle, key=lambda n: "same", workers=2)
    for n in range(3):
        pool.submit(n)
    pool.shutdown(wait=True)
    assert done == [0, 2]
