"""The first things bot/app.py builds: the database with the stores both sides share, and, with
per-user HR authority, the linked accounts and the identity provider."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack

from approvals import MIGRATIONS, ActionStore
from bot.agent.history import ConversationStore
from bot.config import Config
from bot.hr.accounts import Accounts, TokenCipher
from bot.hr.authority import REFRESH_LEASE_SECONDS, PersonalAuthority, PerUser
from bot.hr.link_states import LinkStates
from bot.hr.oauth import HRIdentityProvider, find_endpoints
from bot.parts import BOT_MIGRATIONS, Storage
from infra.db import open_database
from infra.named_leases import NamedLeases

Clock = Callable[[], float]
LINK_SECONDS = 600  # a Connect button works once, for this long


def open_storage(config: Config, closing: ExitStack, *, now: Clock = time.time) -> Storage:
    database = open_database(config.database, [*MIGRATIONS, *BOT_MIGRATIONS])
    closing.callback(database.close)
    return Storage(
        database,
        ActionStore(database, now=now),
        ConversationStore(database, token_budget=config.history_token_budget, now=now),
    )


def open_per_user(
    config: Config, storage: Storage, *, owner: str, now: Clock = time.time
) -> PerUser:
    """Per-user HR authority (HR_AUTH=oauth): linked accounts, sealed; the identity provider
    found by discovery (explicit endpoint URLs win). Raises ProviderError when it cannot be.
    `owner` names this process among replicas: one refresh of a person's token at a time."""
    cipher = TokenCipher.from_setting(config.token_encryption_keys or "")
    provider = HRIdentityProvider(
        find_endpoints(config.hr_oauth_issuer, **config.hr_oauth_endpoints),
        client_id=config.hr_oauth_client_id or "",
        client_secret=config.hr_oauth_client_secret or "",
        scopes=config.hr_oauth_scopes,
        redirect_uri=config.oauth_callback_url,
    )
    accounts = Accounts(storage.database, cipher, now=now)
    states = LinkStates(storage.database, cipher, now=now, ttl_seconds=LINK_SECONDS)
    # Token refreshes are timed by the real clock, as the tokens' expiry is.
    refreshes = NamedLeases(storage.database, owner=owner, seconds=REFRESH_LEASE_SECONDS)
    authority = PersonalAuthority(accounts, provider, leases=refreshes)
    return PerUser(accounts, states, provider, authority)
