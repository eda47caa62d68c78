"""`python -m bot` (what `make run` starts)."""

from __future__ import annotations

import sys
import threading

from bot import config as configuration
from bot.config import ConfigError
from sandbox import HRSandbox


def main() -> int:
    try:
        config = configuration.load()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    sandbox = None
    if config.uses_sandbox:
        sandbox = HRSandbox("data/sandbox.sqlite3", port=8088).start()
        print(f"HR_API_URL is not set: serving the sandbox HR API at {sandbox.url}/api/users")
    missing = config.missing_for_slack()
    print(
        "This build has no Slack front end yet: the approvals engine, the HR tool and the "
        "agent loop are in place and covered by `make test`."
    )
    if missing:
        print("Before the Slack app can run it will also need: " + ", ".join(missing))
    if sandbox is None:
        return 0
    print("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
