"""`python -m sandbox`: serve the sandbox HR API until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sandbox.hr_api import HRSandbox


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
    args = parser.parse_args(argv)
    try:
        sandbox = HRSandbox(args.db, host=args.host, port=args.port, token=args.token)
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
        # The parent holds our stdin open; when it closes (the parent stopped or died), stop.
        threading.Thread(target=lambda: (sys.stdin.read(), sandbox.stop()), daemon=True).start()
        print("ready", flush=True)
    else:
        print(f"Sandbox HR API on {sandbox.url}/api/users (records in {args.db}); Ctrl-C stops it.")
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
