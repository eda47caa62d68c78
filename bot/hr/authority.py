"""Per-user HR authority: every HR request made for a person carries that person's own access
token, refreshed when near expiry; a token the HR API or its identity provider no longer accepts
is dropped, and the person is asked to connect again. Nobody else's credential is ever used."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from approvals.authority import NotConnected
from bot.hr.accounts import Accounts, LinkedAccount, SealBroken
from bot.hr.link_states import LinkStates
from bot.hr.oauth import HRIdentityProvider, ProviderError, revoked
from infra.named_leases import NamedLeases

log = structlog.get_logger(__name__)

NOT_CONNECTED = "your HR account is not connected."
RECONNECT = "your HR account's connection has ended (revoked or expired); connect it again."
REFRESH_FAILED = "your HR account's token could not be renewed just now; try again in a minute."
REFRESH_WAIT_SECONDS = 10.0  # for another replica's refresh of the same person's token
REFRESH_LEASE_SECONDS = 30.0  # longer than a refresh may take (the provider's timeouts)
REFRESH_MARGIN_SECONDS = 5


class PersonalAuthority:
    """The Authority (approvals/authority.py) of OAuth mode."""

    required = True

    def __init__(
        self,
        accounts: Accounts,
        provider: HRIdentityProvider,
        *,
        leeway_seconds: int = 60,
        leases: NamedLeases | None = None,
        wait_seconds: float = REFRESH_WAIT_SECONDS,
    ) -> None:
        """With `leases` (shared by every replica), one refresh per person at a time across
        replicas too: the others wait for it and use the token it saved."""
        self.accounts = accounts
        self.provider = provider
        self.leeway_seconds = leeway_seconds
        self.leases = leases
        self.wait_seconds = wait_seconds
        # One refresh per person at a time: with rotating refresh tokens, a second concurrent
        # refresh would present a spent token, be refused, and look like a revoked grant.
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, slack_user: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(slack_user, threading.Lock())

    def _account(self, slack_user: str) -> LinkedAccount | None:
        try:
            return self.accounts.get(slack_user)
        except SealBroken:  # sealed under a key no longer configured: as good as not linked
            log.error("hr_account.unreadable", user=slack_user)
            return None

    def subject(self, slack_user: str) -> str | None:
        account = self._account(slack_user)
        return account.hr_subject if account else None

    def email(self, slack_user: str) -> str | None:
        account = self._account(slack_user)
        return account.hr_email if account else None

    def headers(self, slack_user: str) -> dict[str, str]:
        with self._lock(slack_user):
            account = self._account(slack_user)
            if account is None:
                raise NotConnected(NOT_CONNECTED)
            if self.leases is None or not self._expiring(account.token):
                return self._fresh_headers(slack_user, account)
            with self._refreshing(slack_user):
                account = self._account(slack_user)  # another replica may have renewed it
                if account is None:
                    raise NotConnected(NOT_CONNECTED)
                return self._fresh_headers(slack_user, account)

    def _expiring(self, token: dict[str, Any]) -> bool:
        """Due for a refresh (with a margin over the provider client's own test)."""
        expires_at = token.get("expires_at")
        margin = self.leeway_seconds + REFRESH_MARGIN_SECONDS
        return expires_at is not None and float(expires_at) - margin <= time.time()

    @contextmanager
    def _refreshing(self, slack_user: str) -> Iterator[None]:
        """Hold this person's refresh lease, shared by every replica; waits for another
        replica's refresh to end, up to `wait_seconds`."""
        name = f"hr-token-refresh:{slack_user}"
        deadline = time.monotonic() + self.wait_seconds
        # Waiting reads; only an attempt to take the lease writes.
        while self.leases.held(name) or not self.leases.take(name, REFRESH_LEASE_SECONDS):
            if time.monotonic() >= deadline:
                raise NotConnected(REFRESH_FAILED)
            time.sleep(0.05)
        try:
            yield
        finally:
            self.leases.release(name)

    def _fresh_headers(self, slack_user: str, account: LinkedAccount) -> dict[str, str]:
        save = functools.partial(self._save, slack_user)
        try:
            token = self.provider.fresh(account.token, save, leeway=self.leeway_seconds)
        except ProviderError as e:
            log.warning("hr_account.refresh_failed", user=slack_user, grant_gone=e.grant_gone)
            if e.grant_gone and self._drop(slack_user, account.token, why="grant_ended"):
                raise NotConnected(RECONNECT) from e
            # Passing, or another process renewed the token meanwhile: the link stays.
            raise NotConnected(REFRESH_FAILED) from e
        return {"Authorization": f"Bearer {token['access_token']}"}

    def _save(self, slack_user: str, token: dict[str, Any], **used: Any) -> None:
        """Authlib's update_token hook: keep the rotated refresh token (only over the one this
        refresh used, so an older session never overwrites a newer link)."""
        if not self.accounts.save_token(slack_user, token, refresh_token=used.get("refresh_token")):
            log.warning("hr_account.refreshed_after_unlink", user=slack_user)
            revoked(self.provider, token)  # unlinked meanwhile: it must not outlive the link

    def rejected(self, slack_user: str, headers: dict[str, str]) -> None:
        """The HR API refused the token in `headers`: drop the link, if it still holds that
        token (one renewed meanwhile is another matter), and end the grant behind it."""
        log.warning("hr_account.rejected_by_hr_api", user=slack_user)
        sent = (headers.get("Authorization") or "").removeprefix("Bearer ")
        with self._lock(slack_user):
            account = self._account(slack_user)
            if account is None or account.token.get("access_token") != sent:
                return
            if self._drop(slack_user, account.token, why="rejected_by_hr_api"):
                revoked(self.provider, account.token)

    def _drop(self, slack_user: str, token: dict[str, Any], *, why: str) -> bool:
        """Unlink, if the link still holds `token`; whether it was dropped."""
        try:
            current = self.accounts.get(slack_user)
        except SealBroken:
            return self.accounts.discard(slack_user, why=why)
        if current is None or current.token.get("refresh_token") != token.get("refresh_token"):
            return False
        return self.accounts.unlink(slack_user, why=why) is not None


@dataclass(frozen=True)
class PerUser:
    """Per-user HR authority (HR_AUTH=oauth): who is linked to which HR account, the links
    being made, the HR identity provider, and the authority that gives requests a person's
    token."""

    accounts: Accounts
    states: LinkStates
    provider: HRIdentityProvider
    authority: PersonalAuthority
