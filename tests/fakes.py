"""Shared test doubles. Each double of one of our classes satisfies the same Protocol as the real
class (checked below), so the two cannot drift apart."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from approvals import ActionStore, PendingAction
from approvals.executor import Response


class Clock:
    """A clock tests can move: real time plus an offset (signatures still use real time)."""

    def __init__(self, start: float | None = None) -> None:
        self._fixed = start
        self.offset = 0.0

    def __call__(self) -> float:
        base = time.time() if self._fixed is None else self._fixed
        return base + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(frozen=True)
class Answer:
    """An HR API answer, shaped like bot.hr_client.HRResponse."""

    status: int
    body: Any = None

    @property
    def record(self) -> Any:
        return self.body


@dataclass
class RecordingTransport:
    """A Transport that answers from a list (or raises what it is given) and records each call."""

    answers: list[Answer | BaseException] = field(default_factory=list)
    calls: list[tuple[str, str, dict | None, dict | None]] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        self.calls.append((method, path, body, headers))
        answer = self.answers.pop(0) if self.answers else Answer(200, {})
        if isinstance(answer, BaseException):
            raise answer
        return answer


class CountingHR:
    """A Transport that counts requests per action (by Idempotency-Key) and can lose the next
    answer after "sending" it, as a dropped connection would."""

    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()
        self.lose_next_answer = False
        self.lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        with self.lock:
            self.sent[int((headers or {})["Idempotency-Key"])] += 1
            if self.lose_next_answer:
                self.lose_next_answer = False
                raise ConnectionResetError("the connection dropped after sending")
        return Answer(201 if method == "POST" else 204, None)


class QuietAnnouncer:
    """Announcements without Slack: records which actions were finished, says nothing."""

    def __init__(self) -> None:
        self.finished: list[int] = []
        self.told: list[tuple[str | None, str, str]] = []

    def post(self, action: PendingAction) -> None:
        pass

    def refresh(self, action: PendingAction) -> None:
        pass

    def finish(self, action: PendingAction) -> None:
        self.finished.append(action.id)

    def tell_approvers(self, action: PendingAction, text: str) -> None:
        pass

    def open_reject_modal(
        self, action: PendingAction, trigger_id: str, token: str, channel: str | None
    ) -> bool:
        return False

    def tell(self, channel: str | None, user: str, text: str) -> None:
        self.told.append((channel, user, text))


def held_delete(store: ActionStore, **overrides: Any) -> PendingAction:
    """A pending DELETE of employee 3, asked for by U0DANA in thread C0HR:1.1."""
    values: dict[str, Any] = dict(
        requester="U0DANA",
        method="DELETE",
        path="/api/users/3",
        body=None,
        ttl_seconds=3600,
        channel="C0HR",
        thread_ts="1.1",
    )
    values.update(overrides)
    return store.create(**values)
