"""Incoming Slack messages, stored before they are answered: a retried event is taken once,
and whatever was not answered before a crash is answered after the restart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import sqlite_utils
import structlog
from sqlite_utils import Migrations

from bot.slack.events import Incoming
from infra.db import Database, Schema
from infra.limits import RateWindow

log = structlog.get_logger(__name__)

migrations = Migrations("inbox")


@migrations()
def create_inbox_table(db: sqlite_utils.Database) -> None:
    db["inbox"].create(
        {
            "event_id": str,
            "received_at": float,
            "user": str,
            "channel": str,
            "thread_ts": str,
            "message_ts": str,
            "text": str,
            "answered_at": float,
        },
        pk="event_id",
        not_null={"received_at", "user", "channel", "thread_ts", "message_ts", "text"},
    )
    db["inbox"].create_index(["answered_at"])


@migrations()
def add_where_it_came_from(db: sqlite_utils.Database) -> None:
    # What the gate checks besides the person: the kind of channel, every team the event named,
    # and whether the channel is shared with another organisation.
    db["inbox"].add_column("channel_type", str)
    db["inbox"].add_column("teams", str)
    db["inbox"].add_column("shared", int)


@migrations()
def add_claims(db: sqlite_utils.Database) -> None:
    # Which process is answering a message, and until when it is known to be alive: another
    # process takes the message over only once that claim has lapsed.
    db["inbox"].add_column("owner", str)
    db["inbox"].add_column("claim_until", float)


@migrations()
def add_conversation_index(db: sqlite_utils.Database) -> None:
    # Finding a conversation's next unanswered message (taking turns across replicas).
    db["inbox"].create_index(["channel", "thread_ts", "user"])


POSTGRES = (
    (
        "create_inbox_table",
        """
        CREATE TABLE inbox (
            event_id TEXT PRIMARY KEY,
            received_at DOUBLE PRECISION NOT NULL,
            "user" TEXT NOT NULL,
            channel TEXT NOT NULL,
            thread_ts TEXT NOT NULL,
            message_ts TEXT NOT NULL,
            text TEXT NOT NULL,
            answered_at DOUBLE PRECISION,
            channel_type TEXT,
            teams TEXT,
            shared INTEGER,
            owner TEXT,
            claim_until DOUBLE PRECISION,
            -- the order rows were added in, which SQLite keeps by itself
            rowid BIGINT GENERATED ALWAYS AS IDENTITY
        );
        CREATE INDEX idx_inbox_answered_at ON inbox (answered_at);
        """,
    ),
    (
        "add_conversation_index",
        'CREATE INDEX idx_inbox_conversation ON inbox (channel, thread_ts, "user");',
    ),
)

tables = Schema("inbox", migrations, POSTGRES)


COLUMNS = 'event_id, "user", channel, thread_ts, message_ts, text, channel_type, teams, shared'

SAME_CONVERSATION = 'channel = ? AND thread_ts = ? AND "user" = ?'


def _incoming(row: dict) -> Incoming:
    return Incoming(
        **{**row, "teams": tuple(json.loads(row["teams"] or "[]")), "shared": bool(row["shared"])}
    )


CLAIM_SECONDS = 120.0


class Inbox:
    """Stored messages. Each is claimed by the process that stored it (`owner`), which renews
    its claims on every housekeeping round; a message whose claim lapsed (its process died) is
    taken over by another process, once."""

    def __init__(
        self,
        database: Database,
        *,
        now: Callable[[], float] = time.time,
        owner: str = "this-process",
        claim_seconds: float = CLAIM_SECONDS,
    ) -> None:
        self.database = database
        self.now = now
        self.owner = owner
        self.claim_seconds = claim_seconds

    def accept(self, message: Incoming) -> bool:
        """Store the message; False when this event_id was seen before (a Slack retry)."""
        with self.database.immediate() as db:
            cursor = db.execute(
                'INSERT INTO inbox (event_id, received_at, "user", channel, thread_ts, '
                "message_ts, text, channel_type, teams, shared, owner, claim_until) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    message.event_id,
                    self.now(),
                    message.user,
                    message.channel,
                    message.thread_ts,
                    message.message_ts,
                    message.text,
                    message.channel_type,
                    json.dumps(message.teams),
                    int(message.shared),
                    self.owner,
                    self.now() + self.claim_seconds,
                ),
            )
        return cursor.rowcount == 1

    def forget_text(self, event_id: str) -> None:
        """Drop what a refused person wrote: it was never answered and need not be kept."""
        with self.database.immediate() as db:
            db.execute("UPDATE inbox SET text = '' WHERE event_id = ?", (event_id,))

    def answered(self, event_id: str) -> None:
        with self.database.immediate() as db:
            db.execute(
                "UPDATE inbox SET answered_at = ? WHERE event_id = ?", (self.now(), event_id)
            )

    def unanswered(self) -> list[Incoming]:
        rows = self.database.query(
            f"SELECT {COLUMNS} FROM inbox WHERE answered_at IS NULL ORDER BY received_at, rowid"
        )
        return [_incoming(row) for row in rows]

    def next_in_conversation(self, message: Incoming) -> Incoming | None:
        """The oldest unanswered message of `message`'s conversation (its thread, its person),
        claimed for this process; in the order Slack stamped them."""
        now = self.now()
        with self.database.immediate() as db:
            row = db.execute(
                f"SELECT {COLUMNS} FROM inbox WHERE {SAME_CONVERSATION} AND answered_at IS NULL "
                "ORDER BY message_ts, received_at, rowid LIMIT 1",
                (message.channel, message.thread_ts, message.user),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE inbox SET owner = ?, claim_until = ? WHERE event_id = ?",
                (self.owner, now + self.claim_seconds, row["event_id"]),
            )
        return _incoming(dict(row))

    def waiting_in_conversation(self, message: Incoming) -> bool:
        row = self.database.execute(
            f"SELECT 1 FROM inbox WHERE {SAME_CONVERSATION} AND answered_at IS NULL LIMIT 1",
            (message.channel, message.thread_ts, message.user),
        ).fetchone()
        return row is not None

    def waiting_longer_than(self, seconds: float) -> list[Incoming]:
        """This process's unanswered messages that came in more than `seconds` ago."""
        rows = self.database.query(
            f"SELECT {COLUMNS} FROM inbox WHERE owner = ? AND answered_at IS NULL "
            "AND received_at <= ? ORDER BY received_at, rowid",
            (self.owner, self.now() - seconds),
        )
        return [_incoming(row) for row in rows]

    def renew_claims(self) -> int:
        """Keep this process's unanswered messages its own for another claim period."""
        with self.database.immediate() as db:
            return db.execute(
                "UPDATE inbox SET claim_until = ? WHERE owner = ? AND answered_at IS NULL",
                (self.now() + self.claim_seconds, self.owner),
            ).rowcount

    def take_over(self) -> list[Incoming]:
        """Unanswered messages whose claim lapsed (or that were never claimed), now claimed by
        this process, each by one process only; oldest first."""
        now = self.now()
        taken = []
        for message in self.unanswered():
            with self.database.immediate() as db:
                claimed = db.execute(
                    "UPDATE inbox SET owner = ?, claim_until = ? WHERE event_id = ? "
                    "AND answered_at IS NULL AND (claim_until IS NULL OR claim_until <= ?)",
                    (self.owner, now + self.claim_seconds, message.event_id, now),
                ).rowcount
            if claimed:
                taken.append(message)
        return taken

    def reopen(self, event_id: str, user: str, *, within_seconds: float) -> Incoming | None:
        """Mark `user`'s message unanswered again (to answer it now, and after a crash), if it
        came in within `within_seconds` and its text is still kept; else None."""
        with self.database.immediate() as db:
            row = db.execute(
                f"SELECT {COLUMNS} FROM inbox WHERE event_id = ? AND \"user\" = ? AND text != '' "
                "AND received_at >= ?",
                (event_id, user, self.now() - within_seconds),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE inbox SET answered_at = NULL, owner = ?, claim_until = ? "
                "WHERE event_id = ?",
                (self.owner, self.now() + self.claim_seconds, event_id),
            )
        return _incoming(dict(row))

    def purge(self, older_than_days: int) -> int:
        """Drop answered messages older than the retention period (their text is personal data);
        the event ids of the last day stay, which is all that de-duplicating Slack retries needs."""
        cutoff = self.now() - max(older_than_days, 1) * 86400
        with self.database.immediate() as db:
            return db.execute(
                "DELETE FROM inbox WHERE answered_at IS NOT NULL AND received_at < ?", (cutoff,)
            ).rowcount


class Intake:
    """`storable` bounds what one person can make the bot store (a generous multiple of the
    per-minute limit the answering side enforces with a notice); past it messages are dropped
    before anything is written."""

    def __init__(
        self, inbox: Inbox, storable: RateWindow, queue_answer: Callable[[Incoming], bool]
    ) -> None:
        self.inbox = inbox
        self.storable = storable
        self.queue_answer = queue_answer

    def take(self, message: Incoming) -> None:
        if not self.storable.allow(message.user):
            log.warning("intake.flood_dropped", user=message.user, event_id=message.event_id)
            return
        if not self.inbox.accept(message):
            log.info("slack.duplicate_event", event_id=message.event_id)
            return
        if not self.queue_answer(message):  # this person already has a full queue: a flood
            log.warning("answer.dropped", user=message.user, event_id=message.event_id)
            self.inbox.answered(message.event_id)
