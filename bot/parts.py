"""What the assembly in bot/app.py hands back: the shared stores, the Slack-free core, and the
whole Slack app with start() and close()."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field

from slack_bolt import App

from approvals import ActionStore, Executor
from approvals.slack import home as app_home
from bot.agent import history as conversations
from bot.agent.history import ConversationStore
from bot.agent.loop import Agent
from bot.config import Config
from bot.conversation import inbox
from bot.conversation.inbox import Inbox
from bot.housekeeping import Housekeeper
from bot.hr import accounts as hr_accounts
from bot.hr import link_states
from bot.hr.authority import PerUser
from bot.hr.client import HRClient
from bot.readiness import Readiness
from bot.slack.server import WSGIApp
from bot.tools.toolbox import Toolbox
from infra.db import Database

# The bot's own tables and App Home's, after the approvals engine's (approvals.MIGRATIONS).
BOT_MIGRATIONS = (
    conversations.tables,
    inbox.tables,
    hr_accounts.tables,
    link_states.tables,
    app_home.tables,
)


@dataclass(frozen=True)
class Storage:
    """The database and the stores both sides share."""

    database: Database
    actions: ActionStore
    conversations: ConversationStore


@dataclass(frozen=True)
class Core:
    """What answers questions and holds writes, without Slack: the eval runs this alone."""

    config: Config
    storage: Storage
    hr: HRClient
    executor: Executor
    toolbox: Toolbox
    agent: Agent
    per_user: PerUser | None = None  # with HR_AUTH=oauth

    @property
    def actions(self) -> ActionStore:
        return self.storage.actions


@dataclass(frozen=True)
class HRBot:
    """The whole Slack app, what its callers need of it. `start()` resumes interrupted work and
    starts the housekeeper; `close()` closes every part in the reverse order it was built (the
    caller stops serving requests to `bolt` first)."""

    core: Core
    team_id: str
    bot_user_id: str
    inbox: Inbox
    housekeeper: Housekeeper
    bolt: App
    closing: ExitStack
    # Served over HTTP besides Slack's requests, also in Socket Mode: /readyz, /metrics when
    # asked for, the OAuth callback.
    routes: dict[str, WSGIApp] = field(default_factory=dict)
    readiness: Readiness | None = None

    @property
    def actions(self) -> ActionStore:
        return self.core.actions

    @property
    def conversations(self) -> ConversationStore:
        return self.core.storage.conversations

    @property
    def database(self) -> Database:
        return self.core.storage.database

    def start(self) -> int:
        """Recover, queue unanswered messages, start sweeping; returns how many were queued."""
        resumed = self.housekeeper.resume()
        self.housekeeper.start()
        return resumed

    def close(self) -> None:
        self.closing.close()
