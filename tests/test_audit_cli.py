from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from approvals.__main__ import main
from tests.test_store import new_action


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def trail(actions):
    first = new_action(actions)
    actions.approve(first.id, "U0BOB")
    second = new_action(actions)
    actions.reject(second.id, "U0CAROL", "no")
    return actions.database.path


def test_prints_the_trail_and_verifies_the_chain(capsys, trail):
    code, out, err = run(capsys, "--db", trail)
    assert code == 0 and "audit chain verified: 4 rows" in err
    assert [line.split()[3] for line in out.splitlines()] == [
        "requested",
        "approved",
        "requested",
        "rejected",
    ]


def test_exports_json_lines_and_csv(capsys, trail):
    _, out, _ = run(capsys, "--db", trail, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[1]["event"] == "approved" and rows[1]["actor"] == "U0BOB"
    _, out, _ = run(capsys, "--db", trail, "--format", "csv")
    assert list(csv.DictReader(io.StringIO(out)))[3]["event"] == "rejected"


def test_a_date_range_selects_rows(capsys, trail):
    _, out, _ = run(capsys, "--db", trail, "--format", "jsonl", "--until", "2000-01-01")
    assert out == ""
    _, out, _ = run(capsys, "--db", trail, "--format", "jsonl", "--since", "2000-01-01")
    assert len(out.splitlines()) == 4


def test_reports_the_first_broken_row(capsys, trail, actions):
    conn = actions.database.db.conn
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'U0EVE' WHERE id = 2")
    code, _, err = run(capsys, "--db", trail, "--verify")
    assert code == 1 and "BROKEN at row 2" in err


def test_runs_as_a_module(trail):
    done = subprocess.run(
        [sys.executable, "-m", "approvals", "audit", "--db", trail, "--verify"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "verified: 4 rows" in done.stderr
