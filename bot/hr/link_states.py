"""OAuth link states: the `state` of each authorization request, bound to the Slack user who
started it, with the PKCE verifier sealed; each is claimed at most once, before it expires.

LinkStateError → UnknownState, StateExpired, StateUsed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils
from sqlite_utils import Migrations

from bot.hr.accounts import SealBroken, TokenCipher
from infra.db import Database, Schema

PURPOSE = "hr-account.link-state.v1"
# What start() hands out: token_urlsafe(32), 43 URL-safe characters; anything else is not ours.
STATE_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")

migrations = Migrations("link_states")


@migrations()
def create_link_states_table(db: sqlite_utils.Database) -> None:
    # Only a digest of the state is kept: whoever reads the file cannot complete a link with it.
    db["link_states"].create(
        {
            "state_digest": str,
            "slack_user": str,
            "sealed_verifier": str,
            "event_id": str,
            "started_at": float,
            "claimed_at": float,
        },
        pk="state_digest",
        not_null={"slack_user", "sealed_verifier", "started_at"},
    )
    db["link_states"].create_index(["started_at"])


POSTGRES = (
    (
        "create_link_states_table",
        """
        CREATE TABLE link_states (
            state_digest TEXT PRIMARY KEY,
            slack_user TEXT NOT NULL,
            sealed_verifier TEXT NOT NULL,
            event_id TEXT,
            started_at DOUBLE PRECISION NOT NULL,
            claimed_at DOUBLE PRECISION
        );
        CREATE INDEX idx_link_states_started_at ON link_states (started_at);
        """,
    ),
)

tables = Schema("link_states", migrations, POSTGRES)


class LinkStateError(Exception):
    """The `state` of an OAuth callback is not one this bot can accept."""


class UnknownState(LinkStateError):
    """No link was started with this state, or it was purged since."""


class StateExpired(LinkStateError):
    """The link was started longer ago than a state lives."""


class StateUsed(LinkStateError):
    """This state was claimed before: each callback is accepted once."""


@dataclass(frozen=True)
class Claim:
    slack_user: str
    code_verifier: str = field(repr=False)
    event_id: str | None


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class LinkStates:
    """Started links awaiting their OAuth callback. A key rotation leaves these sealed under the
    old key: keep it in TOKEN_ENCRYPTION_KEYS for one `ttl_seconds` after rotating."""

    def __init__(
        self,
        database: Database,
        cipher: TokenCipher,
        *,
        now: Callable[[], float] = time.time,
        ttl_seconds: float = 600,
    ) -> None:
        self.database = database
        self.cipher = cipher
        self.now = now
        self.ttl_seconds = ttl_seconds

    def start(self, slack_user: str, code_verifier: str, *, event_id: str | None = None) -> str:
        """A fresh random state for an authorization request by `slack_user`."""
        if not code_verifier:
            raise ValueError("a PKCE code verifier is needed")
        state = secrets.token_urlsafe(32)
        digest = state_digest(state)
        sealed = self.cipher.seal(
            {
                "purpose": PURPOSE,
                "state_digest": digest,
                "slack_user": slack_user,
                "code_verifier": code_verifier,
            }
        )
        with self.database.immediate() as db:
            db.execute(
                "INSERT INTO link_states (state_digest, slack_user, sealed_verifier, event_id, "
                "started_at) VALUES (?, ?, ?, ?, ?)",
                (digest, slack_user, sealed, event_id, self.now()),
            )
        return state

    def claim(self, state: object) -> Claim:
        """Take the state once: who started the link, the PKCE verifier, and the event it came
        from. Raises UnknownState, StateExpired or StateUsed."""
        if not isinstance(state, str) or not STATE_SHAPE.fullmatch(state):
            raise UnknownState("the state is missing or malformed")
        digest = state_digest(state)
        now = self.now()
        # Read first, without the write lock: a flood of unknown, used or stale states never
        # queues behind (or ahead of) the bot's own writes.
        self._open_to_claim(
            self.database.execute(
                "SELECT claimed_at, started_at FROM link_states WHERE state_digest = ?", (digest,)
            ).fetchone(),
            now,
        )
        with self.database.immediate() as db:  # again, under the lock: it may have changed
            row = db.execute(
                "SELECT * FROM link_states WHERE state_digest = ?", (digest,)
            ).fetchone()
            self._open_to_claim(row, now)
            code_verifier = self._open(row)
            claimed = db.execute(
                "UPDATE link_states SET claimed_at = ? "
                "WHERE state_digest = ? AND claimed_at IS NULL",
                (now, digest),
            ).rowcount
            if claimed != 1:
                raise StateUsed("this link was already completed")
        return Claim(row["slack_user"], code_verifier, row["event_id"])

    def _open_to_claim(self, row: sqlite3.Row | None, now: float) -> None:
        """Raises UnknownState, StateUsed or StateExpired unless `row` may be claimed now."""
        if row is None:
            raise UnknownState("no link was started with this state")
        if row["claimed_at"] is not None:
            raise StateUsed("this link was already completed")
        if now - row["started_at"] > self.ttl_seconds:
            raise StateExpired("this link was started too long ago; start again")

    def _open(self, row: sqlite3.Row) -> str:
        value = self.cipher.open(row["sealed_verifier"])
        if (
            value.get("purpose") != PURPOSE
            or value.get("state_digest") != row["state_digest"]
            or value.get("slack_user") != row["slack_user"]
            or not isinstance(value.get("code_verifier"), str)
        ):
            raise SealBroken("the verifier stored for this state was not sealed for it")
        return value["code_verifier"]

    def purge(self, older_than_seconds: float) -> int:
        """Drop states started more than `older_than_seconds` ago, claimed or not; how many."""
        cutoff = self.now() - older_than_seconds
        with self.database.immediate() as db:
            return db.execute("DELETE FROM link_states WHERE started_at < ?", (cutoff,)).rowcount
