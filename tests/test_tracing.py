"""OpenTelemetry traces, with the SDK's in-memory exporter: a DM → hold → approve → write makes
an invoke_agent span (its chat and execute_tool children, the HR reads under the tool) and, on
the click, an approval span linked to the tool span that held the action, with the HR write
under it. Nothing anyone wrote, and no HR data, is in a span unless recording content is on."""

from __future__ import annotations

import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from approvals.slack.cards import APPROVE_ACTION_ID
from bot.hr.client import HRClient, HRError
from infra import tracing
from sandbox.scripted_model import rest, tool_calls
from sandbox.serving import BackgroundServer
from sandbox.slack_requests import dm_event
from tests.slack_harness import Stack

EXPORTER = InMemorySpanExporter()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def provider():
    """One provider for the process (OpenTelemetry allows one): spans go to EXPORTER."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    yield provider


@pytest.fixture
def spans():
    EXPORTER.clear()
    tracing.record_content(False)
    yield EXPORTER
    tracing.record_content(False)


def promote(stack: Stack, words: str) -> None:
    stack.model.add(tool_calls(rest("PATCH", "/api/users/2", {"job": "Head of People"})))
    event = dm_event("U0DANA", words)
    stack.send_event(event)
    (card,) = stack.approval_cards()
    stack.click("U0BOB", card, APPROVE_ACTION_ID)
    stack.slack.wait_for(lambda: stack.app.actions.get(1).status == "succeeded")
    stack.slack.wait_for(
        lambda: any(s.name == "approval approve" for s in EXPORTER.get_finished_spans())
    )


def test_a_dm_a_hold_an_approval_and_the_write_make_the_expected_tree(tmp_path, spans):
    stack = Stack(tmp_path).start()
    try:
        promote(stack, "Janet Weaver is now our Head of People")
    finally:
        stack.stop()
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}

    def children(span):
        return [s for s in finished if s.parent and s.parent.span_id == span.context.span_id]

    (agent,) = [s for s in finished if s.name == "invoke_agent hr-approval-bot"]
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    chats = [s for s in children(agent) if s.name == "chat scripted"]
    assert chats and all(s.attributes["gen_ai.request.model"] == "scripted" for s in chats)
    assert chats[0].attributes["gen_ai.usage.input_tokens"] > 0
    assert chats[0].attributes["gen_ai.operation.name"] == "chat"
    (tool,) = [s for s in children(agent) if s.name.startswith("execute_tool ")]
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["hrbot.action.id"] == 1
    assert [s.name for s in children(tool)] == ["GET"]  # the record read for the card

    (decision,) = [s for s in finished if s.name == "approval approve"]
    assert decision.parent is None  # the click's own trace…
    assert [link.context.span_id for link in decision.links] == [tool.context.span_id]  # …linked
    (write,) = [s for s in children(decision) if s.name == "PATCH"]
    assert write.attributes["http.response.status_code"] == 200
    assert all(s.context.trace_id == decision.context.trace_id for s in children(decision))
    assert by_id[tool.parent.span_id] is agent

    shown = json.dumps([dict(s.attributes) for s in finished], default=str)
    for words in ("Janet", "Weaver", "Head of People", "/api/users"):
        assert words not in shown  # content off: no words, no HR data, no path


def test_recording_content_is_an_explicit_choice(tmp_path, spans):
    tracing.record_content(True)
    stack = Stack(tmp_path).start()
    try:
        promote(stack, "Janet Weaver is now our Head of People")
    finally:
        stack.stop()
    (agent,) = [s for s in spans.get_finished_spans() if s.name.startswith("invoke_agent")]
    assert "Head of People" in agent.attributes["gen_ai.input.messages"]
    chat = next(s for s in spans.get_finished_spans() if s.name == "chat scripted")
    assert "Janet Weaver" in chat.attributes["gen_ai.input.messages"]


def test_off_by_default_no_span_is_made_and_no_traceparent_is_kept():
    # A process with no provider configured (no OTEL_EXPORTER_OTLP_ENDPOINT): the API's no-op.
    script = (
        "from infra import tracing\n"
        "with tracing.chat_span('m') as span:\n"
        "    print(span.is_recording(), tracing.traceparent())\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "False None"


def test_a_failed_request_says_only_the_errors_type(spans):
    client = HRClient("http://127.0.0.1:9")  # nothing listens: the request fails
    with pytest.raises(HRError):
        client.request("GET", "/api/users?search=Janet%20Weaver")
    (span,) = [s for s in spans.get_finished_spans() if s.name == "GET"]
    assert span.attributes["error.type"] == "HRError"
    assert span.status.description is None and not span.events  # no message, no path, no host


def test_with_an_otlp_endpoint_the_spans_reach_the_collector(tmp_path):
    """configure() as `OTEL_EXPORTER_OTLP_ENDPOINT` makes it: OTLP over HTTP to the collector's
    /v1/traces (in a process of its own: OpenTelemetry takes one provider per process)."""
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    with BackgroundServer(ThreadingHTTPServer(("127.0.0.1", 0), Collector)) as collector:
        script = (
            "import sys\n"
            "from infra import tracing\n"
            "provider = tracing.configure(sys.argv[1])\n"
            "with tracing.agent_span():\n"
            "    pass\n"
            "provider.shutdown()\n"
        )
        subprocess.run(
            [sys.executable, "-c", script, collector.base_url],
            cwd=ROOT,
            check=True,
            timeout=60,
        )
    ((path, kind, body),) = received
    assert path == "/v1/traces" and kind == "application/x-protobuf"
    assert b"invoke_agent hr-approval-bot" in body and b"hr-approval-bot" in body
