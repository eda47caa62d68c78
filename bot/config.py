"""Configuration: read once from the environment (and `.env`) into one frozen object.

This is the only module that reads os.environ.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.hr.accounts import MAKE_A_KEY, TokenCipher
from bot.settings import (
    DEFAULT_MODEL,
    HRIS_SANDBOXES,
    OAUTH_ENDPOINTS,
    SANDBOX_URL,
    SLACK_API_URL,
    VARIABLES,
    WHERE_TO_GET,
    Config,
    ConfigError,
)
from bot.tools.catalogue import catalogue_file, presets
from infra.db import DatabaseUnavailable

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_SHARED_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,30}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,30}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](-*[a-z0-9])*(\.[a-z0-9](-*[a-z0-9])*)+$", re.I)
MIN_SECRET_LENGTH = 32
# The client the sandbox registers when `python -m bot` starts it as an authorization server.
SANDBOX_CLIENT_ID = "hr-bot-sandbox"
SANDBOX_SCOPES = "hr"


# Settings that say where a deployment's data is: set, they mean "not the local workspace".
DEPLOYMENT_DATA = ("DATABASE_PATH", "DATABASE_URL", "HR_API_URL")


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

    def number(name: str, low: float, high: float) -> float | None:
        raw = env.get(name)
        if raw is None:
            return None
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", raw) or not low <= float(raw) <= high:
            problems.append(f"  {name}: must be a number from {low:g} to {high:g}, not {raw!r}")
            return None
        return float(raw)

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

    def switch(name: str) -> bool:
        raw = env.get(name, "off").lower()
        if raw not in ("on", "off", "true", "false"):
            problems.append(f"  {name}: must be on or off, not {raw!r}")
        return raw in ("on", "true")

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
    tools = env.get("TOOLS", "typed").lower()
    if tools not in ("typed", "generic"):
        problems.append(f"  TOOLS: must be typed or generic, not {tools!r}")
    approval_keys = tuple(
        part.strip() for part in env.get("APPROVAL_SECRET", "").split(",") if part
    )
    if any(len(secret) < MIN_SECRET_LENGTH for secret in approval_keys):
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
    hr_api_url = (url("HR_API_URL", SANDBOX_URL) or SANDBOX_URL).rstrip("/")
    oauth = _oauth_settings(env, problems, url, sandbox=hr_api_url == SANDBOX_URL)
    hr_catalogue = env.get("HR_CATALOGUE") or None
    if catalogue_file(hr_catalogue) is None:
        problems.append(
            f"  HR_CATALOGUE: {hr_catalogue!r} is neither a catalogue file nor a preset "
            f"({', '.join(presets())})"
        )
    if (
        hr_catalogue in HRIS_SANDBOXES
        and hr_api_url == SANDBOX_URL
        and env.get("HR_AUTH") == "oauth"
    ):
        problems.append(
            f"  HR_AUTH: the {hr_catalogue} sandbox takes an API key, not sign-ins; set "
            "HR_API_URL to your own HR system, or leave HR_AUTH unset"
        )
    config = Config(
        slack_bot_token=prefixed("SLACK_BOT_TOKEN", "xoxb-"),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET"),
        slack_app_token=prefixed("SLACK_APP_TOKEN", "xapp-"),
        slack_api_url=slack_api_url if slack_api_url.endswith("/") else slack_api_url + "/",
        openai_api_key=env.get("OPENAI_API_KEY"),
        openai_base_url=url("OPENAI_BASE_URL", None),
        openai_model=env.get("OPENAI_MODEL", DEFAULT_MODEL),
        openai_timeout_seconds=float(integer("OPENAI_TIMEOUT_SECONDS", 30, 1, 600)),
        openai_max_retries=integer("OPENAI_MAX_RETRIES", 6, 0, 10),
        openai_temperature=number("OPENAI_TEMPERATURE", 0, 2),
        openai_warm_up=boolean("OPENAI_WARM_UP"),
        tools=tools,
        hr_api_url=hr_api_url,
        hr_api_token=env.get("HR_API_TOKEN"),
        hr_catalogue=hr_catalogue,
        **oauth,
        requesters=requesters,
        requester_group=group_id("REQUESTER_GROUP"),
        requester_email_domains=domains,
        allowed_channels=allowed_channels,
        allow_shared_channels=boolean("ALLOW_SHARED_CHANNELS"),
        approvers=approvers,
        approval_channel=channel,
        approval_ttl_seconds=integer("APPROVAL_TTL_SECONDS", 86400, 60, 30 * 86400),
        approval_secrets=approval_keys,
        escalate_after_seconds=integer("ESCALATE_AFTER_SECONDS", 0, 0, 30 * 86400),
        escalation_group=group_id("ESCALATION_GROUP"),
        database_path=env.get("DATABASE_PATH", "data/hrbot.sqlite3"),
        database_url=_database_url(env, problems),
        lease_seconds=integer("LEASE_SECONDS", 120, 6, 3600),
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
        deployment_data=tuple(name for name in DEPLOYMENT_DATA if name in env),
        sandbox_port=integer("SANDBOX_PORT", 8088, 1, 65535) if "SANDBOX_PORT" in env else None,
        metrics=switch("METRICS") or "METRICS_PORT" in env,
        metrics_port=integer("METRICS_PORT", 9090, 1, 65535) if "METRICS_PORT" in env else None,
        otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        trace_content=boolean("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
    )
    if bool(config.escalate_after_seconds) != bool(config.escalation_group):
        problems.append(
            "  ESCALATE_AFTER_SECONDS, ESCALATION_GROUP: set both (after how long, and to whom) "
            "or neither"
        )
    elif config.escalate_after_seconds >= config.approval_ttl_seconds:
        problems.append(
            "  ESCALATE_AFTER_SECONDS: must be shorter than APPROVAL_TTL_SECONDS, or requests "
            "expire before they escalate"
        )
    if config.lease_seconds < 2 * config.sweep_interval_seconds:
        problems.append(
            "  LEASE_SECONDS: must be at least twice SWEEP_INTERVAL_SECONDS, or a live replica's "
            "claims would lapse between the rounds that renew them"
        )
    if problems:
        raise ConfigError("Invalid configuration:\n" + "\n".join(problems))
    return config


def _database_url(env: Mapping[str, str], problems: list[str]) -> str | None:
    """DATABASE_URL: PostgreSQL, instead of (never as well as) the SQLite file."""
    raw = env.get("DATABASE_URL")
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("postgresql", "postgres") or not (parts.netloc or parts.query):
        # The value may hold a password: it is never repeated in the message.
        problems.append(
            "  DATABASE_URL: must be a PostgreSQL URL like postgresql://user@host:5432/hrbot"
        )
        return None
    from infra.postgres import describe

    try:
        describe(raw)
    except DatabaseUnavailable as e:  # its message never repeats the URL
        problems.append(f"  DATABASE_URL: {e}")
        return None
    if "DATABASE_PATH" in env:
        problems.append("  DATABASE_PATH: unset it with DATABASE_URL; the data is in PostgreSQL")
    return raw


def _oauth_settings(
    env: Mapping[str, str], problems: list[str], url, *, sandbox: bool
) -> dict[str, str | None]:
    """HR_AUTH and, with HR_AUTH=oauth, everything per-user HR authority needs. The sandbox
    (HR_API_URL unset) is its own authorization server: issuer, client, scopes and PUBLIC_URL
    then have local defaults."""
    mode = env.get("HR_AUTH", "token").lower()
    names = [n for n in VARIABLES if n.startswith("HR_OAUTH_")] + ["PUBLIC_URL"]
    if mode not in ("token", "oauth"):
        problems.append(f"  HR_AUTH: must be token or oauth, not {mode!r}")
        return {}
    if mode == "token":
        given = [n for n in [*names, "TOKEN_ENCRYPTION_KEYS"] if n in env]
        if given:
            problems.append(f"  {', '.join(given)}: only used with HR_AUTH=oauth")
        return {"hr_auth": "token"}
    if "HR_API_TOKEN" in env:
        problems.append(
            "  HR_API_TOKEN: unset it with HR_AUTH=oauth; every HR request then carries the "
            "requester's own token, and no shared credential is kept"
        )
    values: dict[str, str | None] = {"hr_auth": "oauth"}
    values["hr_oauth_issuer"] = url("HR_OAUTH_ISSUER", SANDBOX_URL if sandbox else None)
    values["hr_oauth_authorize_url"] = url("HR_OAUTH_AUTHORIZE_URL", None)
    values["hr_oauth_token_url"] = url("HR_OAUTH_TOKEN_URL", None)
    values["hr_oauth_revoke_url"] = url("HR_OAUTH_REVOKE_URL", None)
    values["hr_oauth_userinfo_url"] = url("HR_OAUTH_USERINFO_URL", None)
    if values["hr_oauth_issuer"] is None:
        lacking = [
            f"HR_OAUTH_{e.upper()}"
            for e in OAUTH_ENDPOINTS[:2] + OAUTH_ENDPOINTS[3:]
            if values[f"hr_oauth_{e}"] is None
        ]
        if lacking:
            problems.append(
                f"  HR_OAUTH_ISSUER: set it (discovery), or else {', '.join(lacking)} "
                "(the authorization server's endpoints)"
            )
    values["hr_oauth_client_id"] = env.get(
        "HR_OAUTH_CLIENT_ID", SANDBOX_CLIENT_ID if sandbox else None
    )
    # The sandbox is started by this process with whatever secret it is given: a fresh one.
    values["hr_oauth_client_secret"] = env.get(
        "HR_OAUTH_CLIENT_SECRET", secrets.token_urlsafe(32) if sandbox else None
    )
    values["hr_oauth_scopes"] = env.get("HR_OAUTH_SCOPES", SANDBOX_SCOPES if sandbox else None)
    values["public_url"] = url("PUBLIC_URL", None)
    if values["public_url"] is None and sandbox:
        values["public_url"] = f"http://127.0.0.1:{env.get('PORT', '3000')}"
    for name, needed in (
        ("HR_OAUTH_CLIENT_ID", "the client ID the HR identity provider gave the bot"),
        ("HR_OAUTH_CLIENT_SECRET", "its client secret (the sandbox accepts any value you set)"),
        ("PUBLIC_URL", "where people's browsers reach the bot, e.g. https://hrbot.example.com"),
    ):
        if values.get(name.lower()) is None:
            problems.append(f"  {name}: needed with HR_AUTH=oauth: {needed}")
    keys = env.get("TOKEN_ENCRYPTION_KEYS")
    if keys is None:
        problems.append(
            f"  TOKEN_ENCRYPTION_KEYS: needed with HR_AUTH=oauth (people's HR tokens are "
            f"encrypted with it); make a key with: {MAKE_A_KEY}"
        )
    else:
        try:
            TokenCipher.from_setting(keys)
        except ValueError as e:
            problems.append(f"  {e}")
    values["token_encryption_keys"] = keys
    return values
