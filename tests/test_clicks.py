from __future__ import annotations

import pytest

from approvals import ActionStore, Executor, PendingAction, TokenSigner, audit
from approvals.records import text_hash
from approvals.slack.cards import APPROVE_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID
from approvals.slack.clicks import Click, ClickHandler
from approvals.upkeep import Upkeep
from infra.roster import Roster
from tests.fakes import Clock, CountingHR, Members, QuietAnnouncer, held_delete

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

BUTTONS = {"approve": APPROVE_ACTION_ID, "reject": REJECT_ACTION_ID, "withdraw": WITHDRAW_ACTION_ID}


class Desk:
    """A click handler on a real store, with the doubles it talks to kept at hand."""

    def __init__(
        self,
        store: ActionStore,
        approvers: Roster | None = None,
        announcer: QuietAnnouncer | None = None,
        **options,
    ) -> None:
        self.store = store
        self.signer = TokenSigner(["k" * 40], max_age_seconds=3600)
        self.hr = CountingHR()
        self.announcer = announcer or QuietAnnouncer()
        self.people = Members()
        self.handler = ClickHandler(
            store,
            self.signer,
            Executor(store, self.hr),
            self.announcer,
            approvers=approvers or Roster(["U0BOB", "U0CAROL"]),
            people=self.people,
            team_id="T0TEAM",
            **options,
        )

    def new_action(self, **overrides) -> PendingAction:
        return held_delete(self.store, **overrides)

    def click(
        self, user: str, action: PendingAction, decision: str, *, team: str = "T0TEAM", **extra
    ) -> None:
        value = self.signer.sign(action.id, decision, action.request_hash)
        self.handler.handle(
            Click(user, team, BUTTONS[decision], value, channel="C0APPROVALS", **extra)
        )

    def status(self, action: PendingAction) -> str:
        return self.store.get(action.id).status

    def refusals(self, action_id: int | None = None) -> list[audit.AuditEvent]:
        return [
            event
            for event in audit.events(self.store.database)
            if event.event == "click_refused" and event.action_id == action_id
        ]

    def told_to(self, user: str) -> list[str]:
        return [text for channel, who, text in self.announcer.told if who == user]


@pytest.fixture
def desk(actions) -> Desk:
    return Desk(actions)


def test_an_approver_approves_and_the_request_is_sent_once(desk):
    action = desk.new_action()
    desk.click("U0BOB", action, "approve")

    done = desk.store.get(action.id)
    assert done.status == "succeeded"
    assert done.decided_by == "U0BOB"
    assert done.hr_status == 204
    assert desk.hr.sent == {action.idempotency_key: 1}
    assert desk.announcer.finished == [action.id]
    assert desk.announcer.told == []


def test_an_outsider_cannot_approve_and_is_told_privately(desk):
    action = desk.new_action()
    desk.click("U0EVE", action, "approve")

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert desk.announcer.finished == []
    ((channel, user, text),) = desk.announcer.told
    assert (channel, user) == ("C0APPROVALS", "U0EVE")
    assert "not an approver" in text
    (refusal,) = desk.refusals(action.id)
    assert refusal.actor == "U0EVE"
    assert refusal.detail["why"] == text


def test_an_outsider_cannot_reject_either(desk):
    action = desk.new_action()
    desk.click("U0EVE", action, "reject", reason="no", submitted=True)

    assert desk.status(action) == "pending"
    assert len(desk.refusals(action.id)) == 1


def test_the_requester_cannot_approve_their_own_request(actions):
    desk = Desk(actions)
    action = desk.new_action(requester="U0BOB")
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert "another approver must approve it" in desk.told_to("U0BOB")[0]
    assert len(desk.refusals(action.id)) == 1


def test_the_requester_can_approve_their_own_request_when_self_approval_is_allowed(actions):
    desk = Desk(actions, allow_self_approval=True)
    action = desk.new_action(requester="U0BOB")
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "succeeded"
    assert desk.hr.sent == {action.idempotency_key: 1}
    assert desk.refusals(action.id) == []


def test_a_click_from_another_workspace_is_refused(desk):
    action = desk.new_action()
    desk.click("U0BOB", action, "approve", team="T0OTHER")

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert "another workspace" in desk.told_to("U0BOB")[0]
    assert len(desk.refusals(action.id)) == 1


