"""`python -m bot` (what `make run` starts): the Slack app, over HTTP or Socket Mode.
`python -m bot rotate-keys`: re-encrypt the stored HR tokens under TOKEN_ENCRYPTION_KEYS' first."""

from __future__ import annotations

import signal
import socket
import sys
import threading
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import structlog
from slack_sdk.errors import SlackApiError

from bot import app, local_workspace
from bot import config as configuration
from bot.children import Child, ChildFailed, start_hris_sandbox, start_sandbox, start_workspace
from bot.config import SANDBOX_URL, Config, ConfigError
from bot.hr.accounts import rotate_stored_tokens
from bot.hr.oauth import ProviderError
from bot.settings import HRIS_SANDBOX_KEY as SANDBOX_KEY
from bot.slack.server import HttpServer, socket_mode_handler, wsgi_application
from bot.tools.catalogue import CatalogueError
from infra import logs, metrics, tracing
from infra.db import DatabaseUnavailable

log = structlog.get_logger("bot")
SANDBOX_PORT = urlsplit(SANDBOX_URL).port or 8088


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a deploy's SIGTERM stops as cleanly as Ctrl-C


USAGE = "usage: python -m bot [rotate-keys]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["catalogue"]:  # the operator's catalogue commands, as hr-approval-bot has them
        from bot.cli import main as cli_main

        return cli_main(args)
    if args not in ([], ["rotate-keys"]):
        print(USAGE, file=sys.stderr)
        return 2
    config = None
    try:
        config = configuration.load()
        if args:
            return rotate_keys(config)
        if local_workspace.wanted(config):
            config = local_workspace.prepare(config)
        config.require_slack()
    except ConfigError as e:
        why = local_workspace.not_here(config) if config is not None else None
        print(f"{why}\n{e}" if why else e, file=sys.stderr)
        return 2
    logs.configure(config.log_format)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Closed in reverse: serving stops, then the bot finishes its work, then the sandbox goes
    # (and last, the spans still buffered are sent).
    with ExitStack() as running:
        if config.otlp_endpoint:
            provider = tracing.configure(config.otlp_endpoint, content=config.trace_content)
            running.callback(provider.shutdown)
        try:
            return serve(config, running)
        except KeyboardInterrupt:
            return 0


def rotate_keys(config: Config) -> int:
    if not config.token_encryption_keys:
        print("TOKEN_ENCRYPTION_KEYS is not set: there is nothing to rotate.", file=sys.stderr)
        return 2
    count = rotate_stored_tokens(config.database, config.token_encryption_keys)
    print(
        f"Re-encrypted {count} stored HR token(s) under the first key of TOKEN_ENCRYPTION_KEYS. "
        "Keep the older keys for 10 more minutes (links being made), then remove them."
    )
    return 0


