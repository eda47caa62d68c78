from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import config
from bot.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent
# What a running bot needs and start-up must name when missing (the expectation, kept literal).
REQUIRED = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "OPENAI_API_KEY",
    "REQUESTERS",
    "APPROVERS",
    "APPROVAL_SECRET",
)
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "signing-secret",
    "OPENAI_API_KEY": "sk-test",
    "REQUESTERS": "U0DANA",
    "APPROVERS": "U0BOB, U0CAROL",
    "APPROVAL_SECRET": "n" * 40 + "," + "o" * 40,
}


def test_defaults_without_any_environment():
    c = load({}, env_file=None)
    assert c.hr_api_url == config.SANDBOX_URL and c.uses_sandbox
    assert c.approval_ttl_seconds == 86400 and c.port == 3000
    assert c.openai_model == config.DEFAULT_MODEL
    assert c.database_path == "data/hrbot.sqlite3"
    assert c.slack_api_url == "https://slack.com/api/"


def test_a_missing_required_variable_stops_start_up_naming_every_one():
    with pytest.raises(ConfigError) as missing:
        load({}, env_file=None).require_slack()
    message = str(missing.value)
    for name in REQUIRED:
        assert name in message
    assert "OAuth & Permissions" in message and "token_urlsafe" in message


def test_socket_mode_needs_no_signing_secret():
    env = {**GOOD, "SLACK_APP_TOKEN": "xapp-1-abc"}
    del env["SLACK_SIGNING_SECRET"]
    c = load(env, env_file=None)
    c.require_slack()
    assert c.socket_mode


def test_a_complete_configuration_parses():
    c = load(
        {**GOOD, "APPROVAL_CHANNEL": "C0APPROVALS", "HR_API_URL": "https://hr.example.com/v1/"},
        env_file=None,
    )
    c.require_slack()
    assert c.approvers == ("U0BOB", "U0CAROL")
    assert c.approval_secrets == ("n" * 40, "o" * 40)
    assert c.hr_api_url == "https://hr.example.com/v1"


def test_every_invalid_value_is_reported_at_once():
    env = {
        "PORT": "eighty",
        "APPROVERS": "bob",
        "APPROVAL_CHANNEL": "#general",
        "APPROVAL_SECRET": "short",
        "HR_API_URL": "ftp://hr.example.com",
        "APPROVAL_TTL_SECONDS": "0",
        "SLACK_BOT_TOKEN": "xoxp-user-token",
    }
    with pytest.raises(ConfigError) as invalid:
        load(env, env_file=None)
    message = str(invalid.value)
    for name in env:
        assert name in message


def test_dotenv_values_are_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OPENAI_MODEL=from-file\nPORT=4000\n")
    c = load({"PORT": "5000"}, env_file=env_file)
    assert (c.openai_model, c.port) == ("from-file", 5000)


def test_secrets_stay_out_of_repr():
    text = repr(load(GOOD, env_file=None))
    for secret in ("xoxb-1-2-abc", "signing-secret", "sk-test", "n" * 40):
        assert secret not in text


