"""The agent loop: the only code that talks to the model (OpenAI Chat Completions)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

import openai
import structlog

from bot.budget import HRBudget, fit_turn
from bot.completions import (
    MIN_ATTEMPT_SECONDS,
    RETRY_STATUSES,
    answer_in,
    assistant_message,
    backoff,
    retry_after,
)
from bot.conversations import ConversationStore, conversation_key
from bot.prompts import SYSTEM_PROMPT
from bot.tools import Toolbox, ToolContext, words_in

log = structlog.get_logger(__name__)

MAX_USER_MESSAGE_CHARS = 4000
NO_MODEL = (
    "No language model is configured, so I cannot answer yet. Set `OPENAI_API_KEY` for OpenAI, "
    "or `OPENAI_BASE_URL` (and `OPENAI_MODEL`) for any OpenAI-compatible server: for Ollama, "
    "`OPENAI_BASE_URL=http://localhost:11434/v1` and `OPENAI_MODEL=qwen2.5:1.5b`; for a "
    "llama.cpp server, `OPENAI_BASE_URL=http://localhost:8080/v1`. Put them in `.env` and "
    "start `make run` again."
)


FORMAT_NUDGE = {
    "role": "system",
    "content": "Your last reply could not be read. Answer in plain text, or call one tool with "
    'its arguments as a JSON object, {} when it takes none, e.g. {"name": "find_employee", '
    '"arguments": {"query": "Janet"}}.',
}


class ModelUnavailable(Exception):
    """The model could not be asked or gave no usable answer."""


@dataclass
class Reply:
    text: str
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0


def make_client(
    *, api_key: str | None, base_url: str | None, timeout: float, max_retries: int
) -> openai.OpenAI:
    """The OpenAI client. `max_retries` (OPENAI_MAX_RETRIES) is how many more tries the Agent
    gives one completion; it makes them itself, within the message's deadline."""
    return openai.OpenAI(
        # A local OpenAI-compatible server may need no key, but the SDK insists on one.
        api_key=api_key or "unused",
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
    )


