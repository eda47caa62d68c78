"""Who decides an action: the approver group, or, where the catalogue says so, the manager of
the person the change is about, as the HR data named them when it was held (found in Slack by
their email). The group decides instead when there is no manager, when the manager has no Slack
account to be found, or when the manager asked for the change or shaped it. A manager is checked
against the HR data again when they decide: one who no longer manages the person decides
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from approvals.records import PendingAction
from infra.people import Directory, LookupFailed


class Deciders:
    def __init__(self, people: Directory) -> None:
        self.people = people

    def manager(self, action: PendingAction) -> str | None:
        """The Slack user of the manager who decides `action`; None: the approver group does."""
        email = (action.manager or {}).get("email")
        if not isinstance(email, str) or not email.strip():
            return None
        try:
            user = self.people.by_email(email.strip())
        except LookupFailed:
            return None  # cannot be found now: the group, rather than no one
        if user is None or user in action.shaped_by:
            return None
        return user


def manager_problem(
    action: PendingAction, current: Callable[[PendingAction], dict[str, Any] | None] | None
) -> str | None:
    """None when the HR data still names `action`'s manager as the person's manager; else why
    not, for them. `current` reads the manager as the HR data has them now."""
    if current is None or not action.manager:
        return None
    now = current(action)
    then = str(action.manager.get("email") or "").strip().lower()
    if now is None or str(now.get("email") or "").strip().lower() != then:
        who = action.manager.get("name") or "you"
        return (
            f"The HR data no longer names {who} as the manager of the person action "
            f"#{action.id} is about (or could not be read just now), so it is unchanged."
        )
    return None
