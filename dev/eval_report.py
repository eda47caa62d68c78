"""The eval's results: one run of a task, a task's N runs, and the tables printed from them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dev.eval_tasks import Task


@dataclass
class Result:
    """One run of one task."""

    task: Task
    problems: list[str]  # every rule the run broke; none means it passed
    held: bool = True  # no write reached the HR API before approval
    queued: int = 0
    answer: str = ""  # the bot's last answer
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    counted: bool = True  # calls and tokens cover the whole run (an outage cuts them short)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def why(self) -> str:
        return self.problems[0] if self.problems else ""


@dataclass(frozen=True)
class Runs:
    """A task's runs: how many passed, and the mean cost of one."""

    task: Task
    results: list[Result]

    @property
    def passed(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def all_passed(self) -> bool:
        """pass^N: every one of the N runs passed."""
        return self.passed == len(self.results)

    @property
    def held(self) -> bool:
        return all(r.held for r in self.results)

    def mean(self, figure: str) -> float:
        """The mean of a figure over the runs that counted it (latency: over every run)."""
        counted = [r for r in self.results if r.counted or figure == "latency_ms"]
        return sum(getattr(r, figure) for r in counted) / len(counted) if counted else 0.0

    @property
    def uncounted(self) -> int:
        return sum(not r.counted for r in self.results)

    @property
    def note(self) -> str:
        """Why runs failed, most frequent first."""
        why = Counter(r.why for r in self.results if not r.ok)
        return "; ".join(f"{n}× {reason}" if n > 1 else reason for reason, n in why.most_common())


WIDTH = 98


def table(report: list[Runs]) -> str:
    n = len(report[0].results) if report else 0
    lines = [
        f"{'task':<26} {'kind':<10} {'passed':>6} {f'pass^{n}':>6} {'held':<4} {'calls':>5} "
        f"{'prompt':>7} {'compl.':>6} {'ms':>6}  note",
        "-" * WIDTH,
    ]
    for runs in report:
        lines.append(
            f"{runs.task.name:<26} {runs.task.kind:<10} {f'{runs.passed}/{n}':>6} "
            f"{'yes' if runs.all_passed else 'NO':>6} {'yes' if runs.held else 'NO':<4} "
            f"{runs.mean('model_calls'):>5.1f} {runs.mean('prompt_tokens'):>7.0f} "
            f"{runs.mean('completion_tokens'):>6.0f} {runs.mean('latency_ms'):>6.0f}  {runs.note}"
        )
    lines.append("-" * WIDTH)
    lines.append(success(report))
    lines.append(
        "means per run, summed over the tasks: "
        f"model calls {sum(r.mean('model_calls') for r in report):.0f}, "
        f"prompt tokens {sum(r.mean('prompt_tokens') for r in report):.0f}, "
        f"completion tokens {sum(r.mean('completion_tokens') for r in report):.0f}, "
        f"latency {sum(r.mean('latency_ms') for r in report) / 1000:.1f} s"
    )
    uncounted = sum(r.uncounted for r in report)
    if uncounted:
        lines.append(
            f"calls and tokens leave out {uncounted} run(s) cut short by a model outage, "
            "whose cost is not known"
        )
    return "\n".join(line.rstrip() for line in lines)


def success(report: list[Runs]) -> str:
    """pass^N over the tasks and the mean success over every run."""
    n = len(report[0].results) if report else 0
    tasks, all_passed = len(report), sum(r.all_passed for r in report)
    passed = sum(r.passed for r in report)
    return (
        f"pass^{n} {all_passed}/{tasks} ({_percent(all_passed, tasks)}), "
        f"mean success {_percent(passed, tasks * n)} ({passed}/{tasks * n} runs)"
    )


def _percent(part: float, whole: float) -> str:
    return f"{100 * part // whole:.0f}%" if whole else "-"


def comparison(reports: dict[str, list[Runs]]) -> str:
    """Per task, each design's passed runs and mean prompt tokens, side by side."""
    names = list(reports)
    first = next(iter(reports.values()))
    n = len(first[0].results) if first else 0
    cells = len(names) * 9
    lines = [
        f"{'':<26} {'passed':^{cells}} {'mean prompt tokens':^{cells}}",
        f"{'task':<26} " + "".join(f"{name:>9}" for name in names) * 2,
        "-" * (27 + 2 * cells),
    ]
    for index, runs in enumerate(first):
        row = [report[index] for report in reports.values()]
        lines.append(
            f"{runs.task.name:<26} "
            + "".join(f"{f'{r.passed}/{n}':>9}" for r in row)
            + "".join(f"{r.mean('prompt_tokens'):>9.0f}" for r in row)
        )
    totals = [sum(r.mean("prompt_tokens") for r in report) for report in reports.values()]
    lines.append("-" * (27 + 2 * cells))
    lines.append(f"{'total':<{27 + cells}}" + "".join(f"{t:>9.0f}" for t in totals))
    return "\n".join(line.rstrip() for line in lines)


def designs_table(reports: dict[str, list[Runs]]) -> str:
    """One row per design: success (pass^N and the mean), model calls, tokens and latency,
    each a mean per run summed over the tasks."""
    first = next(iter(reports.values()))
    n = len(first[0].results) if first else 0
    lines = [
        f"{'design':<8} {f'pass^{n}':>13} {'mean success':>18} {'calls':>6} {'prompt':>8} "
        f"{'compl.':>7} {'latency':>8}",
        "-" * 74,
    ]
    for name, report in reports.items():
        tasks, all_passed = len(report), sum(r.all_passed for r in report)
        passed = sum(r.passed for r in report)
        lines.append(
            f"{name:<8} {f'{all_passed}/{tasks} {_percent(all_passed, tasks)}':>13} "
            f"{f'{passed}/{tasks * n} {_percent(passed, tasks * n)}':>18} "
            f"{_total(report, 'model_calls'):>6.0f} {_total(report, 'prompt_tokens'):>8.0f} "
            f"{_total(report, 'completion_tokens'):>7.0f} "
            f"{_total(report, 'latency_ms') / 1000:>7.1f}s"
        )
    return "\n".join(lines)


def _total(report: list[Runs], figure: str) -> float:
    return sum(r.mean(figure) for r in report)
