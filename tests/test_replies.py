from __future__ import annotations

from approvals import PendingAction
from bot.replies import outcome_note


def test_the_outcome_note_has_facts_and_no_secrets():
    done = PendingAction(
        id=7,
        requester="U0DANA",
        channel="C0HR",
        thread_ts="1700000000.000100",
        method="POST",
        path="/api/users",
        body={"name": "Neo Anderson", "job": "engineer"},
        request_hash="ab" * 32,
        status="rejected",
        approvals_required=1,
        created_at=1_700_000_000.0,
        expires_at=1_700_086_400.0,
        decided_by="U0BOB",
        reason="duplicate",
    )
    assert outcome_note(done) == (
        "Action #7 (POST /api/users) is now rejected by U0BOB. Reason given: duplicate "
        "Do not retry it unless the user asks again."
    )
