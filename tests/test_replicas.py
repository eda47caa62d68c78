"""Chaos: two bot processes on one PostgreSQL database behind one Slack app. Clicks race across
replicas, a replica is killed (-9) holding messages, another while it sends an approved write."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from approvals.slack.cards import APPROVE_ACTION_ID
from sandbox.slack_requests import HR_CHANNEL, mention_event
from tests.fakes import at_once
from tests.replicas import PROMOTION, Replicas

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def replicas(tmp_path, postgres) -> Iterator[Replicas]:
    running = Replicas(tmp_path, postgres.fresh_database()).start()
    yield running
    running.close()


def action_rows(replicas: Replicas) -> list[tuple]:
    return replicas.query("SELECT id, status, owner FROM actions ORDER BY id")


def test_sixteen_approve_clicks_spread_over_two_replicas_make_one_hr_write(replicas):
    replicas.send_event(0, mention_event("U0DANA", "promote Janet to team lead"))
    card = replicas.approval_card()
    approvers = ["U0BOB", "U0CAROL", "U0ALICE", "U0GINA"]
    statuses = []

    def click(n: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        statuses.append(
            replicas.click(n % 2, approvers[n % 4], card, APPROVE_ACTION_ID).status_code
        )

    at_once(16, click)
    assert statuses == [200] * 16  # every click acknowledged, whichever replica took it
    replicas.wait_for(
        lambda: action_rows(replicas)[0][1] == "succeeded", what="the write to succeed"
    )
    replicas.stop(0)
    replicas.stop(1)  # both finished all the work they took: nothing more can happen
    writes = replicas.hr.writes_seen()
    assert [(w.method, w.path) for w in writes] == [("PATCH", "/api/users/2")]
    executed = replicas.query("SELECT COUNT(*) FROM audit WHERE event = 'executed'")
    assert executed == [(1,)]


def test_messages_held_by_a_killed_replica_are_answered_once_by_the_other(replicas):
    replicas.hang_model()  # replica 0 takes the messages, then hangs on the model
    sent = [mention_event("U0DANA", f"question {n}") for n in range(3)]
    sent.append(mention_event("U0ALICE", "question from Alice"))
    for n, event in enumerate(sent):
        assert replicas.send_event(0, event, event_id=f"EvHELD{n}").status_code == 200
    replicas.wait_for(
        lambda: (
            replicas.model.requests
            and len(replicas.query("SELECT 1 FROM inbox WHERE answered_at IS NULL")) == 4
        ),
        what="replica 0 to hold all four messages",
    )
    # Retries of the same events reach the survivor while the first holder still lives: taken
    # once already, they are dropped there.
    for n, event in enumerate(sent):
        assert replicas.send_event(1, event, event_id=f"EvHELD{n}").status_code == 200
    replicas.kill(0)
    replicas.free_model()

    def answered():
        threads = [replicas.bot_replies(HR_CHANNEL, e["ts"]) for e in sent]
        return all(any(t.startswith("Answer to") for t in thread) for thread in threads) and threads

    replicas.wait_for(answered, what="the survivor to answer all four")
    replicas.stop(1)
    for event in sent:
        answers = [t for t in replicas.bot_replies(HR_CHANNEL, event["ts"]) if "Answer to" in t]
        assert len(answers) == 1 and answers[0].endswith(event["text"].split()[-1]), answers
    assert replicas.query("SELECT COUNT(*) FROM inbox WHERE answered_at IS NULL") == [(0,)]


def test_a_write_whose_replica_was_killed_mid_send_becomes_unknown_and_is_never_resent(replicas):
    replicas.send_event(0, mention_event("U0DANA", "promote Janet to team lead"))
    card = replicas.approval_card()
    replicas.hr.hold_requests(writes_only=True)  # the write reaches the HR API, then stalls
    assert replicas.click(0, "U0BOB", card, APPROVE_ACTION_ID).status_code == 200
    replicas.hr.wait_for_held(timeout=30)
    (action_id, status, owner), *_ = action_rows(replicas)
    assert status == "executing" and owner
    replicas.kill(0)
    # The survivor sees it executing and leaves it alone while the lease may still be alive,
    # then, once it lapsed, settles it as unknown and tells everyone.
    replicas.wait_for(
        lambda: action_rows(replicas)[0][1] == "unknown", timeout=60, what="outcome unknown"
    )
    thread = replicas.wait_for(
        lambda: [m for m in list(replicas.slack.messages.values()) if "unknown" in m.text],
        what="approvers told",
    )
    assert thread
    replicas.hr.release_requests()  # the stalled write lands now: it was sent once
    replicas.stop(1)
    writes = replicas.hr.writes_seen()
    assert [(w.method, w.path, json.loads(w.body)) for w in writes] == [
        ("PATCH", "/api/users/2", PROMOTION)
    ]
    events = [
        row[0]
        for row in replicas.query(
            "SELECT event FROM audit WHERE action_id = %s ORDER BY id", (action_id,)
        )
    ]
    assert events.count("executing") == 1 and "recovered_unknown" in events
    assert "executed" not in events


def test_socket_mode_replicas_answer_each_event_once_in_order_retries_included(tmp_path, postgres):
    # Slack spreads an app's events over its Socket Mode connections, one per replica here,
    # and retries an event on another connection when the first was slow to acknowledge.
    replicas = Replicas(tmp_path, postgres.fresh_database(), socket_mode=True).start()
    try:
        thread = mention_event("U0DANA", "question 0")
        sent = [thread] + [
            mention_event("U0DANA", f"question {n}", thread_ts=thread["ts"]) for n in (1, 2, 3)
        ]
        for n, event in enumerate(sent):
            replicas.send_envelope(n % 2, event, event_id=f"EvSOCKET{n}")
            replicas.send_envelope((n + 1) % 2, event, event_id=f"EvSOCKET{n}", retry=1)
        replicas.wait_for(
            lambda: len(replicas.bot_replies(HR_CHANNEL, thread["ts"])) >= 4,
            what="four answers in the thread",
        )
        replicas.stop(0)
        replicas.stop(1)
        answers = [
            t for t in replicas.bot_replies(HR_CHANNEL, thread["ts"]) if t.startswith("Answer to")
        ]
        assert [a.rsplit(" ", 1)[-1] for a in answers] == ["0", "1", "2", "3"]
    finally:
        replicas.close()
