"""The approvals tables and their migrations, in order; each applies once per database."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from infra.db import Schema

migrations = Migrations("approvals")


@migrations()
def create_actions_table(db: sqlite_utils.Database) -> None:
    db["actions"].create(
        {
            "id": int,
            "requester": str,
            "channel": str,
            "thread_ts": str,
            "method": str,
            "path": str,
            "body": str,
            "request_hash": str,
            "status": str,
            "approvals_required": int,
            "created_at": float,
            "expires_at": float,
            "decided_at": float,
            "decided_by": str,
            "reason": str,
            "started_at": float,
            "finished_at": float,
            "hr_status": int,
            "hr_body": str,
            "error": str,
        },
        pk="id",
        not_null={
            "requester",
            "method",
            "path",
            "request_hash",
            "status",
            "approvals_required",
            "created_at",
            "expires_at",
        },
        defaults={"approvals_required": 1},
    )
    db["actions"].create_index(["status"])
    db["actions"].create_index(["requester", "status"])
    db["cards"].create(
        {"channel": str, "ts": str, "action_id": int, "kind": str},
        pk=("channel", "ts"),
        foreign_keys=[("action_id", "actions", "id")],
    )
    db["cards"].create_index(["action_id"])


@migrations()
def add_votes_and_reminders(db: sqlite_utils.Database) -> None:
    db["votes"].create(
        {"action_id": int, "approver": str, "at": float},
        pk=("action_id", "approver"),
        foreign_keys=[("action_id", "actions", "id")],
    )
    db["actions"].add_column("reminded_at", float)


@migrations()
def add_record_snapshot(db: sqlite_utils.Database) -> None:
    # The record as it was when the card was made: shown as "before", and compared again
    # just before running (the stale guard).
    db["actions"].add_column("before", str)


@migrations()
def add_target_description(db: sqlite_utils.Database) -> None:
    # What the target is called and its values under the request's field names, both worked
    # out by the bot from its catalogue, so cards need not know the HR API's record shape.
    db["actions"].add_column("noun", str)
    db["actions"].add_column("fields_before", str)


@migrations()
def add_contributors(db: sqlite_utils.Database) -> None:
    # Everyone whose words were in the model's context when the action was queued.
    db["actions"].add_column("contributors", str)


@migrations()
def add_idempotency_key_and_text_salt(db: sqlite_utils.Database) -> None:
    # A key unique across databases and deployments, so the HR API never replays another
    # action's answer; and a random salt for the hashes of free text that the audit keeps
    # (the salt is purged with the text, after which the hash reveals nothing).
    db["actions"].add_column("idempotency_key", str)
    db["actions"].add_column("text_salt", str)
    db.execute(
        "UPDATE actions SET idempotency_key = 'hrbot-' || lower(hex(randomblob(16))) "
        "WHERE idempotency_key IS NULL"
    )


@migrations()
def add_requester_hr_subject(db: sqlite_utils.Database) -> None:
    # With per-user HR authority: the HR identity the requester was linked to when asking; the
    # write is sent only with that same identity's token.
    db["actions"].add_column("hr_subject", str)


@migrations()
def add_execution_lease(db: sqlite_utils.Database) -> None:
    # Which process runs an executing action, and until when it is known to be alive.
    db["actions"].add_column("owner", str)
    db["actions"].add_column("lease_until", float)


@migrations()
def add_named_leases_and_rate_events(db: sqlite_utils.Database) -> None:
    # Leases on names (a conversation's turn, the sweep round, a token refresh) held by one
    # process until a time; and the recent events of per-person limits. Both are shared by
    # every process using the database, so limits and turns hold across replicas.
    db["leases"].create(
        {"name": str, "owner": str, "until": float}, pk="name", not_null={"owner", "until"}
    )
    db["rate_events"].create({"name": str, "key": str, "at": float}, not_null={"name", "key", "at"})
    db["rate_events"].create_index(["name", "key", "at"])


@migrations()
def add_escalation(db: sqlite_utils.Database) -> None:
    # When a request still pending was also sent to the escalation group (ESCALATION_GROUP).
    db["actions"].add_column("escalated_at", float)


@migrations()
def add_requester_words(db: sqlite_utils.Database) -> None:
    # The messages (speaker and text, verbatim) that led to the action, quoted on its card.
    db["actions"].add_column("words", str)


@migrations()
def add_editors(db: sqlite_utils.Database) -> None:
    # Who edited the request after it was made (in order): its cards say so.
    db["actions"].add_column("edited_by", str)


@migrations()
def add_redaction(db: sqlite_utils.Database) -> None:
    # When retention purged an action's personal data; and, for each message the bot posted
    # about it, when it was rewritten without that data (and how many tries that took).
    db["actions"].add_column("purged_at", float)
    db["cards"].add_column("redacted_at", float)
    db["cards"].add_column("redact_tries", int, not_null_default=0)


@migrations()
def add_trace_parent(db: sqlite_utils.Database) -> None:
    # Where the span that held the action is, so its decision's span can link to it.
    db["actions"].add_column("trace_parent", str)


@migrations()
def add_relations(db: sqlite_utils.Database) -> None:
    # An action's own verb ("Approve" a time-off request), whether it is the HR system's own
    # decision, and the manager who may approve it (as read from the HR data when it was held).
    db["actions"].add_column("verb", str)
    db["actions"].add_column("hr_decision", int)
    db["actions"].add_column("manager", str)


POSTGRES = (
    (
        "create_actions_cards_votes",
        """
        CREATE TABLE actions (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            requester TEXT NOT NULL,
            channel TEXT,
            thread_ts TEXT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            body TEXT,
            request_hash TEXT NOT NULL,
            status TEXT NOT NULL,
            approvals_required INTEGER NOT NULL DEFAULT 1,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            decided_at DOUBLE PRECISION,
            decided_by TEXT,
            reason TEXT,
            started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION,
            hr_status INTEGER,
            hr_body TEXT,
            error TEXT,
            reminded_at DOUBLE PRECISION,
            before TEXT,
            noun TEXT,
            fields_before TEXT,
            contributors TEXT,
            idempotency_key TEXT,
            text_salt TEXT,
            hr_subject TEXT,
            owner TEXT,
            lease_until DOUBLE PRECISION
        );
        CREATE INDEX idx_actions_status ON actions (status);
        CREATE INDEX idx_actions_requester_status ON actions (requester, status);
        -- rowid: the order rows were added in, which SQLite keeps by itself.
        CREATE TABLE cards (
            channel TEXT NOT NULL,
            ts TEXT NOT NULL,
            action_id BIGINT REFERENCES actions (id),
            kind TEXT,
            rowid BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (channel, ts)
        );
        CREATE INDEX idx_cards_action_id ON cards (action_id);
        CREATE TABLE votes (
            action_id BIGINT NOT NULL REFERENCES actions (id),
            approver TEXT NOT NULL,
            at DOUBLE PRECISION,
            rowid BIGINT GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (action_id, approver)
        );
        """,
    ),
    (
        "create_leases_and_rate_events",
        """
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            until DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE rate_events (
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX idx_rate_events_name_key_at ON rate_events (name, key, at);
        """,
    ),
    ("add_escalation", "ALTER TABLE actions ADD COLUMN escalated_at DOUBLE PRECISION;"),
    ("add_requester_words", "ALTER TABLE actions ADD COLUMN words TEXT;"),
    ("add_editors", "ALTER TABLE actions ADD COLUMN edited_by TEXT;"),
    (
        "add_redaction",
        "ALTER TABLE actions ADD COLUMN purged_at DOUBLE PRECISION; "
        "ALTER TABLE cards ADD COLUMN redacted_at DOUBLE PRECISION; "
        "ALTER TABLE cards ADD COLUMN redact_tries INTEGER NOT NULL DEFAULT 0;",
    ),
    ("add_trace_parent", "ALTER TABLE actions ADD COLUMN trace_parent TEXT;"),
    (
        "add_relations",
        "ALTER TABLE actions ADD COLUMN verb TEXT; "
        "ALTER TABLE actions ADD COLUMN hr_decision INTEGER; "
        "ALTER TABLE actions ADD COLUMN manager TEXT;",
    ),
)

tables = Schema("approvals", migrations, POSTGRES)
