"""App Home: each person's own page in the bot's Home tab (what waits for them as an approver,
their requests, their HR-account link, how approvals are going), published when they open it
and again, in the background, whenever something changes for them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils
import structlog
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlite_utils import Migrations

from approvals import ActionStore, PendingAction, TokenSigner
from approvals import stats as figures
from approvals.records import TERMINAL
from approvals.slack import home_blocks as view
from approvals.slack.clicks import Click
from approvals.slack.home_blocks import BATCH_APPROVE_ID
from approvals.subjects import Subjects
from infra.db import Database, Schema
from infra.people import Directory
from infra.roster import Roster, RosterLookupFailed

log = structlog.get_logger(__name__)

STATS_DAYS = 30
OUTCOMES_SHOWN = 5
RESULTS_KEPT = 600
MAX_REFRESHED = 500  # pages refreshed for one change of one action
NOT_FOR_YOU = "This app answers HR questions for members of this workspace."

# Who has opened the Home tab: only their views are kept up to date when something changes
# (publishing to everyone on every change would be calls for pages nobody reads).
migrations = Migrations("home")


@migrations()
def create_home_viewers(db: sqlite_utils.Database) -> None:
    db["home_viewers"].create({"user": str, "opened_at": float}, pk="user", not_null={"opened_at"})


@migrations()
def home_viewers_shown(db: sqlite_utils.Database) -> None:
    # The actions each viewer's last page showed, as ",1,5,": they see them go, whoever they
    # are by then (an approver no longer, say), across restarts and replicas.
    db["home_viewers"].add_column("shown", str)


POSTGRES = (
    (
        "create_home_viewers",
        'CREATE TABLE home_viewers ("user" TEXT PRIMARY KEY, opened_at DOUBLE PRECISION NOT NULL);',
    ),
    ("home_viewers_shown", "ALTER TABLE home_viewers ADD COLUMN shown TEXT;"),
)

tables = Schema("home", migrations, POSTGRES)


class HomeViewers:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, user: str, at: float) -> None:
        with self.database.immediate() as db:
            db.execute(
                'INSERT INTO home_viewers ("user", opened_at) VALUES (?, ?) '
                'ON CONFLICT ("user") DO UPDATE SET opened_at = excluded.opened_at',
                (user, at),
            )

    def all(self) -> list[str]:
        return [row[0] for row in self.database.execute('SELECT "user" FROM home_viewers')]

    def showing(self, user: str, action_ids: set[int]) -> None:
        """The actions `user`'s page shows now."""
        shown = "," + "".join(f"{i}," for i in sorted(action_ids))
        with self.database.immediate() as db:
            db.execute('UPDATE home_viewers SET shown = ? WHERE "user" = ?', (shown, user))

    def showed(self, action_id: int) -> list[str]:
        """The viewers whose last page showed the action."""
        rows = self.database.execute(
            'SELECT "user" FROM home_viewers WHERE shown LIKE ?', (f"%,{int(action_id)},%",)
        )
        return [row[0] for row in rows]


