"""`make run` with no Slack app configured: Slack is the local workspace page (sandbox/workspace.py,
started as a child process), and the settings a Slack app would need get local defaults: its
people, its channels, a random bot token and signing secret, an approval secret kept in a file,
a database of its own. None of this is used when a Slack app is configured."""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

from bot.settings import Config

# The page's people (sandbox/workspace.py PERSONAS) and channels.
REQUESTERS = ("U0DANA",)
APPROVERS = ("U0BOB", "U0CAROL")
HR_CHANNEL = "C0HR"
APPROVAL_CHANNEL = "C0APPROVALS"
DATABASE = "data/local-workspace.sqlite3"


def wanted(config: Config) -> bool:
    """Nothing of a Slack deployment is configured: no Slack app, no people, no approval secret,
    and the HR API is the sandbox. Anything else is a deployment missing a setting, which must
    stop with the list of what is missing, never open a page on real HR data."""
    deployment = (
        config.slack_bot_token,
        config.slack_app_token,
        config.slack_signing_secret,
        config.requesters,
        config.requester_group,
        config.approvers,
        config.approver_group,
        config.approval_secrets,
        config.database_url,
        config.deployment_data,
    )
    return config.uses_sandbox and not any(deployment)


def not_here(config: Config) -> str | None:
    """Why `make run` did not open the local workspace although no Slack app is configured:
    a setting that points at a deployment's data. None otherwise."""
    if config.slack_bot_token or not config.deployment_data:
        return None
    named = ", ".join(config.deployment_data)
    return (
        f"{named} {'is' if len(config.deployment_data) == 1 else 'are'} set, so this is not "
        "the local workspace (which never runs on a deployment's data or HR API): the Slack "
        f"settings below are needed. To try the local workspace, unset {named}."
    )


def prepare(config: Config) -> Config:
    """The configuration for the local workspace: Slack's settings point at the page, and
    its data is a database of its own."""
    database = DATABASE
    public_url = config.public_url
    if config.per_user_hr and public_url == f"http://127.0.0.1:{config.port}":
        public_url = f"http://127.0.0.1:{config.port + 1}"  # the sandbox default: the bot's port
    return replace(
        config,
        local_workspace=True,
        slack_bot_token=f"xoxb-local-{secrets.token_hex(12)}",
        slack_signing_secret=secrets.token_urlsafe(32),
        slack_api_url=f"http://127.0.0.1:{config.port}/api/",
        requesters=REQUESTERS,
        requester_group=None,
        requester_email_domains=(),
        allowed_channels=(HR_CHANNEL,),
        approvers=APPROVERS,
        approver_group=None,
        approval_channel=APPROVAL_CHANNEL,
        approval_secrets=(_approval_secret(secret_file(database)),),
        database_path=database,
        public_url=public_url,
    )


def secret_file(database: str) -> Path:
    return Path(database).with_suffix(".secret")


def _approval_secret(path: Path) -> str:
    """Kept in a file beside the database, so the buttons of cards posted before a restart
    still work after it."""
    try:
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret


def describe(config: Config) -> str:
    """What `make run` prints: where to go, and the defaults it chose."""
    model = (
        f"model: {config.openai_model} at {config.openai_base_url or 'OpenAI'}"
        if config.model_configured
        else "no model configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
    )
    return (
        "No Slack app is configured (SLACK_BOT_TOKEN), so Slack is a local workspace page.\n"
        f"  Open http://127.0.0.1:{config.port}/ in your browser.\n"
        f"  Requester: Dana ({', '.join(config.requesters)}); approvers: Bob and Carol "
        f"({', '.join(config.approvers)}); channels #hr ({HR_CHANNEL}) and #approvals "
        f"({APPROVAL_CHANNEL}); database {config.database_path}; approval secret in "
        f"{secret_file(config.database_path)}; {model}.\n"
        "  Set SLACK_BOT_TOKEN (see README) to use a real Slack workspace instead."
    )
