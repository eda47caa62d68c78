"""Local stand-ins started as child processes (`python -m sandbox`), so `make run` works before
any HR system is connected. The bot knows their command lines and addresses, not their code."""

from __future__ import annotations

import subprocess
import sys
import time

import requests

READY_SECONDS = 20.0


class ChildFailed(Exception):
    """A child service did not come up; the message says why in one line."""


class Child:
    """One child process; `stop()` ends it (and waits)."""

    def __init__(self, name: str, args: list[str], ready_url: str) -> None:
        self.name = name
        self.ready_url = ready_url
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_until_ready(self, timeout: float = READY_SECONDS) -> Child:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                why = (self.process.stderr.read() if self.process.stderr else "").strip()
                self.stop()
                raise ChildFailed(why.splitlines()[-1] if why else f"{self.name} exited")
            try:
                if requests.get(self.ready_url, timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise ChildFailed(f"{self.name} did not answer at {self.ready_url} in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


def start_sandbox(url: str, port: int, database: str) -> Child:
    """The sandbox HR API at `url` (on `port`), its records in `database`."""
    child = Child(
        "the sandbox HR API",
        ["-m", "sandbox", "--port", str(port), "--db", database, "--quiet"],
        f"{url}/api/users?page=1",
    )
    return child.wait_until_ready()
