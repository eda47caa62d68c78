from __future__ import annotations

import json
from dataclasses import replace

import openai
import pytest

from approvals import Executor, Thread
from bot.agent import history as conversations
from bot.agent.completions import ANSWER_NOW, ModelUnavailable
from bot.agent.history import ConversationStore, estimate_tokens
from bot.agent.loop import Agent, make_client, skipped_note
from bot.tools.context import ToolContext, queued_message
from infra.db import open_database
from sandbox.scripted_model import ScriptedModel, rest, say, tool_calls

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

ALICE = ToolContext(requester="U0ALICE", thread=Thread("C0HR", "1700000000.000100"))
KEY = "C0HR:1700000000.000100:U0ALICE"  # one conversation per thread and person


def last_tool_results(request: dict) -> list[str]:
    """The tool results at the end of a request, before any note of the bot's own."""
    messages = request["messages"]
    while messages and messages[-1]["role"] == "system":
        messages = messages[:-1]
    results = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        results.insert(0, message["content"])
    return results


def test_get_is_answered_from_the_hr_api(agent, model, hr_sandbox):
    model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver is a payroll specialist."))

    reply = agent.respond("What does employee 2 do?", ALICE)

    assert reply.text == "Janet Weaver is a payroll specialist."
    assert reply.model_calls == 2
    result = json.loads(last_tool_results(model.requests[1])[0])
    assert result["status"] == 200
    assert result["body"]["data"]["last_name"] == "Weaver"
    assert [r.method for r in hr_sandbox.seen] == ["GET"]


def test_instructions_go_as_a_system_message_and_tools_are_declared(agent, model):
    model.add(say("Hello."))
    agent.respond("hi", ALICE)
    request = model.requests[0]
    assert request["messages"][0]["role"] == "system"
    assert request["messages"][1] == {"role": "user", "name": "U0ALICE", "content": "hi"}
    assert [t["function"]["name"] for t in request["tools"]] == ["find_employee", "call_rest_api"]


def test_the_prompt_prefix_is_byte_identical_on_every_call(agent, model):
    model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet."), say("Yes."))
    agent.respond("who is 2?", ALICE)
    agent.respond("sure?", ALICE)

    def prefix(request: dict) -> str:
        return json.dumps([request["messages"][0], request["tools"]], sort_keys=False)

    assert len({prefix(r) for r in model.requests}) == 1


def test_a_write_is_held_and_only_the_executor_sends_it_after_approval(
    agent, model, hr_sandbox, actions, hr_client
):
    model.add(
        tool_calls(rest("POST", "/api/users", {"name": "Neo Anderson", "job": "engineer"})),
        say("It is waiting for an approver."),
    )

    reply = agent.respond("Add Neo Anderson as an engineer", ALICE)

    # The held write ends the turn: the bot, not the model, says what waits for whom.
    assert reply.text == (
        "Sent for approval (#1): Create employee `Neo Anderson` — job: `engineer`. Nothing "
        "changes until an approver approves it; the outcome will be posted here."
    )
    assert reply.held == (1,) and reply.noticed and reply.model_calls == 1
    assert hr_sandbox.writes_seen() == []
    (action,) = actions.in_states("pending")
    assert (action.method, action.path, action.body) == (
        "POST",
        "/api/users",
        {"name": "Neo Anderson", "job": "engineer"},
    )
    assert (action.requester, action.channel, action.thread_ts) == (
        "U0ALICE",
        "C0HR",
        ALICE.thread.ts,
    )
    # What the model learns of it, it reads in the conversation when the requester goes on.
    assert agent.respond("Is it done?", ALICE).text == "It is waiting for an approver."
    told = [m for m in model.requests[1]["messages"] if m["role"] == "tool"][-1]["content"]
    assert f"action #{action.id}" in told and "approver" in told

    executor = Executor(actions, hr_client)
    actions.approve(action.id, "U0BOB")
    assert hr_sandbox.writes_seen() == []  # approval alone sends nothing
    done = executor.run(action.id, action.request_hash)

    assert done.status == "succeeded" and done.hr_status == 201
    assert done.hr_body["name"] == "Neo Anderson"
    (sent,) = hr_sandbox.writes_seen()
    assert (
        sent.method == "POST"
        and sent.headers["Idempotency-Key"] == actions.get(action.id).idempotency_key
    )


