"""How approvals are going, read from the audit trail (the record every step already writes):
outcomes, time to decision, expiries and each approver's load. `python -m approvals stats`."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from approvals import audit
from infra.db import Reader

DECISIONS = ("approved", "rejected")


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile (p in 0..100) of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


@dataclass
class ApproverLoad:
    approvals: int = 0  # votes, the deciding one included
    rejections: int = 0
    seconds_to_act: list[float] = field(default_factory=list)

    @property
    def median_seconds(self) -> float | None:
        return percentile(self.seconds_to_act, 50)


@dataclass
class Stats:
    requested: int
    outcomes: dict[str, int]  # each action's status now
    decision_seconds: list[float]  # request to approval or rejection
    expired: int
    approvers: dict[str, ApproverLoad]

    @property
    def median_decision_seconds(self) -> float | None:
        return percentile(self.decision_seconds, 50)

    @property
    def p90_decision_seconds(self) -> float | None:
        return percentile(self.decision_seconds, 90)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "outcomes": self.outcomes,
            "decided": len(self.decision_seconds),
            "median_decision_seconds": self.median_decision_seconds,
            "p90_decision_seconds": self.p90_decision_seconds,
            "expired": self.expired,
            "approvers": {
                who: {
                    "approvals": load.approvals,
                    "rejections": load.rejections,
                    "median_seconds_to_act": load.median_seconds,
                }
                for who, load in sorted(self.approvers.items())
            },
        }


def compute(db: Reader, since: float | None = None, until: float | None = None) -> Stats:
    """Figures for the actions requested within [since, until)."""
    within, params = audit.between(since, until)
    sql = "SELECT action_id, at FROM audit WHERE event = 'requested'" + within
    asked = {row[0]: row[1] for row in db.execute(sql, params).fetchall()}
    outcomes: Counter[str] = Counter()
    for row in db.execute("SELECT id, status FROM actions").fetchall():
        if row[0] in asked:
            outcomes[row[1]] += 1
    decision_seconds, expired = [], 0
    approvers: dict[str, ApproverLoad] = {}
    steps = db.execute(
        "SELECT action_id, event, actor, at FROM audit WHERE event IN "
        "('approval_vote', 'approved', 'rejected', 'expired') ORDER BY id"
    ).fetchall()
    for action_id, event, actor, at in steps:
        if action_id not in asked:
            continue
        waited = at - asked[action_id]
        if event == "expired":
            expired += 1
            continue
        if event in DECISIONS:
            decision_seconds.append(waited)
        load = approvers.setdefault(actor or "?", ApproverLoad())
        if event == "rejected":
            load.rejections += 1
        else:
            load.approvals += 1
        load.seconds_to_act.append(waited)
    return Stats(len(asked), dict(outcomes), decision_seconds, expired, approvers)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def report(stats: Stats) -> list[str]:
    """The summary as lines of text (the CLI's output, and an approver's App Home)."""
    lines = [f"requests: {stats.requested}"]
    lines += [f"  {status}: {count}" for status, count in sorted(stats.outcomes.items())]
    lines.append(
        f"decided: {len(stats.decision_seconds)}, time to decision median "
        f"{duration(stats.median_decision_seconds)}, p90 {duration(stats.p90_decision_seconds)}"
    )
    lines.append(f"expired without a decision: {stats.expired}")
    if stats.approvers:
        lines.append("approver            approvals  rejections  median time to act")
        for who, load in sorted(stats.approvers.items()):
            lines.append(
                f"{who:<19} {load.approvals:>9}  {load.rejections:>10}  "
                f"{duration(load.median_seconds)}"
            )
    return lines