def sandbox_port(config: Config) -> int:
    """SANDBOX_PORT when set (it must be free); else 8088, or any free port when that is
    taken (another `make run`, say), so the local workspace always starts."""
    wanted = config.sandbox_port or SANDBOX_PORT
    if port_free(wanted):
        return wanted
    if config.sandbox_port is not None:
        raise ChildFailed(
            f"Cannot start the sandbox HR API: SANDBOX_PORT {wanted} is taken. Choose another "
            "port, or unset SANDBOX_PORT to let it take a free one."
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    print(f"Port {wanted} is taken, so the sandbox HR API uses port {port} instead.")
    return port


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_local_hr(config: Config) -> tuple[Child, Config]:
    """The sandbox HR API, and the configuration pointed at it (the port it took): the HRIS
    sandbox with its own key when HR_CATALOGUE names its preset."""
    oauth = (config.hr_oauth_client_id or "", config.hr_oauth_client_secret or "")
    port = sandbox_port(config)
    url = f"http://127.0.0.1:{port}"
    if config.sandbox_hris:
        name = config.sandbox_hris
        child = start_hris_sandbox(name, port, f"data/hris-{name}.sqlite3")
        config = replace(config, hr_api_url=url, hr_api_token=config.hr_api_token or SANDBOX_KEY)
        print(f"HR_API_URL is not set: using the {name} sandbox HR system at {url}/v2/persons")
        return child, config
    child = start_sandbox(
        port,
        "data/sandbox.sqlite3",
        oauth_client=oauth if config.per_user_hr else None,
        redirect_uri=config.oauth_callback_url,
    )
    issuer = url if config.hr_oauth_issuer == SANDBOX_URL else config.hr_oauth_issuer
    config = replace(config, hr_api_url=url, hr_oauth_issuer=issuer)
    print(f"HR_API_URL is not set: using the sandbox HR API at {url}/api/users")
    if config.per_user_hr:
        print(
            "HR_AUTH=oauth: the sandbox is the HR identity provider. Sign in as "
            f"NAME@hr.example (password {SANDBOX_PASSWORD}), the same person as in Slack."
        )
    return child, config


def serve(config: Config, running: ExitStack) -> int:
    try:
        if config.uses_sandbox:
            sandbox, config = start_local_hr(config)
            running.callback(sandbox.stop)
        if config.local_workspace:
            workspace = start_workspace(
                config.port,
                f"http://127.0.0.1:{config.http_port}/slack/events",
                config.slack_bot_token or "",
                config.slack_signing_secret or "",
                state=str(Path(config.database_path).with_suffix(".workspace.json")),
            )
            running.callback(workspace.stop)
            print(local_workspace.describe(config))
    except ChildFailed as e:
        print(e, file=sys.stderr)
        return 2
    try:
        bot = app.build(config)
    except SlackApiError as e:
        print(f"Slack refused the bot token ({e.response.get('error')}).", file=sys.stderr)
        return 2
    except OSError as e:  # urllib's URLError is an OSError: DNS, refused, TLS
        print(f"Could not reach Slack at {config.slack_api_url}: {e}", file=sys.stderr)
        return 2
    except ProviderError as e:
        print(f"Cannot use the HR authorization server: {e}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as e:
        print(e, file=sys.stderr)
        return 2
    except CatalogueError as e:  # every problem, a line each
        for problem in e.problems:
            print(f"HR_CATALOGUE: {problem}", file=sys.stderr)
        return 2
    running.callback(bot.close)
    if config.openai_warm_up and config.model_configured:
        threading.Thread(
            target=bot.core.agent.completions.warm_up, name="warm-up", daemon=True
        ).start()
    resumed = bot.start()
    log.info("bot.started", team=bot.team_id, bot_user=bot.bot_user_id, resumed=resumed)
    if config.per_user_hr:
        print(f"HR sign-ins come back to {config.oauth_callback_url}")
    if config.metrics_port is not None:  # a listener of its own, off the port Slack reaches
        scrape = HttpServer(
            wsgi_application(None, {"/metrics": metrics.application}),
            host="127.0.0.1" if config.local_workspace else "0.0.0.0",
            port=config.metrics_port,
            threads=2,
        )
        running.callback(scrape.stop)
        scrape.start()
        print(f"Metrics on port {scrape.port}: /metrics")
    if config.socket_mode:
        # Slack comes over the socket; probes, the metrics and people's browsers (the HR
        # sign-in's return) still come over HTTP.
        served = HttpServer(wsgi_application(None, bot.routes), host="0.0.0.0", port=config.port)
        running.callback(served.stop)
        served.start()
        handler = socket_mode_handler(bot.bolt, config.slack_app_token)
        running.callback(handler.close)  # no more events before the bot closes
        print("Connecting to Slack in Socket Mode.")
        handler.start()
    else:
        # The local workspace reaches the bot on loopback only; Slack needs every interface.
        host = "127.0.0.1" if config.local_workspace else "0.0.0.0"
        try:
            server = HttpServer(
                wsgi_application(bot.bolt, bot.routes), host=host, port=config.http_port
            )
        except OSError as e:
            print(
                f"Cannot listen on port {config.http_port} ({e.strerror or e}): stop what uses "
                "it, or set PORT to another port.",
                file=sys.stderr,
            )
            return 2
        print(f"Listening for Slack on http://{host}:{server.port}/slack/events")
        if config.local_workspace:
            print(f"Ready: open http://127.0.0.1:{config.port}/", flush=True)
        server.serve_forever()
    return 0


SANDBOX_PASSWORD = "sandbox"  # the sandbox's documented default (python -m sandbox --help)

if __name__ == "__main__":
    sys.exit(main())