class Agent:
    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        toolbox: Toolbox,
        conversations: ConversationStore,
        *,
        max_rounds: int = 6,
        deadline_seconds: float = 90.0,
        max_tool_calls_per_round: int = 10,
        max_hr_requests: int | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        prompt: list[dict[str, Any]] | None = None,
        tools: list[dict[str, Any]] | None = None,
        configured: bool = True,
    ) -> None:
        """`prompt` (the messages before the history) and `tools` replace the defaults: a
        system message and the toolbox's definitions. The eval uses them to compare designs.
        Not `configured`: there is no model to ask, and every answer says what to set."""
        self.client = client
        self.model = model
        self.toolbox = toolbox
        self.conversations = conversations
        self.max_rounds = max_rounds
        self.deadline_seconds = deadline_seconds
        self.max_tool_calls_per_round = max_tool_calls_per_round
        self.max_hr_requests = max_hr_requests
        self.prompt = (
            prompt if prompt is not None else [{"role": "system", "content": system_prompt}]
        )
        self.tools = tools if tools is not None else toolbox.definitions
        self.configured = configured
        self.offered = frozenset(
            str((tool.get("function") or {}).get("name")) for tool in self.tools
        )
        # The agent retries itself, so that no retry outlives the message's deadline: the SDK's
        # own retries know nothing of it (each try gets the whole timeout again, and a
        # Retry-After may hold one for a minute).
        self.retries = client.max_retries
        self._once = client.with_options(max_retries=0)

    def respond(self, text: str, context: ToolContext) -> Reply:
        """Answer one user message in the context's thread, running tools as the model asks.

        Raises ModelUnavailable when the model cannot be reached or answers unusably, after the
        bounded retries; whatever happened before that (including queued actions) is kept in
        the history.
        """
        if not self.configured:
            return Reply(NO_MODEL)
        if len(text) > MAX_USER_MESSAGE_CHARS:
            return Reply(
                f"That message is longer than {MAX_USER_MESSAGE_CHARS} characters; "
                "please shorten it."
            )
        if context.thread is None:
            raise ValueError("a conversation needs the Slack thread it happens in")
        key = conversation_key(context.thread, context.requester)
        history = self.conversations.load(key)
        # The verified speaker of every turn, so the model (and the record of who shaped an
        # action) never has to take a message's word for who wrote it.
        new: list[dict[str, Any]] = [{"role": "user", "name": context.requester, "content": text}]
        context = replace(
            context,
            contributors=speakers([*history, *new]),
            words=words_in([*history, *new]),
            budget=HRBudget(self.max_hr_requests),  # this message's own
        )
        reply = Reply("")
        deadline = time.monotonic() + self.deadline_seconds
        try:
            for _ in range(self.max_rounds):
                remaining = deadline - time.monotonic()
                if remaining <= 1:
                    reply.text = (
                        "I ran out of time on this one. Nothing else was done; any action already "
                        "queued still waits for approval. Please ask again."
                    )
                    new.append({"role": "assistant", "content": reply.text})
                    return reply
                # Within the token budget at every step, not only between turns.
                messages = fit_turn(history, new, self.conversations.token_budget)
                message = self._complete(messages, reply, deadline)
                assistant = assistant_message(message)
                new.append(assistant)
                calls = assistant.get("tool_calls") or []
                if not calls:
                    reply.text = (message.content or "").strip() or "I have no answer to that."
                    return reply
                cap = self.max_tool_calls_per_round
                if len(calls) > cap:  # keep only the calls that run; none is left unanswered
                    assistant["tool_calls"] = calls = calls[:cap]
                new.extend(self._run_tools(calls, context, reply))
                if len(message.tool_calls or []) > cap:
                    skipped = len(message.tool_calls) - cap
                    new.append({"role": "system", "content": skipped_note(skipped, cap)})
            reply.text = (
                f"I stopped after {self.max_rounds} steps without finishing. Nothing else was "
                "done; any action already queued still waits for approval. Please narrow the "
                "request."
            )
            new.append({"role": "assistant", "content": reply.text})
            return reply
        finally:
            self.conversations.append(key, new)

    def _complete(self, messages: list[dict[str, Any]], reply: Reply, deadline: float) -> Any:
        """The model's next message. What one more try may cure (a 5xx, as llama.cpp answers
        when a small model writes a malformed tool call; 408, 409, 429; a lost connection or a
        timeout; a reply that is neither text nor tool calls) is tried again, at most
        `self.retries` times, with backoff, never past `deadline`. Only then, or at once for
        any other refusal, is the model unavailable."""
        attempt = 0
        while True:
            attempt += 1
            message, failure, wait, error = self._try(messages, reply, deadline)
            if failure is None:
                return message
            if failure == "HTTP 500" and messages[-1:] != [FORMAT_NUDGE]:
                # What a local server answers when the model's tool call is malformed: the
                # next sample gets the form spelled out (the history never keeps this).
                messages = [*messages, FORMAT_NUDGE]
            delay = max(wait, backoff(attempt))
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
            reply.retries += 1
            time.sleep(delay)
        if message is not None:  # text-less every time: answered as having no answer
            return message
        log.warning("model.error", model=self.model, error=failure, attempts=attempt)
        raise ModelUnavailable(f"the model is unavailable ({failure})") from error

    def _try(
        self, messages: list[dict[str, Any]], reply: Reply, deadline: float
    ) -> tuple[Any, str | None, float, Exception | None]:
        """One request: (message, why it cannot be used or None, seconds the server asked us
        to wait, the error). Raises ModelUnavailable for a refusal no retry can cure."""
        started = time.monotonic()
        timeout = deadline - started
        if isinstance(self.client.timeout, int | float):  # the client's own timeout still applies
            timeout = min(timeout, self.client.timeout)
        try:
            completion = self._once.chat.completions.create(
                model=self.model,
                messages=[*self.prompt, *messages],
                tools=self.tools,
                timeout=timeout,
            )
        except openai.APIStatusError as e:
            if e.status_code not in RETRY_STATUSES and e.status_code < 500:
                log.warning("model.error", model=self.model, error=type(e).__name__)
                raise ModelUnavailable(f"the model is unavailable ({type(e).__name__})") from e
            return None, f"HTTP {e.status_code}", retry_after(e.response), e
        except openai.APIError as e:  # connection lost, timed out, or an answer of the wrong shape
            return None, type(e).__name__, 0.0, e
        except json.JSONDecodeError as e:  # the SDK lets a body that is not JSON through
            return None, "an answer that is not JSON", 0.0, e
        reply.model_calls += 1
        usage = getattr(completion, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None) or 0
        completion_tokens = getattr(usage, "completion_tokens", None) or 0
        reply.prompt_tokens += prompt_tokens
        reply.completion_tokens += completion_tokens
        message, finish_reason, failure = answer_in(completion)
        log.info(
            "model.call",
            model=self.model,
            prompt_tokens=prompt_tokens if usage else None,
            completion_tokens=completion_tokens if usage else None,
            latency_ms=round((time.monotonic() - started) * 1000),
            finish_reason=finish_reason,
        )
        return message, failure, 0.0, None

    def _run_tools(
        self, calls: list[dict[str, Any]], context: ToolContext, reply: Reply
    ) -> list[dict[str, Any]]:
        results = []
        for call in calls:
            function = call.get("function") or {}
            name = function.get("name", "")
            if call.get("type") != "function":
                content = "Error: only function tools are available."
            elif name not in self.offered:
                content = (
                    f"Error: there is no tool named {name!r}; nothing was run. The tools are: "
                    f"{', '.join(sorted(self.offered))}."
                )
            else:
                try:
                    content = self.toolbox.run(
                        name, function.get("arguments") or "", context, call["id"]
                    )
                except Exception:  # a tool bug must not leave the call unanswered
                    log.exception("tool.crashed", tool=name)
                    content = "Error: the tool failed unexpectedly; nothing was queued or changed."
            results.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        return results


def skipped_note(skipped: int, cap: int) -> str:
    return (
        f"{skipped} more tool calls in that step were not run: at most {cap} run per step. "
        "Ask for fewer things at once."
    )


def speakers(messages: list[dict[str, Any]]) -> frozenset[str]:
    """Everyone whose words are in `messages`. A user turn without a verified name (history
    written before names were kept) counts as an unknown speaker."""
    return frozenset(str(m.get("name") or "unknown") for m in messages if m.get("role") == "user")
