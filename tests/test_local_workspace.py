"""The local defaults `make run` uses when no Slack app is configured, and only then."""

from __future__ import annotations

import stat

import pytest

from bot import local_workspace
from bot.config import load


def test_without_slack_settings_the_page_stands_in_for_slack(tmp_path):
    config = load({"DATABASE_PATH": str(tmp_path / "local.sqlite3")}, env_file=None)
    assert local_workspace.wanted(config)

    local = local_workspace.prepare(config)

    local.require_slack()  # complete, even without a model
    assert local.local_workspace and not local.model_configured
    assert local.slack_api_url == "http://127.0.0.1:3000/api/" and local.http_port == 3001
    assert local.requesters == ("U0DANA",) and local.approvers == ("U0BOB", "U0CAROL")
    assert local.approval_channel == "C0APPROVALS" and local.allowed_channels == ("C0HR",)
    secret = tmp_path / "local.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    again = local_workspace.prepare(config)
    assert again.approval_secrets == local.approval_secrets  # kept across restarts
    assert again.slack_signing_secret != local.slack_signing_secret  # fresh each start


def test_the_default_database_is_a_separate_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = local_workspace.prepare(load({}, env_file=None))
    assert local.database_path == local_workspace.DATABASE


@pytest.mark.parametrize(
    "setting",
    [
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        {"SLACK_APP_TOKEN": "xapp-1"},
        {"SLACK_SIGNING_SECRET": "s"},
        {"APPROVERS": "U0BOB"},
        {"REQUESTERS": "U0DANA"},
        {"APPROVAL_SECRET": "a" * 40},
        {"HR_API_URL": "https://hr.example.com"},  # real HR data is never behind the page
        {"DATABASE_URL": "postgresql://hrbot@db.internal/hrbot"},  # a deployment's database
    ],
)
def test_a_deployment_missing_a_setting_never_gets_the_local_defaults(setting):
    assert not local_workspace.wanted(load(setting, env_file=None))
