from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from approvals import MIGRATIONS, ActionStore, Database
from bot import conversations
from bot.agent import Agent, make_client
from bot.catalogue import Catalogue
from bot.conversations import ConversationStore
from bot.hr_client import HRClient
from bot.tools import Toolbox
from sandbox import HRSandbox
from sandbox.scripted_model import ScriptedModel
from tests.browser import SKIPPED, chromium  # noqa: F401 - a fixture
from tests.slack_harness import Stack


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-required",
        action="store_true",
        default=os.environ.get("HRBOT_BROWSER_TESTS") == "required",
        help="fail (not skip) the browser tests when Chromium is missing; CI sets "
        "HRBOT_BROWSER_TESTS=required",
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if config.stash.get(SKIPPED, False):
        terminalreporter.section("BROWSER TESTS SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.line(
            "Chromium is not installed, so the local workspace page was not tested in a "
            "browser. Install it (apt-get install -y chromium) and run make test again.",
            red=True,
        )


@pytest.fixture
def database(tmp_path) -> Iterator[Database]:
    db = Database(tmp_path / "bot.sqlite3", [*MIGRATIONS, conversations.migrations])
    yield db
    db.close()


@pytest.fixture
def actions(database) -> ActionStore:
    return ActionStore(database)


@pytest.fixture
def four_audit_rows(actions) -> ActionStore:
    """A store whose audit holds four rows: a request approved, then a request rejected."""
    from tests.test_store import new_action

    first = new_action(actions)
    actions.approve(first.id, "U0BOB")
    second = new_action(actions)
    actions.reject(second.id, "U0CAROL", "no")
    return actions


@pytest.fixture
def hr_sandbox(tmp_path) -> Iterator[HRSandbox]:
    with HRSandbox(tmp_path / "hr.sqlite3") as sandbox:
        yield sandbox


@pytest.fixture
def hr_client(hr_sandbox) -> Iterator[HRClient]:
    client = HRClient(hr_sandbox.url)
    yield client
    client.close()


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    """The scripted model; a test fails if a step goes unused or a request was invalid."""
    with ScriptedModel() as scripted:
        yield scripted
        scripted.assert_consumed()


@pytest.fixture
def toolbox(hr_client, actions) -> Toolbox:
    return Toolbox(Catalogue.load(), hr_client, actions, approval_ttl_seconds=3600)


@pytest.fixture
def agent(model, toolbox, database) -> Agent:
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    return Agent(client, "test-model", toolbox, ConversationStore(database), max_rounds=4)


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    """The whole bot over HTTP on loopback; fails if a scripted model step goes unused."""
    running = Stack(tmp_path).start()
    yield running
    running.stop()
    running.model.assert_consumed()
