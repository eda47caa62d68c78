"""`python -m dev.bench`: the app as `make run` starts it, under a burst of signed messages, against
loopback fakes of Slack and of a model with a set latency, and the sandbox. Prints a table.
With --replicas-table, only the burst: on SQLite, on PostgreSQL, and two replicas on PostgreSQL
(dev/bench_replicas.py)."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from approvals import MIGRATIONS, ActionStore, AlreadyDecided
from approvals.slack.cards import APPROVE_ACTION_ID
from infra.db import open_database
from sandbox import HRSandbox
from sandbox.fake_slack import FakeSlack
from sandbox.scripted_model import ScriptedModel, rest, say, tool_calls
from sandbox.slack_requests import (
    HR_CHANNEL,
    click_payload,
    dm_event,
    event_body,
    mention_event,
    signed_headers,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
APPROVER = "U0BENCHAPPROVER"
REQUESTER_GROUP = "S0BENCHREPS"
FLOODER = "U0FLOODER"
SETUP_REQUESTER = "U0REQUESTER"  # asks for the delete whose card the burst's click approves
ANSWER = "Janet Weaver is a payroll specialist."


def answer_in_two_calls(request: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's model: a tool call first, then the answer (two calls per message)."""
    last = request["messages"][-1]
    if last["role"] == "user":
        if "delete" in str(last["content"]):
            return tool_calls(rest("DELETE", "/api/users/3"))
        return tool_calls(rest("GET", "/api/users/2"))
    if "Queued as action" in str(last.get("content")):
        return say("Queued for approval.")
    return say(ANSWER)


def burst_user(n: int) -> str:
    return f"U0B{n:05d}"


def memory_user(n: int) -> str:
    return f"U0M{n:06d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User and system CPU time of a process (all its threads), with its reaped children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = fields[11:15] if children else fields[11:13]  # utime stime [cutime cstime]
    return sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


class BotProcess:
    """`python -m bot` in its own process, configured for the fakes: on a SQLite file in
    `workdir`, or on `database_url` (PostgreSQL), with any further `settings`."""

    def __init__(
        self,
        workdir: Path,
        slack: FakeSlack,
        model: ScriptedModel,
        hr: HRSandbox,
        concurrency: int,
        *,
        database_url: str | None = None,
        name: str = "app",
        settings: dict[str, str] | None = None,
    ):
        self.port = free_port()
        database = (
            {"DATABASE_URL": database_url}
            if database_url
            else {"DATABASE_PATH": str(workdir / "bot.sqlite3")}
        )
        env = {
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "OPENAI_API_KEY": "bench",
            "OPENAI_BASE_URL": model.url,
            "OPENAI_MAX_RETRIES": "0",
            "TOOLS": "generic",  # answer_in_two_calls calls call_rest_api
            "HR_API_URL": hr.url,
            "REQUESTER_GROUP": REQUESTER_GROUP,
            "ALLOWED_CHANNELS": HR_CHANNEL,
            "APPROVERS": APPROVER,
            "APPROVAL_CHANNEL": "C0APPROVALS",
            "APPROVAL_SECRET": "b" * 40,
            **database,
            "PORT": str(self.port),
            "MODEL_CONCURRENCY": str(concurrency),
            "USER_MESSAGES_PER_MINUTE": "10000",
            "LOG_FORMAT": "json",
            **(settings or {}),
        }
        log_path = workdir / f"{name}.log"
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        self._sessions = threading.local()  # one keep-alive connection per sender thread
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the app did not start:\n" + log_path.read_text()[-3000:])

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._sessions, "session"):
            self._sessions.session = requests.Session()
        return self._sessions.session

    def send_event(self, event: dict[str, Any]) -> tuple[int, float]:
        body = json.dumps(event_body(event)).encode()
        headers = {"Content-Type": "application/json", **signed_headers(body, secret=SECRET)}
        started = time.monotonic()
        status = self.session.post(self.url, data=body, headers=headers, timeout=30).status_code
        return status, time.monotonic() - started

    @property
    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    @property
    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def send(job: dict[str, Any]) -> dict[str, Any]:
    """The sender process: the burst from `senders` threads, event i to `urls[i % len(urls)]`
    (the load balancer, with several replicas), the click once half is acked."""
    sessions = threading.local()
    half = threading.Event()
    done = 0
    lock = threading.Lock()

    def post(url: str, body: bytes, content_type: str) -> tuple[int, float, float]:
        if not hasattr(sessions, "s"):
            sessions.s = requests.Session()  # keep-alive, as an event sender would
        headers = {"Content-Type": content_type, **signed_headers(body, secret=SECRET)}
        started = time.monotonic()
        status = sessions.s.post(url, data=body, headers=headers, timeout=30).status_code
        return status, time.monotonic() - started, started

    def event(numbered: tuple[int, dict[str, Any]]) -> tuple[int, float, float]:
        nonlocal done
        n, e = numbered
        url = job["urls"][n % len(job["urls"])]
        acked = post(url, json.dumps(event_body(e)).encode(), "application/json")
        with lock:
            done += 1
            if done >= len(job["events"]) // 2:
                half.set()
        return acked

    click: dict[str, Any] = {}

    def approve_midway() -> None:
        half.wait()
        body = urlencode({"payload": json.dumps(job["click"])}).encode()
        status, ack, sent_at = post(job["click_url"], body, "application/x-www-form-urlencoded")
        click.update(status=status, ack=ack, sent_at=sent_at)

    clicker = threading.Thread(target=approve_midway)
    clicker.start()
    started = time.monotonic()
    with ThreadPoolExecutor(job["senders"]) as pool:
        acks = list(pool.map(event, enumerate(job["events"])))
    clicker.join()
    return {"acks": acks, "click": click, "started": started}


