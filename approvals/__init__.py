"""The approvals engine: pending actions, signed decisions, the executor and the audit trail.

It never imports `bot`; an HR transport and anything else it needs are passed in.
"""

from approvals import audit, schema
from approvals.db import Database
from approvals.executor import MISSING, Executor, Transport
from approvals.store import (
    STATES,
    TERMINAL,
    TRANSITIONS,
    ActionError,
    ActionExpired,
    ActionNotFound,
    ActionStore,
    AlreadyDecided,
    AlreadyVoted,
    Card,
    PendingAction,
    request_hash,
)
from approvals.tokens import BadToken, Decision, TokenExpired, TokenSigner

MIGRATIONS = (schema.migrations, audit.migrations)

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
    "Database",
    "Decision",
    "Executor",
    "PendingAction",
    "TokenExpired",
    "TokenSigner",
    "Transport",
    "audit",
    "request_hash",
]
