"""Reading pending actions: one by number, or all in some states. The store's steps build on it."""

from __future__ import annotations

import time
from collections.abc import Callable

from approvals.records import ActionNotFound, PendingAction
from infra.db import Database


class ActionQueries:
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

    def in_states(self, *statuses: str) -> list[PendingAction]:
        """Actions in any of `statuses` (every action when none is named), oldest first."""
        sql, params = "SELECT * FROM actions", statuses
        if statuses:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        return [
            PendingAction.from_row(dict(row), self._votes(row["id"]))
            for row in self.database.execute(sql + " ORDER BY id", params)
        ]