def answered(slack: FakeSlack, threads: set[str]) -> list[float]:
    """Arrival times of the bot's answers in the given threads."""
    with slack._lock:
        return [
            m.at for m in slack.messages.values() if m.thread_ts in threads and m.text == ANSWER
        ]


def answers_by_thread(slack: FakeSlack, threads: set[str]) -> dict[str, list[float]]:
    """When each answer in `threads` arrived, per thread, oldest first (a second one is a
    duplicate)."""
    found: dict[str, list[float]] = {}
    with slack._lock:
        for m in slack.messages.values():
            if m.thread_ts in threads and m.text == ANSWER:
                found.setdefault(m.thread_ts, []).append(m.at)
    return {ts: sorted(at) for ts, at in found.items()}


def burst(
    apps: list[BotProcess],
    slack: FakeSlack,
    hr: HRSandbox,
    messages: int,
    senders: int,
    timeout: float,
) -> dict:
    """The burst, its events sent to each of `apps` in turn (one app, or replicas behind a load
    balancer); the DELETE to approve is asked of the first, the click goes to the last."""
    # A pending action first, so that an approver can click during the burst.
    setup = mention_event(SETUP_REQUESTER, "delete employee 3")
    apps[0].send_event(setup)
    card = slack.wait_for(
        lambda: [m for m in slack.in_channel("C0APPROVALS") if m.blocks], timeout=30
    )[0]
    value = next(
        e["value"]
        for b in card.blocks
        for e in b.get("elements", [])
        if e.get("action_id") == APPROVE_ACTION_ID
    )

    events = [dm_event(burst_user(n), "who is employee 2?") for n in range(messages)]
    threads = {e["ts"] for e in events}
    click_payload_ = click_payload(
        APPROVER, APPROVE_ACTION_ID, value, channel=card.channel, message_ts=card.ts
    )
    # The senders run in a process of their own, as Slack's would: the fakes' work in this
    # process must not show up as acknowledgement time.
    job = {
        "urls": [app.url for app in apps],
        "click_url": apps[-1].url,
        "events": events,
        "click": click_payload_,
        "senders": senders,
    }
    sent = subprocess.run(
        [sys.executable, "-m", "dev.bench", "--send"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT)},
        timeout=timeout,
    )
    measured = json.loads(sent.stdout)
    acks = measured["acks"]  # (status, seconds to the ack, sent at) per event
    click = measured["click"]
    started = measured["started"]  # the monotonic clock is shared by every process here
    with contextlib.suppress(AssertionError):  # those never answered are counted as missing
        slack.wait_for(lambda: len(answered_at(slack, threads)) >= messages, timeout=timeout)
    deletes = [r.at for r in hr.seen if r.method == "DELETE"]
    b = {
        "sent": messages,
        "acked": sum(status == 200 for status, _, _ in acks),
        "ack_p50_ms": 1000 * percentile([a for _, a, _ in acks], 50),
        "ack_p99_ms": 1000 * percentile([a for _, a, _ in acks], 99),
        "click_status": click.get("status"),
        "click_ack_ms": 1000 * click.get("ack", float("nan")),
        "click_to_hr_ms": 1000 * (deletes[0] - click["sent_at"])
        if deletes and click
        else float("nan"),
        "rss_mb": sum(app.rss_mb for app in apps),
        "started": started,
        "sent_at": {e["ts"]: at for e, (_, _, at) in zip(events, acks, strict=True)},
    }
    return {**b, **tally(slack, hr, b)}


