"""Pending actions and their state machine; every transition is one compare-and-set."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from approvals import audit
from approvals.db import Database

# Every state an action can be in, and where each may go. Anything else is a bug.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected", "expired", "withdrawn"}),
    "approved": frozenset({"executing", "failed", "stale"}),
    "executing": frozenset({"succeeded", "failed", "unknown", "stale"}),
}
TERMINAL = frozenset(
    {"rejected", "expired", "withdrawn", "succeeded", "failed", "unknown", "stale"}
)
STATES = frozenset(TRANSITIONS) | TERMINAL
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ActionError(Exception):
    """Something about a pending action stops the request."""


class ActionNotFound(ActionError):
    """No action has that number."""


class AlreadyDecided(ActionError):
    """The action has left the state this change needed; `action` shows where it is now."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"action #{action.id} is already {action.status}")
        self.action = action


class AlreadyVoted(ActionError):
    """This approver has already approved; another approver's vote is needed."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"you have already approved action #{action.id}")
        self.action = action


class ActionExpired(ActionError):
    """The action's approval window has closed."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"action #{action.id} expired and can no longer be approved")
        self.action = action


def canonical_body(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return None
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(method: str, path: str, body: dict[str, Any] | None) -> str:
    """SHA-256 of the exact request: what an approver's signature is bound to."""
    material = json.dumps([method, path, canonical_body(body)], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class Card:
    action_id: int
    channel: str
    ts: str
    kind: str


@dataclass(frozen=True)
class PendingAction:
    id: int
    requester: str
    channel: str | None
    thread_ts: str | None
    method: str
    path: str
    body: dict[str, Any] | None
    request_hash: str
    status: str
    approvals_required: int
    created_at: float
    expires_at: float
    decided_at: float | None = None
    decided_by: str | None = None
    reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    hr_status: int | None = None
    hr_body: Any = None
    error: str | None = None
    reminded_at: float | None = None
    before: Any = None  # the target record when the action was created (PUT, PATCH, DELETE)
    approved_by: tuple[str, ...] = ()  # distinct approvers so far, oldest first

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def body_text(self) -> str | None:
        return canonical_body(self.body)

    def hash_matches(self) -> bool:
        """True when the stored request still hashes to the hash recorded at creation."""
        return request_hash(self.method, self.path, self.body) == self.request_hash

    @classmethod
    def from_row(cls, row: dict[str, Any], approved_by: tuple[str, ...] = ()) -> PendingAction:
        values = dict(row, approved_by=approved_by)
        values["body"] = json.loads(values["body"]) if values["body"] is not None else None
        for name in ("hr_body", "before"):
            if values.get(name) is not None:
                values[name] = json.loads(values[name])
        return cls(**values)


class ActionStore:
    """Creates pending actions and moves them through TRANSITIONS, auditing every move."""

    def __init__(self, database: Database, *, now: Callable[[], float] = time.time) -> None:
        self.database = database
        self.now = now

    def create(
        self,
        *,
        requester: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        ttl_seconds: float,
        channel: str | None = None,
        thread_ts: str | None = None,
        approvals_required: int = 1,
        tool_call_id: str | None = None,
        before: Any = None,
    ) -> PendingAction:
        if method not in WRITE_METHODS:
            raise ValueError(f"only writes wait for approval, not {method}")
        if approvals_required < 1:
            raise ValueError("an action needs at least one approval")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        created = self.now()
        digest = request_hash(method, path, body)
        with self.database.immediate() as db:
            cursor = db.conn.execute(
                "INSERT INTO actions (requester, channel, thread_ts, method, path, body, "
                "request_hash, status, approvals_required, created_at, expires_at, before) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                (
                    requester,
                    channel,
                    thread_ts,
                    method,
                    path,
                    canonical_body(body),
                    digest,
                    approvals_required,
                    created,
                    created + ttl_seconds,
                    None if before is None else json.dumps(before, ensure_ascii=False),
                ),
            )
            action_id = cursor.lastrowid
            audit.append(
                db,
                "requested",
                action_id=action_id,
                actor=requester,
                at=created,
                detail={
                    "method": method,
                    "path": path,
                    "request_hash": digest,
                    "tool_call_id": tool_call_id,
                    "channel": channel,
                    "thread_ts": thread_ts,
                },
            )
        return self.get(action_id)

    def get(self, action_id: int) -> PendingAction:
        row = self.database.db.conn.execute(
            "SELECT * FROM actions WHERE id = ?", (action_id,)
        ).fetchone()
        if row is None:
            raise ActionNotFound(f"there is no action #{action_id}")
        return PendingAction.from_row(dict(row), self._votes(action_id))

    def _votes(self, action_id: int) -> tuple[str, ...]:
        rows = self.database.db.conn.execute(
            "SELECT approver FROM votes WHERE action_id = ? ORDER BY at, rowid", (action_id,)
        )
        return tuple(row[0] for row in rows)

    def in_states(self, *statuses: str) -> list[PendingAction]:
        """Actions in any of `statuses` (every action when none is named), oldest first."""
        sql, params = "SELECT * FROM actions", statuses
        if statuses:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        return [
            PendingAction.from_row(dict(row), self._votes(row["id"]))
            for row in self.database.db.conn.execute(sql + " ORDER BY id", params)
        ]

    def forget_records(self, older_than_days: int) -> int:
        """Retention: drop the employee records kept with long-finished actions (the snapshot
        shown on the card and the HR API's answer). The request itself, its hash, the decision
        and the audit stay."""
        cutoff = self.now() - older_than_days * 86400
        terminal = tuple(sorted(TERMINAL))
        with self.database.immediate() as db:
            return db.conn.execute(
                "UPDATE actions SET before = NULL, hr_body = NULL "
                f"WHERE status IN ({', '.join('?' * len(terminal))}) "
                "AND COALESCE(finished_at, decided_at, created_at) < ? "
                "AND (before IS NOT NULL OR hr_body IS NOT NULL)",
                (*terminal, cutoff),
            ).rowcount

    def pending_count(self, requester: str) -> int:
        row = self.database.db.conn.execute(
            "SELECT COUNT(*) FROM actions WHERE requester = ? AND status = 'pending'", (requester,)
        ).fetchone()
        return row[0]

    def due_for_expiry(self) -> list[PendingAction]:
        ids = self.database.db.conn.execute(
            "SELECT id FROM actions WHERE status = 'pending' AND expires_at <= ?", (self.now(),)
        )
        return [self.get(row[0]) for row in ids.fetchall()]

    def claim_reminder(self, fraction: float = 0.8) -> list[PendingAction]:
        """Pending actions past `fraction` of their window and not yet reminded, marked as
        reminded in the same transaction so that each gets one reminder only."""
        now = self.now()
        with self.database.immediate() as db:
            ids = [
                row[0]
                for row in db.conn.execute(
                    "SELECT id FROM actions WHERE status = 'pending' AND reminded_at IS NULL "
                    "AND expires_at > ? AND created_at + (expires_at - created_at) * ? <= ?",
                    (now, fraction, now),
                )
            ]
            for action_id in ids:
                db.conn.execute("UPDATE actions SET reminded_at = ? WHERE id = ?", (now, action_id))
                audit.append(db, "reminder", action_id=action_id, at=now)
        return [self.get(action_id) for action_id in ids]

    def transition(
        self,
        action_id: int,
        *,
        to: str,
        allowed_from: Iterable[str],
        event: str,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
        extra_condition: tuple[str, tuple] | None = None,
    ) -> PendingAction:
        """Move the action to `to` if, and only if, it is currently in one of `allowed_from`.

        Raises AlreadyDecided (with the current row) when another transition got there first.
        """
        sources = tuple(allowed_from)
        for source in sources:
            if to not in TRANSITIONS.get(source, ()):
                raise ValueError(f"no transition from {source} to {to}")
        fields = dict(fields or {})
        if "hr_body" in fields:
            fields["hr_body"] = json.dumps(fields["hr_body"], ensure_ascii=False)
        assignments = ", ".join(["status = ?", *(f"{name} = ?" for name in fields)])
        where = f"id = ? AND status IN ({', '.join('?' * len(sources))})"
        params: list[Any] = [to, *fields.values(), action_id, *sources]
        if extra_condition is not None:
            where += f" AND {extra_condition[0]}"
            params.extend(extra_condition[1])
        with self.database.immediate() as db:
            changed = db.conn.execute(
                f"UPDATE actions SET {assignments} WHERE {where}", params
            ).rowcount
            if changed == 1:
                audit.append(
                    db,
                    event,
                    action_id=action_id,
                    actor=actor,
                    detail={"status": to, **(detail or {})},
                )
        current = self.get(action_id)
        if changed != 1:
            raise AlreadyDecided(current)
        return current

    def approve(self, action_id: int, approver: str) -> PendingAction:
        """Record `approver`'s approval; the action becomes `approved` with the last vote it
        needs. Raises AlreadyDecided, ActionExpired, or AlreadyVoted for a second vote."""
        now = self.now()
        with self.database.immediate() as db:
            row = db.conn.execute(
                "SELECT status, expires_at, approvals_required FROM actions WHERE id = ?",
                (action_id,),
            ).fetchone()
            if row is None:
                raise ActionNotFound(f"there is no action #{action_id}")
            if row["status"] != "pending":
                decided = True
            elif row["expires_at"] <= now:
                decided = False
            else:
                decided = None
                voted = db.conn.execute(
                    "INSERT OR IGNORE INTO votes (action_id, approver, at) VALUES (?, ?, ?)",
                    (action_id, approver, now),
                ).rowcount
                votes = db.conn.execute(
                    "SELECT COUNT(*) FROM votes WHERE action_id = ?", (action_id,)
                ).fetchone()[0]
                if voted:
                    complete = votes >= row["approvals_required"]
                    if complete:
                        db.conn.execute(
                            "UPDATE actions SET status = 'approved', decided_at = ?, "
                            "decided_by = ? WHERE id = ? AND status = 'pending'",
                            (now, approver, action_id),
                        )
                    audit.append(
                        db,
                        "approved" if complete else "approval_vote",
                        action_id=action_id,
                        actor=approver,
                        at=now,
                        detail={"votes": votes, "required": row["approvals_required"]},
                    )
        action = self.get(action_id)
        if decided is True:
            raise AlreadyDecided(action)
        if decided is False:
            raise ActionExpired(action)
        if not voted:
            raise AlreadyVoted(action)
        return action

    def reject(self, action_id: int, approver: str, reason: str | None = None) -> PendingAction:
        return self.transition(
            action_id,
            to="rejected",
            allowed_from=["pending"],
            event="rejected",
            actor=approver,
            detail={"reason": reason},
            fields={"decided_at": self.now(), "decided_by": approver, "reason": reason},
        )

    def expire(self, action_id: int) -> PendingAction:
        now = self.now()
        return self.transition(
            action_id,
            to="expired",
            allowed_from=["pending"],
            event="expired",
            fields={"decided_at": now},
            extra_condition=("expires_at <= ?", (now,)),
        )

    def withdraw(self, action_id: int, requester: str) -> PendingAction:
        return self.transition(
            action_id,
            to="withdrawn",
            allowed_from=["pending"],
            event="withdrawn",
            actor=requester,
            fields={"decided_at": self.now(), "decided_by": requester},
            extra_condition=("requester = ?", (requester,)),
        )

    def add_card(self, action_id: int, channel: str, ts: str, kind: str = "approver") -> Card:
        with self.database.immediate() as db:
            db.conn.execute(
                "INSERT INTO cards (channel, ts, action_id, kind) VALUES (?, ?, ?, ?)",
                (channel, ts, action_id, kind),
            )
            audit.append(
                db,
                "card_posted",
                action_id=action_id,
                detail={"channel": channel, "ts": ts, "kind": kind},
            )
        return Card(action_id, channel, ts, kind)

    def cards(self, action_id: int) -> list[Card]:
        rows = self.database.db.conn.execute(
            "SELECT action_id, channel, ts, kind FROM cards WHERE action_id = ? ORDER BY rowid",
            (action_id,),
        )
        return [Card(**dict(row)) for row in rows]

    def record(
        self, event: str, *, action_id: int | None, actor: str | None, detail: dict[str, Any]
    ) -> None:
        """Audit an event that changes no action (a refused click, say)."""
        with self.database.immediate() as db:
            audit.append(db, event, action_id=action_id, actor=actor, detail=detail)