class Home:
    """`approvers` (and `escalation`, for escalated actions) say who may decide; `problem(user)`
    says why someone is not an active full member (they see no HR data at all);
    `account_section(user)` is the page's part about their own HR account, if any."""

    def __init__(
        self,
        client: WebClient,
        actions: ActionStore,
        signer: TokenSigner,
        people: Directory,
        *,
        approvers: Roster,
        escalation: Roster | None,
        problem: Callable[[str], str | None],
        account_section: Callable[[str], list[dict[str, Any]]] | None = None,
        now: Callable[[], float] = time.time,
        subjects: Subjects | None = None,
    ) -> None:
        self.client = client
        self.subjects = subjects or Subjects(people)  # whom each action is about
        self.actions = actions
        self.signer = signer
        self.people = people
        self.approvers = approvers
        self.escalation = escalation
        self.problem = problem
        self.account_section = account_section
        self.now = now
        self._dirty: set[str] = set()
        self._shown: dict[str, set[int]] = {}  # what was last written for each page
        self._results: dict[str, tuple[list[str], float]] = {}
        self._wake = threading.Condition()
        self._publishing = threading.Lock()
        self._stopping = False
        self._worker = threading.Thread(target=self._refresh_loop, name="home", daemon=True)
        self._worker.start()

    @property
    def database(self) -> Database:
        return self.actions.database

    # --- publishing ----------------------------------------------------------------------

    def opened(self, user: str) -> None:
        """`user` opened the Home tab: remember them, and show them their page."""
        HomeViewers(self.database).add(user, self.now())
        self.publish(user)

    def publish(self, user: str, results: Sequence[str] = ()) -> None:
        """`results`: a batch's lines, kept on the page for RESULTS_KEPT seconds, through the
        refreshes its own approvals cause (this process's; the DM has them too)."""
        # One page made and sent at a time: a refresh made before a batch's results were kept
        # never lands after the page that shows them.
        with self._publishing:
            if results:
                now = self.now()
                self._results = {
                    u: r for u, r in self._results.items() if now - r[1] < RESULTS_KEPT
                }
                self._results[user] = (list(results), now)
            kept, at = self._results.get(user, ([], 0.0))
            results = kept if self.now() - at < RESULTS_KEPT else []
            try:
                blocks = self.blocks(user, results)
                self.client.views_publish(user_id=user, view={"type": "home", "blocks": blocks})
            except SlackApiError as e:
                log.warning("home.publish_failed", user=user, error=e.response.get("error"))

    def blocks(self, user: str, results: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The page `user` sees now. Nobody but an active full member sees any HR data."""
        if self.problem(user) is not None:
            self._showing(user, [])
            return [{"type": "section", "text": {"type": "mrkdwn", "text": NOT_FOR_YOU}}]
        now = self.now()
        waiting: list[PendingAction] = []
        pending = self.actions.in_states("pending")
        approver = self._is(self.approvers, user)
        escalated_to = self.escalation is not None and self._is(self.escalation, user)
        blocks = view.results(results) if results else []
        if approver or escalated_to:
            waiting = [
                a
                for a in pending
                if a.expires_at > now
                and user not in a.shaped_by
                and user not in a.approved_by
                and not self.subjects.excluded(a, user)  # their own record, or unchecked
                and (approver or a.escalated_at is not None)
            ]
            waiting.sort(key=lambda a: (a.expires_at, a.id))
            blocks += view.waiting(waiting, self._sign, now)
        mine = [a for a in pending if a.requester == user]
        finished = self._finished(user)
        blocks += view.your_requests(mine, finished, self._sign)
        self._showing(user, [*waiting, *mine, *finished])
        if self.account_section is not None:
            blocks += self.account_section(user)
        if approver:
            since = now - STATS_DAYS * 86400
            stats = figures.compute(self.database, since=since, until=now + 1)
            blocks += view.how_it_goes(stats, user, STATS_DAYS)
        return blocks

    def _showing(self, user: str, actions: Sequence[PendingAction]) -> None:
        """Remember what `user`'s page shows (written only when it differs)."""
        shown = {a.id for a in actions}
        with self._wake:
            if self._shown.get(user) == shown:
                return
            self._shown[user] = shown
        HomeViewers(self.database).showing(user, shown)

    def _sign(self, action: PendingAction, decision: str) -> str:
        return self.signer.sign(action.id, decision, action.request_hash)

    @staticmethod
    def _is(roster: Roster, user: str) -> bool:
        try:
            return roster.includes(user)
        except RosterLookupFailed:
            return False  # in doubt, no approver's page

    def _finished(self, user: str) -> list[PendingAction]:
        ended = tuple(sorted(TERMINAL))
        rows = self.database.execute(
            f"SELECT id FROM actions WHERE requester = ? AND status IN "
            f"({', '.join('?' * len(ended))}) ORDER BY id DESC LIMIT ?",
            (user, *ended, OUTCOMES_SHOWN),
        ).fetchall()
        return [self.actions.get(row[0]) for row in rows]

    # --- keeping views up to date --------------------------------------------------------

    def changed(self, action: PendingAction) -> None:
        """Something about `action` changed: refresh, in the background (each refresh
        coalesced), the pages of the people it concerns who have opened the tab: its
        approvers, its requester and those whose words shaped it, its escalation group once
        escalated, and whoever's last page showed it (an approver no longer, say, sees its
        HR data go). Never everyone who ever opened the tab; at most MAX_REFRESHED."""
        concerned = {action.requester, *action.shaped_by}
        rosters = [self.approvers]
        if action.escalated_at is not None and self.escalation is not None:
            rosters.append(self.escalation)
        for roster in rosters:
            try:
                concerned |= roster.members()
            except RosterLookupFailed:
                log.warning("home.roster_unreadable", action_id=action.id)
        viewers = HomeViewers(self.database)
        concerned |= set(viewers.showed(action.id))
        viewers = sorted(concerned & set(viewers.all()))
        if len(viewers) > MAX_REFRESHED:
            log.warning("home.refresh_capped", action_id=action.id, concerned=len(viewers))
        self.refresh(*viewers[:MAX_REFRESHED])

    def refresh(self, *users: str) -> None:
        with self._wake:
            self._dirty.update(users)
            self._wake.notify()

    def _refresh_loop(self) -> None:
        while True:
            with self._wake:
                while not self._dirty and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                user = self._dirty.pop()
            try:
                self.publish(user)
            except Exception:  # one person's view never stops the others'
                log.exception("home.refresh_failed", user=user)

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._worker.join(timeout=5)


def register(app: App, home: Home, take: Callable[[Click], bool]) -> None:
    """The Home tab opened → the person's page. The batch button → one Click carrying the
    ticked values, queued for the click pool like any click (`take`)."""

    @app.event("app_home_opened")
    def on_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab") == "home" and isinstance(user, str) and user:
            home.opened(user)

    @app.action(view.BATCH_SELECT_ID)
    def on_tick(ack: Ack) -> None:
        ack()  # ticking changes nothing until the batch button is pressed

    @app.action(view.BATCH_APPROVE_ID)
    def on_batch(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
        ticked = (values.get(view.BATCH_BLOCK_ID) or {}).get(view.BATCH_SELECT_ID) or {}
        chosen = [
            o.get("value") for o in ticked.get("selected_options") or [] if isinstance(o, dict)
        ]
        user = (body.get("user") or {}).get("id", "")
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        trigger = body.get("trigger_id") if isinstance(body.get("trigger_id"), str) else None
        click = Click(user, team, view.BATCH_APPROVE_ID, json.dumps(chosen), trigger_id=trigger)
        if not take(click):
            log.warning("click.dropped", user=user)

    @app.view(view.BATCH_CONFIRM_ID)
    def on_batch_confirmed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The modal naming each delete of a batch, submitted: the batch it carries runs, each
        item checked as if clicked alone."""
        ack()
        user = (body.get("user") or {}).get("id", "")
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        carried = view.get("private_metadata") or "[]"
        click = Click(user, team, BATCH_APPROVE_ID, carried, submitted=True)
        if not take(click):
            log.warning("click.dropped", user=user)