def test_the_model_never_sees_a_token_or_anything_that_could_approve(agent, model, actions):
    model.add(tool_calls(rest("DELETE", "/api/users/3")), say("It waits for an approver."))
    agent.respond("Delete employee 3", ALICE)
    agent.respond("What happens now?", ALICE)
    (action,) = actions.in_states("pending")
    tool_result = [m for m in model.requests[1]["messages"] if m["role"] == "tool"][-1]["content"]
    assert tool_result == queued_message(action)
    everything_the_model_saw = json.dumps(model.requests)
    assert action.request_hash not in everything_the_model_saw
    for word in ("http", "token", "button", "action_id", "signature"):
        assert word not in tool_result.lower()


def test_several_tool_calls_in_one_answer_are_each_answered(agent, model, hr_sandbox):
    model.add(
        tool_calls(
            rest("GET", "/api/users/1"), rest("GET", "/api/users/9"), rest("GET", "/api/users/999")
        ),
        say("Done."),
    )
    agent.respond("Who are 1, 9 and 999?", ALICE)
    second = model.requests[1]["messages"]
    call_ids = [c["id"] for c in second[-4]["tool_calls"]]
    assert [m["tool_call_id"] for m in second[-3:]] == call_ids
    statuses = [json.loads(r)["status"] for r in last_tool_results(model.requests[1])]
    assert statuses == [200, 200, 404]


def test_malformed_arguments_are_answered_with_an_error_the_model_can_fix(agent, model, hr_sandbox):
    model.add(
        tool_calls('{"method": "GET", "url": '),
        tool_calls(rest("GET", "https://evil.example/api/users")),
        tool_calls(("delete_everything", "{}")),
        say("Sorry."),
    )
    agent.respond("list people", ALICE)
    results = [last_tool_results(r)[0] for r in model.requests[1:]]
    assert results[0].startswith("Error: the arguments are not valid JSON")
    assert results[1].startswith("Error: request refused: url must be a path")
    assert results[2].startswith("Error: there is no tool named 'delete_everything'")
    assert hr_sandbox.seen == []


def test_the_last_round_must_answer_in_words_from_what_it_has(agent, model):
    model.add(*[tool_calls(rest("GET", f"/api/users?page={n}")) for n in (1, 2, 3)])
    model.add(say("Pages 1 to 3 hold 18 people."))
    reply = agent.respond("loop forever", ALICE)
    assert reply.model_calls == 4 and reply.text == "Pages 1 to 3 hold 18 people."
    assert [r.get("tool_choice") for r in model.requests] == [None, None, None, "none"]
    assert model.requests[-1]["messages"][-1] == ANSWER_NOW
    assert ANSWER_NOW not in agent.conversations.load(KEY)  # a note for that call only


def test_a_model_that_repeats_its_calls_is_made_to_answer(agent, model, hr_sandbox):
    again = tool_calls(rest("GET", "/api/users/2"))
    model.add(again, again, say("Janet Weaver."))
    reply = agent.respond("who is 2?", ALICE)
    assert reply.text == "Janet Weaver."
    assert [r.get("tool_choice") for r in model.requests] == [None, None, "none"]
    assert len(hr_sandbox.seen) == 2  # the repeat still ran; the step after it must answer


def test_rounds_are_bounded_even_where_the_server_ignores_tool_choice(toolbox, database):
    with ScriptedModel(tool_choice="ignored") as lax:
        lax.add(*[tool_calls(rest("GET", f"/api/users?page={n}")) for n in (1, 2, 3, 4)])
        client = make_client(api_key="k", base_url=lax.url, timeout=10, max_retries=0)
        agent = Agent(client, "m", toolbox, ConversationStore(database), max_rounds=4)
        reply = agent.respond("loop forever", ALICE)
        lax.assert_consumed()
    assert reply.model_calls == 4
    assert reply.text.startswith("I stopped after 4 steps without finishing")
    history = agent.conversations.load(KEY)
    assert history[-1] == {"role": "assistant", "content": reply.text}  # no call left unanswered


