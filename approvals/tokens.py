"""Signed button values: each binds one decision to one action and the exact request it sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

# One salt per purpose: a value signed for anything else never verifies here.
SALT = "hr-approval-bot.approval-button.v1"
# Edit and Reassign decide nothing themselves; they get a decision's checks (slack/revisions.py).
DECISIONS = {"approve": "a", "reject": "r", "withdraw": "w", "edit": "e", "reassign": "s"}
_DECISION_NAMES = {code: name for name, code in DECISIONS.items()}
MAX_TOKEN_LENGTH = 2000  # Slack's limit for a button value


class BadToken(Exception):
    """The button value is not one this bot signed for an approval decision."""


class TokenExpired(BadToken):
    """The button value was genuine but is older than the approval window."""


@dataclass(frozen=True)
class Decision:
    action_id: int
    decision: str
    request_hash: str


class TokenSigner:
    """Signs and verifies button values. Rotation: the first secret signs, all of them verify."""

    def __init__(self, secrets: Sequence[str], max_age_seconds: int) -> None:
        if not secrets or any(not secret for secret in secrets):
            raise ValueError("at least one non-empty signing secret is needed")
        # itsdangerous signs with the *last* key in the list and verifies with all of them.
        self._serializer = URLSafeTimedSerializer(list(reversed(secrets)), salt=SALT)
        self.max_age_seconds = max_age_seconds

    def sign(self, action_id: int, decision: str, request_hash: str) -> str:
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        token = self._serializer.dumps([action_id, DECISIONS[decision], request_hash])
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError("signed value does not fit in a Slack button")
        return token

    def verify(self, token: object) -> Decision:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise BadToken("the button value is missing or malformed")
        try:
            payload = self._serializer.loads(token, max_age=self.max_age_seconds)
        except SignatureExpired as e:
            raise TokenExpired("this approval button has expired") from e
        except BadData as e:
            raise BadToken("the button value's signature does not verify") from e
        match payload:
            case [int() as action_id, str() as code, str() as digest] if (
                code in _DECISION_NAMES and len(digest) == 64 and not isinstance(action_id, bool)
            ):
                return Decision(action_id, _DECISION_NAMES[code], digest)
        raise BadToken("the button value's contents are not an approval decision")
