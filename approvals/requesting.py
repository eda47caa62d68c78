"""How pending actions come to be: stored with their request's salted hash, within the limits
on open actions, and revised by an approver's edit while pending. The store (approvals.store)
moves them on from there."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

from approvals import audit
from approvals.queries import ActionQueries
from approvals.records import (
    WRITE_METHODS,
    ActionError,
    ActionExpired,
    ActionNotFound,
    AlreadyDecided,
    PendingAction,
    TooManyPending,
    canonical_body,
    request_hash,
)


def as_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class RequestChanged(ActionError):
    """The request was edited after the button used was made; `action` shows it as it is now."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"action #{action.id} was edited meanwhile")
        self.action = action


class Requesting(ActionQueries):
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
    ) -> PendingAction:
        """Store a new pending action. `words` are the messages (speaker, text) that led to it,
        kept verbatim for its card. The limits on open pending actions are checked in the
        same transaction as the insert, so concurrent requests cannot overshoot them (raises
        TooManyPending)."""
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
        return self.get(action_id)

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
