"""The local defaults `make run` uses when no Slack app is configured, and only then."""

from __future__ import annotations

import stat

import pytest

from bot import local_workspace
from bot.config import load


def test_without_slack_settings_the_page_stands_in_for_slack(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load({}, env_file=None)
    assert local_workspace.wanted(config)

    local = local_workspace.prepare(config)

    local.require_slack()  # complete, even without a model
    assert local.local_workspace and not local.model_configured
    assert local.slack_api_url == "http://127.0.0.1:3000/api/" and local.http_port == 3001
    assert local.requesters == ("U0DANA",) and local.approvers == ("U0BOB", "U0CAROL")
    assert local.approval_channel == "C0APPROVALS" and local.allowed_channels == ("C0HR",)
    secret = tmp_path / "data" / "local-workspace.secret"
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
        {"DATABASE_PATH": "/var/lib/hrbot/hrbot.sqlite3"},  # a deployment's database file
        {"DATABASE_PATH": "data/hrbot.sqlite3"},  # set, even to the default
        {"HR_API_URL": "http://127.0.0.1:8088"},  # set, even to the sandbox's address
    ],
)
def test_a_deployment_missing_a_setting_never_gets_the_local_defaults(setting):
    assert not local_workspace.wanted(load(setting, env_file=None))


def test_it_says_why_a_deployments_data_is_not_opened_as_the_local_workspace():
    config = load({"DATABASE_PATH": "/var/lib/hrbot/hrbot.sqlite3"}, env_file=None)
    assert local_workspace.not_here(config) == (
        "DATABASE_PATH is set, so this is not the local workspace (which never runs on a "
        "deployment's data or HR API): the Slack settings below are needed. To try the local "
        "workspace, unset DATABASE_PATH."
    )
    assert local_workspace.not_here(load({}, env_file=None)) is None
