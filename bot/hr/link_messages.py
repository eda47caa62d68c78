"""What a person sees of linking their HR account: the Connect button, the "connected" message
with its Disconnect button, App Home's part about it (Block Kit, pure functions), and the texts
of the callback pages."""

from __future__ import annotations

from typing import Any

CONNECT_ACTION_ID = "hr_connect"
DISCONNECT_ACTION_ID = "hr_disconnect"
CONNECT_FROM_HOME_ID = "home_connect"
ASKED_TO_CONNECT = "You asked to connect your HR account."


def home_blocks(connected: bool) -> list[dict[str, Any]]:
    """App Home's part about the person's HR account, with Connect or Disconnect."""
    if connected:
        text, button = "Your HR account is *connected*.", ("Disconnect", DISCONNECT_ACTION_ID)
    else:
        text = "Your HR account is *not connected*: I act in the HR system as you, once it is."
        button = ("Connect your HR account", CONNECT_FROM_HOME_ID)
    action = {
        "type": "button",
        "action_id": button[1],
        "text": {"type": "plain_text", "text": button[0]},
        "value": "home",
    }
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Your HR account"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text}, "accessory": action},
    ]


def connect_blocks(why: str, url: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{why} I act in the HR system as you, with your own HR account: "
                "connect it once. The button works once, for 10 minutes, and only for you.",
            },
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": CONNECT_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Connect your HR account"},
                    "url": url,
                    "style": "primary",
                }
            ],
        },
    ]


def connected_blocks(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": DISCONNECT_ACTION_ID,
                    "text": {"type": "plain_text", "text": "Disconnect"},
                    "value": "disconnect",
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Disconnect your HR account?"},
                        "text": {
                            "type": "plain_text",
                            "text": "I will stop acting as you until you connect again. Your "
                            "requests still waiting for approval will then fail.",
                        },
                        "confirm": {"type": "plain_text", "text": "Disconnect"},
                        "deny": {"type": "plain_text", "text": "Keep it"},
                    },
                }
            ],
        },
    ]


UNKNOWN = "This link was not started by the HR bot, or it is too old. Ask the bot again in Slack."
EXPIRED = (
    "This link was started more than 10 minutes ago. Ask the bot again in Slack for a new one."
)
USED = "This link has already been used. Each link works once; ask the bot again for a new one."
DECLINED = "You did not allow access, so nothing was connected. You can close this tab."
BROKEN_ANSWER = "The HR sign-in did not say who you are, so nothing was connected."
PROVIDER = (
    "The HR system could not confirm your sign-in just now; nothing was connected. Try again."
)
NOT_MEMBER = "Only active members of this workspace can connect an HR account."
MISMATCH = (
    "The HR account you signed in with does not belong to the Slack user who asked for this "
    "link, so nothing was connected. Each person connects their own HR account from their own "
    "Slack account."
)
FORWARDED_DM = (
    "Someone completed your HR connection link with an HR account that is not yours (its email "
    "differs from your Slack profile's), so nothing was connected. If that was you, sign in with "
    "your own HR account."
)
CONNECTED = "Your HR account is connected. You can close this tab and go back to Slack."
