"""Runs an approved action: exactly the stored request, at most once, and records what happened."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from typing import Any, Protocol

from approvals.authority import Authority, NotConnected, SharedToken
from approvals.leases import Leases
from approvals.records import PendingAction
from approvals.store import ActionStore


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
    """`snapshot(path, headers)` (optional) reads the target record now, for the stale guard: a
    PUT, PATCH or DELETE whose record changed since its card was made is not run.

    `authority` says whose HR credentials go with the request: with per-user authority, the
    requester's own (the identity they asked as), or nobody's: the action then fails closed."""

    def __init__(
        self,
        store: ActionStore,
        transport: Transport,
        *,
        snapshot: Callable[[str, dict[str, str]], Any] | None = None,
        authority: Authority | None = None,
        requester_problem: Callable[[str], str | None] | None = None,
        leases: Leases | None = None,
    ) -> None:
        """`requester_problem(user)` says why a requester may no longer act (they left the
        workspace, say), or None; with per-user authority, a write then fails closed."""
        self.store = store
        self.transport = transport
        self.snapshot = snapshot
        self.authority = authority or SharedToken()
        self.requester_problem = requester_problem
        self.leases = leases  # when several processes share the database

    def run(self, action_id: int, signed_hash: str) -> PendingAction:
        """Send an approved action's stored request once; AlreadyDecided unless it is approved."""
        # Claim first, check after: once the row is `executing` nothing else can start it, and
        # the row we check is the row we send.
        lease = self.leases.terms() if self.leases else None
        action = self.store.start(action_id, lease=lease)
        with self.leases.kept(action.id) if self.leases else contextlib.nullcontext():
            return self._run(action, signed_hash)

    def _run(self, action: PendingAction, signed_hash: str) -> PendingAction:
        if not (hmac.compare_digest(signed_hash, action.request_hash) and action.hash_matches()):
            return self.store.refuse(
                action.id, "refused: the stored request does not match the one that was approved"
            )
        try:
            credentials = self._credentials(action)
        except NotConnected as e:
            return self._refuse_uncredentialed(action, str(e))
        except Exception as e:  # a check that broke: fail closed, and say so
            why = f"the requester's HR account could not be checked ({type(e).__name__})."
            return self._refuse_uncredentialed(action, why)
        if self.snapshot is not None and action.before is not None:
            try:
                current = self.snapshot(action.path, credentials)
            except NotConnected as e:  # the HR API refused the requester's token (401)
                self.authority.rejected(action.requester, credentials)
                return self.store.refuse(
                    action.id, f"not sent: <@{action.requester}>'s HR account: {e}"
                )
            except Exception as e:  # cannot tell whether it changed: do not run it
                return self.store.refuse(action.id, f"could not re-read the record: {e}")
            if current != action.before:
                return self.store.mark_stale(
                    action.id,
                    "the record is gone"
                    if current is MISSING
                    else "the record changed after the card was made",
                )
        try:
            response = self.transport.request(
                action.method,
                action.path,
                body=action.body,
                headers={
                    **credentials,
                    "Idempotency-Key": action.idempotency_key or f"hrbot-action-{action.id}",
                },
            )
        except Exception as e:  # any transport failure is recorded, never retried here
            error = f"{type(e).__name__}: {e}"
            if getattr(e, "request_sent", True):
                return self.store.mark_unknown(action.id, error)
            return self.store.mark_unsent(action.id, error)
        if response.status == 401 and self.authority.required:
            self.authority.rejected(action.requester, credentials)
        return self.store.finish(action.id, hr_status=response.status, hr_body=response.body)

    def _refuse_uncredentialed(self, action: PendingAction, why: str) -> PendingAction:
        return self.store.refuse(
            action.id, f"not sent: {why} No other HR credential is ever used instead."
        )

    def _credentials(self, action: PendingAction) -> dict[str, str]:
        """The requester's HR credentials, when requests go out as people: only the identity
        the action was asked as (a different account linked since is not used)."""
        if not self.authority.required:
            return {}
        if action.hr_subject is None:
            raise NotConnected("the request was made without a connected HR account.")
        if self.authority.subject(action.requester) != action.hr_subject:
            raise NotConnected(
                f"<@{action.requester}>'s HR account is no longer connected (disconnected, "
                "revoked, or left)."
            )
        if self.requester_problem is not None and (why := self.requester_problem(action.requester)):
            raise NotConnected(f"<@{action.requester}> can no longer act here ({why}).")
        return self.authority.headers(action.requester)
