"""The benchmark at a tiny size: correctness only (every message acked and answered, the click
executed, no store errors); timings are for docs/performance.md, not for tests."""

from __future__ import annotations

from dev import bench, bench_replicas
from tests.postgres_server import find_binaries


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(capsys):
    code = bench.main(
        [
            "--messages",
            "12",
            "--latency",
            "0.02",
            "--conversations",
            "30",
            "--decisions",
            "200",
            "--flood",
            "10",
            "--others",
            "4",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "acked with 200" in out and "12/12" in out
    assert "others' answer, 4 alone → after a 10-message flood" in out
    assert "RSS 1,000" in out or "conversations" in out


def test_the_benchmark_model_answers_in_two_calls():
    first = bench.answer_in_two_calls({"messages": [{"role": "user", "content": "who is 2?"}]})
    assert first["tool_calls"]
    second = bench.answer_in_two_calls(
        {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "{}"}]}
    )
    assert second["content"] == bench.ANSWER


def test_the_replicas_table_runs_end_to_end_with_a_handful_of_messages(capsys):
    code = bench.main(["--replicas-table", "--messages", "6", "--latency", "0.02"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()}
    setups = ["1 replica, SQLite"]
    if find_binaries() is None:
        for label in ("1 replica, PostgreSQL", "2 replicas, PostgreSQL"):
            assert " ".join(rows[label][3:]) == "skipped: no PostgreSQL server binaries"
    else:
        setups += ["1 replica, PostgreSQL", "2 replicas, PostgreSQL"]
    for label in setups:
        cells = rows[label][3:]  # after the label's three words
        # acked, answered once, duplicates, missing ... and the click's HR writes
        assert cells[:4] == ["6/6", "6/6", "0", "0"] and cells[-1] == "1", out


def test_without_postgresql_binaries_the_postgresql_rows_are_skipped(capsys, monkeypatch):
    monkeypatch.setattr(bench_replicas, "find_binaries", lambda: None)
    code = bench.main(["--replicas-table", "--messages", "2", "--latency", "0.01"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("skipped: no PostgreSQL server binaries") == 2


def test_a_duplicate_a_missing_answer_or_a_second_hr_write_is_incorrect():
    good = {"sent": 5, "acked": 5, "duplicates": 0, "missing": 0, "click_status": 200}
    assert bench_replicas.problems({**good, "hr_writes": 1}) == []
    assert bench_replicas.problems({**good, "duplicates": 1, "missing": 2, "hr_writes": 2}) == [
        "1 answers more than once",
        "2 never answered",
        "2 HR writes instead of 1",
    ]
