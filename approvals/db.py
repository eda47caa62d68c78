"""SQLite access shared by every store: one connection per thread, WAL, immediate transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

BUSY_TIMEOUT_SECONDS = 10.0


class Database:
    """A SQLite file opened lazily once per thread, with migrations applied once.

    Each thread gets its own connection so that SQLite's own locking (not a Python lock)
    arbitrates between writers; that is what makes compare-and-set safe across processes too.
    """

    def __init__(self, path: str | Path, migrations: Sequence[Migrations] = ()) -> None:
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
        db.conn.execute("PRAGMA journal_mode=WAL")
        for migration_set in migrations:
            migration_set.apply(db)

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
    def immediate(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
        db = self.db
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        return [dict(row) for row in self.db.conn.execute(sql, params).fetchall()]

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
