"""The designs the eval compares: what each offers the model (`TOOLS`, prompt, tools), and how
the scripted model walks a task in each. `typed` and `generic` are the bot as shipped with
TOOLS=typed or TOOLS=generic; `article` is the design the product started from."""

from __future__ import annotations

import json
from typing import Any

from bot.agent.loop import Design
from bot.tools.catalogue import Catalogue
from bot.tools.typed import TypedTool, typed_call, typed_tools
from dev.eval_answers import ScriptStep, read_other_pages, refuse_off_catalogue, report_held
from dev.eval_tasks import Declined, Find, ListAll, ReportHeld, Step, Task
from sandbox.hr_api import PER_PAGE, SEED
from sandbox.scripted_model import rest, say, tool_calls

DESIGNS = ("typed", "generic", "article")
TOOLS = {"typed": "typed", "generic": "generic", "article": "generic"}  # the TOOLS setting

# A reconstruction of the design the product started from, for comparison only: four context
# messages sent as `user` messages before every conversation, an API list written out in prose,
# and one generic tool. Our own wording; it follows that design's shape, not its text.
ARTICLE_CONTEXT = [
    "You are an assistant for the HR team. You help HR representatives look up and manage "
    "employee records through a REST API.",
    "The REST API has these endpoints:\n"
    'GET /api/users?page={page} - list users, 6 per page. Example response: {"page": 1, '
    '"per_page": 6, "total": 20, "total_pages": 4, "data": [{"id": 1, "email": '
    '"george.bluth@reqres.in", "first_name": "George", "last_name": "Bluth", "job": '
    '"chief executive"}]}\n'
    'GET /api/users/{id} - one user. Example response: {"data": {"id": 2, "email": '
    '"janet.weaver@reqres.in", "first_name": "Janet", "last_name": "Weaver", "job": '
    '"payroll specialist"}}\n'
    'POST /api/users - create a user. Body: {"name": "morpheus", "job": "leader"}. '
    'Response 201: {"name": "morpheus", "job": "leader", "id": "21", "createdAt": '
    '"2026-01-01T00:00:00.000Z"}\n'
    'PUT /api/users/{id} and PATCH /api/users/{id} - update a user. Body: {"name": '
    '"morpheus", "job": "zion resident"}. Response 200 with the updated fields and '
    "updatedAt.\n"
    "DELETE /api/users/{id} - delete a user. Response 204 with no body.",
    "Before you make any change with POST, PUT, PATCH or DELETE, the change needs a "
    "confirmation. To find a user by name, read the pages of the user list one by one.",
    "Answer briefly. Format answers for Slack. If an API call fails, explain the error to the "
    "user.",
]
ARTICLE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "call_rest_api",
        "description": "Call the REST API with a method, a url and an optional body.",
        "parameters": {
            "type": "object",
            "properties": {
                "method": {"type": "string"},
                "url": {"type": "string"},
                "body": {"type": "object"},
            },
            "required": ["method", "url"],
        },
    },
}
# The article's design as the agent runs it: its context, its one tool, and its model words
# everything itself, held changes included.
ARTICLE = Design(
    declines_elsewhere=False,
    prompt=[{"role": "user", "content": text} for text in ARTICLE_CONTEXT],
    tools=[ARTICLE_TOOL],
    bot_words_changes=False,
    checks_answers=False,
)
PAGES = -(-len(SEED) // PER_PAGE)


class NoTypedCall(Exception):
    """A scripted call_rest_api request that no typed tool makes (a URL off the catalogue)."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"{method} {url}")
        self.method, self.url = method, url


def as_typed(step: dict[str, Any], tools: dict[str, TypedTool]) -> dict[str, Any]:
    """The step with every call_rest_api call made as the typed call that sends the same
    request (a PUT as the PATCH its update tool sends); NoTypedCall if one has none."""
    calls = step.get("tool_calls")
    if not calls:
        return step
    typed: list[tuple[str, str]] = []
    for call in calls:
        if call["name"] != "call_rest_api":
            typed.append((call["name"], call["arguments"]))
            continue
        args = json.loads(call["arguments"])
        method, url, body = args["method"], args["url"], args.get("body")
        found = typed_call(tools, method, url, body)
        if found is None and method == "PUT":
            found = typed_call(tools, "PATCH", url, body)
        if found is None:
            raise NoTypedCall(method, url)
        typed.append((found[0], json.dumps(found[1])))
    return tool_calls(*typed, content=step.get("content"))


def _typed_later(compose: ScriptStep, tools: dict[str, TypedTool]) -> ScriptStep:
    """A step composed from the turn (the last-page reader) and then made typed."""

    def typed(request: dict[str, Any]) -> dict[str, Any]:
        try:
            return as_typed(compose(request), tools)
        except NoTypedCall as e:
            return refuse_off_catalogue(e.method, e.url)

    return typed


def _expanded(task: Task, design: str) -> list[Step]:
    """The task's script with its lookups and whole-directory reads spelled out for `design`."""
    steps: list[Step] = []
    for step in task.script:
        if isinstance(step, Find) and design == "article":  # no finder: read every page
            steps.append(
                tool_calls(*(rest("GET", f"/api/users?page={n}") for n in range(1, PAGES + 1)))
            )
        elif isinstance(step, Find):
            steps.append(tool_calls(("find_employee", json.dumps({"query": step.query}))))
        elif isinstance(step, ListAll) and design == "typed":
            steps.append(tool_calls(("list_employees", "{}")))
        elif isinstance(step, ListAll):  # page 1, which says how many there are; then the rest
            steps += [tool_calls(rest("GET", "/api/users")), read_other_pages()]
        elif isinstance(step, ReportHeld) and design == "article":
            steps.append(report_held())
        elif isinstance(step, ReportHeld):  # the bot words it: no step of the model's
            continue
        elif isinstance(step, Declined) and design == "article":
            steps.append(say(step.text))
        elif isinstance(step, Declined):  # the bot declines it before asking the model
            continue
        else:
            steps.append(step)
    return steps


def scripted_steps(task: Task, design: str) -> list[Step]:
    """The scripted model's steps for `task` in `design`. The tasks' scripts are written with
    call_rest_api; with typed tools each call becomes its typed call, and a call no typed tool
    can make becomes a refusal in words, which also takes the place of the answer that would
    have read its result (the step after it)."""
    steps = _expanded(task, design)
    if design != "typed":
        return steps
    tools = typed_tools(Catalogue.load())
    typed: list[Step] = []
    skip_answer = False
    for step in steps:
        if skip_answer:
            skip_answer = False
            continue
        if callable(step):
            typed.append(_typed_later(step, tools))
            continue
        try:
            typed.append(as_typed(step, tools))
        except NoTypedCall as e:
            typed.append(refuse_off_catalogue(e.method, e.url))
            skip_answer = True
    return typed
