"""Runs an approved action: exactly the stored request, at most once, and records what happened."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Protocol

from approvals.store import ActionStore, PendingAction


class Response(Protocol):
    status: int
    body: Any


class Transport(Protocol):
    """What the executor needs from an HR client. An exception with `request_sent = False`
    means the request certainly never left; any other exception may have reached the server."""

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response: ...


MISSING = object()  # what a snapshot function returns when the record is gone


class Executor:
    """`snapshot(path)` (optional) reads the target record now, for the stale guard: a PUT, PATCH
    or DELETE whose record changed since its card was made is not run."""

    def __init__(
        self,
        store: ActionStore,
        transport: Transport,
        *,
        snapshot: Callable[[str], Any] | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self.snapshot = snapshot

    def run(self, action_id: int, signed_hash: str) -> PendingAction:
        """Send an approved action's stored request once; AlreadyDecided unless it is approved."""
        # Claim first, check after: once the row is `executing` nothing else can start it, and
        # the row we check is the row we send.
        action = self.store.transition(
            action_id,
            to="executing",
            allowed_from=["approved"],
            event="executing",
            fields={"started_at": self.store.now()},
        )
        if not (hmac.compare_digest(signed_hash, action.request_hash) and action.hash_matches()):
            return self._finish(
                action,
                "failed",
                event="refused",
                error="refused: the stored request does not match the one that was approved",
            )
        if self.snapshot is not None and action.before is not None:
            try:
                current = self.snapshot(action.path)
            except Exception as e:  # cannot tell whether it changed: do not run it
                return self._finish(
                    action, "failed", event="refused", error=f"could not re-read the record: {e}"
                )
            if current != action.before:
                gone = current is MISSING
                return self._finish(
                    action,
                    "stale",
                    event="stale",
                    error="the record is gone"
                    if gone
                    else "the record changed after the card was made",
                )
        try:
            response = self.transport.request(
                action.method,
                action.path,
                body=action.body,
                headers={"Idempotency-Key": str(action.id)},
            )
        except Exception as e:  # any transport failure is recorded, never retried here
            sent = getattr(e, "request_sent", True)
            return self._finish(
                action,
                "unknown" if sent else "failed",
                event="execution_error",
                error=f"{type(e).__name__}: {e}",
            )
        status = "succeeded" if 200 <= response.status < 300 else "failed"
        return self._finish(
            action,
            status,
            event="executed",
            hr_status=response.status,
            hr_body=response.body,
            error=None if status == "succeeded" else f"HR API answered {response.status}",
        )

    def _finish(
        self,
        action: PendingAction,
        status: str,
        *,
        event: str,
        error: str | None,
        hr_status: int | None = None,
        hr_body: Any = None,
    ) -> PendingAction:
        return self.store.transition(
            action.id,
            to=status,
            allowed_from=["executing"],
            event=event,
            detail={"hr_status": hr_status, "error": error},
            fields={
                "finished_at": self.store.now(),
                "hr_status": hr_status,
                "hr_body": hr_body,
                "error": error,
            },
        )
