"""`python -m dev.flows`: how far a message and a click travel through the app's own code.

Two flows run on the real app, in process, against the sandbox HR API, the scripted model and
the fake Slack: an HR rep's DM asking to change Janet Weaver's job, from the moment its signed
request enters Bolt until the approval card is posted; then an approver's Approve on that card,
until the HR write has run and the card is updated (`--whole`: on until the app is idle again,
counting everything each flow set off). `--list` adds the modules each flow visits.

A profile hook on every thread sees each call. A module is the file its code is in: any .py
under bot/, approvals/ or infra/ (`infra/db.py`), so the numbers mean the same after code
moves. A call's caller is the nearest app module up its thread's stack, or outside the app (Bolt,
a pool's worker thread) when there is none; a generator's resumption is not another call."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any
from urllib.parse import urlencode

import structlog
from slack_bolt.request import BoltRequest

# The app's entry points: the only lines that depend on where the app's code lives.
from bot.app import build
from bot.config import load as load_config
from sandbox import HRSandbox
from sandbox.fake_slack import FakeSlack
from sandbox.scripted_model import ScriptedModel, tool_calls
from sandbox.slack_requests import click_payload, dm_event, event_body, signed_headers

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("bot", "approvals", "infra")
NOT_APP = {"tests", "sandbox", "dev", "site-packages"}
SIGNING_SECRET = "flows-signing-secret"
REQUESTER, APPROVER = "U0DANA", "U0BOB"
APPROVAL_CHANNEL = "C0APPROVALS"
JANET = 2  # Janet Weaver, in the sandbox's seed
FLOW_SECONDS = 20.0
FORM = "application/x-www-form-urlencoded"
# Generators and coroutines: entered once, then resumed; a resumption is not a call.
RESUMABLE = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR


class FlowFailed(Exception):
    """A flow did not reach its end; its numbers would mean nothing."""


@dataclass(frozen=True)
class Call:
    """One call into an app module; `caller` is the nearest app module up the calling thread's
    stack, None when the call came from outside the app (Bolt, a pool's worker thread)."""

    caller: str | None
    callee: str


def app_module(filename: str) -> str | None:
    """`bot/app.py` for a file of the app's packages; None for anything else."""
    try:
        parts = Path(filename).resolve().relative_to(ROOT).parts
    except (ValueError, OSError):
        return None
    if len(parts) < 2 or parts[0] not in APP_PACKAGES or not parts[-1].endswith(".py"):
        return None
    return None if NOT_APP.intersection(parts) else "/".join(parts)


def import_app() -> None:
    """Import every app module now, so no module's first import runs inside a window. Entry
    scripts (`__main__.py`) are left out: the app never imports them."""
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.stem == "__main__" or app_module(str(path)) is None:
                continue
            dotted = path.relative_to(ROOT).with_suffix("").parts
            module = importlib.import_module(".".join(dotted).removesuffix(".__init__"))
            if app_module(module.__file__ or "") is None:
                raise FlowFailed(f"{module.__name__} comes from {module.__file__}, not {ROOT}")


class Recorder:
    """Sees every call in every thread (a profile hook set before the app starts its threads)
    and keeps, while on, the calls into app modules."""

    def __init__(self) -> None:
        self._on = False
        self._calls: list[Call] = []
        self._entered: set[FrameType] = set()  # held, so no frame id is reused meanwhile
        self._modules: dict[str, str | None] = {}

    def install(self) -> None:
        threading.setprofile(self._profile)

    def uninstall(self) -> None:
        threading.setprofile(None)  # threads started from now on; the others see it is off
        sys.setprofile(None)

    def start(self) -> None:
        self._calls, self._entered = [], set()
        sys.setprofile(self._profile)  # this thread: the request enters Bolt here
        self._on = True

    def stop(self) -> None:
        self._on = False

    def calls(self) -> list[Call]:
        return list(self._calls)

    def _module(self, code: CodeType) -> str | None:
        try:
            return self._modules[code.co_filename]
        except KeyError:
            name = self._modules[code.co_filename] = app_module(code.co_filename)
            return name

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self._on or event != "call":
            return
        callee = self._module(frame.f_code)
        if callee is None or frame.f_code.co_name == "<module>":
            return
        if frame.f_code.co_flags & RESUMABLE:
            if frame in self._entered:
                return
            self._entered.add(frame)
        caller, up = None, frame.f_back
        while up is not None and (caller := self._module(up.f_code)) is None:
            up = up.f_back
        self._calls.append(Call(caller, callee))


def app_stacks() -> dict[int, tuple[CodeType, ...]]:
    """The app code each thread but this one is in, outermost first."""
    stacks = {}
    for thread, frame in sys._current_frames().items():
        codes: list[CodeType] = []
        while frame is not None:
            if app_module(frame.f_code.co_filename) is not None:
                codes.insert(0, frame.f_code)
            frame = frame.f_back
        if codes and thread != threading.get_ident():
            stacks[thread] = tuple(codes)
    return stacks


def settled_stacks(seconds: float = 5.0) -> dict[int, tuple[CodeType, ...]]:
    """app_stacks() once two looks in a row agree: the threads just started have got to where
    they wait."""
    deadline = time.monotonic() + seconds
    seen = app_stacks()
    while time.monotonic() < deadline:
        time.sleep(0.01)
        seen, before = app_stacks(), seen
        if seen == before:
            return seen
    raise FlowFailed("the app's threads never settled")


class WatchedSlack(FakeSlack):
    """The fake Slack Web API, telling `on_answer(method, answer)` of each call it answered
    before the app hears back: a window closes on exactly the call that ends its flow."""

    on_answer: Callable[[str, dict[str, Any]], None] | None = None

    def handle(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict]:
        status, answer = super().handle(method, token, args)
        if self.on_answer is not None:
            self.on_answer(method, answer)
        return status, answer


def signed(body: str, content_type: str) -> BoltRequest:
    headers = {"Content-Type": content_type, **signed_headers(body.encode(), secret=SIGNING_SECRET)}
    return BoltRequest(body=body, headers=headers)


def is_card(blocks: list[dict[str, Any]] | None) -> bool:
    header = (blocks or [{}])[0]
    return header.get("type") == "header" and header["text"]["text"].startswith("Approval needed")


def approve_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The button a person reads as Approve."""
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == "Approve":
                return element
    raise FlowFailed("the card has no Approve button")


@contextlib.contextmanager
def running_app() -> Iterator[tuple[Any, WatchedSlack, ScriptedModel, Any]]:
    """The app built as the tests build it, on the sandbox HR API, a scripted model and the fake
    Slack (all on loopback threads); everything closed again afterwards."""
    with contextlib.ExitStack() as closing:
        folder = Path(closing.enter_context(tempfile.TemporaryDirectory()))
        hr = closing.enter_context(HRSandbox(folder / "hr.sqlite3"))
        model = closing.enter_context(ScriptedModel())
        slack = closing.enter_context(WatchedSlack())
        env = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "OPENAI_API_KEY": "flows-key",
            "OPENAI_BASE_URL": model.url,
            "OPENAI_MAX_RETRIES": "0",
            "OPENAI_MODEL": "scripted",
            "TOOLS": "typed",
            "HR_API_URL": hr.url,
            "REQUESTERS": "U0DANA,U0ALICE",
            "APPROVERS": "U0BOB,U0CAROL,U0ALICE",
            "APPROVAL_CHANNEL": APPROVAL_CHANNEL,
            "APPROVAL_SECRET": "s" * 40,
            "DATABASE_PATH": str(folder / "bot.sqlite3"),
        }
        app = build(load_config(env, env_file=None))
        closing.callback(app.close)
        yield app, slack, model, hr


class Session:
    """The running app with a recorder on it: each `trace` is one flow's window."""

    def __init__(self, app: Any, slack: WatchedSlack, recorder: Recorder, *, whole: bool) -> None:
        """`whole`: a window stays open until the app is idle again, not just until the flow's
        own end (everything the flow set off is counted then)."""
        self.app = app
        self.slack = slack
        self.recorder = recorder
        self.whole = whole
        self.parked = settled_stacks()  # the workers the app started, waiting for work

    def trace(
        self, request: BoltRequest, ends: Callable[[str, dict[str, Any]], bool]
    ) -> list[Call]:
        """The calls made from the moment `request` enters Bolt until Slack answers the call
        that `ends` picks; then waits until the app is idle, so nothing spills into the next."""
        ended = threading.Event()

        def on_answer(method: str, answer: dict[str, Any]) -> None:
            if not ended.is_set() and answer.get("ok") and ends(method, answer):
                if not self.whole:
                    self.recorder.stop()  # before the app hears back: nothing after is counted
                ended.set()

        self.slack.on_answer = on_answer
        self.recorder.start()
        try:
            self.app.bolt.dispatch(request)
            if not ended.wait(FLOW_SECONDS):
                calls = [c.method for c in self.slack.calls]
                raise FlowFailed(f"the flow did not reach its end; Slack saw {calls}")
            self.wait_until_idle()
        finally:
            self.recorder.stop()
            sys.setprofile(None)
            self.slack.on_answer = None
        return self.recorder.calls()

    def wait_until_idle(self, seconds: float = 10.0) -> None:
        """Until no thread runs app code but the workers waiting where they were parked."""
        deadline = time.monotonic() + seconds
        while {t: s for t, s in app_stacks().items() if self.parked.get(t) != s}:
            if time.monotonic() > deadline:
                raise FlowFailed("the app was still busy after the flow")
            time.sleep(0.01)


def measure(*, whole: bool = False) -> dict[str, list[Call]]:
    """Both flows on one app: the DM that holds a change to Janet's job, then its Approve."""
    import_app()
    recorder = Recorder()
    recorder.install()  # before the app starts a thread
    try:
        with running_app() as (app, slack, model, hr):
            session = Session(app, slack, recorder, whole=whole)
            change = json.dumps({"employee": "Janet Weaver", "job": "CTO"})
            model.add(tool_calls(("update_employee", change)))
            message = json.dumps(event_body(dm_event(REQUESTER, "change Janet's job to CTO")))
            dm = session.trace(
                signed(message, "application/json"),
                lambda method, answer: (
                    method == "chat.postMessage" and is_card(answer["message"]["blocks"])
                ),
            )
            (action,) = app.actions.in_states("pending")
            if (action.path, action.body) != (f"/api/users/{JANET}", {"job": "CTO"}):
                raise FlowFailed(f"held {action.method} {action.path} {action.body}")
            (card,) = [m for m in slack.messages.values() if is_card(m.blocks)]
            button, card_at = approve_button(card.blocks), (card.channel, card.ts)
            payload = click_payload(
                APPROVER,
                button["action_id"],
                button["value"],
                channel=card.channel,
                message_ts=card.ts,
            )
            click = session.trace(
                signed(urlencode({"payload": json.dumps(payload)}), FORM),
                lambda method, answer: (
                    method == "chat.update" and (answer["channel"], answer["ts"]) == card_at
                ),
            )
            status = app.actions.get(action.id).status
            if status != "succeeded" or hr.directory.get(JANET)["job"] != "CTO":
                raise FlowFailed(f"the approved action ended {status}")
            model.assert_consumed()
    finally:
        recorder.uninstall()
    return {"dm": dm, "click": click}


def package(module: str | None) -> str:
    """The top-level package of `approvals/slack/cards.py`: approvals."""
    return (module or "").split("/", 1)[0]


@dataclass(frozen=True)
class Flow:
    """What one flow's calls add up to."""

    name: str
    calls: tuple[Call, ...]

    @property
    def modules(self) -> Counter[str]:
        """Each module visited, with the calls it took."""
        return Counter(call.callee for call in self.calls)

    @property
    def between(self) -> list[Call]:
        """The calls from one app module into another."""
        return [c for c in self.calls if c.caller is not None and c.caller != c.callee]

    def crossings(self, *packages: str) -> int:
        """Calls from one top-level package into another (between two of `packages`, if given)."""
        return sum(
            package(c.caller) != package(c.callee)
            and (not packages or {package(c.caller), package(c.callee)} <= set(packages))
            for c in self.between
        )

    @property
    def approvals_to_bot(self) -> Counter[tuple[str, str]]:
        """The calls from approvals/ into bot/, by (caller, callee)."""
        return Counter(
            (c.caller or "", c.callee)
            for c in self.between
            if package(c.caller) == "approvals" and package(c.callee) == "bot"
        )

    def row(self) -> tuple[str | int, ...]:
        return (
            self.name,
            len(self.modules),
            len(self.between),
            self.crossings("bot", "approvals"),
            self.crossings(),
            self.approvals_to_bot.total(),
        )


COLUMNS = (
    "flow",
    "modules",
    "inter-module calls",
    "bot<->approvals crossings",
    "all package crossings",
    "approvals->bot calls",
)


def table(rows: list[tuple[str | int, ...]]) -> str:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def visited(flow: Flow) -> str:
    """The modules `flow` visited, each with the calls it took and how many of those came
    from outside the app (Bolt, a worker thread)."""
    outside = Counter(c.callee for c in flow.calls if c.caller is None)
    rows: list[tuple[str | int, ...]] = [("module", "calls", "from outside")]
    rows += [(m, n, outside[m] or "") for m, n in sorted(flow.modules.items())]
    return f"{flow.name}: {len(flow.modules)} modules\n" + table(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.flows", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--list", action="store_true", help="the modules each flow visits")
    parser.add_argument(
        "--whole",
        action="store_true",
        help="count on until the app is idle again, past the card (everything the flow set off)",
    )
    options = parser.parse_args(argv)
    # Warnings and errors only, on stderr, so the table stays readable; the app's own log
    # processors (python -m bot's redaction) are not configured, as in the tests.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    try:
        flows = [Flow(name, tuple(calls)) for name, calls in measure(whole=options.whole).items()]
    except FlowFailed as e:
        print(f"flows: {e}", file=sys.stderr)
        return 1
    print(table([COLUMNS, *(flow.row() for flow in flows)]))
    for flow in flows:
        for (caller, callee), count in sorted(flow.approvals_to_bot.items()):
            print(f"{flow.name}: approvals -> bot: {caller} -> {callee} ({count})")
    if options.list:
        for flow in flows:
            print("\n" + visited(flow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
