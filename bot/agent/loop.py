"""The agent loop: the only code that talks to the model (OpenAI Chat Completions)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import openai
import structlog

from bot.agent import answers, scope
from bot.agent.budget import fit_turn
from bot.agent.completions import (
    Completions,
    ModelUnavailable,
    Tally,
    assistant_message,
    text_of,
)
from bot.agent.history import ConversationStore, conversation_key
from bot.agent.prompts import system_prompt
from bot.tools.budget import HRBudget
from bot.tools.context import ToolContext, ToolResult, words_in
from bot.tools.finder import Found
from bot.tools.toolbox import Toolbox
from infra import tracing

log = structlog.get_logger(__name__)

MAX_USER_MESSAGE_CHARS = 4000
NO_MODEL = (
    "No language model is configured, so I cannot answer yet. Set `OPENAI_API_KEY` for OpenAI, "
    "or `OPENAI_BASE_URL` (and `OPENAI_MODEL`) for any OpenAI-compatible server: for Ollama, "
    "`OPENAI_BASE_URL=http://localhost:11434/v1` and `OPENAI_MODEL=qwen2.5:1.5b`; for a "
    "llama.cpp server, `OPENAI_BASE_URL=http://localhost:8080/v1`. Put them in `.env` and "
    "start `make run` again."
)


NO_ANSWER = "I have no answer to that."
UNCHECKED = "I could not give an answer that matches what I read; please ask again."
TOLD = (
    "The system has already told the user this, in its own words; do not repeat it or say more "
    "of it. Answer the rest of their message: "
)
OUT_OF_TIME = (
    "I ran out of time on this one. Nothing else was done; any action already queued still "
    "waits for approval. Please ask again."
)


@dataclass(frozen=True)
class Design:
    """What the model is offered, where it differs from the bot as shipped: `prompt` (the
    messages before the history; default, the system prompt of the toolbox's tool family),
    `tools` (default, the toolbox's), and `bot_words_changes`: a step that holds a change, or
    that names nobody, several people or everyone for one, ends the turn with the bot's own
    words; off, the model words it, as in the design the eval compares against.
    `checks_answers`: an answer is checked against what its turn read before it is posted
    (bot.agent.answers); off, as in that design. `declines_elsewhere`: a request no tool can
    do (to email, ping, book…; bot.agent.scope) is declined in the bot's words before any model
    call."""

    prompt: list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    bot_words_changes: bool = True
    checks_answers: bool = True
    declines_elsewhere: bool = True


SHIPPED = Design()  # the bot as it ships


@dataclass
class Reply(Tally):
    text: str = ""
    # The actions held by the step that ended the turn (the bot worded the answer), and
    # whether the text says nothing but that: each held action has its own notice in the thread.
    held: tuple[int, ...] = ()
    noticed: bool = False


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
        temperature: float | None = None,
        configured: bool = True,
        design: Design = SHIPPED,
    ) -> None:
        """Not `configured`: there is no model to ask, and every answer says what to set.
        `design` replaces what the model is offered (the eval compares designs with it)."""
        self.toolbox = toolbox
        self.conversations = conversations
        self.max_rounds = max_rounds
        self.deadline_seconds = deadline_seconds
        self.max_tool_calls_per_round = max_tool_calls_per_round
        self.max_hr_requests = max_hr_requests
        self.prompt = (
            design.prompt
            if design.prompt is not None
            else [{"role": "system", "content": system_prompt(toolbox.family)}]
        )
        self.bot_words_changes = design.bot_words_changes
        self.checks_answers = design.checks_answers
        self.declines_elsewhere = design.declines_elsewhere
        self.tools = design.tools if design.tools is not None else toolbox.definitions
        self.configured = configured
        self.completions = Completions(
            client, model, self.prompt, self.tools, temperature=temperature
        )

    def respond(self, text: str, context: ToolContext) -> Reply:
        """Answer one user message in the context's thread, running tools as the model asks.

        Raises ModelUnavailable when the model cannot be reached or answers unusably, after the
        bounded retries; whatever happened before that (including queued actions) is kept in
        the history. Traced as one invoke_agent span (infra.tracing).
        """
        with tracing.agent_span() as span:
            tracing.content(span, "gen_ai.input.messages", text)
            reply = self._respond(text, context)
            tracing.content(span, "gen_ai.output.messages", reply.text or "")
            return reply

    def _respond(self, text: str, context: ToolContext) -> Reply:
        if not self.configured:
            return Reply(text=NO_MODEL)
        if len(text) > MAX_USER_MESSAGE_CHARS:
            return Reply(
                text=f"That message is longer than {MAX_USER_MESSAGE_CHARS} characters; "
                "please shorten it."
            )
        if context.thread is None:
            raise ValueError("a conversation needs the Slack thread it happens in")
        key = conversation_key(context.thread, context.requester)
        history = self.conversations.load(key)
        # The verified speaker of every turn, so the model (and the record of who shaped an
        # action) never has to take a message's word for who wrote it.
        new: list[dict[str, Any]] = [{"role": "user", "name": context.requester, "content": text}]
        verb = scope.elsewhere(text) if self.declines_elsewhere else None
        if verb is not None:  # no tool does it: the bot says so, and no model is asked
            log.info("agent.declined_elsewhere", verb=verb)
            answer = scope.declined(verb)
            self.conversations.append(key, [*new, {"role": "assistant", "content": answer}])
            return Reply(text=answer)
        context = replace(
            context,
            contributors=speakers([*history, *new]),
            words=words_in([*history, *new]),
            budget=HRBudget(self.max_hr_requests),  # this message's own
            strikes=set(),
        )
        reply = Reply()
        deadline = time.monotonic() + self.deadline_seconds
        made: set[tuple[str, str]] = set()  # the calls run for this message
        told: list[str] = []  # what the bot itself has said of changes this message
        found: list[Found] = []  # the people each read of this message settled
        read: list[str] = []  # the tool results of this message, as the model saw them
        answer_now = self.max_rounds == 1

        def finish(text: str | None, *, spoken: bool = False) -> Reply:
            """End the turn: the bot's own words first, then `text` (the model's when
            `spoken`, already in the conversation; else the bot's, kept there now)."""
            reply.text = "\n".join([*told, text] if text else told) or NO_ANSWER
            if not spoken:
                new.append({"role": "assistant", "content": reply.text})
            return reply

        try:
            for step in range(1, self.max_rounds + 1):
                if deadline - time.monotonic() <= 1:
                    return finish(OUT_OF_TIME)
                # Within the token budget at every step, not only between turns.
                messages = fit_turn(history, new, self.conversations.token_budget)
                message = self.completions.next(messages, reply, deadline, answer_now=answer_now)
                if message is None:  # nothing usable on any try
                    return finish(NO_ANSWER)
                assistant = assistant_message(message)
                calls = assistant.get("tool_calls") or []
                if not calls:
                    text = (message.content or "").strip()
                    claimed = not reply.held and answers.claims_a_change(text)
                    if text and (read or claimed) and self.checks_answers:  # before anyone sees it
                        text = self._checked(text, messages, found, read, context, reply, deadline)
                        note = answers.withheld_note(text, found)
                        text = f"{text}\n{note}" if note else text
                        assistant = {"role": "assistant", "content": text}
                    new.append(assistant)
                    return finish(text or NO_ANSWER, spoken=True)
                if answer_now:  # a server that ignored tool_choice "none"
                    return finish(stopped(step))
                new.append(assistant)
                cap = self.max_tool_calls_per_round
                if len(calls) > cap:  # keep only the calls that run; none is left unanswered
                    assistant["tool_calls"] = calls = calls[:cap]
                asked = {(c["function"]["name"], c["function"]["arguments"]) for c in calls}
                results = self._run_tools(calls, context, reply)
                found += answers.together([r.found for _, r in results if r.found is not None])
                read += [r.content for _, r in results]
                new.extend(
                    {"role": "tool", "tool_call_id": i, "content": r.content} for i, r in results
                )
                if len(message.tool_calls or []) > cap:
                    skipped = len(message.tool_calls) - cap
                    new.append({"role": "system", "content": skipped_note(skipped, cap)})
                worded = [r.answer for _, r in results if r.answer]
                if worded and self.bot_words_changes:
                    told += worded
                    reply.held += tuple(r.held.id for _, r in results if r.held)
                    if len(worded) == len(results):  # the bot has said all there is
                        reply.noticed = len(reply.held) == len(told)
                        return finish(None)
                    # Other calls of the step still want an answer: the model gives it, after
                    # the bot's words, which it must not repeat.
                    new.append({"role": "system", "content": TOLD + " ".join(worded)})
                # The last step, or a step that only repeats calls already made (a small model
                # going round in circles), must answer from what it has.
                answer_now = step + 1 == self.max_rounds or asked <= made
                made |= asked
            return finish(stopped(self.max_rounds))
        finally:
            self.conversations.append(key, new)

    def _checked(
        self,
        text: str,
        messages: list[dict[str, Any]],
        found: list[Found],
        read: list[str],
        context: ToolContext,
        reply: Reply,
        deadline: float,
    ) -> str:
        """The model's answer if it holds against what was read (answers.problems); else its
        second try, told what is wrong; else the bot's own answer from the last read."""
        said = " ".join(text for _, text in context.words)
        question = context.last_asked
        held = bool(reply.held)
        wrong = answers.problems(text, found, read, said, question, held=held)
        if wrong:
            log.info("answer.mismatch", problems=wrong, attempt=1)
            asked = [
                *messages,
                {"role": "assistant", "content": text},
                {"role": "system", "content": answers.ASK_AGAIN.format(problems="; ".join(wrong))},
            ]
            again = ""
            if deadline - time.monotonic() > 1:
                try:
                    again = text_of(self.completions.next(asked, reply, deadline, answer_now=True))
                except ModelUnavailable:
                    again = ""
            wrong = (
                answers.problems(again.strip(), found, read, said, question, held=held)
                if again.strip()
                else wrong
            )
            if again.strip() and not wrong:
                text = again.strip()
            else:
                log.info("answer.mismatch", problems=wrong, attempt=2, worded_by="bot")
                if found:
                    return answers.bot_answer(found[-1])
                return answers.NOT_CHANGED if answers.claims_a_change(text) else UNCHECKED
        return answers.with_completeness(text, found[-1]) if found else text

    def _run_tools(
        self, calls: list[dict[str, Any]], context: ToolContext, reply: Reply
    ) -> list[tuple[str, ToolResult]]:
        """Each call's (id, result), in order: every call gets its result."""
        results = []
        for call in calls:
            function = call.get("function") or {}
            name = function.get("name", "")
            if call.get("type") != "function":
                result = ToolResult("Error: only function tools are available.")
            elif name not in self.completions.names:
                result = ToolResult(
                    f"Error: there is no tool named {name!r}; nothing was run. The tools are: "
                    f"{', '.join(sorted(self.completions.names))}."
                )
            else:
                result = self._run_tool(name, function.get("arguments") or "", context, call["id"])
            results.append((call["id"], result))
        return results

    def _run_tool(
        self, name: str, arguments: str, context: ToolContext, call_id: str
    ) -> ToolResult:
        """One call of a tool the model has, in an execute_tool span (a held change carries its
        action's number; a link from its approval's span leads back here)."""
        with tracing.tool_span(name, call_id) as span:
            tracing.content(span, "gen_ai.tool.call.arguments", arguments)
            try:
                result = self.toolbox.call(name, arguments, context, call_id)
            except Exception:  # a tool bug must not leave the call unanswered
                log.exception("tool.crashed", tool=name)
                tracing.failed(span, "tool_crashed")
                return ToolResult(
                    "Error: the tool failed unexpectedly; nothing was queued or changed."
                )
            if result.held is not None:
                span.set_attribute("hrbot.action.id", result.held.id)
            tracing.content(span, "gen_ai.tool.call.result", result.content)
            return result


def stopped(rounds: int) -> str:
    return (
        f"I stopped after {rounds} steps without finishing. Nothing else was done; any action "
        "already queued still waits for approval. Please narrow the request."
    )


def skipped_note(skipped: int, cap: int) -> str:
    return (
        f"{skipped} more tool calls in that step were not run: at most {cap} run per step. "
        "Ask for fewer things at once."
    )


def speakers(messages: list[dict[str, Any]]) -> frozenset[str]:
    """Everyone whose words are in `messages`. A user turn without a verified name (history
    written before names were kept) counts as an unknown speaker."""
    return frozenset(str(m.get("name") or "unknown") for m in messages if m.get("role") == "user")
