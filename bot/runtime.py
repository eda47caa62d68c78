"""Builds the bot's parts from a Config, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from approvals import (
    MIGRATIONS,
    MISSING,
    ActionStore,
    Database,
    Executor,
    PendingAction,
    TokenSigner,
)
from bot import conversations, inbox
from bot.agent import Agent, make_client
from bot.catalogue import DEFAULT_CATALOGUE, Catalogue
from bot.config import Config
from bot.conversations import ConversationStore
from bot.hr_client import HRClient
from bot.tools import Toolbox


@dataclass
class Runtime:
    config: Config
    database: Database
    actions: ActionStore
    conversations: ConversationStore
    hr: HRClient
    toolbox: Toolbox
    agent: Agent
    executor: Executor
    signer: TokenSigner | None

    def close(self) -> None:
        self.hr.close()
        self.database.close()


def _or_missing(record: object) -> object:
    return MISSING if record is None else record


def build_runtime(
    config: Config,
    *,
    catalogue_path: str = str(DEFAULT_CATALOGUE),
    on_pending: Callable[[PendingAction], None] | None = None,
) -> Runtime:
    database = Database(
        config.database_path, [*MIGRATIONS, conversations.migrations, inbox.migrations]
    )
    actions = ActionStore(database)
    history = ConversationStore(database, token_budget=config.history_token_budget)
    hr = HRClient(config.hr_api_url, token=config.hr_api_token)
    toolbox = Toolbox(
        Catalogue.load(catalogue_path),
        hr,
        actions,
        approval_ttl_seconds=config.approval_ttl_seconds,
        on_pending=on_pending,
        max_pending_per_requester=config.max_pending_per_requester,
    )
    client = make_client(
        api_key=config.openai_api_key,
        base_url=config.openai_base_url,
        timeout=config.openai_timeout_seconds,
        max_retries=config.openai_max_retries,
    )
    agent = Agent(
        client,
        config.openai_model,
        toolbox,
        history,
        max_rounds=config.max_tool_rounds,
        deadline_seconds=config.model_deadline_seconds,
    )
    signer = (
        TokenSigner(config.approval_secrets, config.approval_ttl_seconds)
        if config.approval_secrets
        else None
    )
    return Runtime(
        config=config,
        database=database,
        actions=actions,
        conversations=history,
        hr=hr,
        toolbox=toolbox,
        agent=agent,
        executor=Executor(actions, hr, snapshot=lambda path: _or_missing(hr.read_record(path))),
        signer=signer,
    )
