from __future__ import annotations

import threading

import pytest

from infra.dispatch import FairPool


def test_each_owners_items_run_in_order_one_at_a_time_while_owners_run_in_parallel():
    seen: list[tuple[str, int]] = []
    running: dict[str, int] = {}
    most_per_owner = 0
    most = 0
    lock = threading.Lock()
    all_started = threading.Barrier(4)  # four owners really do run at once

    def handle(item: tuple[str, int]) -> None:
        nonlocal most_per_owner, most
        owner, n = item
        with lock:
            running[owner] = running.get(owner, 0) + 1
            most_per_owner = max(most_per_owner, running[owner])
            most = max(most, sum(running.values()))
        if n == 0 and owner in "abcd":
            all_started.wait(5)
        with lock:
            seen.append(item)
            running[owner] -= 1

    pool = FairPool(handle, owner=lambda item: item[0], workers=4, per_owner=100)
    for n in range(20):
        for owner in "abcdefgh":
            assert pool.submit((owner, n))
    pool.shutdown(wait=True)

    assert len(seen) == 160  # nothing refused, nothing lost
    for owner in "abcdefgh":
        assert [n for o, n in seen if o == owner] == list(range(20))
    assert most_per_owner == 1 and most == 4


def test_a_flood_from_one_owner_holds_one_worker_and_others_are_served_meanwhile():
    release = threading.Event()
    order: list[str] = []
    lock = threading.Lock()

    def handle(item: str) -> None:
        if item == "flood-0":
            release.wait(5)  # the flooder's first item is slow
        with lock:
            order.append(item)
        if item == "carol":
            release.set()

    pool = FairPool(handle, owner=lambda item: item.split("-")[0], workers=2, per_owner=50)
    for n in range(50):
        pool.submit(f"flood-{n}")
    pool.submit("bob")
    pool.submit("carol")
    pool.shutdown(wait=True)
    # Bob and Carol were answered while the flooder's first item still ran, on the one other
    # worker; the flood's second item came only after them.
    assert order.index("bob") < order.index("flood-0")
    assert order.index("carol") < order.index("flood-1")
    assert len(order) == 52


def test_an_owner_may_queue_only_so_much():
    started, release = threading.Event(), threading.Event()

    def handle(item: int) -> None:
        started.set()
        release.wait(5)

    pool = FairPool(handle, owner=lambda item: "same", workers=2, per_owner=3)
    assert pool.submit(0)
    assert started.wait(5)  # item 0 is running; it no longer waits in the queue
    assert [pool.submit(n) for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert pool.waiting() == 3
    release.set()
    pool.shutdown(wait=True)


def test_a_failing_item_does_not_stop_its_owners_queue():
    done = []

    def handle(n: int) -> None:
        if n == 1:
            raise RuntimeError("boom")
        done.append(n)

    pool = FairPool(handle, owner=lambda n: "same", workers=2, per_owner=10)
    for n in range(3):
        pool.submit(n)
    pool.shutdown(wait=True)
    assert done == [0, 2]


def test_owners_take_turns_when_workers_are_scarce():
    order: list[str] = []
    gate, all_done = threading.Event(), threading.Event()

    def handle(item: str) -> None:
        if item == "a1":
            gate.wait(5)  # hold the one worker until everything is queued
        order.append(item)
        if len(order) == 5:
            all_done.set()

    pool = FairPool(handle, owner=lambda item: item[0], workers=1, per_owner=10)
    for item in ("a1", "a2", "a3", "b1", "c1"):
        pool.submit(item)
    gate.set()
    assert all_done.wait(5)
    pool.shutdown(wait=True)
    # After each item its owner goes to the back of the line: b and c do not wait for all of a.
    assert order == ["a1", "b1", "c1", "a2", "a3"]


def test_nothing_is_taken_after_shutdown_began():
    pool = FairPool(lambda item: None, owner=lambda item: item, workers=1, per_owner=10)
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="shutting down"):
        pool.submit("late")
    assert pool.waiting() == 0


def test_even_a_system_exit_in_a_handler_does_not_stop_its_owners_queue():
    done = []

    def handle(n: int) -> None:
        if n == 0:
            raise SystemExit("a handler should not do this")
        done.append(n)

    pool = FairPool(handle, owner=lambda n: "same", workers=1, per_owner=10)
    for n in range(3):
        pool.submit(n)
    pool.shutdown(wait=True)
    assert done == [1, 2]
