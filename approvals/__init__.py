"""The approvals engine: pending actions, signed decisions, the executor and the audit trail.

It never imports `bot`; an HR transport and anything else it needs are passed in.
"""

from approvals import audit, schema, stats
from approvals.executor import MISSING, Executor, Transport
from approvals.records import (
    STATES,
    TERMINAL,
    TRANSITIONS,
    ActionError,
    ActionExpired,
    ActionNotFound,
    AlreadyDecided,
    AlreadyVoted,
    Card,
    PendingAction,
    Thread,
    request_hash,
)
from approvals.slack.card_copies import CardCopies
from approvals.store import ActionStore
from approvals.tokens import BadToken, Decision, TokenExpired, TokenSigner
from infra.db import Database, open_database

# Every table of the approvals engine, on either engine (approvals/db.py).
MIGRATIONS = (schema.tables, audit.tables)

__all__ = [
    "MIGRATIONS",
    "MISSING",
    "STATES",
    "TERMINAL",
    "TRANSITIONS",
    "ActionError",
    "ActionExpired",
    "ActionNotFound",
    "ActionStore",
    "AlreadyDecided",
    "AlreadyVoted",
    "BadToken",
    "Card",
    "CardCopies",
    "Database",
    "Decision",
    "Executor",
    "PendingAction",
    "Thread",
    "TokenExpired",
    "TokenSigner",
    "Transport",
    "audit",
    "open_database",
    "request_hash",
    "stats",
]
