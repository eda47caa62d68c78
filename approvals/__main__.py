"""`python -m approvals audit`: print, verify and export the audit trail; `checkpoint`: sign it."""

from __future__ import annotations

import argparse
import calendar
import csv
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import sqlite_utils

from approvals import audit, checkpoints, stats
from infra.db import DatabaseUnavailable, Reader, is_postgres_url

FIELDS = ["id", "at", "action_id", "event", "actor", "detail", "hash"]


DB_HELP = "the bot's DATABASE_URL or DATABASE_PATH (default: read from them, as the bot does)"


def bot_database() -> str:
    """Where the bot's data is, by its own settings: PostgreSQL's URL first."""
    return os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_PATH") or "data/hrbot.sqlite3"


def _day(text: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%d")))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from e


def open_read_only(path: str) -> Reader:
    """The bot's database, read-only: a SQLite file or a PostgreSQL URL."""
    if is_postgres_url(path):
        from infra.postgres import PostgresDatabase

        try:
            return PostgresDatabase(path, read_only=True)
        except DatabaseUnavailable as e:
            raise SystemExit(str(e)) from None
    if not Path(path).is_file():
        raise SystemExit(f"no database at {path} (pass --db, the bot's DATABASE_PATH or URL)")
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return sqlite_utils.Database(conn, execute_plugins=False)


def _statement(text: str) -> str:
    if not text.startswith("@"):
        return text.strip()
    try:
        return Path(text[1:]).read_text().strip()
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot read a checkpoint from {text[1:]}: {e}") from e


def checkpoint_keys() -> tuple[str, ...]:
    # The approvals CLI's one setting, read here and not by bot/config.py: the bot never
    # needs the key, and keeping it out of the bot's environment is the point.
    return checkpoints.keys_from(os.environ.get(checkpoints.KEY_VARIABLE))


def main(argv: list[str] | None = None, prog: str = "python -m approvals") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("audit", help="print, verify or export the audit trail")
    report.add_argument("--db", help=DB_HELP)
    report.add_argument("--format", choices=["table", "jsonl", "csv"], default="table")
    report.add_argument("--since", type=_day, help="first day included (UTC), YYYY-MM-DD")
    report.add_argument("--until", type=_day, help="first day excluded (UTC), YYYY-MM-DD")
    report.add_argument("--verify", action="store_true", help="verify without printing the rows")
    report.add_argument(
        "--checkpoint",
        type=_statement,
        metavar="STATEMENT",
        help="also check the trail against a signed checkpoint (its text, or @file)",
    )
    sign = commands.add_parser(
        "checkpoint",
        help=f"print a checkpoint of the audit trail signed with {checkpoints.KEY_VARIABLE}",
    )
    sign.add_argument("--db", help=DB_HELP)
    figures = commands.add_parser(
        "stats", help="outcomes, time to decision, expiries and each approver's load"
    )
    figures.add_argument("--db", help=DB_HELP)
    figures.add_argument("--since", type=_day, help="requests from this day (UTC), YYYY-MM-DD")
    figures.add_argument("--until", type=_day, help="requests before this day (UTC), YYYY-MM-DD")
    figures.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    args.db = args.db or bot_database()
    if args.command == "checkpoint":
        return take_checkpoint(args.db)
    if args.command == "stats":
        summary = stats.compute(open_read_only(args.db), args.since, args.until)
        if args.format == "json":
            print(json.dumps(summary.as_dict(), indent=2))
        else:
            print("\n".join(stats.report(summary)))
        return 0
    return report_audit(args)


def take_checkpoint(path: str) -> int:
    try:
        keys = checkpoint_keys()
        print(checkpoints.take(open_read_only(path), keys))
    except checkpoints.CheckpointError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def report_audit(args: argparse.Namespace) -> int:
    db = open_read_only(args.db)
    checkpoint = None
    if args.checkpoint is not None:
        # A forged statement is refused before anything is printed that could look like a pass.
        try:
            checkpoint = checkpoints.read(args.checkpoint, checkpoint_keys())
        except checkpoints.CheckpointError as e:
            print(f"checkpoint refused: {e}", file=sys.stderr)
            return 1
    broken = audit.first_broken_row(db)
    if not args.verify:
        print_rows(audit.rows_between(db, args.since, args.until), args.format)
    total = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    failed = broken is not None
    if failed:
        print(
            f"audit chain BROKEN at row {broken} (of {total}): it or a row before it was altered",
            file=sys.stderr,
        )
    else:
        print(f"audit chain verified: {total} rows", file=sys.stderr)
    if checkpoint is not None:
        try:
            checkpoints.check(db, checkpoint)
        except checkpoints.Mismatch as e:
            print(e, file=sys.stderr)
            return 1
        # An unchanged head row vouches for the rows before it only while the chain holds.
        if not failed:
            print(
                f"consistent with the checkpoint of {checkpoint.at}: "
                f"the {checkpoint.rows} rows it saw are all there, unchanged",
                file=sys.stderr,
            )
    return 1 if failed else 0


def print_rows(rows: list[dict], fmt: str) -> None:
    if fmt == "jsonl":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif fmt == "csv":
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


if __name__ == "__main__":
    sys.exit(main())