def test_a_button_whose_action_id_differs_from_its_signed_decision_is_refused(desk):
    action = desk.new_action()
    reject_value = desk.signer.sign(action.id, "reject", action.request_hash)
    desk.handler.handle(
        Click("U0BOB", "T0TEAM", APPROVE_ACTION_ID, reject_value, channel="C0APPROVALS")
    )

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert "does not match its decision" in desk.told_to("U0BOB")[0]
    assert len(desk.refusals()) == 1


def test_a_tampered_button_value_is_refused(desk):
    action = desk.new_action()
    value = desk.signer.sign(action.id, "approve", action.request_hash)
    # The first character is all payload bits (the last may be only base64 padding bits).
    tampered = ("B" if value[0] != "B" else "C") + value[1:]
    desk.handler.handle(
        Click("U0BOB", "T0TEAM", APPROVE_ACTION_ID, tampered, channel="C0APPROVALS")
    )

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert "not a valid approval button" in desk.told_to("U0BOB")[0]
    assert len(desk.refusals()) == 1


def test_a_value_signed_with_another_key_is_refused(desk):
    action = desk.new_action()
    foreign = TokenSigner(["x" * 40], max_age_seconds=3600)
    value = foreign.sign(action.id, "approve", action.request_hash)
    desk.handler.handle(Click("U0BOB", "T0TEAM", APPROVE_ACTION_ID, value, channel="C0APPROVALS"))

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert "not a valid approval button" in desk.told_to("U0BOB")[0]


def test_a_value_signed_for_another_request_is_refused(desk):
    action = desk.new_action()
    other = desk.new_action(path="/api/users/4")
    value = desk.signer.sign(action.id, "approve", other.request_hash)
    desk.handler.handle(Click("U0BOB", "T0TEAM", APPROVE_ACTION_ID, value, channel="C0APPROVALS"))

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert f"does not match action #{action.id}" in desk.told_to("U0BOB")[0]
    assert len(desk.refusals(action.id)) == 1


def test_a_button_for_an_action_that_does_not_exist_is_refused(desk):
    action = desk.new_action()
    value = desk.signer.sign(action.id + 99, "approve", action.request_hash)
    desk.handler.handle(Click("U0BOB", "T0TEAM", APPROVE_ACTION_ID, value, channel="C0APPROVALS"))

    assert desk.hr.sent == {}
    assert desk.told_to("U0BOB") == [f"There is no action #{action.id + 99}."]


def test_the_requester_can_withdraw_their_request(desk):
    action = desk.new_action()
    desk.click("U0DANA", action, "withdraw")

    done = desk.store.get(action.id)
    assert done.status == "withdrawn"
    assert done.decided_by == "U0DANA"
    assert desk.announcer.finished == [action.id]
    assert desk.hr.sent == {}


def test_an_approver_cannot_withdraw_someone_elses_request(desk):
    action = desk.new_action()
    desk.click("U0BOB", action, "withdraw")

    assert desk.status(action) == "pending"
    assert desk.announcer.finished == []
    assert "Only <@U0DANA> can withdraw" in desk.told_to("U0BOB")[0]
    assert len(desk.refusals(action.id)) == 1


def test_a_submitted_rejection_records_the_reason(desk):
    action = desk.new_action()
    desk.click("U0CAROL", action, "reject", reason="  dup  ", submitted=True)

    done = desk.store.get(action.id)
    assert (done.status, done.decided_by, done.reason) == ("rejected", "U0CAROL", "dup")
    assert desk.announcer.finished == [action.id]
    assert desk.hr.sent == {}
    rejected = audit.events(desk.store.database, action.id)
    assert rejected[-1].event == "rejected"
    # The audit keeps a salted hash of the reason, never the text (it cannot be purged there).
    assert rejected[-1].detail == {
        "status": "rejected",
        "reason_sha256": text_hash(done.text_salt, "dup"),
    }


def test_reject_waits_for_the_reason_modal_when_it_opens(actions):
    class ModalAnnouncer(QuietAnnouncer):
        def __init__(self) -> None:
            super().__init__()
            self.modals: list[tuple[int, str, str | None]] = []

        def open_reject_modal(self, action, trigger_id, token, channel, view_id=None) -> bool:
            self.modals.append((action.id, trigger_id, channel))
            return True

    desk = Desk(actions, announcer=ModalAnnouncer())
    action = desk.new_action()
    desk.click("U0CAROL", action, "reject", trigger_id="trig-1")

    assert desk.status(action) == "pending"
    assert desk.announcer.modals == [(action.id, "trig-1", "C0APPROVALS")]
    assert desk.announcer.finished == []


