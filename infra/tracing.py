"""OpenTelemetry traces, named after the GenAI semantic conventions: an `invoke_agent` span per
message the agent answers, a `chat {model}` span per model call (model, token counts, finish
reasons), an `execute_tool {name}` span per tool call (a read, or a change held for approval),
an HR API span per request (method and status only: a path can hold a record's id), and an
approval decision span per click that decides, linked to the span that held the action (it may
come days later, in another replica: the link rides in the action's row as a traceparent).

Off by default: with no tracer provider set, the OpenTelemetry API makes no spans and costs next
to nothing. `configure` (OTEL_EXPORTER_OTLP_ENDPOINT) sends them over OTLP/HTTP. Prompts, answers,
tool arguments and HR data are never recorded unless `content` is on
(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

AGENT_NAME = "hr-approval-bot"
CONTENT_LIMIT = 8000
_propagator = TraceContextTextMapPropagator()
_settings = {"content": False}


def tracer() -> trace.Tracer:
    return trace.get_tracer("hr-approval-bot")


@contextlib.contextmanager
def _span(name: str, **options: Any) -> Iterator[Span]:
    """A span whose failure says only the exception's type: an exception's message can quote
    a path, a host or someone's words, so it is neither recorded nor put in the status."""
    with tracer().start_as_current_span(
        name, record_exception=False, set_status_on_exception=False, **options
    ) as span:
        try:
            yield span
        except BaseException as e:
            failed(span, type(e).__name__)
            raise


def configure(endpoint: str, *, content: bool = False, service: str = AGENT_NAME) -> Any:
    """Send spans to the OTLP/HTTP collector at `endpoint` (its base URL, as
    OTEL_EXPORTER_OTLP_ENDPOINT gives it); returns the provider (shut it down to flush)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    record_content(content)
    return provider


def record_content(on: bool) -> None:
    _settings["content"] = on


def content(span: Span, name: str, value: Any) -> None:
    """Prompts, answers, arguments: on the span only when recording content was asked for."""
    if _settings["content"] and span.is_recording():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        span.set_attribute(name, text[:CONTENT_LIMIT])


@contextlib.contextmanager
def agent_span() -> Iterator[Span]:
    with _span(
        f"invoke_agent {AGENT_NAME}",
        kind=SpanKind.INTERNAL,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": AGENT_NAME},
    ) as span:
        yield span


@contextlib.contextmanager
def chat_span(model: str) -> Iterator[Span]:
    with _span(
        f"chat {model}",
        kind=SpanKind.CLIENT,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
        },
    ) as span:
        yield span


def chat_result(span: Span, prompt: int, completion: int, finish: str | None) -> None:
    span.set_attribute("gen_ai.usage.input_tokens", prompt)
    span.set_attribute("gen_ai.usage.output_tokens", completion)
    if finish:
        span.set_attribute("gen_ai.response.finish_reasons", [finish])


def failed(span: Span, error_type: str) -> None:
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR))


@contextlib.contextmanager
def tool_span(name: str, call_id: str | None) -> Iterator[Span]:
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": "function",
    }
    if call_id:
        attributes["gen_ai.tool.call.id"] = call_id
    with _span(f"execute_tool {name}", attributes=attributes) as span:
        yield span


@contextlib.contextmanager
def hr_span(method: str) -> Iterator[Span]:
    """An HR API request: its method, and (set by the caller) its status; never the path."""
    with _span(
        method,
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": method, "hrbot.peer": "hr_api"},
    ) as span:
        yield span


def traceparent() -> str | None:
    """The current span's context as a W3C traceparent, to link a later span to it."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def decision_span(action_id: int, decision: str, parent: str | None) -> Iterator[Span]:
    """An approver's decision on an action: a trace of its own (the click), linked to the
    span that held the action when its traceparent was kept."""
    links = []
    if parent:
        context = trace.get_current_span(_propagator.extract({"traceparent": parent}))
        if context.get_span_context().is_valid:
            links.append(Link(context.get_span_context()))
    with _span(
        f"approval {decision}",
        context=trace.set_span_in_context(trace.INVALID_SPAN),  # a root: the click's own trace
        links=links,
        attributes={"hrbot.action.id": action_id, "hrbot.decision": decision},
    ) as span:
        yield span
