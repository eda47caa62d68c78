"""`python -m dev.bench_callback`: the bot's own writes (audit rows, each a write transaction)
timed while nothing else happens, then under a flood of OAuth callbacks with bogus `state`s
(never started, malformed, already used), on SQLite, as a callback endpoint under attack would
see them. Prints a table; a benchmark, not a test: its figures depend on the machine."""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

from approvals import MIGRATIONS, ActionStore
from bot.hr.accounts import TokenCipher
from bot.hr.link_states import LinkStateError, LinkStates, UnknownState, state_digest
from bot.parts import BOT_MIGRATIONS
from infra.db import open_database


def writes(store: ActionStore, count: int) -> list[float]:
    """`count` audit writes, one after another; each one's latency in ms."""
    took = []
    for n in range(count):
        start = time.perf_counter()
        store.record("bench_write", action_id=None, actor="U0BENCH", detail={"n": n})
        took.append((time.perf_counter() - start) * 1000)
    return took


def flood(claim, used: str, rate: float, stop: threading.Event, tried: list[int]) -> None:
    """Bogus callbacks at `rate` a second: unknown, malformed and used states in turn."""
    bogus = [lambda: secrets.token_urlsafe(32), lambda: "<script>" * 3, lambda: used]
    n, start = 0, time.perf_counter()
    while not stop.is_set():
        with contextlib.suppress(LinkStateError):
            claim(bogus[n % 3]())
        n += 1
        ahead = start + n / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    tried.append(n)


def locked_claim(database) -> Callable[[str], None]:
    """How a callback was checked before: inside a write transaction, holding the write lock
    while it looked the state up (kept here only to compare against)."""

    def claim(state: str) -> None:
        with database.immediate() as db:
            row = db.execute(
                "SELECT claimed_at FROM link_states WHERE state_digest = ?", (state_digest(state),)
            ).fetchone()
        if row is None:
            raise UnknownState("no link was started with this state")

    return claim


def under_flood(store, claim, used: str, args) -> tuple[list[float], float]:
    stop, tried = threading.Event(), []
    threads = [
        threading.Thread(
            target=flood, args=(claim, used, args.rate / args.flooders, stop, tried), daemon=True
        )
        for _ in range(args.flooders)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    took = writes(store, args.writes)
    seconds = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join()
    return took, sum(tried) / seconds


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(location: str, args: argparse.Namespace) -> list[tuple[str, list[float]]]:
    database = open_database(location, [*MIGRATIONS, *BOT_MIGRATIONS])
    try:
        store = ActionStore(database)
        states = LinkStates(database, TokenCipher([Fernet.generate_key().decode()]))
        used = states.start("U0BENCH", "v" * 43)
        states.claim(used)
        writes(store, 200)  # connections opened, caches warm
        quiet = writes(store, args.writes)
        now, now_rate = under_flood(store, states.claim, used, args)
        before, before_rate = under_flood(store, locked_claim(database), used, args)
    finally:
        database.close()
    return [
        ("quiet", quiet),
        (f"flood, refused from a read ({now_rate:,.0f}/s)", now),
        (f"flood, refused under the write lock ({before_rate:,.0f}/s)", before),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--rate", type=float, default=2000, help="bogus callbacks a second")
    parser.add_argument("--postgresql", action="store_true", help="also on a throwaway server")
    args = parser.parse_args()
    engines = []
    with tempfile.TemporaryDirectory() as tmp:
        engines.append(("SQLite", measure(str(Path(tmp) / "bench.sqlite3"), args)))
    if args.postgresql:
        from tests.postgres_server import ThrowawayPostgres, find_binaries

        binaries = find_binaries()
        if binaries is None:
            print("PostgreSQL: no server binaries on this machine")
        else:
            server = ThrowawayPostgres(binaries).start()
            try:
                engines.append(("PostgreSQL", measure(server.fresh_database(), args)))
            finally:
                server.stop()
    print(
        f"{args.writes} audit writes, one write transaction each; bogus callbacks from "
        f"{args.flooders} threads of the same process"
    )
    for engine, rows in engines:
        quiet = rows[0][1]
        print(f"\n{engine:52}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'p99/quiet':>11}")
        for name, took in rows:
            ratio = p(took, 0.99) / p(quiet, 0.99)
            print(
                f"{name:52}{statistics.median(took):9.2f}{p(took, 0.99):9.2f}{max(took):9.2f}"
                f"{ratio:10.1f}x"
            )


if __name__ == "__main__":
    main()