def tally(slack: FakeSlack, hr: HRSandbox, b: dict) -> dict:
    """What the burst's messages got so far: answered once, twice or never; how long after
    they were sent; and the HR writes (only the click makes one)."""
    sent_at = b["sent_at"]
    by_thread = answers_by_thread(slack, set(sent_at))
    latencies = [at[0] - sent_at[ts] for ts, at in by_thread.items()]
    nan = float("nan")
    return {
        "answered": len(by_thread),
        "answered_once": sum(len(at) == 1 for at in by_thread.values()),
        "duplicates": sum(len(at) - 1 for at in by_thread.values()),
        "missing": len(sent_at) - len(by_thread),
        "answer_p50_s": percentile(latencies, 50) if latencies else nan,
        "answer_p95_s": percentile(latencies, 95) if latencies else nan,
        "last_answer_s": max(at[0] for at in by_thread.values()) - b["started"]
        if by_thread
        else nan,
        "hr_writes": len(hr.writes_seen()),
    }


def memory(app: BotProcess, slack: FakeSlack, conversations: int, senders: int) -> dict:
    """RSS after 1,000 finished conversations and after `conversations`."""
    samples: dict[int, float] = {}
    done = 0
    wave = 500
    while done < conversations:
        events = [
            dm_event(memory_user(done + n), "who is employee 2?")
            for n in range(min(wave, conversations - done))
        ]
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(app.send_event, events))
        threads = {e["ts"] for e in events}
        slack.wait_for(lambda t=threads: len(answered(slack, t)) >= len(t), timeout=600)
        done += len(events)
        with slack._lock:  # the fake keeps every message; forget them, the app must not need them
            slack.messages.clear()
            slack.calls.clear()
        if done >= 1000 and 1000 not in samples:
            samples[1000] = app.rss_mb
    samples[done] = app.rss_mb
    return {
        "conversations": done,
        "rss_at_1000_mb": samples.get(1000, float("nan")),
        "rss_at_end_mb": samples[done],
    }


