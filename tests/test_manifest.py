"""manifest.json asks Slack for what the bot uses, each scope and setting for a feature whose
code is there: an app made from it has every feature the docs describe."""

import json
from pathlib import Path

import pytest

from bot.slack.server import EVENTS_PATH

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((ROOT / "manifest.json").read_text())
SCOPES = set(MANIFEST["oauth_config"]["scopes"]["bot"])
EVENTS = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])


@pytest.mark.parametrize(
    ("scope", "module", "call"),
    [
        (
            "assistant:write",
            "bot/slack/status.py",
            ".assistant_threads_setStatus(",
        ),  # thinking
        ("usergroups:read", "infra/roster.py", ".usergroups_users_list("),  # *_GROUP settings
        (
            "reactions:write",
            "bot/conversation/replies.py",
            "client.reactions_add",
        ),  # :eyes:
        (
            "im:write",
            "approvals/slack/announce.py",
            '"conversations_open"',
        ),  # DM cards
        ("chat:write", "approvals/slack/announce.py", '"chat_postEphemeral"'),  # private refusals
        ("users:read", "infra/people.py", ".users_info("),  # who someone is
    ],
)
def test_each_web_api_call_the_bot_makes_has_its_scope(scope, module, call):
    assert call in (ROOT / module).read_text()  # the feature is there…
    assert scope in SCOPES  # …and Slack lets it work


def test_the_manifest_asks_for_the_events_and_the_scopes_to_hear_people():
    assert {"app_home_opened", "app_mention", "message.im"} == EVENTS
    assert {"app_mentions:read", "im:history", "im:read"} <= SCOPES
    assert "users:read.email" in SCOPES  # REQUESTER_EMAIL_DOMAINS, "not about yourself"
    assert MANIFEST["features"]["app_home"]["messages_tab_enabled"] is True


def test_app_home_is_enabled_and_its_opening_is_heard():
    assert '@app.event("app_home_opened")' in (ROOT / "approvals" / "slack" / "home.py").read_text()
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in EVENTS


def test_direct_messages_are_slacks_agent_view_where_the_thinking_status_shows():
    # Slack's surface for agents (agent_view, which replaced assistant_view): the thinking
    # status (assistant.threads.setStatus) shows there, with the assistant:write scope.
    assert "assistant_view" not in MANIFEST["features"]
    view = MANIFEST["features"]["agent_view"]
    assert view["agent_description"].strip()
    prompts = view["suggested_prompts"]
    assert prompts and all(p["title"].strip() and p["message"].strip() for p in prompts)
    assert "assistant:write" in SCOPES


def test_events_and_interactivity_go_to_the_path_the_server_serves():
    settings = MANIFEST["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    for url in (
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.endswith(EVENTS_PATH)
