"""`python -m sandbox`: serve the sandbox HR API until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys

from sandbox.hr_api import HRSandbox
from sandbox.hr_oauth import SANDBOX_PASSWORD, WELL_KNOWN_PATH, OAuthSettings
from sandbox.hr_oauth_grants import USERS
from sandbox.serving import stop_with_parent

# Flag → OAuthSettings field; the first three are required with --oauth.
OAUTH_FLAGS = {
    "--client-id": "client_id",
    "--client-secret": "client_secret",
    "--redirect-uri": "redirect_uris",
    "--access-token-seconds": "access_token_seconds",
    "--password": "password",
    "--issuer": "issuer",
}


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--db", default="data/sandbox.sqlite3", help="SQLite file for the records")
    parser.add_argument("--token", help="require this bearer token on every request")
    parser.add_argument(
        "--child",
        action="store_true",
        help="run under another process: print 'ready' once serving, log no requests, and "
        "stop when standard input closes",
    )
    oauth = parser.add_argument_group(
        "OAuth 2.0", "make the sandbox an authorization server whose access tokens the API requires"
    )
    oauth.add_argument("--oauth", action="store_true", help="turn the authorization server on")
    oauth.add_argument("--client-id", help="the one registered client's id")
    oauth.add_argument("--client-secret", help="its secret (client_secret_basic or _post)")
    oauth.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the secret from the first line of standard input (kept out of process lists)",
    )
    oauth.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="append",
        metavar="URL",
        help="its redirect URI, matched exactly (repeatable)",
    )
    oauth.add_argument("--access-token-seconds", type=int, metavar="N", help="default 3600")
    oauth.add_argument(
        "--password", help=f"every sandbox user's password (default {SANDBOX_PASSWORD})"
    )
    oauth.add_argument("--issuer", metavar="URL", help="issuer URL (default http://HOST:PORT)")
    args = parser.parse_args(argv)
    if args.client_secret_stdin:
        if args.client_secret is not None:
            parser.error("--client-secret and --client-secret-stdin exclude each other")
        args.client_secret = sys.stdin.readline().strip() or None
    settings = _oauth_settings(parser, args)
    try:
        sandbox = HRSandbox(
            args.db, host=args.host, port=args.port, token=args.token, oauth=settings
        )
    except ValueError as e:
        print(f"Cannot start the sandbox authorization server: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(
            f"Cannot start the sandbox HR API on port {args.port} ({e.strerror or e}). Stop what "
            "uses the port, or set HR_API_URL to your HR API.",
            file=sys.stderr,
        )
        return 2
    sandbox.set_verbose(not args.child)
    signal.signal(signal.SIGTERM, _stop)
    sandbox.start()
    if args.child:
        stop_with_parent(sandbox.stop)
        print("ready", flush=True)
    else:
        print(f"Sandbox HR API on {sandbox.url}/api/users (records in {args.db}); Ctrl-C stops it.")
        if settings:
            password = SANDBOX_PASSWORD if args.password is None else "the one given"
            print(
                f"OAuth 2.0 on: {sandbox.oauth.issuer}{WELL_KNOWN_PATH}. Sign in as "
                + ", ".join(f"{user.email} ({user.role})" for user in USERS)
                + f"; password: {password}."
            )
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def _oauth_settings(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> OAuthSettings | None:
    given = {
        flag: value
        for flag, field in OAUTH_FLAGS.items()
        if (value := getattr(args, field)) is not None
    }
    if not args.oauth:
        if given:
            parser.error(f"{', '.join(given)}: only with --oauth")
        return None
    missing = [flag for flag in list(OAUTH_FLAGS)[:3] if flag not in given]
    if missing:
        parser.error(f"--oauth needs {', '.join(missing)}")
    if args.token:
        parser.error("--token and --oauth exclude each other")
    try:
        return OAuthSettings(**{OAUTH_FLAGS[flag]: value for flag, value in given.items()})
    except ValueError as e:
        parser.error(str(e))


if __name__ == "__main__":
    sys.exit(main())
