from __future__ import annotations

import pytest

from approvals import ActionStore, Executor, PendingAction, audit
from approvals.slack.card_copies import CardCopies
from approvals.sweeper import Escalation, Sweeper
from approvals.upkeep import Upkeep
from tests.fakes import Clock, CountingHR, QuietAnnouncer, held_delete

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


class RecordingAnnouncer(QuietAnnouncer):
    """QuietAnnouncer that also records posts and messages to approvers, and says a copy is
    missing, as the real one would with one approval channel, from the remembered copies."""

    def __init__(self, copies: CardCopies) -> None:
        super().__init__()
        self.copies = copies
        self.posted: list[int] = []
        self.to_approvers: list[tuple[int, str]] = []

    def post(self, action: PendingAction) -> None:
        self.posted.append(action.id)

    def unposted(self, action: PendingAction) -> bool:
        return not {"approver", "requester"} <= self.copies.kinds(action.id)

    def tell_approvers(
        self, action: PendingAction, text: str, in_channel: str | None = None
    ) -> None:
        self.to_approvers.append((action.id, text))


@pytest.fixture
def clock() -> Clock:
    return Clock(start=1_800_000_000.0)


@pytest.fixture
def store(database, clock) -> ActionStore:
    return ActionStore(database, now=clock)


@pytest.fixture
def copies(database) -> CardCopies:
    return CardCopies(database)


@pytest.fixture
def announcer(copies) -> RecordingAnnouncer:
    return RecordingAnnouncer(copies)


@pytest.fixture
def hr() -> CountingHR:
    return CountingHR()


@pytest.fixture
def sweeper(store, announcer, hr) -> Sweeper:
    return Sweeper(store, Upkeep(store), announcer, Executor(store, hr))


def new_action(store: ActionStore, **overrides) -> PendingAction:
    return held_delete(store, **overrides)


def events(store: ActionStore, action: PendingAction) -> list[str]:
    return [event.event for event in audit.events(store.database, action.id)]


def test_sweep_expires_due_actions_and_leaves_fresh_ones(sweeper, store, clock, announcer):
    due = new_action(store, ttl_seconds=600)
    fresh = new_action(store, ttl_seconds=3600)
    clock.advance(600)

    assert sweeper.sweep()["expired"] == 1
    assert store.get(due.id).status == "expired"
    assert store.get(fresh.id).status == "pending"
    assert announcer.finished == [due.id]

    assert sweeper.sweep()["expired"] == 0
    assert announcer.finished == [due.id]


def test_sweep_leaves_decided_actions_alone_after_their_window(sweeper, store, clock, announcer):
    approved = new_action(store, ttl_seconds=600)
    store.approve(approved.id, "U0BOB")
    clock.advance(601)

    assert sweeper.sweep() == {"expired": 0, "reminded": 0, "reposted": 0, "unknown": 0, "ran": 0}
    assert store.get(approved.id).status == "approved"
    assert announcer.finished == []


def test_approvers_are_reminded_once_at_80_percent_of_the_window(sweeper, store, clock, announcer):
    action = new_action(store, ttl_seconds=1000)
    clock.advance(799)
    assert sweeper.sweep()["reminded"] == 0
    assert announcer.to_approvers == []

    clock.advance(1)
    assert sweeper.sweep()["reminded"] == 1
    ((reminded_id, text),) = announcer.to_approvers
    assert reminded_id == action.id
    assert text.startswith(f"Reminder: action #{action.id}")

    clock.advance(100)
    assert sweeper.sweep()["reminded"] == 0
    assert len(announcer.to_approvers) == 1
    assert events(store, action).count("reminder") == 1
    assert store.get(action.id).reminded_at == pytest.approx(1_800_000_800.0)


def test_an_action_past_its_window_is_expired_not_reminded(sweeper, store, clock, announcer):
    action = new_action(store, ttl_seconds=1000)
    clock.advance(1000)

    assert sweeper.sweep()["reminded"] == 0
    assert announcer.to_approvers == []
    assert announcer.finished == [action.id]


