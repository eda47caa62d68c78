"""The two engines of the SQL layer agree: the same tables and columns, migrations applied once
even by replicas starting together, and PostgreSQL's failures told without credentials."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

import infra.postgres
from approvals import ActionStore, audit
from bot.parts import BOT_MIGRATIONS
from infra.db import DatabaseUnavailable, open_database
from infra.postgres import pyformat
from tests.fakes import at_once
from tests.test_children import free_port

ALL = [*__import__("approvals").MIGRATIONS, *BOT_MIGRATIONS]


def sqlite_columns(database) -> dict[str, set[str]]:
    tables = [
        row["name"]
        for row in database.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row["name"].startswith(("_", "sqlite_"))
    ]
    return {
        table: {row["name"] for row in database.query(f"PRAGMA table_info({table})")}
        for table in tables
    }


def postgres_columns(database) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for row in database.query(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name != 'schema_migrations'"
    ):
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    return columns


def test_both_engines_have_the_same_tables_and_columns(tmp_path, postgres):
    lite = open_database(tmp_path / "x.sqlite3", ALL)
    pg = open_database(postgres.fresh_database(), ALL)
    try:
        # PostgreSQL spells out `rowid` (the order rows came in), which SQLite keeps itself.
        expected = sqlite_columns(lite)
        for table in ("cards", "votes", "inbox"):
            expected[table].add("rowid")
        assert postgres_columns(pg) == expected
    finally:
        lite.close()
        pg.close()


def test_replicas_starting_together_apply_each_migration_once(postgres):
    url = postgres.fresh_database()
    errors = []

    def start(n: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            open_database(url, ALL).close()
        except Exception as e:  # collected: the assertion below names it
            errors.append(e)

    at_once(8, start)
    assert errors == []
    database = open_database(url, ALL)
    try:
        applied = database.query("SELECT component, name FROM schema_migrations")
        assert len(applied) == sum(len(schema.postgres) for schema in ALL)
        assert len({(row["component"], row["name"]) for row in applied}) == len(applied)
    finally:
        database.close()


def test_an_unreachable_postgresql_is_one_clear_error_without_the_password():
    url = f"postgresql://hrbot:hunter2@127.0.0.1:{free_port()}/hrbot"
    with pytest.raises(DatabaseUnavailable, match="cannot connect to PostgreSQL") as error:
        open_database(url, ALL)
    assert f"127.0.0.1:{url.split(':')[-1].split('/')[0]}/hrbot" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    "sql, sent",
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("SELECT '?' || x FROM t WHERE y = ?", "SELECT '?' || x FROM t WHERE y = %s"),
        ("SELECT 5 % 2, '%' FROM t", "SELECT 5 %% 2, '%%' FROM t"),
        ('SELECT "user" FROM inbox WHERE "user" = ?', 'SELECT "user" FROM inbox WHERE "user" = %s'),
    ],
)
def test_placeholders_are_translated_outside_quoted_text_only(sql, sent):
    assert pyformat(sql) == sent


def appends_at_once(url: str, threads: int = 4, each: int = 15) -> None:
    def replica(_: int, barrier: threading.Barrier) -> None:
        own = open_database(url, ALL)
        try:
            store = ActionStore(own)
            barrier.wait()
            for n in range(each):
                store.record("note", action_id=None, actor=None, detail={"n": n})
        finally:
            own.close()

    at_once(threads, replica)


def test_a_server_defaulting_to_repeatable_read_still_gets_one_linear_chain(postgres):
    # Under REPEATABLE READ a transaction's snapshot would predate the write lock it waited
    # for, and chain to a stale last row: every session is pinned to READ COMMITTED.
    url = postgres.fresh_database()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'")
    appends_at_once(url)
    database = open_database(url, ALL)
    try:
        assert audit.head(database).rows == 60
        assert audit.first_broken_row(database) is None
    finally:
        database.close()


def test_a_frozen_process_holding_the_write_lock_does_not_stop_the_others(postgres, monkeypatch):
    monkeypatch.setattr(infra.postgres, "IDLE_IN_TRANSACTION_SECONDS", 1.0)
    url = postgres.fresh_database()
    frozen, other = open_database(url, ALL), open_database(url, ALL)
    holding, thaw = threading.Event(), threading.Event()
    outcome = []

    def freeze() -> None:
        try:
            with frozen.immediate():
                holding.set()
                thaw.wait(30)  # the process stopped (SIGSTOP, a host gone) inside its write
        except psycopg.Error as e:
            outcome.append(type(e).__name__)

    thread = threading.Thread(target=freeze)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        ActionStore(other).record("note", action_id=None, actor=None, detail={})
        assert time.monotonic() - started < 10  # the server ended the frozen transaction
    finally:
        thaw.set()
        thread.join()
        frozen.close()
        other.close()
    assert outcome  # and its work was rolled back, not committed late


def test_a_column_added_by_a_newer_replica_never_breaks_an_older_ones_queries(postgres):
    url = postgres.fresh_database()
    older = open_database(url, ALL)
    try:
        store = ActionStore(older)
        action = store.create(
            requester="U0ALICE", method="DELETE", path="/api/users/3", body=None, ttl_seconds=60
        )
        for _ in range(8):  # often enough for a driver to start preparing the statement
            store.get(action.id)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE actions ADD COLUMN added_later TEXT")
        assert store.get(action.id).status == "pending"
    finally:
        older.close()
