from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from approvals import audit
from approvals.__main__ import main
from tests.fakes import drop_audit_guards

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py): --db takes either.
BOTH_ENGINES = True
KEY = "checkpoint-key-one-0123456789abcdef"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def trail(four_audit_rows, database_location):
    return database_location


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
    drop_audit_guards(actions.database)
    conn = actions.database
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


@pytest.fixture
def key(monkeypatch) -> str:
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", KEY)
    return KEY


def take_checkpoint(capsys, trail) -> str:
    code = main(["checkpoint", "--db", trail])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    return captured.out.strip()


def test_a_checkpoint_is_one_signed_line_that_verify_accepts(capsys, trail, key):
    statement = take_checkpoint(capsys, trail)
    assert len(statement.splitlines()) == 1
    assert json.loads(statement)["rows"] == 4 and "signature" in json.loads(statement)
    code, out, err = run(capsys, "--db", trail, "--verify", "--checkpoint", statement)
    at = json.loads(statement)["at"]
    assert code == 0 and out == ""
    assert err.splitlines() == [
        "audit chain verified: 4 rows",
        f"consistent with the checkpoint of {at}: the 4 rows it saw are all there, unchanged",
    ]


def test_deleting_the_last_rows_passes_the_chain_and_fails_the_checkpoint(
    capsys, trail, key, actions, tmp_path
):
    kept = tmp_path / "checkpoint.json"
    kept.write_text(take_checkpoint(capsys, trail) + "\n")
    at = json.loads(kept.read_text())["at"]
    # The reported attack: the rejection's rows deleted and the action set back to pending.
    drop_audit_guards(actions.database)
    conn = actions.database
    conn.execute("DELETE FROM audit WHERE action_id = 2")
    conn.execute("UPDATE actions SET status = 'pending', decided_by = NULL WHERE id = 2")
    code, _, err = run(capsys, "--db", trail, "--verify")
    assert code == 0 and "audit chain verified: 2 rows" in err  # the chain alone cannot tell
    code, _, err = run(capsys, "--db", trail, "--verify", "--checkpoint", f"@{kept}")
    assert code == 1
    assert f"missing rows: the checkpoint of {at} saw 4 rows, the database has 2" in err


def test_a_rewritten_head_row_is_reported(capsys, trail, key, actions):
    statement = take_checkpoint(capsys, trail)
    drop_audit_guards(actions.database)
    conn = actions.database
    conn.execute("DELETE FROM audit WHERE id = 4")
    with actions.database.immediate() as db:
        audit.append(db, "approved", action_id=2, actor="U0EVE")
    code, _, err = run(capsys, "--db", trail, "--verify", "--checkpoint", statement)
    assert code == 1 and "audit chain verified: 4 rows" in err
    assert "the row #4 no longer matches the checkpoint of" in err


def test_a_forged_checkpoint_is_refused_before_anything_is_printed(capsys, trail, key):
    fields = json.loads(take_checkpoint(capsys, trail))
    forged = json.dumps({**fields, "rows": 2})
    code, out, err = run(capsys, "--db", trail, "--checkpoint", forged)
    assert code == 1 and out == ""
    assert err.startswith("checkpoint refused: the checkpoint's signature does not verify")


def test_a_checkpoint_from_a_retired_key_is_refused(capsys, trail, key, monkeypatch):
    statement = take_checkpoint(capsys, trail)
    monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", "a-brand-new-key-0123456789abcdefgh")
    code, _, err = run(capsys, "--db", trail, "--verify", "--checkpoint", statement)
    assert code == 1 and "signed with a key that is no longer listed" in err


@pytest.mark.parametrize("value", [None, "too-short"])
def test_the_checkpoint_command_explains_a_missing_or_short_key(capsys, trail, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("AUDIT_CHECKPOINT_KEY", raising=False)
    else:
        monkeypatch.setenv("AUDIT_CHECKPOINT_KEY", value)
    code = main(["checkpoint", "--db", trail])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "AUDIT_CHECKPOINT_KEY" in captured.err
    assert "secrets.token_urlsafe(32)" in captured.err


def test_a_checkpoint_file_that_cannot_be_read_is_a_usage_error(capsys, trail, key, tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["audit", "--db", trail, "--checkpoint", f"@{tmp_path / 'nowhere.json'}"])
    assert exited.value.code == 2
    assert "cannot read a checkpoint from" in capsys.readouterr().err


def test_a_checkpoint_taken_by_one_run_verifies_in_another(trail, key):
    taken = subprocess.run(
        [sys.executable, "-m", "approvals", "checkpoint", "--db", trail],
        capture_output=True,
        text=True,
        check=False,
    )
    assert taken.returncode == 0, taken.stderr
    verify = ["audit", "--db", trail, "--verify", "--checkpoint", taken.stdout]
    done = subprocess.run(
        [sys.executable, "-m", "approvals", *verify],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "consistent with the checkpoint of" in done.stderr
