"""Where each action's card and requester notice were posted, so every copy can be updated."""

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

    def of(self, action_id: int) -> list[Card]:
        """Every copy of the action's card and notice, in the order they were posted."""
        rows = self.database.execute(
            "SELECT action_id, channel, ts, kind FROM cards WHERE action_id = ? ORDER BY rowid",
            (action_id,),
        )
        return [Card(**dict(row)) for row in rows]

    def kinds(self, action_id: int) -> set[str]:
        return {card.kind for card in self.of(action_id)}