def test_a_follow_up_in_the_thread_continues_the_conversation_after_a_restart(
    model, toolbox, database, database_location
):
    client = make_client(api_key="k", base_url=model.url, timeout=10, max_retries=0)
    model.add(tool_calls(rest("GET", "/api/users/2")), say("Janet Weaver."))
    Agent(client, "m", toolbox, ConversationStore(database)).respond("Who is 2?", ALICE)

    # The process restarts: a new agent over the same database.
    again = open_database(database_location, [conversations.tables])
    model.add(say("She is a payroll specialist."))
    Agent(client, "m", toolbox, ConversationStore(again)).respond("What does she do?", ALICE)
    again.close()

    contents = [m.get("content") for m in model.requests[-1]["messages"]]
    assert contents[1] == "Who is 2?" and "Janet Weaver." in contents
    assert contents[-1] == "What does she do?"


def test_other_threads_do_not_share_history(agent, model):
    model.add(say("one"), say("two"))
    agent.respond("first thread", replace(ALICE, thread=Thread("C1", "1.1")))
    agent.respond("second thread", replace(ALICE, thread=Thread("C1", "2.2")))
    assert [m["role"] for m in model.requests[1]["messages"]] == ["system", "user"]


def test_model_down_raises_model_unavailable_and_keeps_what_happened(toolbox, database):
    client = make_client(api_key="k", base_url="http://127.0.0.1:9/v1", timeout=2, max_retries=0)
    agent = Agent(client, "m", toolbox, ConversationStore(database))
    with pytest.raises(ModelUnavailable):
        agent.respond("hello?", ALICE)
    assert ConversationStore(database).load(KEY) == [
        {"role": "user", "name": "U0ALICE", "content": "hello?"}
    ]


def test_an_overlong_message_is_refused_without_calling_the_model(agent, model):
    reply = agent.respond("x" * 5000, ALICE)
    assert "longer than" in reply.text and model.requests == []


def test_the_scripted_model_rejects_an_unanswered_tool_call_like_the_real_api(model):
    client = make_client(api_key="k", base_url=model.url, timeout=5, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="did not have response messages: call_1"):
        client.chat.completions.create(
            model="m",
            messages=[
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "user", "content": "well?"},
            ],
        )
    model.rejected.clear()


def test_three_hundred_parallel_calls_in_three_rounds_stay_within_every_limit(
    model, toolbox, database, hr_sandbox
):
    # What a runaway model once did: 300 parallel find_employee calls in each of 3 rounds made
    # 3,600 HR requests and prompts of 79k to 236k characters against an 8,000-token budget.
    many = tool_calls(*[("find_employee", json.dumps({"query": "george"}))] * 300)
    model.add(many, many, say("Done."))  # a repeated step is made to answer after it
    client = make_client(api_key="k", base_url=model.url, timeout=30, max_retries=0)
    agent = Agent(
        client,
        "m",
        toolbox,
        ConversationStore(database, token_budget=8000),
        max_rounds=6,
        max_tool_calls_per_round=10,
        max_hr_requests=60,
    )

    reply = agent.respond("find every George, again and again", ALICE)

    assert reply.text == "Done."
    assert len(hr_sandbox.seen) == 60  # the per-message budget, exactly
    for request in model.requests:
        conversation = [m for m in request["messages"] if m["role"] != "system"]
        assert sum(estimate_tokens(m) for m in conversation) <= 8000
    last = model.requests[-1]["messages"]
    calls = [c for m in last if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    results = [m["content"] for m in last if m["role"] == "tool"]
    assert len(calls) == len(results) == 20  # 10 run per step, each answered
    notes = [m["content"] for m in last if m["role"] == "system"][1:]
    assert notes == [skipped_note(290, 10)] * 2 + [ANSWER_NOW["content"]]
    assert any("the most one message may make" in r for r in results)


def test_every_step_stays_within_the_token_budget_even_with_huge_arguments(
    model, toolbox, database
):
    huge = tool_calls(*[("find_employee", json.dumps({"query": "x" * 3900}))] * 10)
    model.add(huge, huge, say("No one by that name."))
    client = make_client(api_key="k", base_url=model.url, timeout=30, max_retries=0)
    agent = Agent(client, "m", toolbox, ConversationStore(database, token_budget=8000))

    agent.respond("find these people", ALICE)

    for request in model.requests:
        conversation = [m for m in request["messages"] if m["role"] != "system"]
        assert sum(estimate_tokens(m) for m in conversation) <= 8000
