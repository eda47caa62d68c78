"""The one SQL layer every store uses, on either engine: SQLite (a file, one process, the
embedded default) or PostgreSQL (DATABASE_URL, any number of replicas; infra/postgres.py).

Stores write plain SQL with `?` placeholders in the subset both engines speak, and use only:
- `database.immediate()`: a write transaction, run one at a time across every process sharing
  the database (SQLite's single writer; on PostgreSQL one transaction-scoped advisory lock), so
  each read-check-write inside it (a vote count, a pending limit, the audit chain's last hash)
  sees no concurrent writer;
- `database.execute(sql, params)` / `database.query(sql, params)`: a read, on the thread's
  open write transaction if there is one (it sees its own rows), else on its own.
Both hand back rows readable by name and by position.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils
from sqlite_utils import Migrations

BUSY_TIMEOUT_SECONDS = 10.0


class DatabaseUnavailable(Exception):
    """The database server could not be reached (the message names it, never a password)."""


@dataclass(frozen=True)
class Schema:
    """One component's tables: its SQLite migrations (sqlite-utils) and the same tables'
    PostgreSQL migrations, (name, SQL) in order. tests/test_engines.py checks they agree."""

    name: str
    sqlite: Migrations
    postgres: tuple[tuple[str, str], ...]


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Reader(Protocol):
    """Anything SQL can be run on: a Database, a Transaction (or a bare sqlite3 connection)."""

    def execute(self, sql: str, params: Sequence | dict = ()) -> Cursor: ...


class Transaction(Reader, Protocol):
    """What `immediate()` yields."""

    in_transaction: bool

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> Any: ...


class Database(Protocol):
    engine: str  # "sqlite" or "postgresql"

    def immediate(self) -> Any: ...  # a context manager yielding a Transaction

    def execute(self, sql: str, params: Sequence | dict = ()) -> Cursor: ...

    def query(self, sql: str, params: Sequence | dict = ()) -> list[dict]: ...

    def close_thread(self) -> None: ...  # a short-lived thread is done with the database

    def close(self) -> None: ...


def is_postgres_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_database(location: str | Path, schemas: Sequence[Schema] = ()) -> Database:
    """PostgreSQL for a postgresql:// URL, else a SQLite file at that path; migrated."""
    if is_postgres_url(str(location)):
        from infra.postgres import PostgresDatabase

        return PostgresDatabase(str(location), schemas)
    return SQLiteDatabase(location, schemas)


class SQLiteDatabase:
    """A SQLite file opened lazily once per thread, with migrations applied once.

    Each thread gets its own connection so that SQLite's own locking (not a Python lock)
    arbitrates between writers; that is what makes compare-and-set safe across processes too.
    """

    engine = "sqlite"

    def __init__(self, path: str | Path, schemas: Sequence[Schema] = ()) -> None:
        self.path = str(path)
        if self.path == ":memory:" or self.path.startswith("file:"):
            raise ValueError(
                "Database needs a file path: per-thread connections cannot share memory"
            )
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")
        for schema in schemas:
            schema.sqlite.apply(db)

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection, wrapped for sqlite-utils."""
        db = getattr(self._local, "db", None)
        if db is None:
            # isolation_level=None: no implicit BEGIN; every transaction here is explicit.
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            # WAL + NORMAL survives a crash of this process; only power loss can drop
            # the last commits. FULL here would cost an fsync per decision.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.row_factory = sqlite3.Row
            db = sqlite_utils.Database(conn, execute_plugins=False)
            self._local.db = db
            with self._all_lock:
                self._all.append(conn)
        return db

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence | dict = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def query(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        return [dict(row) for row in self.execute(sql, params).fetchall()]

    def close_thread(self) -> None:
        """Close this thread's connection (a short-lived thread, done): threads that come and
        go must not leave one open each."""
        db = getattr(self._local, "db", None)
        if db is None:
            return
        self._local.db = None
        with self._all_lock:
            if db.conn in self._all:
                self._all.remove(db.conn)
        db.conn.close()

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
