"""`python -m bot` (what `make run` starts): the Slack app, over HTTP or Socket Mode."""

from __future__ import annotations

import sys

import structlog
from slack_sdk.errors import SlackApiError

from bot import config as configuration
from bot import logs
from bot.config import ConfigError
from bot.runtime import build_runtime
from bot.server import HttpServer, socket_mode_handler
from bot.slack_app import SlackBot, make_web_client
from sandbox import HRSandbox

log = structlog.get_logger("bot")


def main() -> int:
    try:
        config = configuration.load()
        config.require_slack()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    logs.configure(config.log_format)
    sandbox = None
    if config.uses_sandbox:
        try:
            sandbox = HRSandbox("data/sandbox.sqlite3", port=8088).start()
        except OSError as e:
            print(
                f"Cannot start the sandbox HR API on port 8088 ({e}). Stop what uses the port, "
                "or set HR_API_URL to your HR API.",
                file=sys.stderr,
            )
            return 2
        print(f"HR_API_URL is not set: using the sandbox HR API at {sandbox.url}/api/users")
    runtime = build_runtime(config)
    try:
        bot = SlackBot(runtime, make_web_client(config))
    except SlackApiError as e:
        print(f"Slack refused the bot token ({e.response.get('error')}).", file=sys.stderr)
        return 2
    except OSError as e:  # urllib's URLError is an OSError: DNS, refused, TLS
        print(f"Could not reach Slack at {config.slack_api_url}: {e}", file=sys.stderr)
        return 2
    resumed = bot.resume()
    bot.start_housekeeping()
    log.info("bot.started", team=bot.team_id, bot_user=bot.bot_user_id, resumed=resumed)
    try:
        if config.socket_mode:
            print("Connecting to Slack in Socket Mode.")
            socket_mode_handler(bot.app, config.slack_app_token).start()
        else:
            server = HttpServer(bot.app, host="0.0.0.0", port=config.port)
            print(f"Listening for Slack on http://0.0.0.0:{server.port}/slack/events")
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        bot.close()
        runtime.close()
        if sandbox is not None:
            sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
