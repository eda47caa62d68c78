"""GET /readyz: whether this replica can do its work, for a load balancer or a Kubernetes
readiness probe (GET /healthz only says the process is alive).

Ready means: the database answers, Slack accepted the bot token (`auth.test`, checked at start
and again in the background at most every SLACK_EVERY seconds), and the HR API answered lately
(any HTTP answer within HR_WITHIN seconds: the bot's own requests count; when it has asked
nothing for that long, a background GET / of its own, at most one at a time). One failed request
does not take a replica out of rotation: only no answer at all for HR_WITHIN seconds does; nor
does Slack being briefly unreachable (only Slack refusing the token). A probe never waits: every
check runs in the background, one at a time, and the probe reads what was last found (a
database check still unanswered after DATABASE_HUNG seconds makes it not ready). Each reason is
one line, without hosts, tokens or anything from a person."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import structlog
from slack_sdk.errors import SlackApiError

log = structlog.get_logger(__name__)

SLACK_EVERY = 60.0
HR_WITHIN = 60.0
DATABASE_EVERY = 2.0  # a burst of probes reads the database once
DATABASE_HUNG = 5.0


class HRHealth(Protocol):
    reachable_at: float | None
    unreachable_at: float | None

    def probe(self) -> str | None: ...


class Readiness:
    def __init__(
        self,
        database_answers: Callable[[], None],
        slack_check: Callable[[], None],
        hr: HRHealth,
        *,
        clock: Callable[[], float] = time.monotonic,
        background: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """`database_answers` and `slack_check` raise when they fail; `hr` is the HR client
        (it notes when the HR API last answered). Slack's token was accepted at start-up (the
        app is not built otherwise). `background` runs a check off the probe's thread."""
        self.database_answers = database_answers
        self.slack_check = slack_check
        self.hr = hr
        self.clock = clock
        self.background = background or _thread
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._database: tuple[float, str | None] | None = None
        self._database_asked: float | None = None  # when the check under way began
        self._slack: tuple[float, str | None] = (clock(), None)
        self._hr_probe: tuple[float, str | None] | None = None

    def problem(self) -> str | None:
        """None when ready, else why not (one line)."""
        return self._database_problem() or self._slack_problem() or self._hr_problem()

    def _database_problem(self) -> str | None:
        now = self.clock()
        asked = self._database_asked
        if asked is not None and now - asked >= DATABASE_HUNG:
            return f"the database does not answer (no answer within {DATABASE_HUNG:g} s)"
        found = self._database
        if found is None or now - found[0] >= DATABASE_EVERY:
            self._in_background("database", self._check_database)
            found = self._database  # a check that ran at once (or none yet)
        if found is None:
            return "the database has not been checked yet"
        return found[1]

    def _check_database(self) -> None:
        self._database_asked = self.clock()
        try:
            self.database_answers()
            found = None
        except Exception as e:  # any failure: not ready, and say which part
            found = f"the database does not answer ({type(e).__name__})"
        self._database = (self.clock(), found)
        self._database_asked = None

    def _slack_problem(self) -> str | None:
        checked, found = self._slack
        if self.clock() - checked >= SLACK_EVERY:
            self._in_background("slack", self._check_slack)
        return found

    def _check_slack(self) -> None:
        """Not ready only when Slack answered and refused the token; when Slack could not be
        reached, the last answer stands (every replica would fail alike) and it is tried again
        at the next window."""
        found = self._slack[1]
        try:
            self.slack_check()
            found = None
        except SlackApiError as e:
            error = e.response.get("error") if e.response is not None else None
            found = f"Slack refused the bot token ({error or 'no reason given'})"
            log.warning("readiness.slack_failed", error=error)
        except Exception as e:
            log.warning("readiness.slack_unreachable", error=type(e).__name__)
        self._slack = (self.clock(), found)

    def _hr_problem(self) -> str | None:
        now = self.clock()
        answered, failed = self.hr.reachable_at, self.hr.unreachable_at
        if answered is not None and now - answered < HR_WITHIN:  # the bot's own requests tell
            return None
        if failed is not None and now - failed < HR_WITHIN and answered is not None:
            return f"the HR API has not answered for {HR_WITHIN:g} s"
        probed = self._hr_probe
        if probed is None or now - probed[0] >= HR_WITHIN:  # nothing lately: look, off this thread
            self._in_background("hr", self._probe_hr)
        if probed is None:
            return "the HR API has not been reached yet"
        return probed[1]

    def _probe_hr(self) -> None:
        found = self.hr.probe()
        if found:
            log.warning("readiness.hr_unreachable", why=found)
        self._hr_probe = (self.clock(), found)

    def _in_background(self, name: str, check: Callable[[], None]) -> None:
        """Run `check` once at a time, off the probe's thread."""
        with self._lock:
            if name in self._running:
                return
            self._running.add(name)

        def run() -> None:
            try:
                check()
            except Exception:  # a check that broke: logged, tried again by a later probe
                log.exception("readiness.check_failed", check=name)
            finally:
                with self._lock:
                    self._running.discard(name)

        self.background(run)

    def application(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """GET /readyz as a WSGI app: 200 "ready", or 503 and the one-line reason."""
        problem = self.problem()
        body = f"not ready: {problem}\n" if problem else "ready\n"
        status = "503 Service Unavailable" if problem else "200 OK"
        encoded = body.encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(encoded)))]
        start_response(status, [*headers, ("Cache-Control", "no-store")])
        return [encoded]


def _thread(run: Callable[[], None]) -> None:
    threading.Thread(target=run, name="readiness", daemon=True).start()
