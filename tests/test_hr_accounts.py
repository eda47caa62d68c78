from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial

import pytest
from cryptography.fernet import Fernet

import bot.hr.accounts
import bot.hr.link_states
from approvals import MIGRATIONS
from bot.hr.accounts import Accounts, LinkedAccount, SealBroken, TokenCipher
from bot.hr.link_states import (
    Claim,
    LinkStateError,
    LinkStates,
    StateExpired,
    StateUsed,
    UnknownState,
)
from infra.db import Database, open_database
from tests.fakes import Clock

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

START = 1_800_000_000.0
TEN_MINUTES = 600
ACCESS = "at-DANA-ACCESS-7f3c9e"
REFRESH = "rt-DANA-REFRESH-51ab0d"
VERIFIER = "pkce-verifier-" + "v" * 43


def new_key() -> str:
    return Fernet.generate_key().decode()


def token(access: str = ACCESS, refresh: str = REFRESH, **extra) -> dict:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_at": int(START) + 3600,
        "token_type": "Bearer",
        "scope": "hr.read hr.write",
        **extra,
    }


@pytest.fixture
def clock() -> Clock:
    return Clock(start=START)


@pytest.fixture
def database(tmp_path) -> Iterator[Database]:
    db = open_database(
        tmp_path / "x.sqlite3",
        [*MIGRATIONS, bot.hr.accounts.tables, bot.hr.link_states.tables],
    )
    yield db
    db.close()


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher([new_key()])


@pytest.fixture
def accounts(database, cipher, clock) -> Accounts:
    return Accounts(database, cipher, now=clock)


@pytest.fixture
def states(database, cipher, clock) -> LinkStates:
    return LinkStates(database, cipher, now=clock)


def file_bytes(tmp_path) -> bytes:
    """Everything SQLite wrote: the database file and its write-ahead log."""
    return b"".join(path.read_bytes() for path in sorted(tmp_path.glob("x.sqlite3*")))


# The cipher


def test_the_cipher_seals_with_the_first_key_and_opens_with_any():
    new, old = new_key(), new_key()
    sealed_by_old = TokenCipher([old]).seal({"a": 1})
    both = TokenCipher([new, old])
    assert both.open(sealed_by_old) == {"a": 1}
    assert TokenCipher([new]).open(both.seal({"b": 2})) == {"b": 2}


def test_a_cipher_without_the_sealing_key_cannot_open(cipher):
    sealed = cipher.seal({"access_token": ACCESS})
    with pytest.raises(SealBroken):
        TokenCipher([new_key()]).open(sealed)


@pytest.mark.parametrize("garbage", ["", "not a sealed value", "é", "gAAAAA" + "x" * 80])
def test_a_value_that_was_never_sealed_is_refused(cipher, garbage):
    with pytest.raises(SealBroken):
        cipher.open(garbage)
    with pytest.raises(SealBroken):
        cipher.rotate(garbage)


def test_from_setting_reads_comma_separated_keys_newest_first():
    new, old = new_key(), new_key()
    sealed_by_old = TokenCipher([old]).seal({"v": 1})
    cipher = TokenCipher.from_setting(f" {new} , {old}\n")
    assert cipher.open(sealed_by_old) == {"v": 1}
    assert TokenCipher([new]).open(cipher.seal({"v": 2})) == {"v": 2}


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("{good},not-a-key", "key 2 of 2 is not a Fernet key"),
        ("{good},", "key 2 of 2 is empty"),
        ("", "at least one key is needed"),
        ("é" * 44, "key 1 of 1 is not a Fernet key"),
    ],
)
def test_from_setting_refuses_a_malformed_key_and_says_how_to_make_one(setting, problem):
    with pytest.raises(ValueError) as raised:
        TokenCipher.from_setting(setting.format(good=new_key()))
    message = str(raised.value)
    assert message.startswith("TOKEN_ENCRYPTION_KEYS: ")
    assert problem in message
    assert (
        'python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"' in message
    )
    assert "not-a-key" not in message  # a key, even a broken one, is never echoed


# Linked accounts


def test_tokens_are_never_in_the_database_file_in_clear(tmp_path, database, accounts):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    accounts.save_token("U0DANA", token("at-ROTATED-ACCESS-99", "rt-ROTATED-REFRESH-99"))
    database.execute("PRAGMA wal_checkpoint(FULL)")
    raw = file_bytes(tmp_path)
    assert b"hr-sub-dana" in raw  # the check can see what is written in clear
    for secret in (ACCESS, REFRESH, "at-ROTATED-ACCESS-99", "rt-ROTATED-REFRESH-99"):
        assert secret.encode() not in raw


