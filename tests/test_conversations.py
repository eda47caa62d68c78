from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.agent.history import ConversationStore, estimate_tokens, kept_indexes

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


def turn(kind: str, n: int, size: int) -> list[dict]:
    text = "x" * size
    if kind == "user":
        return [{"role": "user", "content": text}]
    if kind == "answer":
        return [{"role": "assistant", "content": text}]
    calls = [
        {"id": f"c{n}_{i}", "type": "function", "function": {"name": "t", "arguments": text}}
        for i in range(1 + n % 3)
    ]
    return [
        {"role": "assistant", "content": None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": c["id"], "content": text} for c in calls),
    ]


histories = st.lists(
    st.tuples(st.sampled_from(["user", "answer", "tools"]), st.integers(0, 400)), max_size=30
).map(lambda turns: [m for n, (kind, size) in enumerate(turns) for m in turn(kind, n, size)])


@given(histories, st.integers(50, 3000))
def test_trimming_never_separates_a_tool_call_from_its_results(messages, budget):
    kept = [messages[i] for i in kept_indexes(messages, budget)]
    answered = {m["tool_call_id"] for m in kept if m["role"] == "tool"}
    asked = {c["id"] for m in kept for c in m.get("tool_calls") or []}
    assert answered == asked
    if kept:
        assert kept[-1] == messages[-1]  # the newest message always survives
        assert kept[0]["role"] != "tool"


@given(histories, st.integers(50, 3000))
def test_trimmed_history_fits_the_budget_unless_one_turn_is_larger(messages, budget):
    indexes = kept_indexes(messages, budget)
    total = sum(estimate_tokens(messages[i]) for i in indexes)
    whole_newest_turn = indexes == sorted(indexes) and total > budget
    assert total <= budget or whole_newest_turn


def test_history_is_stored_bounded(database):
    store = ConversationStore(database, token_budget=200)
    for n in range(50):
        store.append("C1:1.1", [{"role": "user", "content": f"message {n} " + "x" * 40}])
    rows = database.query("SELECT COUNT(*) AS n FROM messages WHERE thread_key = 'C1:1.1'")
    assert rows[0]["n"] < 50
    assert store.load("C1:1.1")[-1]["content"].startswith("message 49")


def test_a_note_is_a_system_message_that_no_user_can_write(database):
    store = ConversationStore(database)
    store.note("C1:1.1:U0DANA", "Action #3 was rejected by <@U0BOB>.")
    (note,) = store.load("C1:1.1:U0DANA")
    assert note["role"] == "system" and note["content"].startswith("Approval system notice:")


def test_a_notice_stored_before_the_turn_it_answers_is_kept(database):
    # An approval can be decided while the requester's turn is still running; its notice is then
    # stored first. Trimming must not drop it for not being a user message.
    store = ConversationStore(database)
    store.note("C1:1.1:U0DANA", "Action #1 (DELETE /api/users/9) is now succeeded by U0BOB.")
    store.append(
        "C1:1.1:U0DANA",
        [
            {"role": "user", "name": "U0DANA", "content": "delete employee 9"},
            {"role": "assistant", "content": "Queued as action #1."},
        ],
    )
    assert [m["role"] for m in store.load("C1:1.1:U0DANA")] == ["system", "user", "assistant"]
