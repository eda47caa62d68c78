"""Local stand-ins started as child processes (`python -m sandbox`), so `make run` works before
any HR system is connected. The bot knows their command lines, not their code.

A child runs in a session of its own (Ctrl-C in the terminal reaches the bot, which stops the
child only after finishing its own work), says `ready` on stdout once it serves, and exits when
its stdin closes, so it never outlives the bot, even one killed with SIGKILL."""

from __future__ import annotations

import contextlib
import selectors
import subprocess
import sys
import tempfile
import time

READY_SECONDS = 20.0


class ChildFailed(Exception):
    """A child service did not come up; the message says why in one line."""


class Child:
    """`secrets` are written as the first lines of the child's stdin: a secret on the command
    line would show in every process listing."""

    def __init__(self, name: str, args: list[str], *, secrets: tuple[str, ...] = ()) -> None:
        self.name = name
        # Read only if it fails to start; closed in stop().
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, *args, "--child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            start_new_session=True,
        )
        if secrets:
            self.process.stdin.write("".join(secret + "\n" for secret in secrets))
            self.process.stdin.flush()

    def wait_until_ready(self, timeout: float = READY_SECONDS) -> Child:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if selector.select(left):
                    line = self.process.stdout.readline()
                    if line.strip() == "ready":
                        return self
                    if not line:  # the child closed stdout: it is exiting
                        break
        if self.process.poll() is None:  # give an exiting child the moment to finish its message
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2)
        why = self._why() or f"{self.name} did not start within {timeout:.0f} s"
        self.stop()
        raise ChildFailed(why)

    def _why(self) -> str:
        self._stderr.seek(0)
        lines = [line for line in self._stderr.read().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def stop(self) -> None:
        """Close its stdin (it exits by itself), then make sure it is gone."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self._stderr):
            if stream is not None and not stream.closed:
                stream.close()


def start_sandbox(
    port: int,
    database: str,
    *,
    oauth_client: tuple[str, str] | None = None,
    redirect_uri: str | None = None,
) -> Child:
    """The sandbox HR API on 127.0.0.1:`port`, its records in `database`; with `oauth_client`
    (id, secret) also the OAuth 2.0 authorization server whose tokens its API requires, with
    that one client registered for `redirect_uri`."""
    args = ["-m", "sandbox", "--port", str(port), "--db", database]
    if oauth_client is None:
        return Child("the sandbox HR API", args).wait_until_ready()
    client_id, secret = oauth_client
    args += ["--oauth", "--client-id", client_id, "--client-secret-stdin"]
    args += ["--redirect-uri", redirect_uri or ""]
    return Child("the sandbox HR API", args, secrets=(secret,)).wait_until_ready()


def start_hris_sandbox(name: str, port: int, database: str) -> Child:
    """The HRIS sandbox shaped like `name`'s API (python -m sandbox --hris NAME) on
    127.0.0.1:`port`, its records in `database`, with its documented API key."""
    args = ["-m", "sandbox", "--hris", name, "--port", str(port), "--db", database]
    return Child(f"the {name} sandbox", args).wait_until_ready()


def start_workspace(
    port: int, bot_url: str, bot_token: str, signing_secret: str, *, state: str
) -> Child:
    """The local workspace page and its Slack Web API on 127.0.0.1:`port`, sending Slack's
    requests to `bot_url`, signed with `signing_secret`; its conversation kept in `state`."""
    args = ["-m", "sandbox.workspace", "--port", str(port), "--bot-url", bot_url]
    args += ["--state", state]
    child = Child("the local workspace", args, secrets=(bot_token, signing_secret))
    return child.wait_until_ready()
