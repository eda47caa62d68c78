"""The Slack Web API client: its base URL, token, timeout and retries."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import builtin_handlers as retry


def make_web_client(token: str | None, base_url: str) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[  # a 429 waits for Retry-After instead of losing the reply
            retry.ConnectionErrorRetryHandler(max_retry_count=2),
            retry.RateLimitErrorRetryHandler(max_retry_count=5),
        ],
    )
