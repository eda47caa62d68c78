"""`python -m dev.eval`: HR tasks end to end against the sandbox, each scored by what its last
answer says, how many writes were held for approval (none may reach the HR API) and the HR data
once they are approved. Scripted model by default; a real one when OPENAI_API_KEY or
OPENAI_BASE_URL is set (or with --real). `--set` picks the tasks: the development set (tuned
on; the default), the held-out set (dev/eval_heldout.py, run only to report), the unseen set
(dev/eval_unseen.py, written blind and never read), or all.
`--design` picks the design (typed tools, the generic tool, or the article's), `--compare` runs
all three; `--runs N` runs every task N times."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from approvals import Thread
from bot import app
from bot import config as configuration
from bot.agent.completions import ModelUnavailable
from bot.agent.loop import SHIPPED
from bot.config import Config
from bot.tools.context import ToolContext
from dev.eval_designs import ARTICLE, DESIGNS, TOOLS, scripted_steps
from dev.eval_heldout import HELDOUT
from dev.eval_report import Result, Runs, comparison, designs_table, table
from dev.eval_scoring import Outcome, Records
from dev.eval_tasks import TASKS, Step, Task
from dev.eval_unseen import UNSEEN
from infra import logs
from sandbox import HRSandbox
from sandbox.hr_api import Directory
from sandbox.scripted_model import ScriptedModel, say

EVAL_THREAD = Thread("C0EVAL", "1.1")
SETS = {"dev": TASKS, "heldout": HELDOUT, "unseen": UNSEEN}
SET_NAMES = {
    "dev": "development set",
    "heldout": "held-out set (never tuned on)",
    "unseen": "unseen set (written blind, never read)",
}
Script = Callable[[Task, str], list[Step]]


def do_nothing(answer: str) -> Script:
    """A model that answers every message it is asked about with `answer` and calls no tool:
    no task may pass but those the bot settles without asking the model (a message it
    declines itself leaves its answer unused)."""

    def script(task: Task, design: str) -> list[dict]:
        return [say(answer) for _ in task.messages]

    script.lenient = True  # type: ignore[attr-defined]
    return script


def everyone(directory: Directory) -> Records:
    """Every HR record, by id."""
    records: Records = {}
    number, pages = 1, 1
    while number <= pages:
        page = directory.page(number)
        records.update((r["id"], r) for r in page["data"])
        pages, number = page["total_pages"], number + 1
    return records


def run_task(task: Task, config: Config, design: str, workdir: Path) -> Result:
    """One task on a fresh sandbox and database, the bot built as the app builds it."""
    run_id = uuid.uuid4().hex[:8]
    sandbox = HRSandbox(workdir / f"{task.name}-{design}-{run_id}-hr.sqlite3").start()
    config = dataclasses.replace(
        config,
        hr_api_url=sandbox.url,
        database_path=str(workdir / f"{task.name}-{design}-{run_id}-bot.sqlite3"),
        max_tool_rounds=10,
        tools=TOOLS[design],
    )
    article = design == "article"
    with ExitStack() as closing:
        closing.callback(sandbox.stop)
        storage = app.open_storage(config, closing)
        core = app.build_core(
            config,
            storage,
            closing,
            design=ARTICLE if article else SHIPPED,
        )
        if task.setup:
            task.setup(sandbox.directory)
        before = everyone(sandbox.directory)
        result = Result(task, problems=[])
        started = time.monotonic()
        for message in task.messages:
            try:
                reply = core.agent.respond(message, ToolContext("U0REP", EVAL_THREAD))
            except ModelUnavailable as e:
                # What this message cost is lost with it: the run's figures are not counted.
                result.problems.append(str(e))
                result.counted = False
                break
            result.answer = reply.text
            result.model_calls += reply.model_calls
            result.prompt_tokens += reply.prompt_tokens
            result.completion_tokens += reply.completion_tokens
        result.latency_ms = round((time.monotonic() - started) * 1000)
        seen = sandbox.seen
        writes_sent = len(sandbox.writes_seen())
        result.held = writes_sent == 0
        pending = core.actions.in_states("pending")
        result.queued = len(pending)
        for action in pending:  # the eval's approver says yes to everything that was held
            core.actions.approve(action.id, "U0EVALAPPROVER")
            core.executor.run(action.id, action.request_hash)
        outcome = Outcome(
            answer=result.answer,
            queued=result.queued,
            writes_sent=writes_sent,
            hr_reads=sum(r.method == "GET" for r in seen),
            before=before,
            after=everyone(sandbox.directory),
        )
        result.problems += score(task, outcome)  # after an outage's, if there was one
        return result


def score(task: Task, outcome: Outcome) -> list[str]:
    """Every rule of the task the outcome breaks, in the task's order: none means a pass."""
    return [p for p in (rule.problem(outcome) for rule in task.rules) if p is not None]


def scripted_config(model: ScriptedModel) -> Config:
    return configuration.load(
        {
            "OPENAI_API_KEY": "eval",
            "OPENAI_BASE_URL": model.url,
            "OPENAI_MODEL": "scripted",
            "OPENAI_MAX_RETRIES": "0",
        },
        env_file=None,
    )


