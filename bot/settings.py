"""The configuration record: every setting the bot has, with its default, and what each variable
is for. bot/config.py fills it from the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

SANDBOX_URL = "http://127.0.0.1:8088"
DEFAULT_MODEL = "gpt-4o-mini"
SLACK_API_URL = "https://slack.com/api/"
HRIS_SANDBOXES = ("personio",)  # presets `make run` can start a sandbox HR system for
HRIS_SANDBOX_KEY = "hris-sandbox-key"  # that sandbox's documented API key

# Every variable the bot reads, in documentation order (docs/configuration.md and .env.example
# list them all).
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
    "OPENAI_TEMPERATURE",
    "OPENAI_WARM_UP",
    "TOOLS",
    "HR_API_URL",
    "HR_CATALOGUE",
    "SANDBOX_PORT",
    "HR_API_TOKEN",
    "HR_AUTH",
    "HR_OAUTH_ISSUER",
    "HR_OAUTH_AUTHORIZE_URL",
    "HR_OAUTH_TOKEN_URL",
    "HR_OAUTH_REVOKE_URL",
    "HR_OAUTH_USERINFO_URL",
    "HR_OAUTH_CLIENT_ID",
    "HR_OAUTH_CLIENT_SECRET",
    "HR_OAUTH_SCOPES",
    "PUBLIC_URL",
    "TOKEN_ENCRYPTION_KEYS",
    "REQUESTERS",
    "REQUESTER_GROUP",
    "REQUESTER_EMAIL_DOMAINS",
    "ALLOWED_CHANNELS",
    "ALLOW_SHARED_CHANNELS",
    "APPROVERS",
    "APPROVAL_CHANNEL",
    "APPROVAL_TTL_SECONDS",
    "APPROVAL_SECRET",
    "ESCALATE_AFTER_SECONDS",
    "ESCALATION_GROUP",
    "DATABASE_PATH",
    "DATABASE_URL",
    "LEASE_SECONDS",
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
    "METRICS",
    "METRICS_PORT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
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

OAUTH_ENDPOINTS = ("authorize_url", "token_url", "revoke_url", "userinfo_url")


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
    openai_max_retries: int = 6
    # Sampling temperature sent with every model call; None sends none (the server's default).
    openai_temperature: float | None = None
    # One small request at start-up, so a local server's first question need not wait for it.
    openai_warm_up: bool = False
    tools: str = "typed"  # what the model is offered: typed tools, or the generic call_rest_api
    hr_api_url: str = SANDBOX_URL
    hr_api_token: str | None = field(default=None, repr=False)
    # HR_CATALOGUE: a preset's name (personio) or a catalogue file; None: the shipped one.
    hr_catalogue: str | None = None
    hr_auth: str = "token"
    hr_oauth_issuer: str | None = None
    hr_oauth_authorize_url: str | None = None
    hr_oauth_token_url: str | None = None
    hr_oauth_revoke_url: str | None = None
    hr_oauth_userinfo_url: str | None = None
    hr_oauth_client_id: str | None = None
    hr_oauth_client_secret: str | None = field(default=None, repr=False)
    hr_oauth_scopes: str | None = None
    public_url: str | None = None
    token_encryption_keys: str | None = field(default=None, repr=False)
    requesters: tuple[str, ...] = ()
    requester_group: str | None = None
    requester_email_domains: tuple[str, ...] = ()
    allowed_channels: tuple[str, ...] = ()
    allow_shared_channels: bool = False
    approvers: tuple[str, ...] = ()
    approval_channel: str | None = None
    approval_ttl_seconds: int = 86400
    approval_secrets: tuple[str, ...] = field(default=(), repr=False)
    # A request still pending this long also goes to ESCALATION_GROUP, whose members may then
    # decide it (0: never).
    escalate_after_seconds: int = 0
    escalation_group: str | None = None
    database_path: str = "data/hrbot.sqlite3"
    # PostgreSQL (postgresql://…): replaces the SQLite file, and lets several replicas share it.
    database_url: str | None = field(default=None, repr=False)
    # How long a process's claim on a message, a conversation's turn or a running write lasts
    # without renewal (renewed every third of it while the process lives).
    lease_seconds: int = 120
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
    def database(self) -> str:
        """Where the data is: DATABASE_URL if set, else the SQLite file."""
        return self.database_url or self.database_path

    # Set by `python -m bot` when no Slack app is configured: Slack is the local workspace page.
    local_workspace: bool = False
    # Which of the settings that say where a deployment's data is (DEPLOYMENT_DATA) were set,
    # in the environment or .env: the local workspace never runs on them.
    deployment_data: tuple[str, ...] = ()
    # SANDBOX_PORT: where `make run` starts the sandbox HR API (HR_API_URL unset); unset, 8088
    # or, when that is taken, any free port.
    sandbox_port: int | None = None
    # METRICS=on: /metrics on PORT; METRICS_PORT: on a listener of its own (and on too).
    metrics: bool = False
    metrics_port: int | None = None
    # OTEL_EXPORTER_OTLP_ENDPOINT: traces go there (OTLP over HTTP); unset, none are made.
    otlp_endpoint: str | None = None
    # OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: prompts and answers in the spans too.
    trace_content: bool = False

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def uses_sandbox(self) -> bool:
        return self.hr_api_url == SANDBOX_URL

    @property
    def sandbox_hris(self) -> str | None:
        """The HRIS sandbox `make run` starts instead of the employees-only one: the preset's
        name, when HR_CATALOGUE names one and HR_API_URL is unset."""
        return (
            self.hr_catalogue if self.uses_sandbox and self.hr_catalogue in HRIS_SANDBOXES else None
        )

    @property
    def per_user_hr(self) -> bool:
        """HR_AUTH=oauth: every HR request goes out with the requester's own token."""
        return self.hr_auth == "oauth"

    @property
    def hr_oauth_endpoints(self) -> dict[str, str | None]:
        """The endpoint URLs given explicitly (each replaces what discovery finds)."""
        return {name: getattr(self, f"hr_oauth_{name}") for name in OAUTH_ENDPOINTS}

    @property
    def oauth_callback_url(self) -> str:
        return f"{(self.public_url or '').rstrip('/')}/oauth/callback"

    @property
    def model_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def http_port(self) -> int:
        """Where the bot takes Slack's requests: PORT, or the next port when the local
        workspace page has PORT."""
        return self.port + 1 if self.local_workspace else self.port

    def missing_for_slack(self) -> list[str]:
        """The variables a running Slack bot needs that are not set, in documentation order."""
        needed = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret or self.slack_app_token,
            # The local workspace opens without a model and says in the conversation what to set.
            "OPENAI_API_KEY": self.openai_api_key or self.local_workspace,
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
