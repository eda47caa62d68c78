"""The Slack Web API client: its base URL, token, timeout and retries."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import builtin_handlers as retry

from bot.settings import Config


def make_web_client(config: Config) -> WebClient:
    return WebClient(
        token=config.slack_bot_token,
        base_url=config.slack_api_url,
        timeout=10,
        retry_handlers=[  # a 429 waits for Retry-After instead of losing the reply
            retry.ConnectionErrorRetryHandler(max_retry_count=2),
            retry.RateLimitErrorRetryHandler(max_retry_count=5),
        ],
    )