def test_every_variable_is_read_by_config_and_documented():
    source = (ROOT / "bot" / "config.py").read_text()
    readers = "env\\.get|integer|number|url|prefixed|boolean|switch|listed|group_id"
    read = set(re.findall(rf'(?:{readers})\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert read == set(config.VARIABLES)
    documentation = (ROOT / "docs" / "configuration.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in config.VARIABLES:
        assert f"`{name}`" in documentation, f"{name} missing from docs/configuration.md"
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} missing from .env.example"


# One reader of the environment per program: the bot's configuration, and the audit command's
# entry point (for its checkpoint key, which must never be in the bot's environment).
READERS = {ROOT / "bot" / "config.py", ROOT / "approvals" / "__main__.py"}


def test_only_config_reads_the_environment():
    for path in [
        *ROOT.glob("bot/**/*.py"),
        *ROOT.glob("approvals/**/*.py"),
        *ROOT.glob("infra/**/*.py"),
    ]:
        if path not in READERS:
            assert "os.environ" not in path.read_text() and "getenv" not in path.read_text(), path
    assert "AUDIT_CHECKPOINT_KEY" not in (ROOT / "bot" / "config.py").read_text()


def test_approvals_never_imports_bot():
    for path in ROOT.glob("approvals/**/*.py"):
        assert not re.search(r"^\s*(from|import) bot\b", path.read_text(), re.M), path


def test_oauth_client_credentials_are_refused_because_bolt_would_switch_modes():
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID, SLACK_CLIENT_SECRET: unset them"):
        load({**GOOD, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"}, env_file=None)


OAUTH = {
    **GOOD,
    "HR_API_URL": "https://hr.example.com/v1",
    "HR_AUTH": "oauth",
    "HR_OAUTH_ISSUER": "https://id.example.com",
    "HR_OAUTH_CLIENT_ID": "hr-bot",
    "HR_OAUTH_CLIENT_SECRET": "client-secret",
    "PUBLIC_URL": "https://hrbot.example.com/",
    "TOKEN_ENCRYPTION_KEYS": "x" * 43 + "=",
}


def test_per_user_hr_authority_parses_and_keeps_its_secrets_out_of_repr():
    c = load(OAUTH, env_file=None)
    assert c.per_user_hr and c.oauth_callback_url == "https://hrbot.example.com/oauth/callback"
    assert "client-secret" not in repr(c) and "x" * 43 not in repr(c)


def test_per_user_hr_authority_names_everything_it_lacks():
    env = {**GOOD, "HR_API_URL": "https://hr.example.com/v1", "HR_AUTH": "oauth"}
    with pytest.raises(ConfigError) as error:
        load(env, env_file=None)
    message = str(error.value)
    for name in (
        "HR_OAUTH_ISSUER",
        "HR_OAUTH_AUTHORIZE_URL",
        "HR_OAUTH_CLIENT_ID",
        "HR_OAUTH_CLIENT_SECRET",
        "PUBLIC_URL",
        "TOKEN_ENCRYPTION_KEYS",
    ):
        assert name in message
    assert "Fernet.generate_key" in message


def test_explicit_endpoints_stand_in_for_discovery():
    env = {k: v for k, v in OAUTH.items() if k != "HR_OAUTH_ISSUER"}
    env.update(
        HR_OAUTH_AUTHORIZE_URL="https://id.example.com/authorize",
        HR_OAUTH_TOKEN_URL="https://id.example.com/token",
        HR_OAUTH_USERINFO_URL="https://id.example.com/userinfo",
    )
    c = load(env, env_file=None)
    assert c.hr_oauth_issuer is None and c.hr_oauth_endpoints["revoke_url"] is None


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"HR_AUTH": "saml"}, "HR_AUTH: must be token or oauth"),
        ({"HR_API_TOKEN": "shared"}, "HR_API_TOKEN: unset it with HR_AUTH=oauth"),
        ({"TOKEN_ENCRYPTION_KEYS": "not-a-key"}, "key 1 of 1 is not a Fernet key"),
        ({"PUBLIC_URL": "hrbot.example.com"}, "PUBLIC_URL: must be an http(s) URL"),
    ],
)
def test_bad_per_user_settings_are_refused_with_a_clear_reason(change, complaint):
    with pytest.raises(ConfigError, match=re.escape(complaint)) as error:
        load({**OAUTH, **change}, env_file=None)
    assert "not-a-key" not in str(error.value)  # a key is never echoed


def test_oauth_settings_without_oauth_mode_are_refused():
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS: only used with HR_AUTH=oauth"):
        load({**GOOD, "TOKEN_ENCRYPTION_KEYS": "k"}, env_file=None)


def test_the_sandbox_is_its_own_authorization_server_by_default():
    c = load({**GOOD, "HR_AUTH": "oauth", "TOKEN_ENCRYPTION_KEYS": "x" * 43 + "="}, None)
    assert c.uses_sandbox and c.hr_oauth_issuer == config.SANDBOX_URL
    assert c.hr_oauth_client_id and c.hr_oauth_client_secret and c.hr_oauth_scopes == "hr"
    assert c.public_url == "http://127.0.0.1:3000"