def test_reject_goes_ahead_without_a_reason_when_the_modal_cannot_open(desk):
    action = desk.new_action()
    desk.click("U0CAROL", action, "reject", trigger_id="trig-1")

    done = desk.store.get(action.id)
    assert (done.status, done.reason) == ("rejected", None)
    assert desk.announcer.finished == [action.id]


def test_a_second_approval_is_told_who_decided_and_nothing_is_sent_twice(desk):
    action = desk.new_action()
    desk.click("U0BOB", action, "approve")
    desk.click("U0CAROL", action, "approve")

    assert desk.hr.sent == {action.idempotency_key: 1}
    assert desk.announcer.finished == [action.id]
    assert desk.told_to("U0CAROL") == [f"Action #{action.id} was already succeeded by <@U0BOB>."]


def test_rejecting_an_approved_action_changes_nothing(desk):
    action = desk.new_action()
    desk.click("U0BOB", action, "approve")
    desk.click("U0CAROL", action, "reject", reason="late", submitted=True)

    done = desk.store.get(action.id)
    assert (done.status, done.reason) == ("succeeded", None)
    assert "already succeeded by <@U0BOB>" in desk.told_to("U0CAROL")[0]


def test_an_expired_action_is_not_run_and_becomes_expired(database):
    clock = Clock(start=1_800_000_000.0)
    desk = Desk(ActionStore(database, now=clock))
    action = desk.new_action(ttl_seconds=600)
    clock.advance(601)
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "expired"
    assert desk.hr.sent == {}
    assert desk.announcer.finished == [action.id]
    assert desk.told_to("U0BOB") == [f"Action #{action.id} has expired and was not run."]


def test_an_expired_action_already_swept_is_not_announced_twice(database):
    clock = Clock(start=1_800_000_000.0)
    desk = Desk(ActionStore(database, now=clock))
    action = desk.new_action(ttl_seconds=600)
    clock.advance(601)
    desk.store.expire(action.id)
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "expired"
    assert desk.hr.sent == {}
    assert desk.announcer.finished == []
    assert "was already expired" in desk.told_to("U0BOB")[0]


def test_a_two_approver_action_needs_two_different_approvers(desk):
    action = desk.new_action(approvals_required=2)

    desk.click("U0BOB", action, "approve")
    assert desk.status(action) == "pending"
    assert desk.store.get(action.id).approved_by == ("U0BOB",)
    assert desk.told_to("U0BOB") == [
        f"Your approval of action #{action.id} is recorded: 1 of 2 approvals (<@U0BOB>)."
    ]

    desk.click("U0BOB", action, "approve")
    assert desk.status(action) == "pending"
    assert desk.store.get(action.id).approved_by == ("U0BOB",)
    assert desk.told_to("U0BOB")[1].startswith(f"You have already approved action #{action.id}")
    assert desk.hr.sent == {}
    assert desk.announcer.finished == []

    desk.click("U0CAROL", action, "approve")
    done = desk.store.get(action.id)
    assert done.status == "succeeded"
    assert done.approved_by == ("U0BOB", "U0CAROL")
    assert desk.hr.sent == {action.idempotency_key: 1}
    assert desk.announcer.finished == [action.id]


def test_a_check_that_breaks_is_a_refusal_and_nothing_runs(actions):
    class BrokenDirectory(Roster):
        def includes(self, user: str) -> bool:
            raise RuntimeError("directory down")

    desk = Desk(actions, approvers=BrokenDirectory([]))
    action = desk.new_action()
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "pending"
    assert desk.hr.sent == {}
    assert desk.told_to("U0BOB") == ["This click could not be checked, so nothing was done."]
    assert len(desk.refusals()) == 1


def test_someone_whose_words_shaped_the_request_cannot_approve_it(desk):
    action = desk.new_action(contributors=["U0CAROL"])
    assert action.shaped_by == {"U0DANA", "U0CAROL"}
    desk.click("U0CAROL", action, "approve")
    assert desk.status(action) == "pending" and desk.hr.sent == {}
    assert desk.told_to("U0CAROL") == [
        f"Your words were part of the conversation that led to action #{action.id}, "
        "so another approver must approve it."
    ]
    desk.click("U0BOB", action, "approve")
    assert desk.status(action) == "succeeded"


