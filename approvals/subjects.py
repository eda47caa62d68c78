"""The person a change is about takes no part in it: no decision of any kind (approve, reject,
edit, reassign), no details, no copy of the card, never a reassignment target or an escalation
recipient. Who that is, is told by email: the record's (its snapshot, or the email the request
gives it) against the person's Slack profile email and, with per-user HR access, the email of
their linked HR account. It fails closed: when the person cannot be checked (no email known, a
lookup that failed), they are treated as possibly the subject."""

from __future__ import annotations

from approvals.authority import Authority, SharedToken
from approvals.records import PendingAction, about
from infra.people import Directory, LookupFailed, Person


def subject_emails(action: PendingAction) -> list[str]:
    """The emails that tell whom `action` is about: its record's as it was when the card was
    made, and the one the request gives a record; none when it carries neither."""
    body = action.body if isinstance(action.body, dict) else {}
    found = ((action.fields_before or {}).get("email"), body.get("email"))
    return [e.strip().lower() for e in found if isinstance(e, str) and e.strip()]


class Subjects:
    def __init__(self, people: Directory, authority: Authority | None = None) -> None:
        self.people = people
        self.authority = authority or SharedToken()

    def emails(self, user: str, person: Person | None = None) -> set[str] | None:
        """Every email known for `user` (Slack profile, linked HR account); None when the
        lookup failed."""
        try:
            person = person or self.people.get(user)
        except LookupFailed:
            return None
        known = {person.email} if person.email else set()
        linked = self.authority.email(user)
        if linked and linked.strip():
            known.add(linked.strip().lower())
        return known

    def problem(
        self, action: PendingAction, user: str, *, person: Person | None = None, you: bool = True
    ) -> str | None:
        """None when `user` may take part in `action`; else why not, for them (`you`) or for
        the colleague choosing them."""
        if not subject_emails(action):
            return None  # a request that names no one's email is about no one we can tell
        emails = self.emails(user, person)
        whose = "your own" if you else "their own"
        if emails is None or not emails:
            why = "could not be checked just now" if emails is None else "has no email to check"
            account = "Your account" if you else "Their account"
            return (
                f"{account} {why}, so it cannot be told whether action #{action.id} changes "
                f"{whose} HR record; another approver must decide it."
            )
        if any(about(action, email) for email in emails):
            return (
                f"Action #{action.id} changes {whose} HR record, so "
                f"{'you take' if you else 'they take'} no part in deciding it; another approver "
                "must decide it."
            )
        return None

    def excluded(self, action: PendingAction, user: str) -> bool:
        """Whether `user` is (or may be) the person `action` is about: no card for them."""
        return self.problem(action, user) is not None
