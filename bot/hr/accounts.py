"""Each Slack user's own linked HR account, its OAuth tokens sealed (encrypted) at rest, and the
cipher that seals them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlite_utils import Migrations

from approvals import audit
from infra.db import Database, Schema, Transaction, open_database

SETTING = "TOKEN_ENCRYPTION_KEYS"
MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
# One purpose per sealed kind: a sealed link state never opens as an account's token.
PURPOSE = "hr-account.token.v1"

migrations = Migrations("hr_accounts")


@migrations()
def create_hr_accounts_table(db: sqlite_utils.Database) -> None:
    db["hr_accounts"].create(
        {
            "slack_user": str,
            "hr_subject": str,
            "hr_email": str,
            "sealed_token": str,
            "linked_at": float,
            "updated_at": float,
        },
        pk="slack_user",
        not_null={"hr_subject", "sealed_token", "linked_at", "updated_at"},
    )


POSTGRES = (
    (
        "create_hr_accounts_table",
        """
        CREATE TABLE hr_accounts (
            slack_user TEXT PRIMARY KEY,
            hr_subject TEXT NOT NULL,
            hr_email TEXT,
            sealed_token TEXT NOT NULL,
            linked_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        """,
    ),
)

tables = Schema("hr_accounts", migrations, POSTGRES)


class SealBroken(Exception):
    """No key opens this sealed value: it was sealed under another key, altered, or moved."""


class TokenCipher:
    """Seals small JSON objects with Fernet. Rotation: the first key seals, every key opens."""

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str):
            raise TypeError("keys is a list; TokenCipher.from_setting parses comma-separated text")
        if not keys:
            raise ValueError(f"at least one key is needed; make one with: {MAKE_A_KEY}")
        fernets = []
        for position, key in enumerate(keys, 1):
            problem = "is empty" if not key else "is not a Fernet key (32 url-safe base64 bytes)"
            try:
                fernets.append(Fernet(key))
            except ValueError as e:
                # Never echo the key: this message ends up in logs.
                raise ValueError(
                    f"key {position} of {len(keys)} {problem}; make one with: {MAKE_A_KEY}"
                ) from e
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, text: str) -> TokenCipher:
        """The cipher for TOKEN_ENCRYPTION_KEYS: comma-separated Fernet keys, the newest first."""
        keys = [key.strip() for key in text.split(",")] if text.strip() else []
        try:
            return cls(keys)
        except ValueError as e:
            raise ValueError(f"{SETTING}: {e}") from e

    def seal(self, value: Mapping[str, Any]) -> str:
        plain = json.dumps(dict(value), separators=(",", ":"), ensure_ascii=False)
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, token: str) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(token))
        except (InvalidToken, ValueError) as e:
            raise SealBroken("no key opens this sealed value") from e
        if not isinstance(value, dict):
            raise SealBroken("the sealed value is not an object")
        return value

    def rotate(self, token: str) -> str:
        """The same value sealed under the first key (keeping its original timestamp)."""
        try:
            return self._fernet.rotate(token).decode("ascii")
        except (InvalidToken, ValueError) as e:
            raise SealBroken("no key opens this sealed value") from e


@dataclass(frozen=True)
class LinkedAccount:
    slack_user: str
    hr_subject: str
    hr_email: str | None
    # access_token, refresh_token, expires_at, token_type, scope…; kept out of repr (and logs).
    token: dict[str, Any] = field(repr=False)
    linked_at: float
    updated_at: float


def _plain(token: Mapping[str, Any]) -> dict[str, Any]:
    """The token as it will read back: a plain dict of JSON values (Authlib hands OAuth2Token)."""
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise ValueError("an HR token needs an access_token")
    return json.loads(json.dumps(dict(token)))


class Accounts:
    """Linked HR accounts by Slack user id. A token is sealed together with its Slack user id, so
    a sealed value copied into another person's row does not open there. Linking and unlinking
    are audited in the transaction that does them (the HR subject, never a token)."""

    def __init__(
        self, database: Database, cipher: TokenCipher, *, now: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.cipher = cipher
        self.now = now

    def _seal(self, slack_user: str, token: dict[str, Any]) -> str:
        return self.cipher.seal({"purpose": PURPOSE, "slack_user": slack_user, "token": token})

    def _open(self, slack_user: str, sealed: str) -> dict[str, Any]:
        value = self.cipher.open(sealed)
        if (
            value.get("purpose") != PURPOSE
            or value.get("slack_user") != slack_user
            or not isinstance(value.get("token"), dict)
        ):
            raise SealBroken(f"the token stored for {slack_user} was not sealed for them")
        return value["token"]

    def _account(self, row: Mapping[str, Any]) -> LinkedAccount:
        return LinkedAccount(
            slack_user=row["slack_user"],
            hr_subject=row["hr_subject"],
            hr_email=row["hr_email"],
            token=self._open(row["slack_user"], row["sealed_token"]),
            linked_at=row["linked_at"],
            updated_at=row["updated_at"],
        )

    def link(
        self, slack_user: str, hr_subject: str, hr_email: str | None, token: Mapping[str, Any]
    ) -> LinkedAccount:
        """Store a new link, replacing any earlier link of this Slack user (whose token is then
        gone: unlink first to revoke it)."""
        token = _plain(token)
        sealed = self._seal(slack_user, token)
        at = self.now()
        with self.database.immediate() as db:
            db.execute(
                "INSERT INTO hr_accounts (slack_user, hr_subject, hr_email, sealed_token, "
                "linked_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (slack_user) DO UPDATE SET hr_subject = excluded.hr_subject, "
                "hr_email = excluded.hr_email, sealed_token = excluded.sealed_token, "
                "linked_at = excluded.linked_at, updated_at = excluded.updated_at",
                (slack_user, hr_subject, hr_email, sealed, at, at),
            )
            audit.append(
                db, "hr_account_linked", actor=slack_user, at=at, detail={"hr_subject": hr_subject}
            )
        return LinkedAccount(slack_user, hr_subject, hr_email, token, at, at)

    def get(self, slack_user: str) -> LinkedAccount | None:
        rows = self.database.query("SELECT * FROM hr_accounts WHERE slack_user = ?", (slack_user,))
        return self._account(rows[0]) if rows else None

    def save_token(
        self, slack_user: str, token: Mapping[str, Any], *, refresh_token: str | None = None
    ) -> bool:
        """Store a refreshed token; False (and nothing stored) when the account was unlinked
        meanwhile — the caller then holds a live token it should revoke.

        `refresh_token` is the one the refresh used, as Authlib's update_token hook passes it, so
        `update_token=functools.partial(accounts.save_token, slack_user)` fits. When given, the
        token is stored only if the link still holds that refresh token: a session of an earlier
        link cannot overwrite a newer one.
        """
        token = _plain(token)
        sealed = self._seal(slack_user, token)
        with self.database.immediate() as db:
            row = db.execute(
                "SELECT sealed_token FROM hr_accounts WHERE slack_user = ?", (slack_user,)
            ).fetchone()
            if row is None:
                return False
            if refresh_token is not None:
                stored = self._open(slack_user, row["sealed_token"])
                if stored.get("refresh_token") != refresh_token:
                    return False
            db.execute(
                "UPDATE hr_accounts SET sealed_token = ?, updated_at = ? WHERE slack_user = ?",
                (sealed, self.now(), slack_user),
            )
        return True

    def unlink(self, slack_user: str, *, why: str = "disconnected") -> LinkedAccount | None:
        """Delete the link and return what it held, so the caller can revoke the token. Raises
        SealBroken (and keeps the link) when no key opens the stored token: `discard` it."""
        with self.database.immediate() as db:
            row = db.execute(
                "SELECT * FROM hr_accounts WHERE slack_user = ?", (slack_user,)
            ).fetchone()
            if row is None:
                return None
            account = self._account(row)
            self._delete(db, slack_user, row["hr_subject"], why)
        return account

    def discard(self, slack_user: str, *, why: str) -> bool:
        """Delete the link without reading its token (one no key opens any more)."""
        with self.database.immediate() as db:
            row = db.execute(
                "SELECT hr_subject FROM hr_accounts WHERE slack_user = ?", (slack_user,)
            ).fetchone()
            if row is None:
                return False
            self._delete(db, slack_user, row["hr_subject"], why)
        return True

    def _delete(self, db: Transaction, slack_user: str, subject: str, why: str) -> None:
        db.execute("DELETE FROM hr_accounts WHERE slack_user = ?", (slack_user,))
        audit.append(
            db,
            "hr_account_unlinked",
            actor=slack_user,
            at=self.now(),
            detail={"hr_subject": subject, "why": why},
        )

    def rotate_keys(self) -> int:
        """Re-seal every stored token under the first key, all or none; how many were re-sealed.
        Afterwards the older keys can be dropped from TOKEN_ENCRYPTION_KEYS."""
        with self.database.immediate() as db:
            rows = db.execute("SELECT slack_user, sealed_token FROM hr_accounts").fetchall()
            db.executemany(
                "UPDATE hr_accounts SET sealed_token = ? WHERE slack_user = ?",
                [(self.cipher.rotate(row["sealed_token"]), row["slack_user"]) for row in rows],
            )
        return len(rows)


def rotate_stored_tokens(database: str, keys: str) -> int:
    """`python -m bot rotate-keys`: every stored HR token re-sealed under the first key of
    `keys` (TOKEN_ENCRYPTION_KEYS); how many. All or none."""
    opened = open_database(database, [tables])
    try:
        return Accounts(opened, TokenCipher.from_setting(keys)).rotate_keys()
    finally:
        opened.close()