def not_offered(model: ScriptedModel) -> str:
    """The tools the scripted model called that the request did not offer (a script written
    for another design), comma-separated; empty when there are none."""
    names: dict[str, None] = {}
    for request in model.requests:
        offered = {tool["function"]["name"] for tool in request.get("tools") or []}
        for message in request["messages"]:
            for call in message.get("tool_calls") or []:
                if call["function"]["name"] not in offered:
                    names[call["function"]["name"]] = None
    return ", ".join(names)


def run(
    design: str,
    real: bool,
    tasks: tuple[Task, ...] = TASKS,
    *,
    runs: int = 1,
    script: Script = scripted_steps,
) -> list[Runs]:
    """Every task `runs` times in `design`; `script` gives the scripted model's steps (not
    with `real`)."""
    if design not in DESIGNS:
        raise ValueError(f"design is one of {', '.join(DESIGNS)}, not {design!r}")
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        config = configuration.load() if real else None
        for task in tasks:
            results = []
            for _ in range(runs):
                if config is not None:
                    results.append(run_task(task, config, design, Path(tmp)))
                    continue
                with ScriptedModel(script(task, design)) as model:
                    result = run_task(task, scripted_config(model), design, Path(tmp))
                    unused = model.remaining and not getattr(script, "lenient", False)
                    if unused or model.rejected or model.unscripted:
                        result.problems.insert(0, "the scripted model was not followed exactly")
                    unoffered = not_offered(model)
                    if unoffered:
                        result.problems.insert(
                            0, f"the scripted model called tools it was not offered: {unoffered}"
                        )
                results.append(result)
            report.append(Runs(task, results))
    return report


DESCRIBED = {
    "typed": "ours, TOOLS=typed: one function per catalogue endpoint, and find_employee",
    "generic": "ours, TOOLS=generic: call_rest_api(method, url, body), and find_employee",
    "article": "the article's design (reconstructed): context as user messages, one generic "
    "tool, no finder",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.eval", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--scripted", action="store_true", help="use the scripted model (default without a key)"
    )
    mode.add_argument("--real", action="store_true", help="use OPENAI_API_KEY / OPENAI_BASE_URL")
    parser.add_argument(
        "--design",
        action="append",
        choices=DESIGNS,
        help="run this design (repeat for several; default typed): "
        + "; ".join(f"{name}: {text}" for name, text in DESCRIBED.items()),
    )
    parser.add_argument(
        "--compare", action="store_true", help="run all three designs and compare them"
    )
    parser.add_argument(
        "--runs", type=int, default=1, metavar="N", help="run every task N times (default 1)"
    )
    parser.add_argument(
        "--set",
        choices=[*SETS, "all"],
        default="dev",
        help="the tasks: dev (the development set, default), heldout (never tuned on), unseen "
        "(written blind, never read), or all",
    )
    parser.add_argument(
        "--task",
        action="append",
        choices=[task.name for tasks in SETS.values() for task in tasks],
        metavar="NAME",
        help="run only this task (repeat for several)",
    )
    parser.add_argument(
        "--tasks",
        action="store_true",
        help="show a line per task for the held-out and unseen sets too (by default only their "
        "summary: they are run to report, never read while tuning)",
    )
    args = parser.parse_args(argv)
    chosen = SETS if args.set == "all" else {args.set: SETS[args.set]}
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    designs = DESIGNS if args.compare else tuple(dict.fromkeys(args.design or ["typed"]))
    logs.configure("console", level=40)  # errors only: the table is the output
    config = configuration.load()
    real = args.real or (
        not args.scripted and bool(config.openai_api_key or config.openai_base_url)
    )
    print(
        "model: "
        + (config.openai_model if real else "scripted (tokens estimated at 4 characters each)")
        + f", {args.runs} run(s) per task"
    )
    passed = True
    for name, every in chosen.items():
        tasks = tuple(t for t in every if not args.task or t.name in args.task)
        if not tasks:
            continue
        print(f"\n=== the {SET_NAMES[name]}: {len(tasks)} tasks")
        reports: dict[str, list[Runs]] = {}
        for design in designs:
            reports[design] = run(design, real, tasks, runs=args.runs)
            print(f"\ndesign {design} ({DESCRIBED[design]}):")
            print(table(reports[design]) if name == "dev" or args.tasks else summary(reports))
        if len(reports) > 1 and (name == "dev" or args.tasks):
            print("\nThe designs per task:")
            print(comparison(reports))
            print("\nThe designs over all the tasks (calls and tokens: means per run, summed):")
            print(designs_table(reports))
        passed = passed and all(r.all_passed for report in reports.values() for r in report)
    return 0 if real or passed else 1


def summary(reports: dict[str, list[Runs]]) -> str:
    """A set's summary alone, without a line per task: what a blind set shows unless its tasks
    are asked for (--tasks), so reporting on it never shows what it holds."""
    (report,) = list(reports.values())[-1:]
    lines = table(report).splitlines()
    rule = max(i for i, line in enumerate(lines) if set(line) == {"-"})
    return "\n".join(lines[rule + 1 :])


if __name__ == "__main__":
    sys.exit(main())