def test_database_url_selects_postgresql_and_replaces_the_sqlite_file():
    url = "postgresql://hrbot:pw@db.internal:5432/hrbot"
    c = load({**GOOD, "DATABASE_URL": url}, env_file=None)
    assert c.database == url and "pw" not in repr(c)
    assert load(GOOD, env_file=None).database == "data/hrbot.sqlite3"


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"DATABASE_URL": "mysql://root:hunter2@db/hr"}, "DATABASE_URL: must be a PostgreSQL URL"),
        ({"DATABASE_URL": "postgresql:hunter2"}, "DATABASE_URL: must be a PostgreSQL URL"),
        (
            {"DATABASE_URL": "postgresql://u:hunter2@db/hr", "DATABASE_PATH": "x.db"},
            "DATABASE_PATH: unset it with DATABASE_URL",
        ),
        ({"LEASE_SECONDS": "1"}, "LEASE_SECONDS: must be a whole number from 6 to 3600"),
        ({"LEASE_SECONDS": "50", "SWEEP_INTERVAL_SECONDS": "30"}, "at least twice SWEEP_INTERVAL"),
        # A password with characters a URL reserves, not percent-encoded.
        ({"DATABASE_URL": "postgresql://hrbot:hu%zzhunter2@db/hr"}, "percent-encoded"),
        ({"DATABASE_URL": "postgresql://hrbot:hunter2/x#y@db:5432/hr"}, "percent-encoded"),
    ],
)
def test_bad_database_settings_are_refused_without_echoing_a_password(change, complaint):
    with pytest.raises(ConfigError, match=re.escape(complaint)) as error:
        load({**GOOD, **change}, env_file=None)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"ESCALATE_AFTER_SECONDS": "3600"}, "set both (after how long, and to whom) or neither"),
        ({"ESCALATION_GROUP": "S0ESCALATE"}, "set both (after how long, and to whom) or neither"),
        (
            {"ESCALATE_AFTER_SECONDS": "90000", "ESCALATION_GROUP": "S0ESCALATE"},
            "ESCALATE_AFTER_SECONDS: must be shorter than APPROVAL_TTL_SECONDS",
        ),
        ({"ESCALATE_AFTER_SECONDS": "3600", "ESCALATION_GROUP": "#hr"}, "not a Slack user group"),
    ],
)
def test_escalation_needs_a_delay_shorter_than_the_window_and_a_group(change, complaint):
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load({**GOOD, **change}, env_file=None)


def test_escalation_is_off_unless_configured():
    assert load(GOOD, env_file=None).escalate_after_seconds == 0
    c = load({**GOOD, "ESCALATE_AFTER_SECONDS": "3600", "ESCALATION_GROUP": "S0ESC"}, None)
    assert (c.escalate_after_seconds, c.escalation_group) == (3600, "S0ESC")


@pytest.mark.parametrize(
    ("raw", "temperature"), [(None, None), ("0", 0.0), ("0.2", 0.2), ("2", 2.0)]
)
def test_the_temperature_is_a_number_from_0_to_2_and_unset_by_default(raw, temperature):
    env = GOOD if raw is None else {**GOOD, "OPENAI_TEMPERATURE": raw}
    assert load(env, env_file=None).openai_temperature == temperature


@pytest.mark.parametrize("raw", ["hot", "2.5", "-1", "0,2", "1e0"])
def test_a_temperature_that_is_not_one_is_refused_and_named(raw):
    with pytest.raises(
        ConfigError,
        match=re.escape(f"OPENAI_TEMPERATURE: must be a number from 0 to 2, not {raw!r}"),
    ):
        load({**GOOD, "OPENAI_TEMPERATURE": raw}, env_file=None)


def test_metrics_and_traces_are_off_unless_asked_for():
    quiet = load(GOOD, env_file=None)
    assert (quiet.metrics, quiet.metrics_port, quiet.otlp_endpoint) == (False, None, None)
    assert load({**GOOD, "METRICS": "on"}, env_file=None).metrics
    own = load({**GOOD, "METRICS_PORT": "9100"}, env_file=None)
    assert own.metrics and own.metrics_port == 9100
    traced = load({**GOOD, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, env_file=None)
    assert traced.otlp_endpoint == "http://collector:4318" and not traced.trace_content
    with pytest.raises(ConfigError, match="METRICS: must be on or off"):
        load({**GOOD, "METRICS": "maybe"}, env_file=None)
