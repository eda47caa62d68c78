from __future__ import annotations

import itsdangerous
import pytest

from approvals import BadToken, Decision, TokenExpired, TokenSigner
from approvals.tokens import SALT

OLD = "o" * 40
NEW = "n" * 40
HASH = "ab" * 32


def test_a_signed_decision_round_trips_and_fits_a_slack_button():
    signer = TokenSigner([NEW], max_age_seconds=3600)
    token = signer.sign(41, "approve", HASH)
    assert signer.verify(token) == Decision(41, "approve", HASH)
    assert len(token) < 2000


def test_approve_and_reject_values_differ_and_say_which():
    signer = TokenSigner([NEW], max_age_seconds=3600)
    assert signer.verify(signer.sign(1, "reject", HASH)).decision == "reject"
    assert signer.sign(1, "reject", HASH) != signer.sign(1, "approve", HASH)


# Not the very last character: in base64 its low bits can be padding, so some flips there
# decode to the same signature bytes.
@pytest.mark.parametrize("position", [0, 10, -5, -2])
def test_a_tampered_value_is_refused(position):
    signer = TokenSigner([NEW], max_age_seconds=3600)
    token = signer.sign(1, "approve", HASH)
    index = position % len(token)
    flipped = "A" if token[index] != "A" else "B"
    with pytest.raises(BadToken):
        signer.verify(token[:index] + flipped + token[index + 1 :])


@pytest.mark.parametrize("value", [None, "", 42, "x" * 2001, "not-a-token"])
def test_garbage_is_refused(value):
    with pytest.raises(BadToken):
        TokenSigner([NEW], max_age_seconds=3600).verify(value)


def test_an_old_value_expires(monkeypatch):
    signer = TokenSigner([NEW], max_age_seconds=60)
    token = signer.sign(1, "approve", HASH)
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 61)
    with pytest.raises(TokenExpired):
        signer.verify(token)


def test_a_value_signed_for_another_purpose_is_refused():
    other = itsdangerous.URLSafeTimedSerializer(NEW, salt="some-other-purpose")
    with pytest.raises(BadToken):
        TokenSigner([NEW], max_age_seconds=3600).verify(other.dumps([1, "a", HASH]))


def test_well_signed_values_that_are_not_decisions_are_refused():
    serializer = itsdangerous.URLSafeTimedSerializer(NEW, salt=SALT)
    for payload in ([1, "x", HASH], [True, "a", HASH], [1, "a", "short"], {"a": 1}, [1, "a"]):
        with pytest.raises(BadToken, match="not an approval decision"):
            TokenSigner([NEW], max_age_seconds=3600).verify(serializer.dumps(payload))


def test_rotation_the_first_secret_signs_and_all_verify():
    before = TokenSigner([OLD], max_age_seconds=3600)
    during = TokenSigner([NEW, OLD], max_age_seconds=3600)
    after = TokenSigner([NEW], max_age_seconds=3600)
    old_token = before.sign(1, "approve", HASH)
    assert during.verify(old_token).action_id == 1  # cards posted before rotation still work
    new_token = during.sign(2, "approve", HASH)
    assert after.verify(new_token).action_id == 2  # the new secret is the one signing
    with pytest.raises(BadToken):
        after.verify(old_token)


def test_a_truncated_or_extended_value_is_refused():
    signer = TokenSigner([NEW], max_age_seconds=3600)
    token = signer.sign(1, "approve", HASH)
    for changed in (token[:-1], token + "A", token[:-3]):
        with pytest.raises(BadToken):
            signer.verify(changed)
