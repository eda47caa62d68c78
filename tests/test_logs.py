from __future__ import annotations

import io
import json

import pytest
import structlog

from approvals import Thread
from bot.agent.history import ConversationStore
from bot.agent.loop import Agent, make_client
from bot.tools.context import ToolContext
from infra import logs
from sandbox.scripted_model import ScriptedModel, rest, say, tool_calls


@pytest.fixture
def json_log():
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logs.configure("console")
    structlog.contextvars.clear_contextvars()


def test_json_lines_carry_model_and_tool_events_without_bodies(json_log, agent, model):
    model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver, payroll."))
    structlog.contextvars.bind_contextvars(thread="C0HR:1.1")
    agent.respond("who is 2?", ToolContext("U0DANA", Thread("C0HR", "1.1")))
    events = json_log()
    calls = [e for e in events if e["event"] == "model.call"]
    assert len(calls) == 2
    assert {
        "model",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "finish_reason",
        "thread",
        "timestamp",
        "level",
    } <= set(calls[0])
    # Counts the docs promise stay readable: the redaction is for secrets, not for numbers.
    assert isinstance(calls[0]["prompt_tokens"], int) and calls[0]["prompt_tokens"] > 0
    assert isinstance(calls[0]["completion_tokens"], int)
    (read,) = [e for e in events if e["event"] == "tool.read"]
    assert (read["method"], read["path"], read["status"]) == ("GET", "/api/users/2", 200)
    assert "Weaver" not in json.dumps(events)  # no personal data from the HR answer


def test_tokens_and_secrets_never_reach_the_log(json_log):
    log = structlog.get_logger("test")
    log.info(
        "something xoxb-123-456-abc happened",
        slack_token="xoxb-123-456-abc",
        authorization="Bearer s3cr3t",
        detail="key sk-abcdefghijklmnop and xapp-1-2-3",
        body={"name": "Neo"},
        api_key="plain-api-key",
        client_secret="plain-client-secret",
        refresh_token="plain-refresh",
        password="hunter2",
        signing_key="plain-signing-key",
        private_key="plain-private-key",
        token_encryption_keys="plain-fernet-keys",
        approval_secrets="plain-approval-secrets",
        code_verifier="plain-verifier",
    )
    text = json.dumps(json_log())
    for secret in (
        "xoxb-123",
        "s3cr3t",
        "sk-abcdefghijklmnop",
        "xapp-1-2-3",
        "Neo",
        "plain-api-key",
        "plain-client-secret",
        "plain-refresh",
        "hunter2",
        "plain-signing-key",
        "plain-private-key",
        "plain-fernet-keys",
        "plain-approval-secrets",
        "plain-verifier",
    ):
        assert secret not in text


def test_a_message_past_its_deadline_stops_with_a_clear_answer(toolbox, database):
    with ScriptedModel([tool_calls(rest("GET", "/api/users/2"))], latency=1.5) as slow:
        client = make_client(api_key="k", base_url=slow.url, timeout=30, max_retries=0)
        agent = Agent(client, "m", toolbox, ConversationStore(database), deadline_seconds=2)
        reply = agent.respond("who is 2?", ToolContext("U0DANA", Thread("C0HR", "1.1")))
        assert reply.text.startswith("I ran out of time") and reply.model_calls == 1
        slow.assert_consumed()


def test_decisions_and_executions_carry_the_action_and_thread(json_log, tmp_path):
    from approvals import MIGRATIONS, ActionStore, Executor, TokenSigner
    from approvals.slack.cards import APPROVE_ACTION_ID
    from approvals.slack.clicks import Click, ClickHandler
    from infra.db import open_database
    from infra.roster import Roster
    from tests.fakes import CountingHR, Members, QuietAnnouncer

    database = open_database(tmp_path / "l.sqlite3", MIGRATIONS)
    store = ActionStore(database)
    signer = TokenSigner(["l" * 40], max_age_seconds=60)
    action = store.create(
        requester="U0DANA",
        method="DELETE",
        path="/api/users/3",
        body=None,
        ttl_seconds=60,
        channel="C0HR",
        thread_ts="1.1",
    )
    clicks = ClickHandler(
        store,
        signer,
        Executor(store, CountingHR()),
        QuietAnnouncer(),
        approvers=Roster(["U0BOB"]),
        people=Members(),
        team_id="T0TEAM",
    )
    clicks.handle(
        Click(
            "U0BOB",
            "T0TEAM",
            APPROVE_ACTION_ID,
            signer.sign(action.id, "approve", action.request_hash),
        )
    )
    events = {e["event"]: e for e in json_log()}
    for name in ("action.approved", "action.executed"):
        assert (events[name]["action_id"], events[name]["thread"]) == (action.id, "C0HR:1.1")
    database.close()
