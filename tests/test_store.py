from __future__ import annotations

import itertools
import sqlite3
import threading

import psycopg
import pytest

from approvals import (
    MIGRATIONS,
    STATES,
    TERMINAL,
    TRANSITIONS,
    ActionExpired,
    ActionNotFound,
    ActionStore,
    AlreadyDecided,
    audit,
)
from approvals.records import TooManyPending
from approvals.slack.card_copies import CardCopies
from infra.db import open_database
from tests.fakes import Clock, at_once, drop_audit_guards

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


def new_action(store: ActionStore, **overrides):
    values = dict(
        requester="U0ALICE",
        method="POST",
        path="/api/users",
        body={"name": "Neo Anderson", "job": "engineer"},
        ttl_seconds=3600,
        channel="C0HR",
        thread_ts="1.1",
    )
    values.update(overrides)
    return store.create(**values)


def test_a_new_action_is_pending_with_its_request_hash(actions):
    action = new_action(actions)
    assert action.status == "pending"
    assert action.hash_matches()
    assert action.expires_at == pytest.approx(action.created_at + 3600)
    assert actions.get(action.id) == action


def test_only_writes_can_be_held(actions):
    with pytest.raises(ValueError, match="only writes"):
        new_action(actions, method="GET")


def test_approve_then_a_second_decision_is_refused_with_who_decided(actions):
    action = new_action(actions)
    approved = actions.approve(action.id, "U0BOB")
    assert approved.status == "approved" and approved.decided_by == "U0BOB"
    with pytest.raises(AlreadyDecided) as refused:
        actions.reject(action.id, "U0CAROL", "no")
    assert refused.value.action.decided_by == "U0BOB"
    assert actions.get(action.id).status == "approved"


def test_an_expired_action_cannot_be_approved_and_the_sweep_marks_it(database):
    clock = Clock(start=1_000_000.0)
    store = ActionStore(database, now=clock)
    action = new_action(store, ttl_seconds=60)
    with pytest.raises(AlreadyDecided):
        store.expire(action.id)  # not yet due
    clock.advance(61)
    with pytest.raises(ActionExpired):
        store.approve(action.id, "U0BOB")
    assert store.expire(action.id).status == "expired"


def test_only_the_requester_can_withdraw(actions):
    action = new_action(actions)
    with pytest.raises(AlreadyDecided):
        actions.withdraw(action.id, "U0MALLORY")
    assert actions.withdraw(action.id, "U0ALICE").status == "withdrawn"


def test_unknown_action(actions):
    with pytest.raises(ActionNotFound):
        actions.approve(999, "U0BOB")


def test_transitions_outside_the_state_machine_are_bugs(actions):
    action = new_action(actions)
    with pytest.raises(ValueError, match="no transition from pending to succeeded"):
        actions._transition(action.id, "pending", "succeeded", event="x")


def test_terminal_states_have_no_way_out_and_every_target_is_a_known_state():
    assert not TERMINAL & set(TRANSITIONS)
    assert {target for targets in TRANSITIONS.values() for target in targets} <= STATES


def test_sixteen_threads_deciding_at_once_give_exactly_one_winner(actions):
    action = new_action(actions)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def decide(n: int) -> None:
        barrier.wait()
        try:
            if n % 2:
                actions.approve(action.id, f"U0APPROVER{n}")
            else:
                actions.reject(action.id, f"U0APPROVER{n}")
            result = "won"
        except AlreadyDecided:
            result = "lost"
        except BaseException as e:  # "database is locked" would land here
            with lock:
                errors.append(e)
            return
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(outcomes) == ["lost"] * 15 + ["won"]
    final = actions.get(action.id)
    decisions = [
        e for e in audit.events(actions.database, action.id) if e.event in ("approved", "rejected")
    ]
    assert len(decisions) == 1 and decisions[0].actor == final.decided_by


def test_cards_are_remembered_per_action(actions):
    action = new_action(actions)
    copies = CardCopies(actions.database)
    copies.add(action.id, "C0APPROVALS", "100.1")
    copies.add(action.id, "D0BOB", "100.2")
    assert [(c.channel, c.ts) for c in copies.of(action.id)] == [
        ("C0APPROVALS", "100.1"),
        ("D0BOB", "100.2"),
    ]


def test_every_change_is_audited_in_a_verifiable_chain(actions):
    action = new_action(actions)
    CardCopies(actions.database).add(action.id, "C0APPROVALS", "100.1")
    actions.approve(action.id, "U0BOB")
    actions.record(
        "click_refused", action_id=action.id, actor="U0EVE", detail={"why": "not an approver"}
    )
    db = actions.database
    assert [e.event for e in audit.events(db, action.id)] == [
        "requested",
        "card_posted",
        "approved",
        "click_refused",
    ]
    requested = audit.events(db, action.id)[0]
    assert requested.detail["request_hash"] == action.request_hash
    assert "Neo" not in str(requested.detail)  # no personal data copied into the audit
    assert audit.first_broken_row(db) is None


