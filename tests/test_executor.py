from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from approvals import AlreadyDecided, Executor
from bot.hr.client import HRClient
from tests.test_store import new_action

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


def test_an_approved_action_runs_once_with_an_idempotency_key(actions, hr_client, hr_sandbox):
    action = new_action(actions)
    actions.approve(action.id, "U0BOB")
    executor = Executor(actions, hr_client)

    done = executor.run(action.id, action.request_hash)
    assert done.status == "succeeded" and done.hr_status == 201
    with pytest.raises(AlreadyDecided):
        executor.run(action.id, action.request_hash)
    (sent,) = hr_sandbox.writes_seen()
    assert sent.headers["Idempotency-Key"] == actions.get(action.id).idempotency_key


def test_a_pending_or_rejected_action_never_runs(actions, hr_client, hr_sandbox):
    executor = Executor(actions, hr_client)
    pending = new_action(actions)
    rejected = new_action(actions)
    actions.reject(rejected.id, "U0BOB")
    for action in (pending, rejected):
        with pytest.raises(AlreadyDecided):
            executor.run(action.id, action.request_hash)
    assert hr_sandbox.seen == []


def test_concurrent_runs_send_one_request(actions, hr_client, hr_sandbox):
    action = new_action(actions, method="DELETE", path="/api/users/4", body=None)
    actions.approve(action.id, "U0BOB")
    executor = Executor(actions, hr_client)
    barrier = threading.Barrier(16)

    def run() -> None:
        barrier.wait()
        with contextlib.suppress(AlreadyDecided):
            executor.run(action.id, action.request_hash)

    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(hr_sandbox.writes_seen()) == 1
    assert actions.get(action.id).hr_status == 204


def test_a_hash_other_than_the_signed_one_is_refused(actions, hr_client, hr_sandbox):
    action = new_action(actions)
    actions.approve(action.id, "U0BOB")
    done = Executor(actions, hr_client).run(action.id, "0" * 64)
    assert done.status == "failed" and "does not match" in done.error
    assert hr_sandbox.seen == []


def test_a_row_changed_after_approval_is_refused(actions, hr_client, hr_sandbox):
    action = new_action(actions)
    actions.approve(action.id, "U0BOB")
    actions.database.execute(
        "UPDATE actions SET body = ? WHERE id = ?",
        ('{"name":"Eve Hacker","job":"admin"}', action.id),
    )
    done = Executor(actions, hr_client).run(action.id, action.request_hash)
    assert done.status == "failed" and "does not match" in done.error
    assert hr_sandbox.seen == []


def test_an_hr_error_answer_is_a_failure_with_its_status(actions, hr_client):
    action = new_action(actions, method="DELETE", path="/api/users/999", body=None)
    actions.approve(action.id, "U0BOB")
    done = Executor(actions, hr_client).run(action.id, action.request_hash)
    assert (done.status, done.hr_status) == ("failed", 404)
    assert done.error == "HR API answered 404"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_sent_when_the_hr_api_is_down_is_a_plain_failure(actions):
    action = new_action(actions)
    actions.approve(action.id, "U0BOB")
    client = HRClient(f"http://127.0.0.1:{free_port()}")
    done = Executor(actions, client).run(action.id, action.request_hash)
    assert done.status == "failed" and "could not reach" in done.error


def test_a_lost_answer_after_sending_is_unknown_not_retried(actions):
    """The server takes the request and hangs up without answering: it may have acted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received = []

    def swallow() -> None:
        conn, _ = listener.accept()
        received.append(conn.recv(65536))
        conn.close()

    thread = threading.Thread(target=swallow)
    thread.start()
    action = new_action(actions)
    actions.approve(action.id, "U0BOB")
    client = HRClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=(2, 2))
    done = Executor(actions, client).run(action.id, action.request_hash)
    thread.join()
    listener.close()
    assert received and received[0].startswith(b"POST /api/users")
    assert done.status == "unknown"
    with pytest.raises(AlreadyDecided):
        Executor(actions, client).run(action.id, action.request_hash)


def test_idempotency_keys_are_unique_across_databases(tmp_path, hr_sandbox):
    # A reset database (or a second deployment) numbers its actions from 1 again. With the bare
    # action number as the key, the HR API replayed the old answer and nothing changed.
    from approvals import MIGRATIONS, ActionStore
    from infra.db import open_database

    sent_keys = []
    for n, job in enumerate(["analyst", "staff analyst"]):
        database = open_database(tmp_path / f"bot{n}.sqlite3", MIGRATIONS)
        store = ActionStore(database)
        action = new_action(store, method="PATCH", path="/api/users/9", body={"job": job})
        assert action.id == 1
        store.approve(action.id, "U0BOB")
        client = HRClient(hr_sandbox.url)
        try:
            done = Executor(store, client).run(action.id, action.request_hash)
        finally:
            client.close()
            database.close()
        assert done.status == "succeeded"
        sent_keys.append(hr_sandbox.writes_seen()[-1].headers["Idempotency-Key"])
    assert sent_keys[0] != sent_keys[1]
    assert hr_sandbox.directory.get(9)["job"] == "staff analyst"  # the second change happened
