"""The approvals engine: pending actions and their store, signed decisions, the executor, the
audit trail and its checkpoints, the sweeper, stats; `python -m approvals` reads the audit.
Its Slack screens are in `approvals.slack`.

It imports neither `bot` nor its own Slack screens: an HR transport, the announcer and
anything else it needs are passed in when bot/app.py assembles the app.
"""

from approvals import audit, schema
from approvals.executor import MISSING, Executor
from approvals.records import (
    STATES,
    TERMINAL,
    TRANSITIONS,
    ActionExpired,
    ActionNotFound,
    AlreadyDecided,
    Card,
    PendingAction,
    Thread,
    request_hash,
)
from approvals.store import ActionStore
from approvals.tokens import BadToken, Decision, TokenExpired, TokenSigner

# Every table of the approvals engine, on either engine (infra/db.py).
MIGRATIONS = (schema.tables, audit.tables)

__all__ = [
    "MIGRATIONS",
    "MISSING",
    "STATES",
    "TERMINAL",
    "TRANSITIONS",
    "ActionExpired",
    "ActionNotFound",
    "ActionStore",
    "AlreadyDecided",
    "BadToken",
    "Card",
    "Decision",
    "Executor",
    "PendingAction",
    "Thread",
    "TokenExpired",
    "TokenSigner",
    "request_hash",
]
