"""`python -m dev.bench --replicas-table`: dev/bench.py's burst phase in three set-ups — one
replica on SQLite, one on PostgreSQL, two on PostgreSQL with the bench as the load balancer —
printed as one table: whether every message was answered exactly once and the click made exactly
one HR write, and what it cost. PostgreSQL is a throwaway server (tests/postgres_server.py), with
a fresh database per set-up."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
from pathlib import Path

from dev.bench import (
    BotProcess,
    app_settings,
    burst,
    burst_timeout,
    cpu_seconds,
    start_fakes,
    tally,
)
from tests.postgres_server import ThrowawayPostgres, find_binaries

ON_SQLITE = ("1 replica, SQLite", 1)  # label, replicas
ON_POSTGRES = (("1 replica, PostgreSQL", 1), ("2 replicas, PostgreSQL", 2))
NO_BINARIES = "skipped: no PostgreSQL server binaries"


def server_cpu_seconds(server: ThrowawayPostgres | None) -> float:
    """CPU time of the PostgreSQL server: the postmaster, its live processes (the replicas'
    connections among them) and those that ended."""
    if server is None:
        return 0.0
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, ValueError):
            pass  # it ended meanwhile
    return total


def run_setup(
    workdir: Path,
    args: argparse.Namespace,
    replicas: int,
    database_url: str | None,
    server: ThrowawayPostgres | None = None,
) -> dict:
    """The burst against `replicas` processes on one database, events sent to each in turn.
    MODEL_CONCURRENCY is split between them, so that every set-up has the same model capacity
    and only the replicas differ. CPU time is counted from the set-up's pending action to the
    last answer, for the replicas and for `server`."""
    per_replica = max(1, args.concurrency // replicas)
    hr, slack, model = start_fakes(workdir, args, [])
    try:
        apps: list[BotProcess] = []
        try:
            for i in range(replicas):
                apps.append(
                    BotProcess(
                        workdir,
                        slack,
                        model,
                        hr,
                        per_replica,
                        database_url=database_url,
                        name=f"replica-{i}",
                        settings=app_settings(args),
                    )
                )
            app_cpu = sum(app.cpu_seconds for app in apps)
            server_cpu = server_cpu_seconds(server)
            b = burst(apps, slack, hr, args.messages, args.senders, burst_timeout(args))
            b["app_cpu_s"] = sum(app.cpu_seconds for app in apps) - app_cpu
            b["server_cpu_s"] = server_cpu_seconds(server) - server_cpu
        finally:
            for app in apps:
                app.stop()  # SIGTERM: each replica finishes the work it took, then exits
        b.update(tally(slack, hr, b))  # counted again now that nothing more can happen
    finally:
        model.stop()
        slack.stop()
        hr.stop()
    rounds = math.ceil(math.ceil(args.messages / replicas) / per_replica)
    b["ideal_s"] = rounds * args.calls_per_answer * args.latency
    return b


def problems(b: dict) -> list[str]:
    """What makes a set-up's result wrong (timings are reported, not judged)."""
    found = []
    if b["acked"] != b["sent"]:
        found.append(f"{b['sent'] - b['acked']} not acked with 200")
    if b["duplicates"]:
        found.append(f"{b['duplicates']} answers more than once")
    if b["missing"]:
        found.append(f"{b['missing']} never answered")
    if b["click_status"] != 200:
        found.append(f"the click got {b['click_status']}")
    if b["hr_writes"] != 1:
        found.append(f"{b['hr_writes']} HR writes instead of 1")
    return found


COLUMNS = (
    "set-up",
    "acked",
    "answered once",
    "duplicates",
    "missing",
    "answer p50 / p95",
    "wall vs ideal",
    "ack p99",
    "CPU bot + PG",
    "HR writes (click)",
)


def row(label: str, b: dict) -> list[str]:
    return [
        label,
        f"{b['acked']}/{b['sent']}",
        f"{b['answered_once']}/{b['sent']}",
        str(b["duplicates"]),
        str(b["missing"]),
        f"{b['answer_p50_s']:.1f} / {b['answer_p95_s']:.1f} s",
        f"{b['last_answer_s']:.1f} vs {b['ideal_s']:.1f} s",
        f"{b['ack_p99_ms']:.0f} ms",
        f"{b['app_cpu_s']:.1f}"
        + (f" + {b['server_cpu_s']:.1f}" if b["engine"] == "postgresql" else "")
        + " s",
        str(b["hr_writes"]),
    ]


def table(args: argparse.Namespace, rows: list[list[str]]) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in app_settings(args).items())
    header = [
        f"burst of {args.messages} signed DMs (spread alternately over the replicas) and one "
        f"Approve click; model latency {args.latency} s × {args.calls_per_answer} calls",
        f"MODEL_CONCURRENCY={args.concurrency} in total (split between the replicas), "
        f"{settings or 'lease and sweep intervals at their defaults'}, {os.cpu_count()} cores",
    ]
    full = [r for r in rows if len(r) == len(COLUMNS)]
    widths = [max(len(r[i]) for r in [list(COLUMNS), *full]) for i in range(len(COLUMNS))]
    widths[0] = max(len(r[0]) for r in [list(COLUMNS), *rows])
    lines = [*header, "  ".join(f"{c:<{w}}" for c, w in zip(COLUMNS, widths, strict=True))]
    for r in rows:  # a skipped or failed set-up is its label and one remark
        lines.append("  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=False)).rstrip())
    return "\n".join(lines)


def start_postgres() -> tuple[ThrowawayPostgres | None, str]:
    """A throwaway PostgreSQL server, or why there is none (the PostgreSQL rows' remark)."""
    binaries = find_binaries()
    if binaries is None:
        return None, NO_BINARIES
    server = ThrowawayPostgres(binaries)
    try:
        return server.start(), ""
    except Exception as e:
        shutil.rmtree(server.folder, ignore_errors=True)
        return None, f"failed: PostgreSQL did not start: {e}"


def replicas_table(args: argparse.Namespace) -> int:
    rows: list[list[str]] = []
    wrong: list[str] = []

    def measure(workdir: Path, label: str, replicas: int, server: ThrowawayPostgres | None) -> None:
        workdir.mkdir()
        url = server.fresh_database() if server else None
        try:
            b = run_setup(workdir, args, replicas, url, server)
        except Exception as e:  # reported in its row; the other set-ups still run
            reason = f"failed: {type(e).__name__}: {e}"
            rows.append([label, reason.splitlines()[0]])
            wrong.append(f"{label}: {reason}")
            return
        rows.append(row(label, {**b, "engine": "postgresql" if server else "sqlite"}))
        wrong.extend(f"{label}: {problem}" for problem in problems(b))

    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp) / "sqlite", *ON_SQLITE, None)
        server, remark = start_postgres()  # only now: it must not run beside the SQLite set-up
        if remark.startswith("failed"):
            wrong.append(remark)
        try:
            for n, (label, replicas) in enumerate(ON_POSTGRES):
                if server is None:
                    rows.append([label, remark.splitlines()[0]])
                else:
                    measure(Path(tmp) / f"postgresql-{n}", label, replicas, server)
        finally:
            if server is not None:
                server.stop()
    print(table(args, rows))
    for problem in wrong:
        print(f"INCORRECT: {problem}")
    return 1 if wrong else 0
