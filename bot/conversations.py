"""Conversation history per Slack thread and person, in SQLite, bounded by a token budget."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from approvals import Thread
from approvals.db import Database

migrations = Migrations("conversations")


@migrations()
def create_messages_table(db: sqlite_utils.Database) -> None:
    db["messages"].create(
        {"id": int, "thread_key": str, "at": float, "message": str, "tokens": int},
        pk="id",
        not_null={"thread_key", "at", "message", "tokens"},
    )
    db["messages"].create_index(["thread_key", "id"])


NOTICE_PREFIX = "Approval system notice: "


def conversation_key(thread: Thread, person: str) -> str:
    """A conversation belongs to the person who started it: one per Slack thread and person, so
    someone else writing in the same thread starts their own and never sees or steers it."""
    return f"{thread.key}:{person}"


def estimate_tokens(message: dict[str, Any]) -> int:
    """A cheap, tokenizer-free estimate (about four characters a token) used only for trimming."""
    return len(json.dumps(message, ensure_ascii=False)) // 4 + 4


def group_turns(messages: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Indexes grouped into units that must be kept or dropped together: an assistant message
    with tool calls stays with the tool results that answer it."""
    units: list[list[int]] = []
    for index, message in enumerate(messages):
        if message.get("role") == "tool" and units:
            units[-1].append(index)
        else:
            units.append([index])
    return units


def kept_indexes(messages: Sequence[dict[str, Any]], budget: int) -> list[int]:
    """The newest whole units that fit in `budget` tokens (always at least the newest unit),
    never starting with the model's own words (an assistant turn or a tool result): what is
    kept starts at a user message or at a system notice."""
    units = group_turns(messages)
    kept: list[list[int]] = []
    total = 0
    for unit in reversed(units):
        cost = sum(estimate_tokens(messages[i]) for i in unit)
        if kept and total + cost > budget:
            break
        kept.insert(0, unit)
        total += cost
    while len(kept) > 1 and messages[kept[0][0]].get("role") not in ("user", "system"):
        kept.pop(0)
    return [i for unit in kept for i in unit]


class ConversationStore:
    def __init__(
        self, database: Database, *, token_budget: int = 8000, now: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.token_budget = token_budget
        self.now = now

    def _rows(self, key: str) -> list[tuple[int, dict[str, Any]]]:
        rows = self.database.db.conn.execute(
            "SELECT id, message FROM messages WHERE thread_key = ? ORDER BY id", (key,)
        )
        return [(row["id"], json.loads(row["message"])) for row in rows]

    def load(self, key: str) -> list[dict[str, Any]]:
        """The thread's history as chat messages, oldest first, within the token budget."""
        rows = self._rows(key)
        messages = [message for _, message in rows]
        return [messages[i] for i in kept_indexes(messages, self.token_budget)]

    def append(self, key: str, messages: Sequence[dict[str, Any]]) -> None:
        """Add messages and forget the oldest turns that no longer fit, in one transaction."""
        if not messages:
            return
        at = self.now()
        with self.database.immediate() as db:
            db.conn.executemany(
                "INSERT INTO messages (thread_key, at, message, tokens) VALUES (?, ?, ?, ?)",
                [
                    (key, at, json.dumps(m, ensure_ascii=False), estimate_tokens(m))
                    for m in messages
                ],
            )
            rows = self._rows(key)  # same connection, so it sees the rows just inserted
            keep = set(kept_indexes([m for _, m in rows], self.token_budget))
            dropped = [(row_id,) for i, (row_id, _) in enumerate(rows) if i not in keep]
            db.conn.executemany("DELETE FROM messages WHERE id = ?", dropped)

    def note(self, key: str, text: str) -> None:
        """Record something the system did, so the model knows it next time. It is a `system`
        message: nothing a person types is ever stored with that role, so none can forge one."""
        self.append(key, [{"role": "system", "content": f"{NOTICE_PREFIX}{text}"}])

    def purge(self, older_than_days: int) -> int:
        """Forget whole conversations untouched for `older_than_days` (retention)."""
        cutoff = self.now() - older_than_days * 86400
        with self.database.immediate() as db:
            return db.conn.execute(
                "DELETE FROM messages WHERE thread_key IN (SELECT thread_key FROM messages "
                "GROUP BY thread_key HAVING MAX(at) < ?)",
                (cutoff,),
            ).rowcount
