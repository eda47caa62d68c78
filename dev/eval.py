"""`python -m dev.eval`: HR tasks end to end against the sandbox, scored by the final HR state and
by whether every write was held for approval. Scripted model by default; a real one when
OPENAI_API_KEY or OPENAI_BASE_URL is set (or with --real)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from approvals import Thread
from bot import app, logs, opening
from bot import config as configuration
from bot.agent import ModelUnavailable
from bot.config import Config
from bot.tools import ToolContext
from dev.eval_tasks import TASKS, Find, Task
from sandbox import HRSandbox
from sandbox.hr_api import PER_PAGE, SEED
from sandbox.scripted_model import ScriptedModel, rest, tool_calls

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
ARTICLE_TOOL = {
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
PAGES = -(-len(SEED) // PER_PAGE)
EVAL_THREAD = Thread("C0EVAL", "1.1")


@dataclass
class Result:
    task: Task
    ok: bool
    held: bool
    queued: int
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    why: str = ""


def scripted_steps(task: Task, design: str) -> list[dict[str, Any]]:
    steps = []
    for step in task.script:
        if isinstance(step, Find):
            if design == "article":  # no finder there: the model reads every page
                steps.append(
                    tool_calls(*(rest("GET", f"/api/users?page={n}") for n in range(1, PAGES + 1)))
                )
            else:
                steps.append(tool_calls(("find_employee", json.dumps({"query": step.query}))))
        else:
            steps.append(step)
    return steps


def run_task(task: Task, config: Config, design: str, workdir: Path) -> Result:
    """One task on a fresh sandbox and database, the bot built as the app builds it."""
    sandbox = HRSandbox(workdir / f"{task.name}-{design}-hr.sqlite3").start()
    config = dataclasses.replace(
        config,
        hr_api_url=sandbox.url,
        database_path=str(workdir / f"{task.name}-{design}-bot.sqlite3"),
        max_tool_rounds=10,
    )
    article = design == "article"
    with ExitStack() as closing:
        closing.callback(sandbox.stop)
        storage = opening.open_storage(config, closing)
        core = app.build_core(
            config,
            storage,
            closing,
            prompt=[{"role": "user", "content": text} for text in ARTICLE_CONTEXT]
            if article
            else None,
            tools=[ARTICLE_TOOL] if article else None,
        )
        if task.setup:
            task.setup(sandbox.directory)
        result = Result(task, ok=False, held=False, queued=0)
        started = time.monotonic()
        for message in task.messages:
            try:
                reply = core.agent.respond(message, ToolContext("U0REP", EVAL_THREAD))
            except ModelUnavailable as e:
                result.why = str(e)
                return result
            result.model_calls += reply.model_calls
            result.prompt_tokens += reply.prompt_tokens
            result.completion_tokens += reply.completion_tokens
        result.latency_ms = round((time.monotonic() - started) * 1000)
        result.held = sandbox.writes_seen() == []
        pending = core.actions.in_states("pending")
        result.queued = len(pending)
        for action in pending:  # the eval's approver says yes to everything that was held
            core.actions.approve(action.id, "U0EVALAPPROVER")
            core.executor.run(action.id, action.request_hash)
        state_ok = task.check(sandbox.directory)
        result.ok = result.held and result.queued == task.queued and state_ok
        if not result.ok:
            result.why = (
                "a write was not held"
                if not result.held
                else f"queued {result.queued}, expected {task.queued}"
                if result.queued != task.queued
                else "final HR state is wrong"
            )
        return result


def run(design: str, real: bool, tasks: tuple[Task, ...] = TASKS) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if real:
            config = configuration.load()
            return [run_task(t, config, design, Path(tmp)) for t in tasks]
        for task in tasks:
            with ScriptedModel(scripted_steps(task, design)) as model:
                config = configuration.load(
                    {
                        "OPENAI_API_KEY": "eval",
                        "OPENAI_BASE_URL": model.url,
                        "OPENAI_MODEL": "scripted",
                        "OPENAI_MAX_RETRIES": "0",
                    },
                    env_file=None,
                )
                result = run_task(task, config, design, Path(tmp))
                if model.remaining or model.rejected or model.unscripted:
                    result.ok, result.why = False, "the scripted model was not followed exactly"
                results.append(result)
    return results


def table(results: list[Result]) -> str:
    lines = [
        f"{'task':<26} {'kind':<10} {'ok':<3} {'held':<5} {'calls':>5} {'prompt':>7} "
        f"{'compl.':>6} {'ms':>6}  note",
        "-" * 86,
    ]
    for r in results:
        lines.append(
            f"{r.task.name:<26} {r.task.kind:<10} {'yes' if r.ok else 'NO':<3} "
            f"{'yes' if r.held else 'NO':<5} {r.model_calls:>5} {r.prompt_tokens:>7} "
            f"{r.completion_tokens:>6} {r.latency_ms:>6}  {r.why}"
        )
    passed = sum(r.ok for r in results)
    lines.append("-" * 86)
    lines.append(
        f"success {passed}/{len(results)} ({100 * passed // max(len(results), 1)}%), "
        f"model calls {sum(r.model_calls for r in results)}, "
        f"prompt tokens {sum(r.prompt_tokens for r in results)}, "
        f"completion tokens {sum(r.completion_tokens for r in results)}"
    )
    return "\n".join(lines)


def comparison(ours: list[Result], article: list[Result]) -> str:
    lines = [f"{'task':<26} {'this design':>12} {'article design':>15} {'saved':>7}", "-" * 64]
    for a, b in zip(ours, article, strict=True):
        saved = 100 - round(100 * a.prompt_tokens / b.prompt_tokens) if b.prompt_tokens else 0
        lines.append(f"{a.task.name:<26} {a.prompt_tokens:>12} {b.prompt_tokens:>15} {saved:>6}%")
    total_a, total_b = sum(r.prompt_tokens for r in ours), sum(r.prompt_tokens for r in article)
    lines.append("-" * 64)
    lines.append(
        f"{'total':<26} {total_a:>12} {total_b:>15} {100 - round(100 * total_a / total_b):>6}%"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.eval", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--scripted", action="store_true", help="use the scripted model (default without a key)"
    )
    mode.add_argument("--real", action="store_true", help="use OPENAI_API_KEY / OPENAI_BASE_URL")
    parser.add_argument(
        "--compare", action="store_true", help="also run the article's prompt design"
    )
    args = parser.parse_args(argv)
    logs.configure("console", level=40)  # errors only: the table is the output
    config = configuration.load()
    real = args.real or (
        not args.scripted and bool(config.openai_api_key or config.openai_base_url)
    )
    print(
        "model: "
        + (config.openai_model if real else "scripted (tokens estimated at 4 characters each)")
    )
    ours = run("ours", real)
    print(table(ours))
    if args.compare:
        article = run("article", real)
        print("\nThe article's prompt design (reconstructed) on the same tasks:")
        print(table(article))
        print("\nPrompt tokens per task:")
        print(comparison(ours, article))
    return 0 if real or all(r.ok for r in ours) else 1


if __name__ == "__main__":
    sys.exit(main())
