"""Signed checkpoints of the audit trail: one line stating its length and head, kept elsewhere.

The hash chain shows an edited row but not a tail cut off; a checkpoint shipped off the host does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from approvals import audit
from infra.db import Reader

KEY_VARIABLE = "AUDIT_CHECKPOINT_KEY"
MIN_KEY_LENGTH = 32
HOW_TO_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
# One salt per purpose: a key reused by mistake elsewhere still never signs a checkpoint there.
SALT = "hr-approval-bot.audit-checkpoint.v1"
VERSION = 1
FIELDS = {"audit_checkpoint", "at", "rows", "head_id", "head_hash"}

# HMAC from the standard library rather than itsdangerous: the statement stays plain JSON that a
# person can read and anyone holding the key can check in a few lines of any language, and
# tokens.py stays the one module that talks to itsdangerous.


class CheckpointError(Exception):
    """BadKey | BrokenChain | BadStatement | Mismatch (→ MissingRows | RowChanged)."""


class BadKey(CheckpointError):
    """AUDIT_CHECKPOINT_KEY is missing or too short to sign with."""


class BrokenChain(CheckpointError):
    """The chain is already broken, so a checkpoint now would vouch for altered rows."""


class BadStatement(CheckpointError):
    """The text is not a checkpoint statement signed with one of the keys."""


class Mismatch(CheckpointError):
    """The statement is genuine but the database no longer holds what it saw."""


class MissingRows(Mismatch):
    """The database has fewer audit rows than the checkpoint saw."""


class RowChanged(Mismatch):
    """The row at the checkpoint's head is gone or has another hash."""


@dataclass(frozen=True)
class Checkpoint:
    at: str  # ISO 8601 UTC, as written in the statement
    rows: int
    head_id: int | None
    head_hash: str


def keys_from(value: str | None) -> tuple[str, ...]:
    """The keys in the variable's value: comma-separated, the first signs, all of them verify."""
    if not value or not value.strip():
        raise BadKey(
            f"{KEY_VARIABLE} is not set: it needs a key of at least {MIN_KEY_LENGTH} characters, "
            f"kept apart from the database; make one with {HOW_TO_MAKE_A_KEY}"
        )
    keys = tuple(key.strip() for key in value.split(","))
    for number, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_LENGTH:
            raise BadKey(
                f"{KEY_VARIABLE}: key {number} of {len(keys)} has {len(key)} characters, "
                f"at least {MIN_KEY_LENGTH} are needed; make one with {HOW_TO_MAKE_A_KEY}"
            )
    return keys


def take(db: Reader, keys: Sequence[str], now: float | None = None) -> str:
    """The signed statement of the trail as it is now: one line of JSON."""
    if not keys:
        raise BadKey(f"{KEY_VARIABLE} holds no key")
    # The head first: the chain check below then covers every row the statement vouches for,
    # even if the bot appends rows in between.
    head = audit.head(db)
    broken = audit.first_broken_row(db)
    if broken is not None:
        raise BrokenChain(
            f"the audit chain is broken at row {broken}: no checkpoint taken, it would vouch for it"
        )
    fields = {
        "audit_checkpoint": VERSION,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now)),
        "rows": head.rows,
        "head_id": head.id,
        "head_hash": head.hash,
    }
    return json.dumps({**fields, "signature": _sign(fields, keys[0])})


def read(statement: str, keys: Sequence[str]) -> Checkpoint:
    """The checkpoint in a statement, once its signature verifies with one of the keys."""
    try:
        fields = json.loads(statement)
    except ValueError as e:
        raise BadStatement("this is not a checkpoint statement (one line of JSON)") from e
    if not isinstance(fields, dict) or not isinstance(fields.get("signature"), str):
        raise BadStatement("this is not a checkpoint statement: it has no signature")
    signature = fields.pop("signature").encode()
    if not any(hmac.compare_digest(signature, _sign(fields, key).encode()) for key in keys):
        raise BadStatement(
            f"the checkpoint's signature does not verify with {KEY_VARIABLE}: the statement was "
            "edited or forged, or signed with a key that is no longer listed"
        )
    match fields:
        case {
            "audit_checkpoint": int() as version,
            "at": str() as at,
            "rows": int() as rows,
            "head_id": int() | None as head_id,
            "head_hash": str() as head_hash,
        } if set(fields) == FIELDS and version == VERSION and rows >= 0:
            return Checkpoint(at=at, rows=rows, head_id=head_id, head_hash=head_hash)
    raise BadStatement(f"the signed statement is not a version {VERSION} audit checkpoint")


def check(db: Reader, checkpoint: Checkpoint) -> None:
    """Raise Mismatch unless the trail still holds every row the checkpoint saw, unchanged."""
    # With the chain verified as well, an unchanged head row means every row before it is
    # unchanged too: each row's hash covers the one before.
    now = audit.head(db)
    if now.rows < checkpoint.rows:
        raise MissingRows(
            f"missing rows: the checkpoint of {checkpoint.at} saw {checkpoint.rows} rows, "
            f"the database has {now.rows}"
        )
    if checkpoint.head_id is None:
        return  # the trail was empty then; any trail holds at least that
    stored = audit.hash_of(db, checkpoint.head_id)
    if stored != checkpoint.head_hash:
        gone = " (it is gone)" if stored is None else ""
        raise RowChanged(
            f"the row #{checkpoint.head_id} no longer matches the checkpoint of {checkpoint.at}"
            + gone
        )


def verify(db: Reader, statement: str, keys: Sequence[str]) -> Checkpoint:
    """Read a statement and check the database against it; the chain is checked separately."""
    checkpoint = read(statement, keys)
    check(db, checkpoint)
    return checkpoint


def _sign(fields: dict, key: str) -> str:
    # Sorted keys and no spaces: the signed text does not depend on how the line was laid out.
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    message = f"{SALT}\n{canonical}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