def test_a_linked_account_reads_back_as_it_was_linked(accounts, clock):
    linked = accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    assert linked == LinkedAccount(
        "U0DANA", "hr-sub-dana", "dana@example.com", token(), START, START
    )
    assert accounts.get("U0DANA") == linked


def test_a_slack_user_who_never_linked_has_no_account(accounts):
    assert accounts.get("U0NOBODY") is None


def test_the_token_never_shows_in_an_accounts_repr(accounts):
    linked = accounts.link("U0DANA", "hr-sub-dana", None, token())
    assert ACCESS not in repr(linked)
    assert REFRESH not in repr(linked)


def test_linking_again_replaces_the_earlier_link(accounts, clock):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    clock.advance(60)
    relinked = accounts.link("U0DANA", "hr-sub-dana-2", "dana@new.example", token("at-2", "rt-2"))
    assert accounts.get("U0DANA") == relinked
    assert (relinked.hr_subject, relinked.token["access_token"]) == ("hr-sub-dana-2", "at-2")
    assert relinked.linked_at == START + 60


def test_unlink_deletes_the_link_and_returns_what_it_held(accounts):
    linked = accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    accounts.link("U0ERIN", "hr-sub-erin", "erin@example.com", token("at-erin", "rt-erin"))
    assert accounts.unlink("U0DANA") == linked
    assert accounts.get("U0DANA") is None
    assert accounts.unlink("U0DANA") is None
    assert accounts.get("U0ERIN") is not None


def test_save_token_stores_a_refreshed_token_and_keeps_the_link(accounts, clock):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    clock.advance(3000)
    update_token = partial(accounts.save_token, "U0DANA")  # as Authlib's hook calls it
    assert update_token(token("at-2", "rt-2"), refresh_token=REFRESH) is True
    saved = accounts.get("U0DANA")
    assert saved.token == token("at-2", "rt-2")
    assert (saved.hr_subject, saved.linked_at, saved.updated_at) == (
        "hr-sub-dana",
        START,
        START + 3000,
    )


def test_save_token_after_unlink_does_not_resurrect_the_account(accounts):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    accounts.unlink("U0DANA")
    assert accounts.save_token("U0DANA", token("at-2", "rt-2")) is False
    assert accounts.get("U0DANA") is None


def test_a_refresh_by_a_session_of_an_earlier_link_does_not_overwrite_the_new_link(accounts):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    accounts.unlink("U0DANA")
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token("at-new", "rt-new"))
    # The old session refreshes with its own refresh token, as Authlib's update_token reports it.
    old_session_hook = partial(accounts.save_token, "U0DANA")
    assert old_session_hook(token("at-old-2", "rt-old-2"), refresh_token=REFRESH) is False
    assert accounts.get("U0DANA").token["access_token"] == "at-new"


def test_a_sealed_token_copied_into_another_users_row_does_not_open(database, accounts):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    accounts.link("U0MALLORY", "hr-sub-mallory", "m@example.com", token("at-m", "rt-m"))
    with database.immediate() as db:
        db.execute(
            "UPDATE hr_accounts SET sealed_token = "
            "(SELECT sealed_token FROM hr_accounts WHERE slack_user = 'U0DANA') "
            "WHERE slack_user = 'U0MALLORY'"
        )
    with pytest.raises(SealBroken):
        accounts.get("U0MALLORY")


def test_accounts_under_a_key_the_cipher_lacks_cannot_be_opened(database, accounts, clock):
    accounts.link("U0DANA", "hr-sub-dana", "dana@example.com", token())
    stranger = Accounts(database, TokenCipher([new_key()]), now=clock)
    with pytest.raises(SealBroken):
        stranger.get("U0DANA")
    with pytest.raises(SealBroken):
        stranger.unlink("U0DANA")
    assert accounts.get("U0DANA") is not None  # a failed unlink keeps the link


def test_rotate_keys_reseals_everything_so_the_new_key_alone_opens_it(database, clock):
    new, old = new_key(), new_key()
    before = Accounts(database, TokenCipher([old]), now=clock)
    users = ["U0DANA", "U0ERIN", "U0FRED"]
    linked = [before.link(u, f"hr-{u}", None, token(f"at-{u}", f"rt-{u}")) for u in users]

    assert Accounts(database, TokenCipher([new, old]), now=clock).rotate_keys() == 3

    after = Accounts(database, TokenCipher([new]), now=clock)
    assert [after.get(u) for u in users] == linked
    with pytest.raises(SealBroken):
        before.get("U0DANA")


