"""Several `python -m bot` processes on one PostgreSQL database behind one fake Slack: the test is
the load balancer, sending each signed event or click to the replica it chooses. The model
answers every question with "Answer to: <question>", queues a write when asked to promote
someone, and can be made to hang (`model_hangs`) as a slow model would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import requests

from sandbox import HRSandbox
from sandbox.fake_slack import FakeSlack
from sandbox.scripted_model import ScriptedModel, rest, say, tool_calls
from sandbox.slack_requests import click_payload, event_body, signed_headers
from tests.slack_harness import APPROVAL_CHANNEL, loopback_env
from tests.test_children import free_ports

ROOT = Path(__file__).resolve().parent.parent
SECRET = "replica-signing-secret"
PROMOTION = {"job": "team lead"}


def respond(request: dict[str, Any]) -> dict[str, Any]:
    last = request["messages"][-1]
    if last["role"] == "tool":
        return say("I have asked for approval.")
    question = last.get("content") or ""
    if "promote" in question:
        return tool_calls(rest("PATCH", "/api/users/2", PROMOTION))
    return say(f"Answer to: {question}")


class Replicas:
    def __init__(
        self,
        tmp_path: Path,
        database_url: str,
        count: int = 2,
        *,
        socket_mode: bool = False,
        **env: str,
    ) -> None:
        """`socket_mode`: each replica opens a Socket Mode connection to the fake Slack
        (`send_envelope`); else each serves HTTP on a port of its own (`send_event`)."""
        self.socket_mode = socket_mode
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.hr = HRSandbox(tmp_path / "hr.sqlite3").start()
        self.model_hangs = threading.Event()  # set: every model request waits until cleared
        self._model_free = threading.Event()
        self._model_free.set()
        self.model = ScriptedModel(responder=self._respond).start()
        self.slack = FakeSlack().start()
        self.ports = free_ports(count)
        self.processes: list[subprocess.Popen | None] = [None] * count
        self.env = {
            "PYTHONPATH": str(ROOT),
            "PATH": os.environ.get("PATH", ""),
            **loopback_env(self.slack, self.model, self.hr),
            "SLACK_SIGNING_SECRET": SECRET,
            "APPROVERS": "U0BOB,U0CAROL,U0ALICE,U0GINA",
            "APPROVAL_SECRET": "r" * 40,
            "DATABASE_URL": database_url,
            "LEASE_SECONDS": "6",
            "SWEEP_INTERVAL_SECONDS": "1",
            "LOG_FORMAT": "json",
            **({"SLACK_APP_TOKEN": self.slack.app_token} if socket_mode else {}),
            **env,
        }

    def _respond(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.model_hangs.is_set():
            self._model_free.wait(120)
        return respond(request)

    def hang_model(self) -> None:
        self._model_free.clear()
        self.model_hangs.set()

    def free_model(self) -> None:
        self.model_hangs.clear()
        self._model_free.set()

    # --- processes -------------------------------------------------------------------------

    def start(self, index: int | None = None) -> Replicas:
        for i in range(len(self.ports)) if index is None else [index]:
            log = open(self.tmp_path / f"replica-{i}.log", "ab")  # noqa: SIM115 - the child's
            self.processes[i] = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.tmp_path,
                env={**self.env, "PORT": str(self.ports[i])},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
        for i in range(len(self.ports)) if index is None else [index]:
            if self.socket_mode:
                self.slack.wait_for_connections(i + 1 if index is None else len(self.ports))
            else:
                self._wait_healthy(i)
        return self

    def send_envelope(self, i: int, event: dict[str, Any], event_id: str, retry: int = 0) -> None:
        """An event over replica `i`'s Socket Mode connection; acknowledged, or it fails."""
        envelope = self.slack.send_envelope(
            "events_api", event_body(event, event_id), connection=i, retry_attempt=retry
        )
        self.slack.wait_for_ack(envelope, timeout=10)

    def _wait_healthy(self, i: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[i]
            if process is not None and process.poll() is not None:
                raise AssertionError(f"replica {i} exited {process.returncode}: {self.log(i)}")
            try:
                if requests.get(f"{self.base(i)}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"replica {i} never became healthy: {self.log(i)}")

    def log(self, i: int) -> str:
        return (self.tmp_path / f"replica-{i}.log").read_text(errors="replace")[-4000:]

    def kill(self, i: int) -> None:
        """kill -9: no clean-up of any kind."""
        process = self.processes[i]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self, i: int) -> None:
        """SIGTERM: the replica finishes the work it took, then exits 0."""
        process = self.processes[i]
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        assert process.wait(90) == 0, self.log(i)

    def close(self) -> None:
        self.free_model()
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
        self.slack.stop()
        self.model.stop()
        self.hr.release_requests()
        self.hr.stop()

    # --- what Slack sends -------------------------------------------------------------------

    def base(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def send_event(self, i: int, event: dict[str, Any], event_id: str | None = None):
        body = json.dumps(event_body(event, event_id)).encode()
        headers = {"Content-Type": "application/json", **signed_headers(body, secret=SECRET)}
        return requests.post(f"{self.base(i)}/slack/events", data=body, headers=headers, timeout=10)

    def click(self, i: int, user: str, card, action_id: str):
        value = next(
            element["value"]
            for block in card.blocks
            for element in block.get("elements") or []
            if element.get("action_id") == action_id
        )
        payload = click_payload(user, action_id, value, channel=card.channel, message_ts=card.ts)
        body = urlencode({"payload": json.dumps(payload)}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **signed_headers(body, secret=SECRET),
        }
        return requests.post(f"{self.base(i)}/slack/events", data=body, headers=headers, timeout=10)

    # --- what happened ----------------------------------------------------------------------

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_for(self, found, timeout: float = 60.0, what: str = "a condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := found():
                return result
            time.sleep(0.1)
        logs = "\n".join(self.log(i) for i in range(len(self.ports)))
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def bot_replies(self, channel: str, thread_ts: str) -> list[str]:
        return [m.text for m in self.slack.thread(channel, thread_ts)]

    def approval_card(self):
        def found():
            return next(
                (
                    m
                    for m in list(self.slack.messages.values())
                    if m.channel == APPROVAL_CHANNEL
                    and m.blocks
                    and m.blocks[0].get("type") == "header"
                ),
                None,
            )

        return self.wait_for(found, what="the approval card")
