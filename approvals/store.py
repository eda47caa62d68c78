"""Pending actions and votes: created with their request's salted hash within the limits on
open actions, revised by an approver's edit while pending, read back, and moved through
TRANSITIONS only by named steps; every step is one compare-and-set, audited."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from approvals import audit
from approvals.records import (
    TERMINAL,
    TRANSITIONS,
    WRITE_METHODS,
    ActionError,
    ActionExpired,
    ActionNotFound,
    AlreadyDecided,
    AlreadyVoted,
    PendingAction,
    TooManyPending,
    canonical_body,
    request_hash,
    text_hash,
)
from infra import metrics, tracing
from infra.db import Database


def _decided(action: PendingAction) -> None:
    """A decision settled `action` (approved, rejected, withdrawn): how long it waited."""
    if action.decided_at is not None:
        waited = max(action.decided_at - action.created_at, 0.0)
        metrics.TIME_TO_DECISION.labels(metrics.endpoint(action.method, action.noun)).observe(
            waited
        )


def as_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class RequestChanged(ActionError):
    """The request was edited after the button used was made; `action` shows it as it is now."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"action #{action.id} was edited meanwhile")
        self.action = action


class ActionStore:
    """Every pending action's life in the database: `create` and `revise`, then the decisions
    and the executor's steps, each auditing what it did."""

    # --- reading -------------------------------------------------------------------------

    def __init__(self, database: Database, *, now: Callable[[], float] = time.time) -> None:
        self.database = database
        self.now = now

    def get(self, action_id: int) -> PendingAction:
        row = self.database.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
        if row is None:
            raise ActionNotFound(f"there is no action #{action_id}")
        return PendingAction.from_row(dict(row), self._votes(action_id))

    def _votes(self, action_id: int) -> tuple[str, ...]:
        rows = self.database.execute(
            "SELECT approver FROM votes WHERE action_id = ? ORDER BY at, rowid", (action_id,)
        )
        return tuple(row[0] for row in rows)

    def pending_count(self) -> int:
        """How many actions wait for a decision now (for the metrics)."""
        rows = self.database.query("SELECT COUNT(*) AS n FROM actions WHERE status = 'pending'")
        return int(rows[0]["n"])

    def in_states(self, *statuses: str) -> list[PendingAction]:
        """Actions in any of `statuses` (every action when none is named), oldest first."""
        sql, params = "SELECT * FROM actions", statuses
        if statuses:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        return [
            PendingAction.from_row(dict(row), self._votes(row["id"]))
            for row in self.database.execute(sql + " ORDER BY id", params)
        ]

    # --- requesting ----------------------------------------------------------------------

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
        noun: str | None = None,
        fields_before: dict[str, Any] | None = None,
        contributors: Iterable[str] = (),
        max_pending_per_requester: int | None = None,
        max_pending_total: int | None = None,
        hr_subject: str | None = None,
        words: Iterable[tuple[str, str]] = (),
        verb: str | None = None,
        hr_decision: bool = False,
        manager: dict[str, Any] | None = None,
    ) -> PendingAction:
        """Store a new pending action. `words` are the messages (speaker, text) that led to it,
        kept verbatim for its card; `verb`, `hr_decision` and `manager` as PendingAction says.
        The limits on open pending actions are checked in the same transaction as the insert,
        so concurrent requests cannot overshoot them (raises TooManyPending)."""
        if method not in WRITE_METHODS:
            raise ValueError(f"only writes wait for approval, not {method}")
        if approvals_required < 1:
            raise ValueError("an action needs at least one approval")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        created = self.now()
        salt = secrets.token_hex(16)
        digest = request_hash(method, path, body, salt)
        shaped_by = sorted({requester, *contributors})
        row = dict(
            requester=requester,
            channel=channel,
            thread_ts=thread_ts,
            method=method,
            path=path,
            body=canonical_body(body),
            request_hash=digest,
            status="pending",
            approvals_required=approvals_required,
            created_at=created,
            expires_at=created + ttl_seconds,
            before=as_json(before),
            noun=noun,
            fields_before=as_json(fields_before),
            contributors=as_json(shaped_by),
            idempotency_key=f"hrbot-{secrets.token_hex(16)}",
            text_salt=salt,
            hr_subject=hr_subject,
            words=as_json([list(w) for w in words] or None),
            trace_parent=tracing.traceparent(),  # None unless tracing is on
            verb=verb,
            hr_decision=int(hr_decision),
            manager=as_json(manager),
        )
        with self.database.immediate() as db:
            mine, everyone = db.execute(
                "SELECT COUNT(CASE WHEN requester = ? THEN 1 END), COUNT(*) FROM actions "
                "WHERE status = 'pending'",
                (requester,),
            ).fetchone()
            if max_pending_per_requester is not None and mine >= max_pending_per_requester:
                raise TooManyPending("requester", max_pending_per_requester)
            if max_pending_total is not None and everyone >= max_pending_total:
                raise TooManyPending("total", max_pending_total)
            action_id = db.execute(
                f"INSERT INTO actions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
                "RETURNING id",
                tuple(row.values()),
            ).fetchone()[0]
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
                    "contributors": shaped_by,
                    **audit.acting_as(hr_subject),
                },
            )
        action = self.get(action_id)
        metrics.ACTIONS_REQUESTED.labels(metrics.endpoint(action.method, action.noun)).inc()
        return action

    def revise(
        self, action_id: int, editor: str, body: dict[str, Any], *, signed_hash: str
    ) -> PendingAction:
        """An approver's edit: the pending action's body replaced, its request hash made anew
        (under the action's own salt), the editor added to its contributors (so someone else
        must approve it) and the votes already given dropped (they approved another request).
        One compare-and-set: still pending, not expired, and still the request `signed_hash`
        was signed for. The audit keeps both hashes and the changed fields' names, never values.
        Raises AlreadyDecided, ActionExpired or RequestChanged."""
        now = self.now()
        with self.database.immediate() as db:
            row = db.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
            if row is None:
                raise ActionNotFound(f"there is no action #{action_id}")
            current = PendingAction.from_row(dict(row))
            digest = request_hash(current.method, current.path, body, current.text_salt)
            shaped_by = sorted(current.shaped_by | {editor})
            editors = as_json(list(dict.fromkeys([*current.edited_by, editor])))
            changed = db.execute(
                "UPDATE actions SET body = ?, request_hash = ?, contributors = ?, edited_by = ? "
                "WHERE id = ? AND status = 'pending' AND expires_at > ? AND request_hash = ?",
                (
                    canonical_body(body),
                    digest,
                    as_json(shaped_by),
                    editors,
                    action_id,
                    now,
                    signed_hash,
                ),
            ).rowcount
            if changed == 1:
                cleared = db.execute("DELETE FROM votes WHERE action_id = ?", (action_id,))
                old = current.body or {}
                fields = sorted(k for k in {*old, *body} if old.get(k) != body.get(k))
                audit.append(
                    db,
                    "edited",
                    action_id=action_id,
                    actor=editor,
                    at=now,
                    detail={
                        "before": current.request_hash,
                        "after": digest,
                        "fields": fields,
                        "votes_dropped": cleared.rowcount,
                        "contributors": shaped_by,
                    },
                )
        action = self.get(action_id)
        if changed == 1:
            return action
        if action.status != "pending":
            raise AlreadyDecided(action)
        if action.expires_at <= now:
            raise ActionExpired(action)
        raise RequestChanged(action)

    # --- decisions ----------------------------------------------------------------------

    def approve(
        self,
        action_id: int,
        approver: str,
        *,
        hr_subject: str | None = None,
        signed_hash: str | None = None,
        contributors_may: bool = True,
    ) -> PendingAction:
        """Record `approver`'s approval (and their linked HR identity, in the audit); the action
        becomes `approved` with the last vote it needs. Raises AlreadyDecided, ActionExpired, or
        AlreadyVoted for a second vote. Checked in the same transaction, so an edit that lands
        between a click's checks and its vote cannot be approved by it: the request must still
        hash to `signed_hash` (the button's) and, unless `contributors_may`, the approver must
        not have shaped it; else RequestChanged."""
        now = self.now()
        voted = 0
        with self.database.immediate() as db:
            row = db.execute(
                "SELECT status, expires_at, approvals_required, request_hash, contributors "
                "FROM actions WHERE id = ?",
                (action_id,),
            ).fetchone()
            if row is None:
                raise ActionNotFound(f"there is no action #{action_id}")
            shaped = set(json.loads(row["contributors"] or "[]"))
            changed = (signed_hash is not None and row["request_hash"] != signed_hash) or (
                not contributors_may and approver in shaped
            )
            if not changed and row["status"] == "pending" and row["expires_at"] > now:
                voted = db.execute(
                    "INSERT INTO votes (action_id, approver, at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (action_id, approver, now),
                ).rowcount
                votes = db.execute(
                    "SELECT COUNT(*) FROM votes WHERE action_id = ?", (action_id,)
                ).fetchone()[0]
                if voted:
                    complete = votes >= row["approvals_required"]
                    if complete:
                        db.execute(
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
                        detail={"votes": votes, "required": row["approvals_required"]}
                        | audit.acting_as(hr_subject),
                    )
        action = self.get(action_id)
        if changed:
            raise RequestChanged(action)
        if row["status"] != "pending":
            raise AlreadyDecided(action)
        if row["expires_at"] <= now:
            raise ActionExpired(action)
        if not voted:
            raise AlreadyVoted(action)
        if action.status != "pending":  # this vote settled it
            _decided(action)
        return action

    def reject(
        self,
        action_id: int,
        approver: str,
        reason: str | None = None,
        *,
        hr_subject: str | None = None,
    ) -> PendingAction:
        """The reason is kept with the action (purged by retention); the audit keeps only its
        salted hash, so the append-only trail never holds the free text."""
        salt = self.get(action_id).text_salt
        return self._transition(
            action_id,
            "pending",
            "rejected",
            event="rejected",
            actor=approver,
            detail={"reason_sha256": text_hash(salt, reason), **audit.acting_as(hr_subject)},
            fields={"decided_at": self.now(), "decided_by": approver, "reason": reason},
        )

    def expire(self, action_id: int) -> PendingAction:
        now = self.now()
        condition = ("expires_at <= ?", (now,))
        fields = {"decided_at": now}
        return self._transition(
            action_id, "pending", "expired", event="expired", fields=fields, condition=condition
        )

    def withdraw(self, action_id: int, requester: str) -> PendingAction:
        return self._transition(
            action_id,
            "pending",
            "withdrawn",
            event="withdrawn",
            actor=requester,
            fields={"decided_at": self.now(), "decided_by": requester},
            condition=("requester = ?", (requester,)),
        )

    # --- running ------------------------------------------------------------------------

    def start(self, action_id: int, *, lease: dict[str, Any] | None = None) -> PendingAction:
        """Claim an approved action for running (with `lease`: owner and lease_until); only
        one caller ever gets it."""
        fields = {"started_at": self.now(), **(lease or {})}
        return self._transition(
            action_id, "approved", "executing", event="executing", fields=fields
        )

    def finish(self, action_id: int, *, hr_status: int, hr_body: Any) -> PendingAction:
        """The HR API answered: succeeded for a 2xx, failed for anything else."""
        ok = 200 <= hr_status < 300
        error = None if ok else f"HR API answered {hr_status}"
        return self._end(
            action_id, "succeeded" if ok else "failed", "executed", error, hr_status, hr_body
        )

    def refuse(self, action_id: int, why: str) -> PendingAction:
        """Claimed, then not sent because a check before sending failed."""
        return self._end(action_id, "failed", "refused", why)

    def mark_stale(self, action_id: int, why: str) -> PendingAction:
        """Not sent: the target record changed (or went) after the card was made."""
        return self._end(action_id, "stale", "stale", why)

    def mark_unsent(self, action_id: int, error: str) -> PendingAction:
        """The request certainly never reached the HR API."""
        return self._end(action_id, "failed", "execution_error", error)

    def mark_unknown(
        self, action_id: int, why: str, *, interrupted: bool = False, condition: Any = None
    ) -> PendingAction:
        """The request may or may not have reached the HR API; it is never sent again.
        `interrupted`: its process is gone (`condition`: the SQL that says so, checked in the
        same compare-and-set)."""
        event = "recovered_unknown" if interrupted else "execution_error"
        return self._end(action_id, "unknown", event, why, condition=condition)

    def _end(
        self,
        action_id: int,
        status: str,
        event: str,
        error: str | None,
        hr_status: int | None = None,
        hr_body: Any = None,
        condition: tuple[str, tuple] | None = None,
    ) -> PendingAction:
        fields = {"finished_at": self.now(), "hr_status": hr_status, "error": error}
        return self._transition(
            action_id,
            "executing",
            status,
            event=event,
            detail={"hr_status": hr_status, "error": error},
            fields={**fields, "hr_body": as_json(hr_body)},
            condition=condition,
        )

    def _transition(
        self,
        action_id: int,
        source: str,
        to: str,
        *,
        event: str,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
        condition: tuple[str, tuple] | None = None,
    ) -> PendingAction:
        """Move the action from `source` to `to` if, and only if, it is in `source` now.

        Raises AlreadyDecided (with the current row) when another step got there first.
        """
        if to not in TRANSITIONS.get(source, ()):
            raise ValueError(f"no transition from {source} to {to}")
        fields = dict(fields or {})
        assignments = ", ".join(["status = ?", *(f"{name} = ?" for name in fields)])
        where, params = "id = ? AND status = ?", [to, *fields.values(), action_id, source]
        if condition is not None:
            where += f" AND {condition[0]}"
            params.extend(condition[1])
        with self.database.immediate() as db:
            changed = db.execute(f"UPDATE actions SET {assignments} WHERE {where}", params).rowcount
            if changed == 1:
                audit.append(
                    db,
                    event,
                    action_id=action_id,
                    actor=actor,
                    detail={"status": to, **(detail or {})},
                    at=self.now(),
                )
        current = self.get(action_id)
        if changed != 1:
            raise AlreadyDecided(current)
        if source == "pending" and to in ("rejected", "withdrawn"):
            _decided(current)
        if to in TERMINAL:  # once per action: only the step that moved it gets here
            label = metrics.endpoint(current.method, current.noun)
            metrics.ACTIONS_ENDED.labels(label, to).inc()
        return current

    def record(
        self, event: str, *, action_id: int | None, actor: str | None, detail: dict[str, Any]
    ) -> None:
        """Audit an event that changes no action (a refused click, say), at the store's time."""
        at = self.now()
        with self.database.immediate() as db:
            audit.append(db, event, action_id=action_id, actor=actor, detail=detail, at=at)
