import json
from pathlib import Path

from bot.server import EVENTS_PATH

MANIFEST = json.loads((Path(__file__).resolve().parent.parent / "manifest.json").read_text())


def test_the_manifest_asks_for_what_the_bot_uses():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "im:history",
        "im:read",
        "im:write",
        "reactions:write",
        "users:read",
        "users:read.email",  # REQUESTER_EMAIL_DOMAINS
    } <= scopes
    events = MANIFEST["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == {"app_home_opened", "app_mention", "message.im"}
    assert MANIFEST["features"]["app_home"]["messages_tab_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True  # App Home


def test_events_and_interactivity_go_to_the_path_the_server_serves():
    settings = MANIFEST["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    for url in (
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.endswith(EVENTS_PATH)