def test_a_decided_action_is_not_reminded(sweeper, store, clock, announcer):
    action = new_action(store, ttl_seconds=1000)
    store.reject(action.id, "U0BOB")
    clock.advance(900)

    assert sweeper.sweep()["reminded"] == 0
    assert announcer.to_approvers == []


def test_repost_missing_posts_only_old_pending_actions_whose_card_or_notice_is_missing(
    sweeper, store, clock, copies, announcer
):
    nothing_posted = new_action(store)
    fully_posted = new_action(store)
    copies.add(fully_posted.id, "C0APPROVALS", "1.2", "approver")
    copies.add(fully_posted.id, "C0HR", "1.3", "requester")
    notice_missing = new_action(store)
    copies.add(notice_missing.id, "C0APPROVALS", "1.4", "approver")
    rejected = new_action(store)
    store.reject(rejected.id, "U0BOB")
    clock.advance(30)
    too_recent = new_action(store)
    clock.advance(31)

    assert sweeper.repost_missing() == 2
    assert announcer.posted == [nothing_posted.id, notice_missing.id]
    assert too_recent.id not in announcer.posted

    clock.advance(30)
    announcer.posted.clear()
    assert sweeper.repost_missing() == 3
    assert announcer.posted == [nothing_posted.id, notice_missing.id, too_recent.id]


def test_recover_runs_an_approved_action_that_never_started_once(sweeper, store, hr, announcer):
    action = new_action(store)
    store.approve(action.id, "U0BOB")

    assert sweeper.recover() == {"ran": 1, "unknown": 0}
    assert store.get(action.id).status == "succeeded"
    assert hr.sent == {action.idempotency_key: 1}
    assert announcer.finished == [action.id]
    assert "recovery_run" in events(store, action)

    assert sweeper.recover() == {"ran": 0, "unknown": 0}
    assert hr.sent == {action.idempotency_key: 1}
    assert announcer.finished == [action.id]


def test_recover_marks_an_interrupted_action_unknown_and_never_sends_it(
    sweeper, store, hr, announcer
):
    action = new_action(store)
    store.approve(action.id, "U0BOB")
    store.start(action.id)

    assert sweeper.recover() == {"ran": 0, "unknown": 1}
    done = store.get(action.id)
    assert done.status == "unknown"
    assert "may or may not have arrived" in done.error
    assert hr.sent == {}
    assert events(store, action)[-1] == "recovered_unknown"
    assert announcer.finished == [action.id]
    ((told_id, text),) = announcer.to_approvers
    assert told_id == action.id and "will not be retried" in text

    assert sweeper.recover() == {"ran": 0, "unknown": 0}
    assert hr.sent == {}


def test_recover_leaves_pending_and_finished_actions_alone(sweeper, store, hr, announcer):
    pending = new_action(store)
    finished = new_action(store)
    store.approve(finished.id, "U0BOB")
    store.start(finished.id)
    store.finish(finished.id, hr_status=204, hr_body=None)

    assert sweeper.recover() == {"ran": 0, "unknown": 0}
    assert store.get(pending.id).status == "pending"
    assert store.get(finished.id).status == "succeeded"
    assert hr.sent == {}
    assert announcer.finished == []


def test_a_request_pending_past_the_escalation_delay_goes_to_the_group_once(
    store, announcer, hr, clock
):
    escalation = Escalation(1800, "S0ESCALATE", lambda: ["U0GINA"])
    sweeper = Sweeper(store, Upkeep(store), announcer, Executor(store, hr), escalation)
    waiting, decided = new_action(store), new_action(store)
    store.approve(decided.id, "U0BOB")
    clock.advance(1799)
    assert sweeper.sweep()["escalated"] == 0
    clock.advance(1)
    assert sweeper.sweep()["escalated"] == 1
    assert sweeper.sweep()["escalated"] == 0  # once
    assert announcer.escalated == [(waiting.id, ["U0GINA"])]
    assert store.get(waiting.id).escalated_at == clock()
    (row,) = [e for e in audit.events(store.database, waiting.id) if e.event == "escalated"]
    assert row.detail == {"to": "S0ESCALATE"}
    assert "escalated" not in events(store, decided)
    clock.advance(0.8 * 3600 - 1800)  # the reminder to the approvers still comes
    assert sweeper.sweep()["reminded"] == 1