def test_the_audit_is_append_only_and_tampering_is_detected(actions):
    new_action(actions)
    new_action(actions)
    db = actions.database
    refused = (sqlite3.IntegrityError, psycopg.errors.RaiseException)
    with pytest.raises(refused, match="append-only"):
        db.execute("UPDATE audit SET actor = 'U0EVE' WHERE id = 1")
    with pytest.raises(refused, match="append-only"):
        db.execute("DELETE FROM audit WHERE id = 1")
    drop_audit_guards(db)  # an attacker with the database can do this
    db.execute("UPDATE audit SET actor = 'U0EVE' WHERE id = 1")
    assert audit.first_broken_row(db) == 1


def test_audit_append_outside_a_transaction_is_refused(database):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.append(database, "x")


def test_sixteen_concurrent_requests_never_overshoot_the_pending_cap(actions):
    # Counting, reading the HR record and inserting were once separate steps: 16 concurrent
    # messages left 23 pending actions against a cap of 10.
    barrier = threading.Barrier(16)
    created, refused, errors = [], [], []
    lock = threading.Lock()

    def ask(n: int) -> None:
        barrier.wait()
        try:
            action = new_action(
                actions,
                path=f"/api/users/{n + 1}",
                method="DELETE",
                body=None,
                max_pending_per_requester=10,
            )
            outcome, item = created, action.id
        except TooManyPending as e:
            outcome, item = refused, e.scope
        except BaseException as e:
            outcome, item = errors, e
        with lock:
            outcome.append(item)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(created) == 10 and refused == ["requester"] * 6
    assert len(actions.in_states("pending")) == 10


def test_the_cap_on_everyone_s_pending_actions_holds_too(actions):
    for n in range(3):
        new_action(actions, requester=f"U0REP{n}", max_pending_total=3)
    with pytest.raises(TooManyPending) as refused:
        new_action(actions, requester="U0REP9", max_pending_total=3)
    assert refused.value.scope == "total"
    actions.reject(1, "U0BOB")  # a decided action no longer counts
    assert new_action(actions, requester="U0REP9", max_pending_total=3).status == "pending"


def test_after_retention_the_audit_hash_cannot_be_used_to_guess_the_body(actions):
    from approvals import request_hash
    from approvals.upkeep import Upkeep

    clock = Clock(start=1_000_000.0)
    store = ActionStore(actions.database, now=clock)
    action = new_action(store, method="PATCH", path="/api/users/2", body={"salary": 87250})
    store.reject(action.id, "U0BOB")
    (requested,) = [e for e in audit.events(store.database, action.id) if e.event == "requested"]
    salted = requested.detail["request_hash"]
    assert salted == request_hash("PATCH", "/api/users/2", {"salary": 87250}, action.text_salt)
    clock.advance(31 * 86400)
    Upkeep(store).forget_personal_data(30)
    assert store.get(action.id).text_salt is None and store.get(action.id).body is None
    guesses = {request_hash("PATCH", "/api/users/2", {"salary": n}) for n in range(87000, 87500)}
    assert salted not in guesses  # without the deleted salt, trying values finds nothing


def test_the_quoted_words_are_kept_verbatim_and_dropped_with_the_other_personal_data(actions):
    from approvals.upkeep import Upkeep

    clock = Clock(start=1_000_000.0)
    store = ActionStore(actions.database, now=clock)
    said = (("U0DANA", "raise Bob's pay\n  to 90k <@U0X>"), ("U0CAROL", "agreed"))
    action = new_action(store, method="PATCH", path="/api/users/2", body={"salary": 1}, words=said)
    assert store.get(action.id).words == said
    store.reject(action.id, "U0BOB")
    clock.advance(31 * 86400)
    Upkeep(store).forget_personal_data(30)
    assert store.get(action.id).words == ()


def test_replicas_writing_at_once_keep_one_linear_audit_chain_and_the_pending_cap(
    database_location, database
):
    # Four replicas (each with connections of its own, as processes have) ask for eight
    # actions each at once, against a cap of ten pending per person; then each decides what
    # it made. The cap holds across all four, and every audit row chains to the one before.
    errors: list[BaseException] = []
    made: list[int] = []
    capped: list[str] = []

    def replica(n: int, barrier: threading.Barrier) -> None:
        own = open_database(database_location, MIGRATIONS)
        store = ActionStore(own)
        mine = []
        try:
            barrier.wait()
            for i in range(8):
                try:
                    path = f"/api/users/{n}{i}"
                    mine.append(new_action(store, path=path, max_pending_per_requester=10).id)
                except TooManyPending as e:
                    capped.append(e.scope)
            made.extend(mine)
            barrier.wait()
            for i, action_id in enumerate(mine):
                if i % 2:
                    store.approve(action_id, f"U0APPROVER{n}")
                else:
                    store.withdraw(action_id, "U0ALICE")
        except BaseException as e:
            errors.append(e)
        finally:
            own.close()

    at_once(4, replica)
    assert errors == []
    assert len(made) == 10 and capped == ["requester"] * 22
    assert audit.first_broken_row(database) is None
    rows = audit.events(database)
    assert len(rows) == 2 * 10
    assert all(row.prev_hash == before.hash for before, row in itertools.pairwise(rows))
