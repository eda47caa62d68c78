from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from approvals import MIGRATIONS, ActionStore
from bot.agent.history import ConversationStore
from bot.agent.loop import Agent, make_client
from bot.hr.client import HRClient
from bot.parts import BOT_MIGRATIONS
from bot.tools.catalogue import Catalogue
from bot.tools.toolbox import Toolbox
from infra.db import Database, open_database
from sandbox import HRSandbox
from sandbox.scripted_model import ScriptedModel
from tests.browser import chromium  # noqa: F401 - a fixture
from tests.postgres_server import ThrowawayPostgres, find_binaries
from tests.slack_harness import Stack
from tests.system_needs import NEEDS, POSTGRES


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """Whatever a test does to the log configuration (the eval's command raises the level to
    errors only) is undone after it, so capture_logs sees every level in the next test."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def pytest_addoption(parser: pytest.Parser) -> None:
    for need in NEEDS:
        need.add_option(parser)


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module that sets BOTH_ENGINES = True runs each of its database tests on SQLite and
    on a real PostgreSQL server."""
    if getattr(metafunc.module, "BOTH_ENGINES", False) and "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for need in NEEDS:
        need.report(config, terminalreporter)


@pytest.fixture(scope="session")
def postgres(request) -> Iterator[ThrowawayPostgres]:
    """A throwaway PostgreSQL server for the whole run; `fresh_database()` per test."""
    binaries = find_binaries()
    if binaries is None:
        POSTGRES.missing(request)
    server = ThrowawayPostgres(binaries).start()
    yield server
    server.stop()


@pytest.fixture
def engine(request) -> str:
    """Which engine `database` is on: SQLite unless the module asks for both (BOTH_ENGINES)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_location(request, tmp_path, engine) -> str:
    """Where a test's database is: a SQLite file, or a new database on the throwaway server."""
    if engine == "postgresql":
        return request.getfixturevalue("postgres").fresh_database()
    return str(tmp_path / "bot.sqlite3")


@pytest.fixture
def database(database_location) -> Iterator[Database]:
    db = open_database(database_location, [*MIGRATIONS, *BOT_MIGRATIONS])
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
