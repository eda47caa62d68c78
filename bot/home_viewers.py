"""Who has opened the bot's Home tab: only their views are kept up to date when something
changes (publishing to everyone on every change would be calls for pages nobody reads)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from approvals.db import Database, Schema

migrations = Migrations("home")


@migrations()
def create_home_viewers(db: sqlite_utils.Database) -> None:
    db["home_viewers"].create({"user": str, "opened_at": float}, pk="user", not_null={"opened_at"})


POSTGRES = (
    (
        "create_home_viewers",
        'CREATE TABLE home_viewers ("user" TEXT PRIMARY KEY, opened_at DOUBLE PRECISION NOT NULL);',
    ),
)

tables = Schema("home", migrations, POSTGRES)


class HomeViewers:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, user: str, at: float) -> None:
        with self.database.immediate() as db:
            db.execute(
                'INSERT INTO home_viewers ("user", opened_at) VALUES (?, ?) '
                'ON CONFLICT ("user") DO UPDATE SET opened_at = excluded.opened_at',
                (user, at),
            )

    def all(self) -> list[str]:
        return [row[0] for row in self.database.execute('SELECT "user" FROM home_viewers')]
