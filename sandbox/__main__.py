"""`python -m sandbox`: serve the sandbox HR API until interrupted; `--hris NAME` serves one shaped
like a real HRIS's public API instead (docs/hris-sandbox.md)."""

from __future__ import annotations

import argparse
import signal
import sys

from sandbox.hr_api import HRSandbox
from sandbox.hr_oauth import SANDBOX_PASSWORD, WELL_KNOWN_PATH, OAuthSettings
from sandbox.hr_oauth_grants import USERS
from sandbox.hris import SANDBOX_API_KEY, VENDORS, HRISSandbox
from sandbox.hris.openapi import build, render
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
    parser.add_argument(
        "--db",
        help="SQLite file for the records (default data/sandbox.sqlite3; with --hris, "
        "data/hris-NAME.sqlite3)",
    )
    parser.add_argument(
        "--token",
        help=f"require this bearer token on every request (with --hris: its API key, default "
        f"{SANDBOX_API_KEY})",
    )
    parser.add_argument(
        "--child",
        action="store_true",
        help="run under another process: print 'ready' once serving, log no requests, and "
        "stop when standard input closes",
    )
    hris = parser.add_argument_group(
        "An HRIS's shape", "serve an HR API shaped like a real HRIS's public API instead"
    )
    hris.add_argument(
        "--hris", choices=VENDORS, metavar="NAME", help=f"which HRIS: {', '.join(VENDORS)}"
    )
    hris.add_argument("--openapi", action="store_true", help="print its OpenAPI document and exit")
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
    if args.hris or args.openapi:
        return _run_hris(parser, args)
    if args.client_secret_stdin:
        if args.client_secret is not None:
            parser.error("--client-secret and --client-secret-stdin exclude each other")
        args.client_secret = sys.stdin.readline().strip() or None
    settings = _oauth_settings(parser, args)
    database = args.db or "data/sandbox.sqlite3"
    try:
        sandbox = HRSandbox(
            database, host=args.host, port=args.port, token=args.token, oauth=settings
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
    said = [f"Sandbox HR API on {sandbox.url}/api/users (records in {database}); Ctrl-C stops it."]
    if settings:
        password = SANDBOX_PASSWORD if args.password is None else "the one given"
        said.append(
            f"OAuth 2.0 on: {sandbox.oauth.issuer}{WELL_KNOWN_PATH}. Sign in as "
            + ", ".join(f"{user.email} ({user.role})" for user in USERS)
            + f"; password: {password}."
        )
    return _serve(sandbox, args.child, said)


def _run_hris(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if not args.hris:
        parser.error("--openapi: only with --hris")
    given = [flag for flag, field in OAUTH_FLAGS.items() if getattr(args, field) is not None]
    if args.oauth or args.client_secret_stdin or given:
        parser.error("--hris serves its own API key, not OAuth: leave out the OAuth flags")
    database = args.db or f"data/hris-{args.hris}.sqlite3"
    if args.openapi:
        print(render(build()), end="")
        return 0
    api_key = args.token or SANDBOX_API_KEY
    try:
        sandbox = HRISSandbox(database, host=args.host, port=args.port, api_key=api_key)
    except OSError as e:
        print(
            f"Cannot start the {args.hris} sandbox on port {args.port} ({e.strerror or e}). Stop "
            "what uses the port, or give another with --port.",
            file=sys.stderr,
        )
        return 2
    key = "the one given" if args.token else api_key
    said = [
        f"Sandbox HRIS shaped like {args.hris} on {sandbox.url}/v2/persons (records in "
        f"{database}); Ctrl-C stops it.",
        f"API key: {key}, as 'Authorization: Bearer KEY'. OpenAPI: {sandbox.url}/openapi.json",
    ]
    return _serve(sandbox, args.child, said)


def _serve(sandbox: HRSandbox | HRISSandbox, child: bool, said: list[str]) -> int:
    """Serve until interrupted; as a child, say `ready` and stop with the parent."""
    sandbox.set_verbose(not child)
    signal.signal(signal.SIGTERM, _stop)
    sandbox.start()
    if child:
        stop_with_parent(sandbox.stop)
        print("ready", flush=True)
    else:
        print("\n".join(said))
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
