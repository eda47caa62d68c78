"""An OpenAI-compatible Chat Completions server on loopback that answers from a script.

It validates requests as strictly as the real API where it matters to us: a tool call left
unanswered, a tool result without a matching call, malformed tools or messages all get a 400.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.serving import BackgroundServer

Step = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]
ROLES = {"system", "developer", "user", "assistant", "tool"}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def say(text: str) -> dict[str, Any]:
    """A step: the model answers with text."""
    return {"content": text}


def rest(method: str, url: str, body: Any = None) -> str:
    """Arguments for call_rest_api, as the JSON string the API carries."""
    arguments: dict[str, Any] = {"method": method, "url": url}
    if body is not None:
        arguments["body"] = body
    return json.dumps(arguments)


def tool_calls(*arguments: str | tuple[str, str], content: str | None = None) -> dict[str, Any]:
    """A step: the model calls tools; each item is call_rest_api arguments or (name, arguments)."""
    calls = []
    for item in arguments:
        name, args = item if isinstance(item, tuple) else ("call_rest_api", item)
        calls.append({"name": name, "arguments": args})
    return {"content": content, "tool_calls": calls}


# What llama.cpp's server answers (HTTP 500, in its own error shape) when the model wrote
# something its parser cannot read as a tool call: one bad sample, not an outage.
LLAMA_CPP_PARSE_ERROR = 'Failed to parse input at pos 9: {"name": "call_rest_api", "argum'
MALFORMED = ("empty", "no_choices", "not_json")
_NOT_JSON = b'{"id": "chatcmpl-cut", "object": "chat.completion", "choices": [{"index": 0, "mes'


def server_error(message: str = LLAMA_CPP_PARSE_ERROR, status: int = 500) -> dict[str, Any]:
    """A step: this one completion fails with a 5xx and a body in llama.cpp's error shape."""
    if not 500 <= status <= 599:
        raise ValueError(f"a server error has a 5xx status, not {status}")
    error = {"code": status, "message": message, "type": "server_error"}
    return {"_status": status, "_body": {"error": error}}


def malformed(kind: str) -> dict[str, Any]:
    """A step: HTTP 200 with a reply that is neither text nor tool calls: "empty" (no content
    and no tool calls), "no_choices" (an empty list of choices) or "not_json" (a cut-off body)."""
    if kind not in MALFORMED:
        raise ValueError(f"a malformed reply is one of {', '.join(MALFORMED)}, not {kind!r}")
    return {"_malformed": kind}


_PARTICIPANT = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvalidRequest(Exception):
    """The request would be refused by the real API."""


