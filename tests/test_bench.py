"""The benchmark at a tiny size: correctness only (every message acked and answered, the click
executed, no store errors); timings are for README, not for tests."""

from __future__ import annotations

from dev import bench


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
