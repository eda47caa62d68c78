"""What the approvals engine stores: pending actions, their states and where each may go."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

# Every state an action can be in, and where each may go. Anything else is a bug.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected", "expired", "withdrawn"}),
    "approved": frozenset({"executing", "failed", "stale"}),
    "executing": frozenset({"succeeded", "failed", "unknown", "stale"}),
}
TERMINAL = frozenset(
    {"rejected", "expired", "withdrawn", "succeeded", "failed", "unknown", "stale"}
)
STATES = frozenset(TRANSITIONS) | TERMINAL
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ActionError(Exception):
    """Something about a pending action stops the request."""


class ActionNotFound(ActionError):
    """No action has that number."""


class AlreadyDecided(ActionError):
    """The action has left the state this change needed; `action` shows where it is now."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"action #{action.id} is already {action.status}")
        self.action = action


class AlreadyVoted(ActionError):
    """This approver has already approved; another approver's vote is needed."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"you have already approved action #{action.id}")
        self.action = action


class TooManyPending(ActionError):
    """A limit on open pending actions (the requester's own, or everyone's) is reached."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"{limit} actions are already waiting for approval ({scope})")
        self.scope = scope  # "requester" or "total"
        self.limit = limit


class ActionExpired(ActionError):
    """The action's approval window has closed."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__(f"action #{action.id} expired and can no longer be approved")
        self.action = action


def record_id(path: str) -> str:
    """The id a request's path ends in ("/api/users/9" → "9"), or "" when it ends otherwise."""
    segments = [s for s in path.split("?")[0].split("/") if s]
    return segments[-1] if segments and segments[-1].isdigit() else ""


def canonical_body(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return None
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(
    method: str, path: str, body: dict[str, Any] | None, salt: str | None = None
) -> str:
    """SHA-256 of the exact request: what an approver's signature is bound to. Salted with the
    action's own random salt, so that once retention deletes the body and the salt, the hash
    kept in the audit cannot be used to guess the body (a salary tried value by value)."""
    parts: list[Any] = [method, path, canonical_body(body)]
    if salt is not None:  # actions stored before salts existed were hashed without one
        parts.insert(0, salt)
    material = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def text_hash(salt: str | None, text: str | None) -> str | None:
    """What the audit keeps of free text (a reject reason): a salted hash. Once retention purges
    the text and the salt, the hash can no longer be checked or guessed."""
    if text is None or salt is None:
        return None
    return hashlib.sha256(f"{salt}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Thread:
    """A Slack thread: its channel and the ts of its first message. The one definition of a
    thread's identity; its `key` names it in storage and logs."""

    channel: str
    ts: str

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.ts}"


@dataclass(frozen=True)
class Card:
    """One posted copy of an action's card (kind "approver") or of the requester's notice."""

    action_id: int
    channel: str
    ts: str
    kind: str


_JSON_COLUMNS = (
    "body",
    "hr_body",
    "before",
    "fields_before",
    "contributors",
    "words",
    "edited_by",
    "manager",
)


@dataclass(frozen=True)
class PendingAction:
    id: int
    requester: str
    channel: str | None
    thread_ts: str | None
    method: str
    path: str
    body: dict[str, Any] | None
    request_hash: str
    status: str
    approvals_required: int
    created_at: float
    expires_at: float
    decided_at: float | None = None
    decided_by: str | None = None
    reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    hr_status: int | None = None
    hr_body: Any = None
    error: str | None = None
    reminded_at: float | None = None
    escalated_at: float | None = None  # also sent to the escalation group then
    before: Any = None  # the target record when the action was created (PUT, PATCH, DELETE)
    approved_by: tuple[str, ...] = ()  # distinct approvers so far, oldest first
    noun: str | None = None  # what the target is called ("employee"), from the catalogue
    # The target's values under the request's field names (e.g. "name" for first and last name),
    # so a card can show before → after without knowing the HR API's record shape.
    fields_before: dict[str, Any] | None = None
    # Everyone whose words were in the model's context when it queued this (the requester
    # always); none of them may approve it.
    contributors: tuple[str, ...] = ()
    idempotency_key: str | None = None  # sent with the HR request; unique across databases
    # Salts the request hash and the hashes of free text kept in the audit; purged with the text.
    text_salt: str | None = None
    # The requester's HR identity (per-user HR authority); the write goes out as this identity.
    hr_subject: str | None = None
    owner: str | None = None  # while executing: the process running it (approvals/leases.py)
    lease_until: float | None = None
    # The messages that led to the action, verbatim: (speaker, text), oldest first.
    words: tuple[tuple[str, str], ...] = ()
    edited_by: tuple[str, ...] = ()  # approvers who edited the request, in order
    # The W3C traceparent of the span that held it, when tracing is on: its decision's span
    # links back to it (infra.tracing).
    trace_parent: str | None = None
    verb: str | None = None  # its own verb ("Approve"), when not the method's ("Create")
    # It is the HR system's own decision (approving a time-off request there): the card says so.
    hr_decision: bool = False
    # The manager of the person it is about, who may approve it: {"id", "name", "email"} as the
    # HR data had them when it was held; None: the approver group decides.
    manager: dict[str, Any] | None = None

    @property
    def shaped_by(self) -> frozenset[str]:
        return frozenset(self.contributors) | {self.requester}

    @property
    def thread(self) -> Thread | None:
        """The requester's thread, when the action came from one."""
        return Thread(self.channel, self.thread_ts) if self.channel and self.thread_ts else None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def body_text(self) -> str | None:
        return canonical_body(self.body)

    def hash_matches(self) -> bool:
        """True when the stored request still hashes to the hash recorded at creation."""
        # Rows may hold an unsalted hash (stored before salted hashes existed) next to a salt;
        # both forms are checked, and neither is weaker: whoever can edit the row can recompute
        # either.
        salted = request_hash(self.method, self.path, self.body, self.text_salt)
        plain = request_hash(self.method, self.path, self.body)
        return self.request_hash in (salted, plain)

    @classmethod
    def from_row(cls, row: dict[str, Any], approved_by: tuple[str, ...] = ()) -> PendingAction:
        # Columns this version does not know (a newer replica's migration) are left out.
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in row.items() if k in known} | {"approved_by": approved_by}
        for name in _JSON_COLUMNS:
            if values.get(name) is not None:
                values[name] = json.loads(values[name])
        values["contributors"] = tuple(values.get("contributors") or ())
        values["words"] = tuple((str(w[0]), str(w[1])) for w in values.get("words") or ())
        values["edited_by"] = tuple(values.get("edited_by") or ())
        values["hr_decision"] = bool(values.get("hr_decision"))
        return cls(**values)


def about(action: PendingAction, email: str | None) -> bool:
    """The action is about the HR record of the person with this (Slack profile) email: the
    record's email as it was when the card was made (the snapshot of an update or a delete), or
    the email the request gives a record (a create has no snapshot; an update may set one).
    Both are under the request's field names, the `email` field of the catalogue's record."""
    if not email:
        return False
    body = action.body if isinstance(action.body, dict) else {}
    emails = ((action.fields_before or {}).get("email"), body.get("email"))
    return any(isinstance(e, str) and e.strip().lower() == email for e in emails)
