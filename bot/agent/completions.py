"""Asking the model for its next message: one completion at a time, asked again where another
try may cure it; whether a reply can be used, what of it the conversation keeps, and how long to
wait before asking again. Servers may send any shape: the SDK does not check it."""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import openai
import structlog

from infra import metrics, tracing

log = structlog.get_logger(__name__)

# One completion is tried again (at most the client's max_retries times, OPENAI_MAX_RETRIES)
# when another try may cure it, after RETRY_FIRST_DELAY, then twice as long each time.
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
MIN_ATTEMPT_SECONDS = 1.0  # no try starts with less of the message's deadline left
RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx
NO_TEXT = "neither text nor tool calls"
WRITTEN_OUT = "a tool call written as text"
TOOL_NAMED = "a tool call described in a text answer"
TOOL_CHOICE_REFUSED = "tool_choice refused"
WORDS_FAILURES = frozenset({NO_TEXT, WRITTEN_OUT, TOOL_NAMED, TOOL_CHOICE_REFUSED})
# What a server says when the model's output could not be read as a tool call (llama.cpp's
# server: "Failed to parse input at pos 9", "does not match the expected … format").
UNPARSED = re.compile(r"failed to parse input|does not match the expected", re.IGNORECASE)
FORMAT_NUDGE = {
    "role": "system",
    "content": "Your last tool call could not be read. Call the tool again with its arguments "
    "as one JSON object, {} when it takes none.",
}
ANSWER_NOW = {
    "role": "system",
    "content": "Answer the user now, in plain words, from the tool results above; no more tool "
    "calls.",
}
_FENCED = re.compile(r"^```[a-z]*\s*(.*?)\s*```$", re.DOTALL)


class ModelUnavailable(Exception):
    """The model could not be asked or gave no usable answer."""


@dataclass
class Tally:
    """What the model calls of one message cost."""

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0


def backoff(attempt: int) -> float:
    """Seconds to wait before try `attempt + 1`: doubling, capped, less up to a quarter so that
    many conversations failing together do not come back together."""
    delay = min(RETRY_FIRST_DELAY * 2 ** (attempt - 1), RETRY_MAX_DELAY)
    return delay * (1 - random.random() / 4)


def retry_after(response: Any) -> float:
    """The wait a server asked for in seconds (Retry-After), or 0."""
    try:
        return max(0.0, float(response.headers.get("retry-after") or 0))
    except (AttributeError, ValueError):  # absent, or an HTTP date
        return 0.0


def answer_in(completion: Any) -> tuple[Any, str | None, str | None]:
    """(message, finish reason, why the reply cannot be used or None)."""
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return None, None, "an answer without choices"
    finish_reason = getattr(choices[0], "finish_reason", None)
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    calls = getattr(message, "tool_calls", None)
    if message is None or not isinstance(content, str | None) or not isinstance(calls, list | None):
        return None, finish_reason, "a malformed message"
    if not calls and not (content or "").strip():
        return message, finish_reason, NO_TEXT
    return message, finish_reason, None


def text_of(message: Any) -> str:
    """A message's text when it has no tool calls; "" otherwise."""
    if getattr(message, "tool_calls", None):
        return ""
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""


def written_out(text: str, tools: frozenset[str]) -> bool:
    """Whether a text is nothing but a call of one of `tools` written as JSON (perhaps in a code
    fence): the form a small model falls back to, which no one should be shown as an answer."""
    text = text.strip()
    fenced = _FENCED.match(text)
    try:
        value = json.loads(fenced[1] if fenced else text)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("name") in tools


