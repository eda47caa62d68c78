"""`python -m bot` (what `make run` starts): the Slack app, over HTTP or Socket Mode."""

from __future__ import annotations

import signal
import sys
from contextlib import ExitStack
from urllib.parse import urlsplit

import structlog
from slack_sdk.errors import SlackApiError

from bot import app, logs
from bot import config as configuration
from bot.children import ChildFailed, start_sandbox
from bot.config import SANDBOX_URL, Config, ConfigError
from bot.server import HttpServer, socket_mode_handler, wsgi_application

log = structlog.get_logger("bot")
SANDBOX_PORT = urlsplit(SANDBOX_URL).port or 8088


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a deploy's SIGTERM stops as cleanly as Ctrl-C


def main() -> int:
    try:
        config = configuration.load()
        config.require_slack()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    logs.configure(config.log_format)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Closed in reverse: serving stops, then the bot finishes its work, then the sandbox goes.
    with ExitStack() as running:
        try:
            return serve(config, running)
        except KeyboardInterrupt:
            return 0


def serve(config: Config, running: ExitStack) -> int:
    if config.uses_sandbox:
        try:
            running.callback(start_sandbox(SANDBOX_PORT, "data/sandbox.sqlite3").stop)
        except ChildFailed as e:
            print(e, file=sys.stderr)
            return 2
        print(f"HR_API_URL is not set: using the sandbox HR API at {SANDBOX_URL}/api/users")
    try:
        bot = app.build(config)
    except SlackApiError as e:
        print(f"Slack refused the bot token ({e.response.get('error')}).", file=sys.stderr)
        return 2
    except OSError as e:  # urllib's URLError is an OSError: DNS, refused, TLS
        print(f"Could not reach Slack at {config.slack_api_url}: {e}", file=sys.stderr)
        return 2
    running.callback(bot.close)
    resumed = bot.start()
    log.info("bot.started", team=bot.team_id, bot_user=bot.bot_user_id, resumed=resumed)
    if config.socket_mode:
        handler = socket_mode_handler(bot.bolt, config.slack_app_token)
        running.callback(handler.close)  # no more events before the bot closes
        print("Connecting to Slack in Socket Mode.")
        handler.start()
    else:
        server = HttpServer(wsgi_application(bot.bolt), host="0.0.0.0", port=config.port)
        print(f"Listening for Slack on http://0.0.0.0:{server.port}/slack/events")
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
