"""The PostgreSQL engine of the SQL layer (infra/db.py): a connection pool, stores' `?` SQL
sent with psycopg's placeholders, write transactions serialised by one advisory lock, and
migrations applied once even when several replicas start together."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from infra.db import DatabaseUnavailable, Schema

# Transaction-scoped advisory lock keys (any 64-bit numbers, fixed for the product).
WRITE_LOCK = 0x68726230_77726974  # every write transaction: one writer at a time, as on SQLite
MIGRATION_LOCK = 0x68726230_6D696772  # applying migrations
POOL_SIZE = 12  # per process; every use is one short transaction or one read
CONNECT_SECONDS = 10.0
# A write transaction never waits on the network, so one idle this long inside it belongs to a
# frozen or vanished process: the server ends it, and the write lock is free again.
IDLE_IN_TRANSACTION_SECONDS = 15.0


class Row(tuple):
    """A row readable by position and by column name, like sqlite3.Row (dict(row) works)."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    if cursor.description is None:
        return tuple
    index = {column.name: i for i, column in enumerate(cursor.description)}
    return lambda values: Row(values, index)


_converted: dict[str, str] = {}


def pyformat(sql: str) -> str:
    """The stores' `?` placeholders as psycopg's `%s` (and a literal `%` as `%%`), leaving
    quoted text alone."""
    if (done := _converted.get(sql)) is not None:
        return done
    out, quote = [], None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in "'\"":
            quote = char
            out.append(char)
        else:
            out.append({"?": "%s", "%": "%%"}.get(char, char))
    _converted[sql] = done = "".join(out)
    return done


class Result:
    """The rows of a read made outside any transaction, fetched before its connection went back
    to the pool."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = iter(rows)
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return self._rows


class PostgresTransaction:
    in_transaction = True

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence | dict = ()) -> Any:
        return self.conn.execute(pyformat(sql), params or None)

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> Any:
        cursor = self.conn.cursor()
        if rows:
            cursor.executemany(pyformat(sql), rows)
        return cursor


def describe(url: str) -> str:
    """Where the database is, for messages: host, port and name, never any credentials. Raises
    DatabaseUnavailable, without repeating the URL, when it cannot be read."""
    try:
        settings = conninfo_to_dict(url)
    except (psycopg.Error, ValueError):  # their messages may quote the password
        settings = None
    host, port, name = (
        str((settings or {}).get(key) or default)
        for key, default in (("host", "localhost"), ("port", "5432"), ("dbname", ""))
    )
    # A password with an unencoded / or # is read as a host, port or database name instead:
    # only plain values are shown, or none.
    if settings is None or not all(
        _PLAIN[kind].fullmatch(v) for kind, v in (("host", host), ("port", port), ("name", name))
    ):
        raise DatabaseUnavailable(
            "DATABASE_URL cannot be read as a PostgreSQL URL (a password with characters such "
            "as @ / # % must be percent-encoded)"
        )
    return f"{host}:{port}/{name}"


_PLAIN = {
    "host": re.compile(r"[A-Za-z0-9._/-]+(,[A-Za-z0-9._/-]+)*"),  # names, addresses, socket dirs
    "port": re.compile(r"[0-9]{1,5}(,[0-9]{1,5})*"),
    "name": re.compile(r"[A-Za-z0-9_.-]*"),
}


def session_options(*, read_only: bool) -> str:
    """Settings of every session, whatever the server's defaults: READ COMMITTED (each write
    transaction, once it holds the lock, sees what the previous holder committed); a session
    idle inside a transaction (its process frozen, its host gone) is ended, releasing the write
    lock; and the server notices a vanished client within about a minute."""
    options = [
        "default_transaction_isolation=read\\ committed",
        f"idle_in_transaction_session_timeout={int(IDLE_IN_TRANSACTION_SECONDS * 1000)}",
        "tcp_keepalives_idle=30",
        "tcp_keepalives_interval=10",
        "tcp_keepalives_count=3",
    ]
    if read_only:
        options.append("default_transaction_read_only=on")
    return " ".join(f"-c {option}" for option in options)


def _pin_isolation(conn: psycopg.Connection) -> None:
    conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED


class PostgresDatabase:
    engine = "postgresql"

    def __init__(
        self, url: str, schemas: Sequence[Schema] = (), *, read_only: bool = False
    ) -> None:
        """`read_only`: every transaction read-only (the audit CLI), and no migrations."""
        self.where = describe(url)
        self._local = threading.local()
        # One write transaction per process waits for the lock, without a connection for the
        # others: the pool stays free for reads and lease renewals.
        self._writer = threading.Lock()
        settings = {
            "autocommit": True,
            "row_factory": _row_factory,
            "connect_timeout": int(CONNECT_SECONDS),
            "application_name": "hrbot",
            "options": session_options(read_only=read_only),
            # The client notices a vanished server, too.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            # No server-side prepared statements: a table that gained a column (a newer
            # replica's migration) never breaks an older replica's cached plan.
            "prepare_threshold": None,
        }
        try:  # one attempt first: the pool would retry a refused connection until its timeout
            psycopg.connect(url, **settings).close()
        except psycopg.OperationalError as e:
            # libpq's reason (refused, no such database, authentication failed) never holds
            # the password.
            reason = " ".join(line.strip() for line in str(e).splitlines()) or type(e).__name__
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {self.where} (DATABASE_URL): {reason}"
            ) from None
        except (psycopg.Error, ValueError):
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {self.where} (DATABASE_URL): its settings "
                "were refused"
            ) from None
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            kwargs=settings,
            configure=_pin_isolation,
            check=ConnectionPool.check_connection,  # a connection the server dropped is replaced
            open=False,
            name="hrbot",
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_SECONDS)
        except PoolTimeout as e:
            self.pool.close()
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {self.where} (DATABASE_URL) "
                f"within {CONNECT_SECONDS:.0f} s"
            ) from e
        try:
            if not read_only:
                self._migrate(schemas)
        except BaseException:
            self.pool.close()
            raise

    def _migrate(self, schemas: Sequence[Schema]) -> None:
        """Every component's pending migrations, in one transaction under one lock: replicas
        starting together wait for each other, and a crash half-way applies nothing."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, "
                "name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL, "
                "PRIMARY KEY (component, name))"
            )
            done = set(conn.execute("SELECT component, name FROM schema_migrations").fetchall())
            for schema in schemas:
                for name, sql in schema.postgres:
                    if (schema.name, name) in done:
                        continue
                    conn.execute(sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (component, name, applied_at) "
                        "VALUES (%s, %s, %s)",
                        (schema.name, name, time.time()),
                    )

    @contextmanager
    def immediate(self) -> Iterator[PostgresTransaction]:
        """A write transaction; it waits for any other in progress, in any replica."""
        if getattr(self._local, "transaction", None) is not None:
            raise RuntimeError("a write transaction is already open on this thread")
        with self._writer, self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            self._local.transaction = transaction = PostgresTransaction(conn)
            try:
                yield transaction
            finally:
                self._local.transaction = None

    def execute(self, sql: str, params: Sequence | dict = ()) -> Any:
        transaction = getattr(self._local, "transaction", None)
        if transaction is not None:
            return transaction.execute(sql, params)
        with self.pool.connection() as conn:
            cursor = conn.execute(pyformat(sql), params or None)
            rows = cursor.fetchall() if cursor.description is not None else []
            return Result(rows, cursor.rowcount)

    def query(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        return [dict(row) for row in self.execute(sql, params).fetchall()]

    def close_thread(self) -> None:
        """Nothing to do: connections belong to the pool, not to threads."""

    def close(self) -> None:
        self.pool.close()
