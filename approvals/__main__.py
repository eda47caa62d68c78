"""`python -m approvals audit`: print, verify and export the audit trail."""

from __future__ import annotations

import argparse
import calendar
import csv
import json
import sqlite3
import sys
import time
from pathlib import Path

import sqlite_utils

from approvals import audit

FIELDS = ["id", "at", "action_id", "event", "actor", "detail", "hash"]


def _day(text: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%d")))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from e


def open_read_only(path: str) -> sqlite_utils.Database:
    if not Path(path).is_file():
        raise SystemExit(f"no database at {path} (pass --db, the bot's DATABASE_PATH)")
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return sqlite_utils.Database(conn, execute_plugins=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m approvals", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("audit", help="print, verify or export the audit trail")
    report.add_argument("--db", default="data/hrbot.sqlite3", help="the bot's DATABASE_PATH")
    report.add_argument("--format", choices=["table", "jsonl", "csv"], default="table")
    report.add_argument("--since", type=_day, help="first day included (UTC), YYYY-MM-DD")
    report.add_argument("--until", type=_day, help="first day excluded (UTC), YYYY-MM-DD")
    report.add_argument("--verify", action="store_true", help="only verify the hash chain")
    args = parser.parse_args(argv)

    db = open_read_only(args.db)
    broken = audit.first_broken_row(db)
    if not args.verify:
        rows = audit.rows_between(db, args.since, args.until)
        if args.format == "jsonl":
            for row in rows:
                print(json.dumps(row, ensure_ascii=False))
        elif args.format == "csv":
            writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                action = f"#{row['action_id']}" if row["action_id"] is not None else "-"
                actor = row["actor"] or "-"
                print(
                    f"{row['id']:>6}  {row['at']}  {action:>6}  {row['event']:<18} "
                    f"{actor:<12} {row['detail']}"
                )
    total = db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    if broken is not None:
        print(
            f"audit chain BROKEN at row {broken} (of {total}): it or a row before it was altered",
            file=sys.stderr,
        )
        return 1
    print(f"audit chain verified: {total} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
