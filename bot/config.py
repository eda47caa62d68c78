"""Configuration: read once from the environment (and `.env`) into one frozen object.

This is the only module that reads os.environ.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

SANDBOX_URL = "http://127.0.0.1:8088"
DEFAULT_MODEL = "gpt-4o-mini"
SLACK_API_URL = "https://slack.com/api/"

# Every variable the bot reads, in documentation order (README and .env.example list them all).
VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_TIMEOUT_SECONDS",
    "OPENAI_MAX_RETRIES",
    "HR_API_URL",
    "HR_API_TOKEN",
    "REQUESTERS",
    "REQUESTER_GROUP",
    "REQUESTER_EMAIL_DOMAINS",
    "ALLOWED_CHANNELS",
    "ALLOW_SHARED_CHANNELS",
    "APPROVERS",
    "APPROVAL_CHANNEL",
    "APPROVAL_TTL_SECONDS",
    "APPROVAL_SECRET",
    "DATABASE_PATH",
    "PORT",
    "MAX_TOOL_ROUNDS",
    "HISTORY_TOKEN_BUDGET",
    "MODEL_CONCURRENCY",
    "ALLOW_SELF_APPROVAL",
    "APPROVER_GROUP",
    "MAX_PENDING_PER_REQUESTER",
    "MAX_PENDING_TOTAL",
    "MAX_TOOL_CALLS_PER_ROUND",
    "MAX_HR_REQUESTS_PER_MESSAGE",
    "USER_MESSAGES_PER_MINUTE",
    "CONVERSATION_RETENTION_DAYS",
    "SWEEP_INTERVAL_SECONDS",
    "MODEL_DEADLINE_SECONDS",
    "LOG_FORMAT",
)

# Where to get each variable that a running bot needs; the start-up error names all missing ones.
WHERE_TO_GET = {
    "SLACK_BOT_TOKEN": "Slack app settings > OAuth & Permissions > Bot User OAuth Token (xoxb-…)",
    "SLACK_SIGNING_SECRET": "Slack app settings > Basic Information > Signing Secret "
    "(or set SLACK_APP_TOKEN for Socket Mode)",
    "OPENAI_API_KEY": "platform.openai.com > API keys (any value for a local server "
    "that needs none, with OPENAI_BASE_URL)",
    "REQUESTERS": "Slack user IDs of the HR representatives who may use the bot, "
    "comma-separated; or REQUESTER_GROUP, a user group ID",
    "APPROVERS": "Slack user IDs (profile > ⋮ > Copy member ID), comma-separated; "
    "or APPROVER_GROUP, a user group ID",
    "APPROVAL_SECRET": 'generate one: python -c "import secrets; print(secrets.token_urlsafe(32))"',
}

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_SHARED_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,30}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,30}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](-*[a-z0-9])*(\.[a-z0-9](-*[a-z0-9])*)+$", re.I)
MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """The configuration is incomplete or invalid; the message says every problem at once."""


@dataclass(frozen=True)
class Config:
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = SLACK_API_URL
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str = DEFAULT_MODEL
    openai_timeout_seconds: float = 30.0
    openai_max_retries: int = 2
    hr_api_url: str = SANDBOX_URL
    hr_api_token: str | None = field(default=None, repr=False)
    requesters: tuple[str, ...] = ()
    requester_group: str | None = None
    requester_email_domains: tuple[str, ...] = ()
    allowed_channels: tuple[str, ...] = ()
    allow_shared_channels: bool = False
    approvers: tuple[str, ...] = ()
    approval_channel: str | None = None
    approval_ttl_seconds: int = 86400
    approval_secrets: tuple[str, ...] = field(default=(), repr=False)
    database_path: str = "data/hrbot.sqlite3"
    port: int = 3000
    max_tool_rounds: int = 6
    history_token_budget: int = 8000
    model_concurrency: int = 16
    allow_self_approval: bool = False
    approver_group: str | None = None
    max_pending_per_requester: int = 10
    max_pending_total: int = 200
    max_tool_calls_per_round: int = 10
    max_hr_requests_per_message: int = 60
    user_messages_per_minute: int = 20
    conversation_retention_days: int = 30
    sweep_interval_seconds: int = 30
    model_deadline_seconds: int = 90
    log_format: str = "console"

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def uses_sandbox(self) -> bool:
        return self.hr_api_url == SANDBOX_URL

    def missing_for_slack(self) -> list[str]:
        """The variables a running Slack bot needs that are not set, in documentation order."""
        needed = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret or self.slack_app_token,
            "OPENAI_API_KEY": self.openai_api_key,
            "REQUESTERS": self.requesters or self.requester_group,
            "APPROVERS": self.approvers or self.approver_group,
            "APPROVAL_SECRET": self.approval_secrets,
        }
        return [name for name, value in needed.items() if not value]

    def require_slack(self) -> None:
        missing = self.missing_for_slack()
        if missing:
            lines = [f"  {name}: {WHERE_TO_GET[name]}" for name in missing]
            raise ConfigError(
                "Cannot start the Slack bot; missing configuration (set in the environment "
                "or in .env; see .env.example):\n" + "\n".join(lines)
            )


def load(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Config:
    """Build the Config from `environ` (default: os.environ) over the values in `env_file`."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    env = {key: value.strip() for key, value in values.items() if value and value.strip()}
    problems: list[str] = []

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = env.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"[0-9]+", raw) or not low <= int(raw) <= high:
            problems.append(f"  {name}: must be a whole number from {low} to {high}, not {raw!r}")
            return default
        return int(raw)

    def url(name: str, default: str | None) -> str | None:
        raw = env.get(name, default)
        if raw is None:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            problems.append(f"  {name}: must be an http(s) URL without a query, not {raw!r}")
            return default
        return raw

    def boolean(name: str) -> bool:
        raw = env.get(name, "false").lower()
        if raw not in ("true", "false", "1", "0", "yes", "no"):
            problems.append(f"  {name}: must be true or false, not {raw!r}")
        return raw in ("true", "1", "yes")

    def prefixed(name: str, prefix: str) -> str | None:
        raw = env.get(name)
        if raw is not None and not raw.startswith(prefix):
            problems.append(f"  {name}: should start with {prefix!r}")
        return raw

    def listed(name: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
        items = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
        bad = [item for item in items if not pattern.match(item)]
        if bad:
            problems.append(f"  {name}: not {what}: {', '.join(bad)}")
        return tuple(item for item in items if item not in bad)

    def group_id(name: str) -> str | None:
        group = env.get(name)
        if group is not None and not _GROUP_ID.match(group):
            problems.append(f"  {name}: not a Slack user group ID (like S012ABCDEF): {group!r}")
        return group

    approvers = listed("APPROVERS", _USER_ID, "Slack user IDs (like U012ABCDEF)")
    requesters = listed("REQUESTERS", _USER_ID, "Slack user IDs (like U012ABCDEF)")
    allowed_channels = listed(
        "ALLOWED_CHANNELS", _SHARED_CHANNEL_ID, "Slack channel IDs (like C012ABCDEF)"
    )
    domains = tuple(
        d.lower()
        for d in listed("REQUESTER_EMAIL_DOMAINS", _DOMAIN, "email domains (like hr.example)")
    )
    channel = env.get("APPROVAL_CHANNEL")
    if channel is not None and not _CHANNEL_ID.match(channel):
        problems.append(
            f"  APPROVAL_CHANNEL: not a Slack channel ID (like C012ABCDEF): {channel!r}"
        )
    log_format = env.get("LOG_FORMAT", "console").lower()
    if log_format not in ("console", "json"):
        problems.append(f"  LOG_FORMAT: must be console or json, not {log_format!r}")
    secrets = tuple(part.strip() for part in env.get("APPROVAL_SECRET", "").split(",") if part)
    if any(len(secret) < MIN_SECRET_LENGTH for secret in secrets):
        problems.append(
            f"  APPROVAL_SECRET: every key must be at least {MIN_SECRET_LENGTH} characters; "
            + WHERE_TO_GET["APPROVAL_SECRET"]
        )
    if "SLACK_CLIENT_ID" in env and "SLACK_CLIENT_SECRET" in env:
        problems.append(
            "  SLACK_CLIENT_ID, SLACK_CLIENT_SECRET: unset them; this bot serves one workspace "
            "with SLACK_BOT_TOKEN, and Bolt would silently switch to OAuth installs"
        )
    slack_api_url = url("SLACK_API_URL", SLACK_API_URL) or SLACK_API_URL
    config = Config(
        slack_bot_token=prefixed("SLACK_BOT_TOKEN", "xoxb-"),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET"),
        slack_app_token=prefixed("SLACK_APP_TOKEN", "xapp-"),
        slack_api_url=slack_api_url if slack_api_url.endswith("/") else slack_api_url + "/",
        openai_api_key=env.get("OPENAI_API_KEY"),
        openai_base_url=url("OPENAI_BASE_URL", None),
        openai_model=env.get("OPENAI_MODEL", DEFAULT_MODEL),
        openai_timeout_seconds=float(integer("OPENAI_TIMEOUT_SECONDS", 30, 1, 600)),
        openai_max_retries=integer("OPENAI_MAX_RETRIES", 2, 0, 10),
        hr_api_url=(url("HR_API_URL", SANDBOX_URL) or SANDBOX_URL).rstrip("/"),
        hr_api_token=env.get("HR_API_TOKEN"),
        requesters=requesters,
        requester_group=group_id("REQUESTER_GROUP"),
        requester_email_domains=domains,
        allowed_channels=allowed_channels,
        allow_shared_channels=boolean("ALLOW_SHARED_CHANNELS"),
        approvers=approvers,
        approval_channel=channel,
        approval_ttl_seconds=integer("APPROVAL_TTL_SECONDS", 86400, 60, 30 * 86400),
        approval_secrets=secrets,
        database_path=env.get("DATABASE_PATH", "data/hrbot.sqlite3"),
        port=integer("PORT", 3000, 1, 65535),
        max_tool_rounds=integer("MAX_TOOL_ROUNDS", 6, 1, 50),
        history_token_budget=integer("HISTORY_TOKEN_BUDGET", 8000, 500, 1_000_000),
        model_concurrency=integer("MODEL_CONCURRENCY", 16, 1, 256),
        allow_self_approval=boolean("ALLOW_SELF_APPROVAL"),
        approver_group=group_id("APPROVER_GROUP"),
        max_pending_per_requester=integer("MAX_PENDING_PER_REQUESTER", 10, 1, 1000),
        max_pending_total=integer("MAX_PENDING_TOTAL", 200, 1, 100_000),
        max_tool_calls_per_round=integer("MAX_TOOL_CALLS_PER_ROUND", 10, 1, 100),
        max_hr_requests_per_message=integer("MAX_HR_REQUESTS_PER_MESSAGE", 60, 1, 10_000),
        user_messages_per_minute=integer("USER_MESSAGES_PER_MINUTE", 20, 1, 10_000),
        conversation_retention_days=integer("CONVERSATION_RETENTION_DAYS", 30, 1, 3650),
        sweep_interval_seconds=integer("SWEEP_INTERVAL_SECONDS", 30, 1, 3600),
        model_deadline_seconds=integer("MODEL_DEADLINE_SECONDS", 90, 5, 3600),
        log_format=log_format,
    )
    if problems:
        raise ConfigError("Invalid configuration:\n" + "\n".join(problems))
    return config
