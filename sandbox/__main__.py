"""`python -m sandbox`: serve the sandbox HR API until interrupted."""

from __future__ import annotations

import argparse

from sandbox.hr_api import HRSandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--db", default="data/sandbox.sqlite3", help="SQLite file for the records")
    parser.add_argument("--token", help="require this bearer token on every request")
    args = parser.parse_args(argv)
    sandbox = HRSandbox(args.db, host=args.host, port=args.port, token=args.token)
    sandbox.set_verbose(True)
    sandbox.start()
    print(f"Sandbox HR API on {sandbox.url}/api/users (records in {args.db}); Ctrl-C stops it.")
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