class Completions:
    """The model's next message, for the agent. What one more try may cure (a 5xx, as llama.cpp
    answers when a small model writes a malformed tool call; 408, 409, 429; a lost connection
    or a timeout; a reply that is neither text nor tool calls, or a tool call written as text)
    is asked again, at most the client's `max_retries` times, with backoff, never past the
    message's deadline. Only then, or at once for any other refusal, is the model unavailable."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        prompt: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        temperature: float | None = None,
    ) -> None:
        self.model = model
        self.prompt = prompt
        self.tools = tools
        self.names = frozenset(str((tool.get("function") or {}).get("name")) for tool in tools)
        # A tool named as what to call: the model describing a call instead of making it
        # ("I'll call `list_employees`", "you can use the find_employee function").
        named = "|".join(map(re.escape, sorted(self.names))) or r"(?!)"
        self._describes_a_call = re.compile(
            r"\b(?:call|use|run|invoke|calling|using)\s+(?:the\s+)?[`'\"]?(?:" + named + r")(?!\w)",
            re.IGNORECASE,
        )
        self.temperature = temperature
        self.sends_tool_choice = True  # until the server refuses it
        self.timeout = client.timeout
        # The retries are made here, so that none outlives the message's deadline: the SDK's
        # own know nothing of it (each try gets the whole timeout again, and a Retry-After may
        # hold one for a minute).
        self.retries = client.max_retries
        self._once = client.with_options(max_retries=0)

    def warm_up(self) -> None:
        """One small request that starts as every call does (prompt and tools) and asks for one
        token back, so a local server loads the model and caches that prefix now, not during
        someone's first question. A failure is logged, never raised: questions still work."""
        started = time.monotonic()
        try:
            self._once.chat.completions.create(
                model=self.model,
                messages=[*self.prompt, {"role": "user", "content": "Hello."}],
                tools=self.tools,
                max_tokens=1,
            )
        except (openai.APIError, json.JSONDecodeError) as e:
            log.warning("model.warm_up_failed", model=self.model, error=type(e).__name__)
            return
        log.info(
            "model.warmed_up",
            model=self.model,
            latency_ms=round((time.monotonic() - started) * 1000),
        )

    def next(
        self,
        messages: list[dict[str, Any]],
        tally: Tally,
        deadline: float,
        *,
        answer_now: bool = False,
    ) -> Any:
        """The next message, or None when every try gave nothing usable. `answer_now`: it must
        be text (tool_choice "none"), with a note saying so."""
        attempt = 0
        tool_choice, note = ("none", ANSWER_NOW) if answer_now else (None, None)
        while True:
            attempt += 1
            asked = [*messages, note] if note else messages
            message, failure, wait, error = self._try(asked, tally, deadline, tool_choice)
            if failure is None:
                failure = self._unusable(text_of(message), answer_now)
            if failure is None:
                return message
            if failure == TOOL_CHOICE_REFUSED:  # not the model's try: asked again, without it
                attempt -= 1
                continue
            meant_a_call = failure in (WRITTEN_OUT, TOOL_NAMED) or (
                isinstance(error, openai.APIStatusError) and UNPARSED.search(str(error.message))
            )
            if meant_a_call and not answer_now:
                # The model meant to call a tool and wrote it wrong: the next sample must be a
                # well-formed call (a local server constrains it to the tools' grammar) and gets
                # the form spelled out; the history never keeps the note.
                tool_choice, note = "required", FORMAT_NUDGE
            # A reply's words are not the server's trouble: asked again at once.
            delay = 0.0 if failure in WORDS_FAILURES else max(wait, backoff(attempt))
            if attempt > self.retries or time.monotonic() + delay + MIN_ATTEMPT_SECONDS > deadline:
                break
            log.warning(
                "model.retry",
                model=self.model,
                attempt=attempt,
                retries=self.retries,
                reason=failure,
                delay_ms=round(delay * 1000),
            )
            tally.retries += 1
            if delay:
                time.sleep(delay)
        if message is not None:  # an answer every time, but never a usable one
            return None
        log.warning("model.error", model=self.model, error=failure, attempts=attempt)
        raise ModelUnavailable(f"the model is unavailable ({failure})") from error

    def _unusable(self, text: str, answer_now: bool) -> str | None:
        """Why a text answer is no answer: a call written out as JSON, or (unless the model was
        told to answer now) a call described in words."""
        if text and written_out(text, self.names):
            return WRITTEN_OUT
        if text and not answer_now and self._describes_a_call.search(text):
            return TOOL_NAMED
        return None

    def _counted(self, started: float, result: str, prompt: int = 0, completion: int = 0) -> None:
        """One call in the metrics (labelled by the configured model: a bounded set)."""
        metrics.MODEL_CALLS.labels(self.model, result).inc()
        metrics.MODEL_SECONDS.labels(self.model).observe(time.monotonic() - started)
        metrics.MODEL_TOKENS.labels(self.model, "prompt").inc(prompt)
        metrics.MODEL_TOKENS.labels(self.model, "completion").inc(completion)

    def _try(
        self,
        messages: list[dict[str, Any]],
        tally: Tally,
        deadline: float,
        tool_choice: str | None,
    ) -> tuple[Any, str | None, float, Exception | None]:
        """One request: (message, why it cannot be used or None, seconds the server asked us
        to wait, the error). Raises ModelUnavailable for a refusal no retry can cure. Traced as
        one chat span (infra.tracing): the model and the tokens, never the words unless asked."""
        with tracing.chat_span(self.model) as span:
            tracing.content(span, "gen_ai.input.messages", messages)
            tried = self._request(messages, tally, deadline, tool_choice, span)
            message, failure = tried[0], tried[1]
            if failure is not None:
                tracing.failed(span, failure)
            elif message is not None:
                tracing.content(span, "gen_ai.output.messages", assistant_message(message))
            return tried

    def _request(
        self,
        messages: list[dict[str, Any]],
        tally: Tally,
        deadline: float,
        tool_choice: str | None,
        span: Any,
    ) -> tuple[Any, str | None, float, Exception | None]:
        started = time.monotonic()
        timeout = deadline - started
        if isinstance(self.timeout, int | float):  # the client's own timeout still applies
            timeout = min(timeout, self.timeout)
        options: dict[str, Any] = {}
        if tool_choice and self.sends_tool_choice:
            options["tool_choice"] = tool_choice
        if self.temperature is not None:
            options["temperature"] = self.temperature
        try:
            completion = self._once.chat.completions.create(
                model=self.model,
                messages=[*self.prompt, *messages],
                tools=self.tools,
                timeout=timeout,
                **options,
            )
        except openai.APIStatusError as e:
            self._counted(started, "error")
            if "tool_choice" in options and e.status_code == 400 and "tool_choice" in str(e):
                # A server that takes no tool_choice: asked again without, from now on.
                log.warning("model.tool_choice_refused", model=self.model)
                self.sends_tool_choice = False
                return None, TOOL_CHOICE_REFUSED, 0.0, e
            if e.status_code not in RETRY_STATUSES and e.status_code < 500:
                log.warning("model.error", model=self.model, error=type(e).__name__)
                raise ModelUnavailable(f"the model is unavailable ({type(e).__name__})") from e
            return None, f"HTTP {e.status_code}", retry_after(e.response), e
        except openai.APIError as e:  # connection lost, timed out, or an answer of the wrong shape
            self._counted(started, "error")
            return None, type(e).__name__, 0.0, e
        except json.JSONDecodeError as e:  # the SDK lets a body that is not JSON through
            self._counted(started, "error")
            return None, "an answer that is not JSON", 0.0, e
        tally.model_calls += 1
        usage = getattr(completion, "usage", None)
        prompt_tokens = _count_of(getattr(usage, "prompt_tokens", None))
        completion_tokens = _count_of(getattr(usage, "completion_tokens", None))
        self._counted(started, "ok", prompt_tokens, completion_tokens)
        tracing.chat_result(span, prompt_tokens, completion_tokens, None)
        tally.prompt_tokens += prompt_tokens
        tally.completion_tokens += completion_tokens
        message, finish_reason, failure = answer_in(completion)
        if finish_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [str(finish_reason)])
        log.info(
            "model.call",
            model=self.model,
            prompt_tokens=prompt_tokens if usage else None,
            completion_tokens=completion_tokens if usage else None,
            latency_ms=round((time.monotonic() - started) * 1000),
            finish_reason=finish_reason,
        )
        return message, failure, 0.0, None


def _count_of(tokens: Any) -> int:
    """A server's token count as a count: a negative, fractional or odd value is 0."""
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0 else 0


def assistant_message(message: Any) -> dict[str, Any]:
    """The model's answer as a plain dict, keeping exactly what the API needs back."""
    assistant: dict[str, Any] = {"role": "assistant", "content": message.content}
    calls = []
    for index, call in enumerate(message.tool_calls or []):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        arguments = getattr(function, "arguments", None)
        if not isinstance(arguments, str):  # some servers send an object; the API carries text
            arguments = "" if arguments is None else json.dumps(arguments)
        call_id = getattr(call, "id", None)
        if not isinstance(call_id, str) or not call_id or call_id in {c["id"] for c in calls}:
            call_id = f"call_{index}_{random.getrandbits(48):012x}"  # each result needs its call
        calls.append(
            {
                "id": call_id,
                "type": getattr(call, "type", None) or "function",
                "function": {
                    "name": name if isinstance(name, str) else "",
                    "arguments": arguments,
                },
            }
        )
    if calls:
        assistant["tool_calls"] = calls
    return assistant