def test_rotate_keys_changes_nothing_when_one_token_cannot_be_opened(database, clock):
    new, old = new_key(), new_key()
    Accounts(database, TokenCipher([old]), now=clock).link("U0DANA", "hr-d", None, token())
    Accounts(database, TokenCipher([new_key()]), now=clock).link("U0LOST", "hr-l", None, token())
    with pytest.raises(SealBroken):
        Accounts(database, TokenCipher([new, old]), now=clock).rotate_keys()
    assert Accounts(database, TokenCipher([old]), now=clock).get("U0DANA") is not None


def test_rotate_keys_of_no_accounts_is_zero(accounts):
    assert accounts.rotate_keys() == 0


# Link states


def test_a_claimed_state_gives_back_who_started_the_link_and_the_verifier(states):
    state = states.start("U0DANA", VERIFIER, event_id="Ev42")
    assert states.claim(state) == Claim("U0DANA", VERIFIER, "Ev42")


def test_each_start_gives_a_fresh_random_state(states):
    first, second = states.start("U0DANA", VERIFIER), states.start("U0DANA", VERIFIER)
    assert first != second
    assert len(first) >= 43


def test_a_state_is_single_use(states):
    state = states.start("U0DANA", VERIFIER)
    states.claim(state)
    with pytest.raises(StateUsed):
        states.claim(state)


def test_a_state_expires_after_ten_minutes(states, clock):
    in_time = states.start("U0DANA", VERIFIER)
    too_late = states.start("U0DANA", VERIFIER)
    clock.advance(TEN_MINUTES - 1)
    assert states.claim(in_time).slack_user == "U0DANA"
    clock.advance(2)
    with pytest.raises(StateExpired):
        states.claim(too_late)


@pytest.mark.parametrize("state", ["never-started", "", None, "x" * 5000])
def test_an_unknown_state_is_refused(states, state):
    states.start("U0DANA", VERIFIER)
    with pytest.raises(UnknownState):
        states.claim(state)


def test_the_state_errors_are_one_family():
    assert all(issubclass(e, LinkStateError) for e in (UnknownState, StateExpired, StateUsed))


def test_neither_the_verifier_nor_the_state_is_stored_in_clear(tmp_path, database, states):
    state = states.start("U0DANA", VERIFIER, event_id="Ev42")
    (row,) = database.query("SELECT * FROM link_states")
    assert row["slack_user"] == "U0DANA"
    assert not any(VERIFIER in str(v) or state in str(v) for v in row.values())
    database.execute("PRAGMA wal_checkpoint(FULL)")
    raw = file_bytes(tmp_path)
    assert VERIFIER.encode() not in raw
    assert state.encode() not in raw


def test_sixteen_concurrent_claims_of_one_state_have_exactly_one_winner(states):
    state = states.start("U0DANA", VERIFIER)
    barrier = threading.Barrier(16)
    outcomes: list[object] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        try:
            outcome: object = states.claim(state)
        except LinkStateError as e:
            outcome = e
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o for o in outcomes if isinstance(o, Claim)] == [Claim("U0DANA", VERIFIER, None)]
    assert sum(isinstance(o, StateUsed) for o in outcomes) == 15


def test_purge_drops_only_states_older_than_asked(states, clock):
    old = states.start("U0DANA", VERIFIER)
    clock.advance(3600)
    recent = states.start("U0ERIN", VERIFIER)
    clock.advance(60)
    assert states.purge(older_than_seconds=1800) == 1
    with pytest.raises(UnknownState):
        states.claim(old)
    assert states.claim(recent).slack_user == "U0ERIN"


@pytest.mark.parametrize(
    ("state", "error"),
    [
        ("Q" * 43, UnknownState),  # the right shape, never started
        ("not a state!", UnknownState),  # malformed
        ("x" * 5000, UnknownState),
        ("used", StateUsed),
        ("stale", StateExpired),
    ],
)
def test_a_state_that_cannot_be_claimed_never_takes_the_write_lock(
    states, database, clock, monkeypatch, state, error
):
    if state == "used":
        state = states.start("U0DANA", VERIFIER)
        states.claim(state)
    elif state == "stale":
        state = states.start("U0DANA", VERIFIER)
        clock.advance(TEN_MINUTES + 1)

    def no_write_lock():
        raise AssertionError("a write transaction was started")

    monkeypatch.setattr(database, "immediate", no_write_lock)
    with pytest.raises(error):
        states.claim(state)
