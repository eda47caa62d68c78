"""Executing actions belong to the process running them: another process (a replica, or this
one restarted) declares one `unknown` only once its owner's lease has lapsed."""

from __future__ import annotations

import time

import pytest

from approvals import ActionStore, Executor
from approvals.leases import Leases
from approvals.sweeper import Sweeper
from approvals.upkeep import Upkeep
from tests.fakes import Clock, CountingHR, QuietAnnouncer, held_delete
from tests.slack_harness import HR_CHANNEL
from tests.test_policy import ask_for

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


@pytest.fixture
def clock() -> Clock:
    return Clock(start=1_800_000_000.0)


def replica(database, clock, owner: str) -> tuple[ActionStore, Sweeper, QuietAnnouncer]:
    store = ActionStore(database, now=clock)
    leases = Leases(database, owner=owner, seconds=120, now=clock)
    executor = Executor(store, CountingHR(), leases=leases)
    announcer = QuietAnnouncer()
    return store, Sweeper(store, Upkeep(store), announcer, executor), announcer


def running(store: ActionStore, leases_owner: str, clock: Clock):
    action = held_delete(store)
    store.approve(action.id, "U0BOB")
    lease = Leases(store.database, owner=leases_owner, seconds=120, now=clock).terms()
    return store.start(action.id, lease=lease)


def test_a_starting_replica_never_touches_an_action_another_is_running(database, clock):
    first, _, _ = replica(database, clock, "replica-a")
    action = running(first, "replica-a", clock)
    _, second, told = replica(database, clock, "replica-b")

    assert second.recover() == {"ran": 0, "unknown": 0}
    assert second.sweep()["unknown"] == 0
    assert first.get(action.id).status == "executing" and told.finished == []


def test_an_action_whose_owner_stopped_renewing_becomes_unknown_once(database, clock):
    first, _, _ = replica(database, clock, "replica-a")
    action = running(first, "replica-a", clock)
    _, second, told = replica(database, clock, "replica-b")
    clock.advance(121)

    assert second.sweep()["unknown"] == 1
    assert second.sweep()["unknown"] == 0
    assert first.get(action.id).status == "unknown" and told.finished == [action.id]


def test_a_renewal_just_in_time_keeps_the_action_its_owners(database, clock):
    first, _, _ = replica(database, clock, "replica-a")
    action = running(first, "replica-a", clock)
    mine = Leases(database, owner="replica-a", seconds=120, now=clock)
    theirs = Leases(database, owner="replica-b", seconds=120, now=clock)
    clock.advance(100)

    assert mine.renew(action.id) and not theirs.renew(action.id)
    clock.advance(100)  # 200 s after the start, 100 s after the renewal
    _, second, _ = replica(database, clock, "replica-b")
    assert second.sweep()["unknown"] == 0


def test_the_running_process_renews_its_lease_while_it_sends(database):
    store = ActionStore(database)
    leases = Leases(database, owner="me", seconds=0.3)
    action = held_delete(store)
    store.approve(action.id, "U0BOB")
    started = store.start(action.id, lease=leases.terms())

    with leases.kept(action.id):
        deadline = time.monotonic() + 5
        while store.get(action.id).lease_until <= started.lease_until:
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)


def test_after_a_restart_the_old_process_work_becomes_unknown_only_once_its_lease_lapses(stack):
    event = ask_for(stack, "DELETE", "/api/users/9")
    stack.approval_cards()
    actions = stack.app.actions
    actions.approve(1, "U0BOB")
    actions.start(1, lease=stack.app.core.executor.leases.terms())  # then this process dies
    stack.restart()  # a new process: a new owner

    stack.housekeep()
    assert stack.app.actions.get(1).status == "executing"  # maybe still running elsewhere
    stack.clock.advance(121)
    stack.housekeep()

    outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
    assert "Outcome unknown" in outcome.text
    assert stack.hr.writes_seen() == []


def test_an_action_approved_by_a_process_that_died_before_starting_it_runs_once(database, clock):
    first, _, _ = replica(database, clock, "replica-a")
    action = held_delete(first)
    first.approve(action.id, "U0BOB")  # then replica-a died, before starting it
    _, second, told = replica(database, clock, "replica-b")
    hr = second.executor.transport

    assert second.recover()["ran"] == 0  # a live process starts its own at once: not ours yet
    assert second.sweep()["ran"] == 0 and not hr.sent
    clock.advance(121)
    assert second.sweep()["ran"] == 1
    assert second.sweep()["ran"] == 0
    assert sum(hr.sent.values()) == 1 and first.get(action.id).status == "succeeded"
    assert told.finished == [action.id]
