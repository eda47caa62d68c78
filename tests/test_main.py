"""`python -m bot`, as `make run` starts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sandbox.fake_slack import FakeSlack
from tests.test_config import REQUIRED

ROOT = Path(__file__).resolve().parent.parent


def test_a_half_configured_slack_app_stops_naming_every_missing_variable(tmp_path):
    # With no Slack settings at all it opens the local workspace instead (test_workspace_page).
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env there
        env={"PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-1-2-3"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    for name in REQUIRED[1:]:
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_slack_is_one_clear_line(tmp_path):
    env = {
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "OPENAI_API_KEY": "k",
        "REQUESTERS": "U0DANA",
        "APPROVERS": "U0BOB",
        "APPROVAL_SECRET": "x" * 40,
        "HR_API_URL": "http://127.0.0.1:9",
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Could not reach Slack at http://127.0.0.1:9/api/" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_postgresql_is_one_clear_line_without_its_password(tmp_path):
    slack = FakeSlack().start()
    try:
        env = {
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": slack.api_url,
            "OPENAI_API_KEY": "k",
            "REQUESTERS": "U0DANA",
            "APPROVERS": "U0BOB",
            "APPROVAL_SECRET": "x" * 40,
            "HR_API_URL": "http://127.0.0.1:9",
            "DATABASE_URL": "postgresql://hrbot:hunter2@127.0.0.1:9/hrbot",
        }
        done = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        slack.stop()
    assert done.returncode == 2
    assert "cannot connect to PostgreSQL at 127.0.0.1:9/hrbot (DATABASE_URL)" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
