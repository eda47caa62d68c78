"""Where each action's card and requester notice were posted, so every copy can be updated; and
every other message the bot posted about it (kind "outcome" for the requester's one outcome
message, "message" for any other), so that once retention purges the action's personal data,
each one is rewritten without it."""

from __future__ import annotations

from approvals import audit
from approvals.records import Card
from infra.db import Database


class CardCopies:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, action_id: int, channel: str, ts: str, kind: str = "approver") -> Card:
        with self.database.immediate() as db:
            db.execute(
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

    def remember(self, action_id: int, channel: str, ts: str, kind: str = "message") -> None:
        """A message about the action that is not one of its cards (its outcome, a note)."""
        with self.database.immediate() as db:
            db.execute(
                "INSERT INTO cards (channel, ts, action_id, kind) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (channel, ts) DO NOTHING",  # one answer telling of two actions
                (channel, ts, action_id, kind),
            )

    def outcome_told(self, action_id: int) -> bool:
        """Whether the requester's thread has the action's outcome message."""
        sql = "SELECT 1 AS told FROM cards WHERE action_id = ? AND kind = 'outcome' LIMIT 1"
        return bool(self.database.query(sql, (action_id,)))

    def unredacted(self, limit: int, max_tries: int) -> list[Card]:
        """Messages about purged actions not yet rewritten, with tries left; oldest first."""
        rows = self.database.execute(
            "SELECT c.action_id, c.channel, c.ts, c.kind FROM cards c "
            "JOIN actions a ON a.id = c.action_id "
            "WHERE a.purged_at IS NOT NULL AND c.redacted_at IS NULL AND c.redact_tries < ? "
            "ORDER BY c.rowid LIMIT ?",
            (max_tries, limit),
        )
        return [Card(**dict(row)) for row in rows]

    def redacted(self, card: Card, at: float) -> None:
        with self.database.immediate() as db:
            db.execute(
                "UPDATE cards SET redacted_at = ? WHERE channel = ? AND ts = ?",
                (at, card.channel, card.ts),
            )

    def redaction_failed(self, card: Card, *, give_up: bool, max_tries: int) -> None:
        tries = "?" if give_up else "redact_tries + 1"
        params = (max_tries,) if give_up else ()
        with self.database.immediate() as db:
            db.execute(
                f"UPDATE cards SET redact_tries = {tries} WHERE channel = ? AND ts = ?",
                (*params, card.channel, card.ts),
            )

    def of(self, action_id: int) -> list[Card]:
        """Every copy of the action's card and notice, in the order they were posted (not the
        other messages about it)."""
        rows = self.database.execute(
            "SELECT action_id, channel, ts, kind FROM cards "
            "WHERE action_id = ? AND (kind IS NULL OR kind NOT IN ('message', 'outcome')) "
            "ORDER BY rowid",
            (action_id,),
        )
        return [Card(**dict(row)) for row in rows]

    def kinds(self, action_id: int) -> set[str]:
        return {card.kind for card in self.of(action_id)}
