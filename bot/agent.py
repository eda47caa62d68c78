"""The agent loop: the only code that talks to the model (OpenAI Chat Completions)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import openai
import structlog

from bot.budget import HRBudget, fit_turn
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


class ModelUnavailable(Exception):
    """The model could not be asked or gave no usable answer."""


@dataclass
class Reply:
    text: str
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def make_client(
    *, api_key: str | None, base_url: str | None, timeout: float, max_retries: int
) -> openai.OpenAI:
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

    def respond(self, text: str, context: ToolContext) -> Reply:
        """Answer one user message in the context's thread, running tools as the model asks.

        Raises ModelUnavailable when the model cannot be reached; whatever happened before that
        (including queued actions) is kept in the history.
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
                message = self._complete(messages, reply, timeout=remaining)
                assistant = _assistant_message(message)
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

    def _complete(self, messages: list[dict[str, Any]], reply: Reply, timeout: float) -> Any:
        started = time.monotonic()
        try:
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=[*self.prompt, *messages],
                tools=self.tools,
                # Never past the message's deadline; the client's own timeout still applies.
                timeout=min(timeout, self.client.timeout)
                if isinstance(self.client.timeout, int | float)
                else timeout,
            )
        except openai.APIError as e:
            log.warning("model.error", model=self.model, error=type(e).__name__)
            raise ModelUnavailable(f"the model is unavailable ({type(e).__name__})") from e
        reply.model_calls += 1
        usage = completion.usage
        if usage is not None:
            reply.prompt_tokens += usage.prompt_tokens or 0
            reply.completion_tokens += usage.completion_tokens or 0
        if not completion.choices:
            raise ModelUnavailable("the model returned no answer")
        choice = completion.choices[0]
        log.info(
            "model.call",
            model=self.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            latency_ms=round((time.monotonic() - started) * 1000),
            finish_reason=choice.finish_reason,
        )
        return choice.message

    def _run_tools(
        self, calls: list[dict[str, Any]], context: ToolContext, reply: Reply
    ) -> list[dict[str, Any]]:
        results = []
        for call in calls:
            function = call.get("function") or {}
            name = function.get("name", "")
            if call.get("type") != "function":
                content = "Error: only function tools are available."
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


def _assistant_message(message: Any) -> dict[str, Any]:
    """The model's answer as a plain dict, keeping exactly what the API needs back."""
    assistant: dict[str, Any] = {"role": "assistant", "content": message.content}
    calls = []
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        calls.append(
            {
                "id": call.id,
                "type": call.type,
                "function": {
                    "name": getattr(function, "name", ""),
                    "arguments": getattr(function, "arguments", ""),
                },
            }
        )
    if calls:
        assistant["tool_calls"] = calls
    return assistant
