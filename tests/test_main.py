"""`python -m bot`, as `make run` starts it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from sandbox.fake_slack import FakeSlack
from tests.test_config import REQUIRED

ROOT = Path(__file__).resolve().parent.parent


# A deployment's settings, complete; each test points Slack, the HR API or the database at a
# place that cannot answer.
DEPLOYMENT = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-3",
    "SLACK_SIGNING_SECRET": "s",
    "OPENAI_API_KEY": "k",
    "REQUESTERS": "U0DANA",
    "APPROVERS": "U0BOB",
    "APPROVAL_SECRET": "x" * 40,
    "HR_API_URL": "http://127.0.0.1:9",
}


def run_bot(tmp_path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`python -m bot` in an empty folder (no .env) with only `env`; until it exits."""
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_half_configured_slack_app_stops_naming_every_missing_variable(tmp_path):
    # With no Slack settings at all it opens the local workspace instead (test_workspace_page).
    done = run_bot(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-1-2-3"}, timeout=30)
    assert done.returncode == 2
    for name in REQUIRED[1:]:
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_a_deployments_database_is_never_opened_as_the_local_workspace(tmp_path):
    database = tmp_path / "prod.sqlite3"
    done = run_bot(tmp_path, {"DATABASE_PATH": str(database)}, timeout=30)
    assert done.returncode == 2
    assert done.stderr.startswith("DATABASE_PATH is set, so this is not the local workspace")
    assert "SLACK_BOT_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert not database.exists() and not (tmp_path / "data").exists()


def test_an_unreachable_slack_is_one_clear_line(tmp_path):
    env = {
        **DEPLOYMENT,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    done = run_bot(tmp_path, env)
    assert done.returncode == 2
    assert "Could not reach Slack at http://127.0.0.1:9/api/" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_postgresql_is_one_clear_line_without_its_password(tmp_path):
    slack = FakeSlack().start()
    try:
        env = {
            **DEPLOYMENT,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": "postgresql://hrbot:hunter2@127.0.0.1:9/hrbot",
        }
        done = run_bot(tmp_path, env)
    finally:
        slack.stop()
    assert done.returncode == 2
    assert "cannot connect to PostgreSQL at 127.0.0.1:9/hrbot (DATABASE_URL)" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_with_warm_up_on_the_model_is_asked_once_at_start_before_any_question(tmp_path):
    import socket
    import time

    from sandbox import HRSandbox
    from sandbox.scripted_model import ScriptedModel, say

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hr = HRSandbox(tmp_path / "hr.sqlite3").start()
    with FakeSlack(bot_token="xoxb-1-2-3") as slack, ScriptedModel([say("Hi")]) as model:
        env = {
            **DEPLOYMENT,
            "SLACK_API_URL": slack.api_url,
            "HR_API_URL": hr.url,
            "OPENAI_BASE_URL": model.url,
            "OPENAI_WARM_UP": "true",
            "PORT": str(port),
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not model.requests and bot.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)  # waiting for the warm-up request itself, not for a pause
            (request,) = model.requests
        finally:
            bot.terminate()
            bot.communicate(timeout=30)
            hr.stop()
    assert request["max_tokens"] == 1
    assert request["messages"][0]["role"] == "system" and request["tools"]
    assert request["messages"][-1] == {"role": "user", "content": "Hello."}


def test_a_sandbox_port_that_is_taken_is_one_clear_line(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = run_bot(tmp_path, {"SANDBOX_PORT": str(port), "PORT": "9"}, timeout=30)
    assert done.returncode == 2
    assert f"SANDBOX_PORT {port} is taken" in done.stderr and "Traceback" not in done.stderr