def check_request(body: Any) -> None:
    """Raise InvalidRequest with the API's kind of message if OpenAI would reject `body`."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidRequest("you must provide a model parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array")
    tool_names = set()
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise InvalidRequest("Invalid 'tools': each tool must be {type: 'function', function}")
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name) or name in tool_names:
            raise InvalidRequest(f"Invalid 'tools': bad or duplicate function name {name!r}")
        if not isinstance(function.get("parameters", {}), dict):
            raise InvalidRequest(f"Invalid 'tools': parameters of {name} must be an object")
        tool_names.add(name)
    _check_tool_choice(body.get("tool_choice"), tool_names)
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2
    ):
        raise InvalidRequest(f"Invalid 'temperature': {temperature!r} is not a number from 0 to 2.")
    pending: list[str] = []
    seen_ids: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise InvalidRequest(f"Invalid 'messages[{index}]': unknown role")
        role = message["role"]
        name = message.get("name")
        if name is not None and (role == "tool" or not _PARTICIPANT.fullmatch(str(name))):
            raise InvalidRequest(
                f"Invalid 'messages[{index}].name': letters, digits, '_' and '-' only, "
                "at most 64 characters"
            )
        if pending and role != "tool":
            raise InvalidRequest(_unanswered(pending))
        content = message.get("content")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                raise InvalidRequest(
                    f"Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceding message with 'tool_calls' (messages[{index}])."
                )
            if not isinstance(content, str):
                raise InvalidRequest(f"Invalid 'messages[{index}].content': expected a string.")
            pending.remove(call_id)
        elif role == "assistant":
            calls = message.get("tool_calls") or []
            if content is None and not calls:
                raise InvalidRequest(
                    f"Invalid 'messages[{index}]': assistant needs content or tool_calls"
                )
            for call in calls:
                function = call.get("function") or {}
                if (
                    call.get("type") != "function"
                    or not isinstance(call.get("id"), str)
                    or call["id"] in seen_ids
                    or not isinstance(function.get("arguments"), str)
                    or not isinstance(function.get("name"), str)
                ):
                    raise InvalidRequest(f"Invalid 'messages[{index}].tool_calls'.")
                seen_ids.add(call["id"])
                pending.append(call["id"])
        elif not isinstance(content, str | list):
            raise InvalidRequest(f"Invalid 'messages[{index}].content': expected a string.")
    if pending:
        raise InvalidRequest(_unanswered(pending))


def _check_tool_choice(choice: Any, tool_names: set[str]) -> None:
    """`tool_choice` as the API takes it: "none", "auto", "required" (both of those need
    tools), or one named function among the tools."""
    if choice is None or choice == "none":
        return
    if choice in ("auto", "required"):
        if not tool_names:
            raise InvalidRequest(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed "
                "when 'tools' are specified."
            )
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    if (
        not isinstance(choice, dict)
        or choice.get("type") != "function"
        or not isinstance(function, dict)
    ):
        raise InvalidRequest(
            "Invalid 'tool_choice': expected 'none', 'auto', 'required' or "
            "{type: 'function', function: {name}}."
        )
    if function.get("name") not in tool_names:
        raise InvalidRequest(f"Invalid 'tool_choice': no tool named {function.get('name')!r}.")


def _obeys_tool_choice(choice: Any, reply: dict[str, Any]) -> bool:
    """Whether a scripted reply is one the API could give under `tool_choice`: "required" or a
    named function always gets tool calls (that function's), "none" never does."""
    calls = reply.get("tool_calls") or []
    if choice == "none":
        return not calls
    if choice == "required":
        return bool(calls)
    if isinstance(choice, dict):
        return bool(calls) and all(c["name"] == choice["function"]["name"] for c in calls)
    return True


def _unanswered(pending: list[str]) -> str:
    return (
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(pending)
    )


def _estimate_tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, ensure_ascii=False)) // 4)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return self._send(404, _error(f"Unknown request URL: POST {self.path}", "not_found"))
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            return self._send(401, _error("You didn't provide an API key.", "invalid_api_key"))
        try:
            body = json.loads(raw)
            check_request(body)
        except (ValueError, InvalidRequest) as e:
            self.server.model.rejected.append(str(e))
            return self._send(400, _error(str(e), None))
        if "tool_choice" in body and self.server.model.tool_choice == "refused":
            self.server.model.refused_tool_choice += 1
            message = "'tool_choice' is not supported by this server"
            return self._send(400, _error(message, "invalid_request_error"))
        status, answer = self.server.model.answer(body)
        self._send(status, answer)

    def _send(self, status: int, body: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # The client may have given up on this answer (it stopped, or its deadline passed).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)


def _error(message: str, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


class _Server(ThreadingHTTPServer):
    model: ScriptedModel


class ScriptedModel(BackgroundServer):
    """`with ScriptedModel([steps]) as model:` then point the SDK at `model.url`."""

    def __init__(
        self,
        steps: list[Step] | None = None,
        *,
        latency: float = 0.0,
        responder: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        tool_choice: str = "obeyed",
    ) -> None:
        """`responder`, when given, answers every request the script does not (load tests).
        `tool_choice` is how this server takes that field: "obeyed" (a step that breaks it is
        refused, as the API could not give it), "ignored" (answered as scripted whatever it
        says) or "refused" (400, as servers that do not support it answer)."""
        if tool_choice not in ("obeyed", "ignored", "refused"):
            raise ValueError(f"tool_choice is obeyed, ignored or refused, not {tool_choice!r}")
        self.responder = responder
        self.tool_choice = tool_choice
        self._steps: deque[Step] = deque(steps or [])
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.unscripted = 0
        self.refused_tool_choice = 0
        server = _Server(("127.0.0.1", 0), _Handler)
        server.model = self
        super().__init__(server)

    @property
    def url(self) -> str:
        return self.base_url + "/v1"

    def add(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._steps)

    def assert_consumed(self) -> None:
        """Every scripted step was used, and no request was refused or left unscripted."""
        assert not self.rejected, f"the model server rejected requests: {self.rejected}"
        assert not self.unscripted, f"{self.unscripted} request(s) came after the script ended"
        assert not self.remaining, f"{self.remaining} scripted step(s) were never requested"

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes]:
        with self._lock:
            self.requests.append(body)
            step = self._steps.popleft() if self._steps else self.responder
            if step is None:
                self.unscripted += 1
        if self.latency:
            time.sleep(self.latency)
        if step is None:
            return 500, _error("the scripted model has no step left", "script_exhausted")
        reply = step(body) if callable(step) else step
        if "_status" in reply:  # server_error()
            return reply["_status"], reply["_body"]
        if reply.get("_malformed") == "not_json":
            return 200, _NOT_JSON
        obeyed = _obeys_tool_choice(body.get("tool_choice"), reply)
        if self.tool_choice == "obeyed" and "_malformed" not in reply and not obeyed:
            with self._lock:  # a script the real API could not have answered this way
                self.rejected.append(f"the step does not obey tool_choice {body['tool_choice']!r}")
            return 500, _error("the scripted step does not obey tool_choice", "script_mismatch")
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if reply.get("tool_calls"):
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
                for call in reply["tool_calls"]
            ]
        prompt_tokens = _estimate_tokens(body["messages"]) + _estimate_tokens(body.get("tools"))
        completion_tokens = _estimate_tokens(message)
        completion = {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        if reply.get("_malformed") == "no_choices":
            completion["choices"] = []
        return 200, completion
