from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from approvals import audit, checkpoints
from approvals.checkpoints import BadKey, BadStatement, BrokenChain, MissingRows, RowChanged
from tests.fakes import drop_audit_guards
from tests.test_store import new_action

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

KEY = "checkpoint-key-one-0123456789abcdef"
NEW_KEY = "checkpoint-key-two-0123456789abcdef"
OTHER_KEY = "somebody-elses-key-0123456789abcdef"


@pytest.fixture
def trail(four_audit_rows):
    return four_audit_rows


def delete_last_rows(database, count: int) -> None:
    drop_audit_guards(database)
    database.execute("DELETE FROM audit WHERE id > (SELECT MAX(id) FROM audit) - ?", (count,))


def rewrite_from(database, row_id: int, **changes) -> None:
    """What someone with the file can do: replace rows from row_id on and rebuild the chain."""
    later = [event for event in audit.events(database) if event.id >= row_id]
    drop_audit_guards(database)
    database.execute("DELETE FROM audit WHERE id >= ?", (row_id,))
    with database.immediate() as db:
        for number, event in enumerate(later):
            values = {
                "event": event.event,
                "action_id": event.action_id,
                "actor": event.actor,
                "detail": event.detail,
                "at": event.at,
            }
            if number == 0:
                values.update(changes)
            audit.append(db, values.pop("event"), **values)


def test_a_checkpoint_is_one_readable_line_with_the_row_count_and_the_head(database, trail):
    statement = checkpoints.take(database, [KEY], now=1_795_000_000.0)
    assert "\n" not in statement
    fields = json.loads(statement)
    head = audit.head(database)
    assert fields["rows"] == head.rows == 4
    assert fields["head_id"] == head.id == 4
    assert fields["head_hash"] == head.hash == audit.events(database)[-1].hash
    assert fields["at"] == "2026-11-18T11:06:40Z"
    assert checkpoints.read(statement, [KEY]).rows == 4


def test_the_signature_is_an_hmac_anyone_with_the_key_can_recompute(database, trail):
    fields = json.loads(checkpoints.take(database, [KEY]))
    signature = fields.pop("signature")
    signed = checkpoints.SALT + "\n" + json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert signature == hmac.new(KEY.encode(), signed.encode(), hashlib.sha256).hexdigest()


def test_deleting_the_tail_passes_the_chain_but_not_the_checkpoint(database, trail):
    statement = checkpoints.take(database, [KEY], now=1_795_000_000.0)
    delete_last_rows(database, 2)  # the second request and its rejection
    # The limit this module exists for: what is left is a perfectly valid chain.
    assert audit.first_broken_row(database) is None
    with pytest.raises(MissingRows) as caught:
        checkpoints.verify(database, statement, [KEY])
    assert str(caught.value) == (
        "missing rows: the checkpoint of 2026-11-18T11:06:40Z saw 4 rows, the database has 2"
    )


def test_the_row_at_the_checkpoint_rewritten_with_a_rebuilt_chain_is_detected(database, trail):
    statement = checkpoints.take(database, [KEY])
    new_action(trail)  # a fifth row after the checkpoint, rebuilt along with the fourth
    rewrite_from(database, 4, event="approved", actor="U0EVE")
    assert audit.first_broken_row(database) is None
    assert audit.head(database).rows == 5
    with pytest.raises(RowChanged, match=r"the row #4 no longer matches the checkpoint"):
        checkpoints.verify(database, statement, [KEY])


def test_a_rewritten_row_before_the_checkpoint_changes_its_head_too(database, trail):
    statement = checkpoints.take(database, [KEY])
    rewrite_from(database, 2, actor="U0EVE")
    assert audit.first_broken_row(database) is None
    with pytest.raises(RowChanged):
        checkpoints.verify(database, statement, [KEY])


def test_a_trail_that_grew_after_the_checkpoint_is_consistent_with_it(database, trail):
    statement = checkpoints.take(database, [KEY])
    trail.withdraw(new_action(trail).id, "U0ALICE")
    assert audit.head(database).rows == 6
    assert checkpoints.verify(database, statement, [KEY]).head_id == 4


def test_a_checkpoint_of_an_empty_trail_holds_for_any_later_trail(database, actions):
    statement = checkpoints.take(database, [KEY])
    assert json.loads(statement)["head_id"] is None
    new_action(actions)
    assert checkpoints.verify(database, statement, [KEY]).rows == 0


@pytest.mark.parametrize(
    "edit",
    [
        {"rows": 2},
        {"head_id": 2},
        {"head_hash": "0" * 64},
        {"at": "2030-01-01T00:00:00Z"},
        {"extra": "field"},
    ],
)
def test_an_edited_statement_is_refused(database, trail, edit):
    fields = json.loads(checkpoints.take(database, [KEY]))
    edited = json.dumps({**fields, **edit})
    with pytest.raises(BadStatement, match="signature does not verify with AUDIT_CHECKPOINT_KEY"):
        checkpoints.read(edited, [KEY])


def test_a_statement_signed_with_another_key_is_refused(database, trail):
    forged = checkpoints.take(database, [OTHER_KEY])
    with pytest.raises(BadStatement, match="edited or forged, or signed with a key"):
        checkpoints.verify(database, forged, [KEY])


@pytest.mark.parametrize("text", ["", "hello", "[1, 2]", '{"rows": 4}', '{"signature": 7}'])
def test_text_that_is_not_a_statement_is_refused(text):
    with pytest.raises(BadStatement, match="not a checkpoint statement"):
        checkpoints.read(text, [KEY])


def test_after_rotation_the_new_key_signs_and_the_old_one_still_verifies(database, trail):
    old_statement = checkpoints.take(database, [KEY])
    rotated = checkpoints.keys_from(f"{NEW_KEY}, {KEY}")
    assert rotated == (NEW_KEY, KEY)
    assert checkpoints.verify(database, old_statement, rotated).rows == 4
    new_statement = checkpoints.take(database, rotated)
    assert checkpoints.verify(database, new_statement, [NEW_KEY]).rows == 4
    with pytest.raises(BadStatement):
        checkpoints.read(new_statement, [KEY])
    # Dropping a key from the list retires every statement it signed.
    with pytest.raises(BadStatement):
        checkpoints.read(old_statement, [NEW_KEY])


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "AUDIT_CHECKPOINT_KEY is not set"),
        ("  ", "AUDIT_CHECKPOINT_KEY is not set"),
        ("short", "key 1 of 1 has 5 characters, at least 32 are needed"),
        (f"{KEY},", "key 2 of 2 has 0 characters"),
    ],
)
def test_a_missing_or_short_key_is_refused_with_how_to_make_one(value, problem):
    with pytest.raises(BadKey) as caught:
        checkpoints.keys_from(value)
    assert problem in str(caught.value)
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in str(caught.value)


def test_a_broken_chain_is_not_checkpointed(database, trail):
    drop_audit_guards(database)
    database.execute("UPDATE audit SET actor = 'U0EVE' WHERE id = 2")
    with pytest.raises(BrokenChain, match="broken at row 2"):
        checkpoints.take(database, [KEY])
