"""The append-only audit trail: every event about an action, each row chained to the last."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

GENESIS_HASH = "0" * 64

migrations = Migrations("audit")


@migrations()
def create_audit_table(db: sqlite_utils.Database) -> None:
    db["audit"].create(
        {
            "id": int,
            "at": float,
            "action_id": int,
            "event": str,
            "actor": str,
            "detail": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="id",
        not_null={"at", "event", "detail", "prev_hash", "hash"},
    )
    db["audit"].create_index(["action_id"])
    # Append-only is enforced by the database, not only by this module's manners.
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"
    )


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: float
    action_id: int | None
    event: str
    actor: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def _row_hash(
    prev_hash: str, at: float, action_id: int | None, event: str, actor: str | None, detail: str
) -> str:
    material = json.dumps(
        [prev_hash, repr(at), action_id, event, actor, detail], ensure_ascii=False
    )
    return hashlib.sha256(material.encode()).hexdigest()


def acting_as(hr_subject: str | None) -> dict[str, str]:
    """Detail naming the HR identity a step was taken as (per-user HR authority), if any."""
    return {"hr_subject": hr_subject} if hr_subject else {}


def append(
    db: sqlite_utils.Database,
    event: str,
    *,
    action_id: int | None = None,
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
    at: float | None = None,
) -> None:
    """Append one event. Call inside the transaction that made the change it records."""
    if not db.conn.in_transaction:
        raise RuntimeError("audit.append must run inside the transaction it records")
    at = time.time() if at is None else at
    detail_text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False)
    last = db.conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = last[0] if last else GENESIS_HASH
    db.conn.execute(
        "INSERT INTO audit (at, action_id, event, actor, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            at,
            action_id,
            event,
            actor,
            detail_text,
            prev_hash,
            _row_hash(prev_hash, at, action_id, event, actor, detail_text),
        ),
    )


def events(db: sqlite_utils.Database, action_id: int | None = None) -> list[AuditEvent]:
    sql = "SELECT * FROM audit"
    params: tuple = ()
    if action_id is not None:
        sql += " WHERE action_id = ?"
        params = (action_id,)
    rows = db.conn.execute(sql + " ORDER BY id", params).fetchall()
    return [
        AuditEvent(
            id=row["id"],
            at=row["at"],
            action_id=row["action_id"],
            event=row["event"],
            actor=row["actor"],
            detail=json.loads(row["detail"]),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        for row in rows
    ]


def first_broken_row(db: sqlite_utils.Database) -> int | None:
    """The id of the first row whose chain does not verify, or None if the whole chain holds."""
    expected_prev = GENESIS_HASH
    for row in db.conn.execute("SELECT * FROM audit ORDER BY id"):
        recomputed = _row_hash(
            row["prev_hash"], row["at"], row["action_id"], row["event"], row["actor"], row["detail"]
        )
        if row["prev_hash"] != expected_prev or row["hash"] != recomputed:
            return row["id"]
        expected_prev = row["hash"]
    return None


@dataclass(frozen=True)
class Head:
    """How long the trail is and where it ends: what a checkpoint vouches for."""

    rows: int
    id: int | None
    hash: str


def head(db: sqlite_utils.Database) -> Head:
    # One statement, so the count and the last row come from the same snapshot even while
    # the bot keeps appending.
    row = db.conn.execute(
        "SELECT (SELECT COUNT(*) FROM audit), id, hash FROM audit ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return Head(rows=0, id=None, hash=GENESIS_HASH)
    return Head(rows=row[0], id=row[1], hash=row[2])


def hash_of(db: sqlite_utils.Database, row_id: int) -> str | None:
    """The stored hash of one row, or None when there is no such row."""
    row = db.conn.execute("SELECT hash FROM audit WHERE id = ?", (row_id,)).fetchone()
    return row[0] if row else None


def rows_between(
    db: sqlite_utils.Database, since: float | None = None, until: float | None = None
) -> list[dict[str, Any]]:
    """Audit rows as plain dicts (times in ISO 8601 UTC), optionally within [since, until)."""
    sql, params = "SELECT * FROM audit WHERE 1 = 1", []
    if since is not None:
        sql += " AND at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND at < ?"
        params.append(until)
    return [
        {
            "id": row["id"],
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["at"])),
            "action_id": row["action_id"],
            "event": row["event"],
            "actor": row["actor"],
            "detail": row["detail"],
            "hash": row["hash"],
        }
        for row in db.conn.execute(sql + " ORDER BY id", params)
    ]