def store_decisions(workdir: Path, decisions: int, clickers: int) -> dict:
    """Concurrent approvers deciding distinct actions, and pairs racing on the same ones."""
    database = open_database(workdir / "store.sqlite3", MIGRATIONS)
    store = ActionStore(database)
    ids = [
        store.create(
            requester="U0REQ",
            method="DELETE",
            path=f"/api/users/{n % 20 + 1}",
            body=None,
            ttl_seconds=3600,
        ).id
        for n in range(decisions)
    ]
    errors: list[str] = []
    won = 0
    lock = threading.Lock()

    def decide(worker: int) -> None:
        nonlocal won
        for action_id in ids[worker // 2 :: clickers // 2]:  # two clickers share every action
            try:
                store.approve(action_id, f"U0APPROVER{worker}")
                with lock:
                    won += 1
            except AlreadyDecided:
                pass
            except Exception as e:  # "database is locked" would be counted here
                with lock:
                    errors.append(repr(e))

    started = time.monotonic()
    threads = [threading.Thread(target=decide, args=(n,)) for n in range(clickers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    database.close()
    return {
        "decisions": won,
        "per_second": won / elapsed,
        "errors": len(errors),
        "clickers": clickers,
    }


def fair_user(n: int) -> str:
    return f"U0FAIR{n:04d}"


def fairness(app: BotProcess, slack: FakeSlack, others: int, flood: int, senders: int) -> dict:
    """`others` people ask once each, first alone and then just after one person sent `flood`
    messages (each in a thread of its own): how long each of the others waits for an answer."""

    def ask_once_each(round_name: str) -> list[float]:
        events = [
            dm_event(fair_user(n), f"{round_name}: who is employee 2?") for n in range(others)
        ]
        sent_at = {e["ts"]: time.monotonic() for e in events}
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(app.send_event, events))
        threads = set(sent_at)
        slack.wait_for(lambda: len(answered_at(slack, threads)) >= others, timeout=300)
        return [at - sent_at[ts] for ts, at in answered_at(slack, threads).items()]

    alone = ask_once_each("alone")
    flood_events = [dm_event(FLOODER, f"flood {n}: who is employee 2?") for n in range(flood)]
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(app.send_event, flood_events))
    during = ask_once_each("flood")
    return {
        "others": others,
        "flood": flood,
        "alone_p50": percentile(alone, 50),
        "alone_p95": percentile(alone, 95),
        "flood_p50": percentile(during, 50),
        "flood_p95": percentile(during, 95),
    }


def answered_at(slack: FakeSlack, threads: set[str]) -> dict[str, float]:
    """When the bot's answer arrived in each of `threads` that has one."""
    with slack._lock:
        return {
            m.thread_ts: m.at
            for m in slack.messages.values()
            if m.thread_ts in threads and m.text == ANSWER
        }


def report(
    args: argparse.Namespace, b: dict, f: dict | None, m: dict | None, s: dict
) -> tuple[str, bool]:
    ideal = math.ceil(args.messages / args.concurrency) * args.calls_per_answer * args.latency
    rows = [
        ("acked with 200", f"{b['acked']}/{b['sent']}", f"all {b['sent']}"),
        ("ack p50 / p99", f"{b['ack_p50_ms']:.0f} / {b['ack_p99_ms']:.0f} ms", "p99 ≤ 100 ms"),
        (
            "answered",
            f"{b['answered']}/{b['sent']}"
            + (f" (+{b['duplicates']} twice)" if b["duplicates"] else ""),
            "all, once",
        ),
        (
            "last answer vs ideal",
            f"{b['last_answer_s']:.1f} s vs {ideal:.1f} s ({b['last_answer_s'] / ideal:.2f}×)",
            "≤ 2×",
        ),
        ("click ack (during burst)", f"{b['click_ack_ms']:.0f} ms", "≤ 100 ms"),
        ("click → HR request", f"{b['click_to_hr_ms']:.0f} ms", "≤ 500 ms"),
        ("RSS after burst", f"{b['rss_mb']:.0f} MB", ""),
    ]
    if f:
        ratio = f["flood_p95"] / f["alone_p95"]
        rows.append(
            (
                f"others' answer, {f['others']} alone → after a {f['flood']}-message flood",
                f"p50 {f['alone_p50']:.2f} → {f['flood_p50']:.2f} s, p95 "
                f"{f['alone_p95']:.2f} → {f['flood_p95']:.2f} s ({ratio:.2f}×)",
                "p95 ≤ 1.5×",
            )
        )
    if m:
        rows.append(
            (
                f"RSS 1,000 → {m['conversations']:,} conversations",
                f"{m['rss_at_1000_mb']:.0f} → {m['rss_at_end_mb']:.0f} MB "
                f"(+{m['rss_at_end_mb'] - m['rss_at_1000_mb']:.0f})",
                "< +50 MB",
            )
        )
    rows.append(
        (
            "store decisions",
            f"{s['per_second']:,.0f}/s, {s['errors']} errors ({s['clickers']} clickers)",
            "≥ 1,000/s, 0 locked",
        )
    )
    width = max(len(r[0]) for r in rows)
    lines = [
        f"burst of {args.messages} signed DMs, model latency {args.latency} s × "
        f"{args.calls_per_answer} calls, MODEL_CONCURRENCY={args.concurrency}, "
        f"{os.cpu_count()} cores",
        f"{'':<{width}}  {'measured':<38} target",
    ]
    lines += [f"{name:<{width}}  {value:<38} {target}" for name, value, target in rows]
    correct = (
        b["acked"] == b["sent"]
        and b["answered"] == b["sent"]
        and b["duplicates"] == 0
        and b["click_status"] == 200
        and b["hr_writes"] == 1
        and not math.isnan(b["click_to_hr_ms"])
        and s["errors"] == 0
    )
    return "\n".join(lines), correct


def start_fakes(
    workdir: Path, args: argparse.Namespace, writers: list[str]
) -> tuple[HRSandbox, FakeSlack, ScriptedModel]:
    """The sandbox, Slack and the model; the burst's people and `writers` are members of the
    workspace and of the requester group."""
    hr = HRSandbox(workdir / "hr.sqlite3").start()
    slack = FakeSlack().start()
    writers = [SETUP_REQUESTER] + [burst_user(n) for n in range(args.messages)] + writers
    for user in writers:
        slack.add_user(user)
    slack.user_groups[REQUESTER_GROUP] = writers
    slack.add_user(APPROVER)
    model = ScriptedModel(latency=args.latency, responder=answer_in_two_calls).start()
    return hr, slack, model


def app_settings(args: argparse.Namespace) -> dict[str, str]:
    given = {"LEASE_SECONDS": args.lease_seconds, "SWEEP_INTERVAL_SECONDS": args.sweep_interval}
    return {name: str(value) for name, value in given.items() if value is not None}


def burst_timeout(args: argparse.Namespace) -> float:
    return 60 + 4 * math.ceil(args.messages / args.concurrency) * 2 * args.latency


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.bench", description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="size of the burst")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=16, help="MODEL_CONCURRENCY")
    parser.add_argument("--senders", type=int, default=16, help="parallel HTTP senders")
    parser.add_argument(
        "--conversations", type=int, default=0, help="memory phase size (e.g. 10000)"
    )
    parser.add_argument("--decisions", type=int, default=5000, help="store phase size")
    parser.add_argument(
        "--flood", type=int, default=100, help="fairness phase: one person's messages (0: skip)"
    )
    parser.add_argument("--others", type=int, default=20, help="fairness phase: other people")
    parser.add_argument(
        "--replicas-table",
        action="store_true",
        help="only the burst, in three set-ups: one replica on SQLite, one on PostgreSQL, two "
        "on PostgreSQL (a throwaway server; MODEL_CONCURRENCY split between the replicas)",
    )
    parser.add_argument("--lease-seconds", type=int, help="LEASE_SECONDS (default: the app's)")
    parser.add_argument(
        "--sweep-interval", type=int, help="SWEEP_INTERVAL_SECONDS (default: the app's)"
    )
    parser.add_argument("--send", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.send:  # the sender process of the burst phase
        print(json.dumps(send(json.load(sys.stdin))))
        return 0
    args.calls_per_answer = 2
    if args.replicas_table:
        from dev.bench_replicas import replicas_table

        return replicas_table(args)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        writers = [memory_user(n) for n in range(args.conversations)]
        writers += [FLOODER] + [fair_user(n) for n in range(args.others)]
        hr, slack, model = start_fakes(workdir, args, writers)
        app = BotProcess(workdir, slack, model, hr, args.concurrency, settings=app_settings(args))
        try:
            b = burst([app], slack, hr, args.messages, args.senders, burst_timeout(args))
            m = None
            if args.conversations:
                model.latency = 0.0
                m = memory(app, slack, args.conversations, args.senders)
                model.latency = args.latency
            # Last: the flooder's messages are still being answered when the app stops.
            f = fairness(app, slack, args.others, args.flood, args.senders) if args.flood else None
        finally:
            app.stop()
            model.stop()
            slack.stop()
            hr.stop()
        s = store_decisions(workdir, args.decisions, clickers=16)
    table, correct = report(args, b, f, m, s)
    print(table)
    if not correct:
        print("INCORRECT: something was not acked, answered or executed (see above)")
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
