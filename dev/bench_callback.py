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
from pathlib import Path

from cryptography.fernet import Fernet

from approvals import MIGRATIONS, ActionStore
from bot.hr.accounts import TokenCipher
from bot.hr.link_states import LinkStateError, LinkStates
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


def flood(states: LinkStates, used: str, stop: threading.Event, tried: list[int]) -> None:
    """Bogus callbacks as fast as they come: unknown, malformed and used states in turn."""
    bogus = [lambda: secrets.token_urlsafe(32), lambda: "<script>" * 3, lambda: used]
    n = 0
    while not stop.is_set():
        with contextlib.suppress(LinkStateError):
            states.claim(bogus[n % 3]())
        n += 1
    tried.append(n)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--flooders", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = open_database(Path(tmp) / "bench.sqlite3", [*MIGRATIONS, *BOT_MIGRATIONS])
        store = ActionStore(database)
        states = LinkStates(database, TokenCipher([Fernet.generate_key().decode()]))
        used = states.start("U0BENCH", "v" * 43)
        states.claim(used)
        quiet = writes(store, args.writes)
        stop, tried = threading.Event(), []
        threads = [
            threading.Thread(target=flood, args=(states, used, stop, tried), daemon=True)
            for _ in range(args.flooders)
        ]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        loud = writes(store, args.writes)
        seconds = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
        database.close()
    rate = sum(tried) / seconds
    print(f"{args.writes} audit writes each; {args.flooders} threads of bogus callbacks")
    print(f"{'':28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, took in (("quiet", quiet), (f"flood ({rate:,.0f} callbacks/s)", loud)):
        print(f"{name:28}{statistics.median(took):9.2f}{p(took, 0.99):9.2f}{max(took):9.2f}")
    print(f"p99 under the flood / quiet: {p(loud, 0.99) / p(quiet, 0.99):.2f}x (the aim: <= 2x)")


if __name__ == "__main__":
    main()