def test_a_contributor_may_approve_when_self_approval_is_allowed(actions):
    desk = Desk(actions, allow_self_approval=True)
    action = desk.new_action(contributors=["U0CAROL"])
    desk.click("U0CAROL", action, "approve")
    assert desk.status(action) == "succeeded"


@pytest.mark.parametrize(
    ("traits", "told"),
    [
        ({"is_guest": True}, "Only active members"),
        ({"deleted": True}, "Only active members"),
        ({"is_bot": True}, "Only active members"),
        ({"is_stranger": True, "team_id": "T0OTHERORG"}, "Only active members"),
        ({"team_id": "T0OTHERORG"}, "Only active members"),
    ],
)
def test_a_clicker_who_is_not_an_active_member_changes_nothing(desk, traits, told):
    desk.people.set("U0BOB", **traits)
    action = desk.new_action()
    desk.click("U0BOB", action, "approve")
    assert desk.status(action) == "pending" and desk.hr.sent == {}
    assert told in desk.told_to("U0BOB")[0]
    assert len(desk.refusals(action.id)) == 1


def test_a_clicker_who_cannot_be_looked_up_changes_nothing(desk):
    desk.people.fails.add("U0BOB")
    action = desk.new_action()
    desk.click("U0BOB", action, "approve")
    assert desk.status(action) == "pending"
    assert "could not be checked" in desk.told_to("U0BOB")[0]


def test_one_persons_refused_clicks_on_one_card_are_told_and_audited_once_per_window(actions):
    from infra.limits import RateWindow

    desk = Desk(actions, refusals=RateWindow(1, 300))
    action = desk.new_action()
    for _ in range(15):
        desk.click("U0EVE", action, "approve")  # not an approver
    assert len(desk.told_to("U0EVE")) == 1
    assert len(desk.refusals(action.id)) == 1
    other = desk.new_action()
    desk.click("U0EVE", other, "approve")  # another card: told again
    assert len(desk.told_to("U0EVE")) == 2


def test_the_employee_a_change_is_about_cannot_approve_it(desk):
    # Bob is an approver, and employee 3 is Bob (the record's email is his Slack email).
    action = desk.new_action(fields_before={"id": 3, "email": " U0BOB@HR.example", "job": "x"})
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "pending" and desk.hr.sent == {}
    (told,) = desk.told_to("U0BOB")
    assert "changes your own HR record" in told
    assert len(desk.refusals(action.id)) == 1
    desk.click("U0CAROL", action, "approve")  # anyone else may
    assert desk.status(action) == "succeeded"


@pytest.mark.parametrize(
    ("method", "path", "before"),
    [("POST", "/api/users", None), ("PATCH", "/api/users/3", {"id": 3, "email": "x@hr.example"})],
)
def test_the_person_whose_email_the_request_gives_a_record_cannot_approve_it(
    desk, method, path, before
):
    # A create has no record yet: the new record's email is in the body; an update may set it.
    body = {"name": "Bob Builder", "email": " U0BOB@HR.example"}
    action = desk.new_action(method=method, path=path, body=body, fields_before=before)
    desk.click("U0BOB", action, "approve")

    assert desk.status(action) == "pending" and desk.hr.sent == {}
    assert "changes your own HR record" in desk.told_to("U0BOB")[0]
    desk.click("U0CAROL", action, "approve")
    assert desk.status(action) == "succeeded"


def test_a_record_without_an_email_or_someone_elses_stops_nobody(desk):
    for before in (None, {"id": 3, "job": "x"}, {"id": 3, "email": "someone@hr.example"}):
        action = desk.new_action(fields_before=before)
        desk.click("U0BOB", action, "approve")
        assert desk.status(action) == "succeeded"


def test_the_escalation_group_may_decide_a_request_only_once_it_escalated(actions):
    desk = Desk(actions, escalation=Roster(["U0GINA"]))
    action = desk.new_action()
    desk.click("U0GINA", action, "approve")
    assert desk.status(action) == "pending"
    assert "not an approver" in desk.told_to("U0GINA")[0]

    assert [a.id for a in Upkeep(actions).claim_escalation(0, "S0ESCALATE")] == [action.id]
    desk.click("U0GINA", action, "approve")
    assert desk.status(action) == "succeeded"
    assert desk.store.get(action.id).decided_by == "U0GINA"
