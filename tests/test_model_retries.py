"""A weak or local model's bad sample is not an outage: one failed completion is asked again
(bounded, with backoff, within the message's deadline), and a tool call in the wrong shape is
answered with a correction the model can act on, touching nothing."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
from structlog.testing import capture_logs

from approvals import Thread
from bot.agent.completions import FORMAT_NUDGE, ModelUnavailable
from bot.agent.history import ConversationStore
from bot.agent.loop import Agent, Design, make_client
from bot.tools.context import ToolContext
from sandbox.scripted_model import (
    LLAMA_CPP_PARSE_ERROR,
    ScriptedModel,
    malformed,
    rest,
    say,
    server_error,
    tool_calls,
)
from sandbox.serving import BackgroundServer

ALICE = ToolContext(requester="U0ALICE", thread=Thread("C0HR", "1700000000.000100"))
KEY = "C0HR:1700000000.000100:U0ALICE"


def retrying_agent(url: str, toolbox, database, *, retries: int = 2, **options) -> Agent:
    """The agent as the app builds it, with OPENAI_MAX_RETRIES=`retries`."""
    client = make_client(api_key="test-key", base_url=url, timeout=10, max_retries=retries)
    return Agent(client, "test-model", toolbox, ConversationStore(database), **options)


def retries_logged(logs: list[dict]) -> list[dict]:
    return [entry for entry in logs if entry["event"] == "model.retry"]


def tool_result(request: dict) -> str:
    (result,) = [m["content"] for m in request["messages"] if m["role"] == "tool"]
    return result


def test_a_malformed_call_is_asked_again_as_a_well_formed_one(model, toolbox, database):
    # llama.cpp's 500 for a tool call it could not parse: the model meant a call, so the next
    # try must be one (tool_choice "required": a local server then holds the model to the
    # tools' grammar), with the form spelled out.
    model.add(
        server_error(),
        tool_calls(rest("GET", "/api/users/2")),
        say("Janet Weaver is a payroll specialist."),
    )
    agent = retrying_agent(model.url, toolbox, database)

    with capture_logs() as logs:
        reply = agent.respond("What does employee 2 do?", ALICE)

    assert reply.text == "Janet Weaver is a payroll specialist."
    assert (reply.retries, len(model.requests)) == (1, 3)
    first, retry, answer = model.requests
    assert retry["messages"] == [*first["messages"], FORMAT_NUDGE]
    assert [r.get("tool_choice") for r in (first, retry, answer)] == [None, "required", None]
    assert FORMAT_NUDGE not in answer["messages"]  # for that one try only
    history = ConversationStore(database).load(KEY)
    assert FORMAT_NUDGE not in history and len(history) == 4
    (logged,) = retries_logged(logs)
    assert (logged["attempt"], logged["retries"], logged["reason"]) == (1, 2, "HTTP 500")
    assert logged["log_level"] == "warning" and 0 < logged["delay_ms"] <= 500
    assert "Failed to parse" not in json.dumps(logs)  # the model's own words stay out of the log


def test_a_server_error_that_is_not_about_the_output_is_asked_again_as_it_was(
    model, toolbox, database
):
    model.add(server_error("upstream connect error", status=503), say("Janet Weaver."))
    agent = retrying_agent(model.url, toolbox, database)

    reply = agent.respond("Who is 2?", ALICE)

    assert reply.text == "Janet Weaver." and reply.retries == 1
    first, retry = model.requests
    assert retry["messages"] == first["messages"] and "tool_choice" not in retry


@pytest.mark.parametrize(
    "written",
    [
        '{"name": "find_employee", "arguments": {"query": "Janet"}}',
        '```json\n{"name": "call_rest_api"}\n```',
        "To find her, I will call `find_employee` with her name.",
    ],
)
def test_a_tool_call_written_or_described_as_text_is_asked_again_as_a_call(
    written, model, toolbox, database
):
    model.add(
        say(written),
        tool_calls(("find_employee", '{"query": "Janet"}')),
        say("Janet Weaver is a payroll specialist."),
    )
    agent = retrying_agent(model.url, toolbox, database)

    with capture_logs() as logs:
        reply = agent.respond("What does Janet do?", ALICE)

    assert reply.text == "Janet Weaver is a payroll specialist."
    assert [r.get("tool_choice") for r in model.requests] == [None, "required", None]
    (logged,) = retries_logged(logs)
    assert logged["reason"] in (
        "a tool call written as text",
        "a tool call described in a text answer",
    )
    assert logged["delay_ms"] == 0  # the reply's words, not the server: asked again at once
    history = ConversationStore(database).load(KEY)
    assert written not in json.dumps(history)  # never kept, never shown


def test_a_model_made_to_answer_that_writes_only_calls_gets_no_answer(model, toolbox, database):
    # Made to answer in words (tool_choice "none", as on the last round), it writes a call as
    # text twice: asked again once, then answered as having nothing to say.
    model.add(say('{"name": "find_employee"}'), say('```\n{"name": "call_rest_api"}\n```'))
    agent = retrying_agent(model.url, toolbox, database, retries=1, max_rounds=1)

    reply = agent.respond("Who is x?", ALICE)

    assert reply.text == "I have no answer to that." and reply.retries == 1
    assert [r.get("tool_choice") for r in model.requests] == ["none", "none"]
    assert "find_employee" not in json.dumps(ConversationStore(database).load(KEY))


@pytest.mark.parametrize(
    "answer",
    [
        '{"name": "Janet Weaver", "job": "payroll specialist"}',  # JSON, but no tool's call
        "I can look people up with find_employee and list them with call_rest_api.",
    ],
)
def test_an_answer_that_only_mentions_a_tool_or_holds_json_is_an_answer(
    answer, model, toolbox, database
):
    model.add(say(answer))
    reply = retrying_agent(model.url, toolbox, database).respond("What can you do?", ALICE)
    assert reply.text == answer and reply.retries == 0


def test_a_model_made_to_answer_may_name_a_tool(model, toolbox, database):
    model.add(say("`find_employee` found nobody."))
    agent = retrying_agent(model.url, toolbox, database, max_rounds=1)
    assert agent.respond("Who is x?", ALICE).text == "`find_employee` found nobody."


def test_a_server_that_refuses_tool_choice_is_asked_without_it_from_then_on(toolbox, database):
    with ScriptedModel(tool_choice="refused") as strict:
        strict.add(
            say('{"name": "find_employee", "arguments": {"query": "Janet"}}'),
            tool_calls(("find_employee", '{"query": "Janet"}')),
            say("Janet Weaver."),
            say('{"name": "find_employee", "arguments": {"query": "x"}}'),
            say("Hello."),
        )
        agent = retrying_agent(strict.url, toolbox, database, retries=1)
        reply = agent.respond("Who is Janet?", ALICE)
        later = agent.respond("hi", ALICE)  # a retry that would ask for "required": not sent
        strict.assert_consumed()

    assert reply.text == "Janet Weaver." and later.text == "Hello."
    assert strict.refused_tool_choice == 1  # refused once, then never sent again
    assert not [r for r in strict.requests if "tool_choice" in r]


def test_the_configured_temperature_goes_with_every_call_and_none_is_sent_unset(
    model, toolbox, database
):
    model.add(say("Hello."), say("Hello again."))
    retrying_agent(model.url, toolbox, database, temperature=0.0).respond("hi", ALICE)
    retrying_agent(model.url, toolbox, database).respond("hi", ALICE)
    assert model.requests[0]["temperature"] == 0.0 and "temperature" not in model.requests[1]


def test_a_server_error_on_every_try_is_an_outage_after_the_bounded_retries(
    model, toolbox, database
):
    model.add(server_error(), server_error(), server_error())
    agent = retrying_agent(model.url, toolbox, database, retries=2, deadline_seconds=30)

    started = time.monotonic()
    with capture_logs() as logs, pytest.raises(ModelUnavailable, match="HTTP 500"):
        agent.respond("hello?", ALICE)

    assert len(model.requests) == 3  # one try and OPENAI_MAX_RETRIES more, no further
    assert [r["attempt"] for r in retries_logged(logs)] == [1, 2]
    assert time.monotonic() - started < 5  # the backoff: about 0.5 s, then 1 s
    assert ConversationStore(database).load(KEY) == [
        {"role": "user", "name": "U0ALICE", "content": "hello?"}
    ]


def test_retries_stop_at_the_message_deadline_whatever_the_retry_count(toolbox, database):
    with ScriptedModel(responder=lambda body: server_error()) as failing:
        agent = retrying_agent(failing.url, toolbox, database, retries=10, deadline_seconds=3)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable):
            agent.respond("hello?", ALICE)
        elapsed = time.monotonic() - started
        tries = len(failing.requests)
        failing.assert_consumed()

    assert elapsed < 3  # no try starts without a second of the deadline left
    assert 2 <= tries < 11


def test_a_server_that_refuses_connections_for_the_whole_deadline_is_an_outage(toolbox, database):
    agent = retrying_agent("http://127.0.0.1:9/v1", toolbox, database, retries=2)

    with capture_logs() as logs, pytest.raises(ModelUnavailable, match="APIConnectionError"):
        agent.respond("hello?", ALICE)

    assert [r["reason"] for r in retries_logged(logs)] == ["APIConnectionError"] * 2


class _Busy(BaseHTTPRequestHandler):
    """A provider at its rate limit, asking to be left alone for a minute."""

    server: _BusyServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1
        data = json.dumps({"error": {"message": "Rate limit reached", "type": "requests"}})
        self.send_response(429)
        self.send_header("Retry-After", "60")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


class _BusyServer(ThreadingHTTPServer):
    requests = 0


def test_a_retry_after_beyond_the_deadline_ends_the_tries_at_once(toolbox, database):
    server = _BusyServer(("127.0.0.1", 0), _Busy)
    with BackgroundServer(server) as busy:
        agent = retrying_agent(busy.base_url + "/v1", toolbox, database, deadline_seconds=20)
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match="HTTP 429"):
            agent.respond("hello?", ALICE)

    assert server.requests == 1
    assert time.monotonic() - started < 5  # gave up at once instead of waiting for nothing


def test_a_refusal_no_retry_can_cure_is_not_asked_again(model, toolbox, database):
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=2)
    agent = Agent(client, "", toolbox, ConversationStore(database))  # no model named: a 400

    with capture_logs() as logs, pytest.raises(ModelUnavailable, match="BadRequestError"):
        agent.respond("hello?", ALICE)

    assert len(model.rejected) == 1 and retries_logged(logs) == []
    model.rejected.clear()


@pytest.mark.parametrize("kind", ["empty", "no_choices", "not_json"])
def test_a_reply_that_is_neither_text_nor_tool_calls_is_asked_again(kind, model, toolbox, database):
    model.add(malformed(kind), say("Janet Weaver."))
    agent = retrying_agent(model.url, toolbox, database)

    with capture_logs() as logs:
        reply = agent.respond("Who is 2?", ALICE)

    assert reply.text == "Janet Weaver." and reply.retries == 1
    (retry,) = retries_logged(logs)
    assert retry["attempt"] == 1


def test_a_model_that_keeps_saying_nothing_gets_no_answer_not_an_outage(model, toolbox, database):
    model.add(malformed("empty"), malformed("empty"))
    agent = retrying_agent(model.url, toolbox, database, retries=1)

    reply = agent.respond("Who is 2?", ALICE)

    assert reply.text == "I have no answer to that." and reply.retries == 1


def test_the_scripted_server_error_looks_like_llama_cpps(model):
    client = make_client(api_key="k", base_url=model.url, timeout=5, max_retries=0)
    model.add(server_error())
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 500
    assert raised.value.body == {
        "code": 500,
        "message": LLAMA_CPP_PARSE_ERROR,
        "type": "server_error",
    }


def test_the_scripted_model_refuses_a_failure_it_cannot_script():
    with pytest.raises(ValueError, match="5xx"):
        server_error(status=404)
    with pytest.raises(ValueError, match="one of empty, no_choices, not_json"):
        malformed("half")


WRONG_SHAPES = [
    (
        json.dumps(rest("POST", "/api/users", {"name": "Neo Anderson", "job": "engineer"})),
        "Error: the arguments are a string that holds a JSON object (encoded twice); nothing "
        'was run. Send the object itself, {...}, not "{...}".',
    ),
    (
        json.dumps(
            {
                "method": "POST",
                "url": "/api/users",
                "body": json.dumps({"name": "Neo Anderson", "job": "engineer"}),
            }
        ),
        "Error: `body` must be an object, got a string that holds one (encoded twice); send "
        "the object itself; nothing was run.",
    ),
    (
        json.dumps({"method": "DELETE", "url": "/api/users/3", "confirm": True}),
        "Error: unexpected argument(s) confirm; nothing was run. call_rest_api takes only "
        "method, url, body.",
    ),
    (
        json.dumps([{"method": "DELETE", "url": "/api/users/3"}]),
        "Error: the arguments must be a JSON object with method, url, body, got a list; "
        "nothing was run. To do several things, make one tool call each.",
    ),
    (
        json.dumps({"method": "DELETE"}),
        "Error: missing required argument(s) url; nothing was run. Send one JSON object with "
        "method, url, body.",
    ),
    (
        json.dumps({"arguments": {"method": "DELETE", "url": "/api/users/3"}}),
        "Error: the arguments are wrapped in `arguments`; nothing was run. Send what is inside "
        "it as the arguments themselves, one object with method, url, body.",
    ),
]


@pytest.mark.parametrize(("arguments", "correction"), WRONG_SHAPES)
def test_arguments_in_the_wrong_shape_get_a_correction_and_change_nothing(
    arguments, correction, agent, model, hr_sandbox, actions
):
    model.add(tool_calls(arguments), say("Let me fix that."))

    agent.respond("Add Neo Anderson as an engineer, and remove employee 3", ALICE)

    assert tool_result(model.requests[1]) == correction
    assert hr_sandbox.seen == []  # not even the read before a held write
    assert actions.in_states("pending") == []


def test_find_employee_arguments_are_checked_against_its_own_schema(agent, model, hr_sandbox):
    model.add(tool_calls(("find_employee", json.dumps({"query": 2}))), say("Let me fix that."))

    agent.respond("Who is 2?", ALICE)

    assert tool_result(model.requests[1]) == (
        "Error: `query` must be a string, got a number; nothing was run."
    )
    assert hr_sandbox.seen == []


def test_a_tool_the_model_was_not_offered_is_not_run(model, toolbox, database, hr_sandbox):
    client = make_client(api_key="test-key", base_url=model.url, timeout=10, max_retries=0)
    only_rest = [d for d in toolbox.definitions if d["function"]["name"] == "call_rest_api"]
    offered = Design(tools=only_rest)
    agent = Agent(client, "test-model", toolbox, ConversationStore(database), design=offered)
    model.add(tool_calls(("find_employee", json.dumps({"query": "Janet"}))), say("Sorry."))

    agent.respond("Find Janet", ALICE)

    assert tool_result(model.requests[1]) == (
        "Error: there is no tool named 'find_employee'; nothing was run. The tools are: "
        "call_rest_api."
    )
    assert hr_sandbox.seen == []


def test_a_local_server_answering_500_four_times_running_is_ridden_out_by_default(
    model, toolbox, database
):
    from bot import config as configuration

    defaults = configuration.load({"OPENAI_BASE_URL": model.url}, env_file=None)
    model.add(*[server_error("Internal Server Error")] * 4, say("Twenty people work here."))
    agent = retrying_agent(model.url, toolbox, database, retries=defaults.openai_max_retries)
    with capture_logs() as logs:
        reply = agent.respond("How many people work here?", ALICE)
    assert reply.text == "Twenty people work here."
    assert [r["attempt"] for r in retries_logged(logs)] == [1, 2, 3, 4]
