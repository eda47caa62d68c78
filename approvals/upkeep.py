"""Row upkeep for the sweeper: what is due for expiry or a reminder, and retention. None of it
moves an action between states; expiry itself is the store's `expire` step."""

from __future__ import annotations

from approvals import audit
from approvals.records import TERMINAL, PendingAction
from approvals.store import ActionStore


class Upkeep:
    def __init__(self, store: ActionStore) -> None:
        self.store = store

    def due_for_expiry(self) -> list[PendingAction]:
        ids = self.store.database.execute(
            "SELECT id FROM actions WHERE status = 'pending' AND expires_at <= ?",
            (self.store.now(),),
        )
        return [self.store.get(row[0]) for row in ids.fetchall()]

    def claim_reminder(self, fraction: float = 0.8) -> list[PendingAction]:
        """Pending actions past `fraction` of their window and not yet reminded, marked as
        reminded in the same transaction so that each gets one reminder only."""
        due = "created_at + (expires_at - created_at) * ? <= ?"
        return self._claim("reminded_at", due, fraction, "reminder", None)

    def claim_escalation(self, after_seconds: float, group: str) -> list[PendingAction]:
        """Pending actions waiting `after_seconds` or more and not yet escalated, marked (and
        audited) as escalated to `group` in the same transaction: each escalates once."""
        return self._claim("escalated_at", "created_at + ? <= ?", after_seconds, "escalated", group)

    def _claim(
        self, column: str, due: str, value: float, event: str, to: str | None
    ) -> list[PendingAction]:
        """Pending, unexpired actions whose `column` is unset and that are `due` (SQL taking
        `value` and now), each marked now and audited as `event`, in one transaction."""
        now = self.store.now()
        with self.store.database.immediate() as db:
            ids = [
                row[0]
                for row in db.execute(
                    f"SELECT id FROM actions WHERE status = 'pending' AND {column} IS NULL "
                    f"AND expires_at > ? AND {due}",
                    (now, value, now),
                )
            ]
            for action_id in ids:
                db.execute(f"UPDATE actions SET {column} = ? WHERE id = ?", (now, action_id))
                detail = {"to": to} if to else None
                audit.append(db, event, action_id=action_id, at=now, detail=detail)
        return [self.store.get(action_id) for action_id in ids]

    def forget_personal_data(self, older_than_days: int) -> int:
        """Retention: drop the personal data kept with long-finished actions: the request body,
        the reject reason (and the salt of its hash in the audit), the quoted messages, the
        record snapshots shown on the card and the HR API's answer. The method, path, request
        hash, who decided and when, and the audit stay. `purged_at` marks them, so every message
        the bot posted about them is rewritten too (Announcer.redact_purged)."""
        cutoff = self.store.now() - older_than_days * 86400
        terminal = tuple(sorted(TERMINAL))
        with self.store.database.immediate() as db:
            return db.execute(
                "UPDATE actions SET before = NULL, hr_body = NULL, fields_before = NULL, "
                "body = NULL, reason = NULL, text_salt = NULL, words = NULL, manager = NULL, "
                "purged_at = ? "
                f"WHERE status IN ({', '.join('?' * len(terminal))}) "
                "AND COALESCE(finished_at, decided_at, created_at) < ? "
                "AND (before IS NOT NULL OR hr_body IS NOT NULL OR fields_before IS NOT NULL "
                "OR body IS NOT NULL OR reason IS NOT NULL OR text_salt IS NOT NULL "
                "OR words IS NOT NULL OR manager IS NOT NULL)",
                (self.store.now(), *terminal, cutoff),
            ).rowcount
