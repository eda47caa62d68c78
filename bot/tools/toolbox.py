"""The tools the model can call, and the gate that turns every write into a pending action."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import structlog

from approvals import ActionStore, PendingAction, Thread
from approvals.authority import Authority, NotConnected, SharedToken
from approvals.records import TooManyPending, record_id
from bot.hr.client import HRClient, HRError, HRResponse
from bot.tools.arguments import BadArguments, parse_arguments
from bot.tools.budget import HRBudget, MeteredHR, OverBudget
from bot.tools.catalogue import Catalogue, RequestRefused, ValidatedRequest, as_id, dig
from bot.tools.context import ToolContext, ToolResult, coded, held_answer, queued_message
from bot.tools.finder import MAX_QUERY, EmployeeFinder, Found, terms, wanted
from bot.tools.references import (
    Unresolved,
    asks_for_new_record,
    field_named,
    id_written,
    named_instead,
    named_labels,
    named_record,
    new_record_unasked,
    no_such_field,
    off_the_api,
    resolve,
    several_at_once,
    unnamed,
    unsaid,
)
from bot.tools.results import MAX_RESULT_CHARS, compact_result, without_noise
from bot.tools.spelling import kept_as_typed
from bot.tools.typed import TypedTool, list_all, typed_tools

log = structlog.get_logger(__name__)

FIND_EMPLOYEE_DEFINITION: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "find_employee",
        "description": "Search the whole directory by id, email, name (or part), job, or the "
        "work a team does (engineering, payroll): every match, and the count.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    },
}


# People asking for a page of the directory: "who is on page 3", "the last page".
PAGE_ASKED = re.compile(r"\bpages?\b", re.IGNORECASE)
ORDINALS = {
    word: n
    for n, word in enumerate(
        ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"), start=1
    )
}
PAGE_NAMED = re.compile(
    r"\bpage\s+(?:no\.?\s*|number\s+|#\s*)?(?P<which>\d{1,5})\b"
    r"|\b(?P<which2>" + "|".join([*ORDINALS, "last", "final"]) + r")\s+page\b",
    re.IGNORECASE,
)


class Toolbox:
    """Tool definitions for the model, and their execution."""

    def __init__(
        self,
        catalogue: Catalogue,
        hr: HRClient,
        actions: ActionStore,
        *,
        approval_ttl_seconds: int,
        on_pending: Callable[[PendingAction], None] | None = None,
        max_pending_per_requester: int = 10,
        max_pending_total: int | None = None,
        authority: Authority | None = None,
        family: str = "generic",
    ) -> None:
        """`authority` decides whose HR credentials each request carries (the requester's own
        in OAuth mode). `family`: "generic" offers call_rest_api; "typed" one function per
        endpoint (bot/tools/typed.py), and raises CatalogueError if two would share a name."""
        self.catalogue = catalogue
        self.authority = authority or SharedToken()
        self.hr = hr
        self.actions = actions
        self.approval_ttl_seconds = approval_ttl_seconds
        self.on_pending = on_pending
        self.max_pending_per_requester = max_pending_per_requester
        self.max_pending_total = max_pending_total
        if family not in ("typed", "generic"):
            raise ValueError(f"family is typed or generic, not {family!r}")
        self.family = family
        self.typed = typed_tools(catalogue) if family == "typed" else {}
        # Built once: an identical prefix on every model call lets providers cache it.
        self.definitions: list[dict[str, Any]] = [
            FIND_EMPLOYEE_DEFINITION,
            *([t.definition for t in self.typed.values()] or [self._call_rest_api_definition()]),
        ]

    def _call_rest_api_definition(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": "call_rest_api",
                "description": (
                    "HR REST API. GET runs at once; POST, PUT, PATCH and DELETE are queued "
                    "for a human approver.\n" + self.catalogue.describe()
                ),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "method": {
                            "type": "string",
                            "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                        },
                        "url": {"type": "string", "description": "path, e.g. /api/users/2"},
                        "body": {"type": "object", "description": "POST, PUT, PATCH only"},
                    },
                    "required": ["method", "url"],
                },
            },
        }

    def run(self, name: str, arguments: str, context: ToolContext, tool_call_id: str) -> str:
        """Run one tool call; the text for the model (call() tells the rest)."""
        return self.call(name, arguments, context, tool_call_id).content

    def call(
        self, name: str, arguments: str, context: ToolContext, tool_call_id: str
    ) -> ToolResult:
        """Run one tool call; never raises."""
        try:
            result = self._run(name, arguments, context, tool_call_id)
        except OverBudget as e:
            log.info("tool.over_budget", tool=name, limit=context.budget.limit)
            result = (
                f"Error: {e}, the most one message may make; nothing more was read or queued. "
                "Answer with what you have, or ask the user to narrow the question."
            )
        except NotConnected as e:
            log.info("tool.not_connected", tool=name)
            result = (
                f"Error: nothing was read or queued: {e} Stop here and tell the user exactly "
                "that; when they must connect their HR account again, the system sends them a "
                "button for it."
            )
        return result if isinstance(result, ToolResult) else ToolResult(result)

    def _run(
        self, name: str, arguments: str, context: ToolContext, tool_call_id: str
    ) -> str | ToolResult:
        schemas = {d["function"]["name"]: d["function"]["parameters"] for d in self.definitions}
        if name not in schemas:
            return f"Error: there is no tool named {name!r}; use {', '.join(schemas)}."
        typed = self.typed.get(name)
        if typed is not None and typed.changes_several(arguments or ""):
            log.info("tool.several_at_once", tool=name)
            return answered(several_at_once(self.noun))
        if typed is not None:
            arguments = typed.one_named(arguments or "")
        try:  # the shape first: a call in the wrong shape reads and queues nothing
            args = parse_arguments(name, arguments or "", schemas[name])
        except BadArguments as e:
            log.info("tool.bad_arguments", tool=name)
            if typed is not None and typed.endpoint.body and e.unexpected:
                # A field the record does not have: the model may drop it once; given again,
                # the bot says it cannot be changed.
                strike = (name, e.unexpected)
                if strike in context.strikes:
                    return ToolResult(
                        f"Error: {e}", answer=no_such_field(typed, e.unexpected, self.noun)
                    )
                context.strikes.add(strike)
            return f"Error: {e}"
        hr = MeteredHR(self.hr, context.budget, authority=self.authority, person=context.requester)
        if name == "find_employee":
            log.info("tool.find_employee")
            elsewhere = off_the_api(str(args.get("query")), self.noun)
            if elsewhere is not None:
                return answered(elsewhere)
            finder = EmployeeFinder(hr, self.catalogue)
            content, found = finder.find(args.get("query"))
            widened = self._as_asked(hr, found, context.last_asked, finder, within=found)
            return widened or ToolResult(content, found=found)
        if typed is not None and typed.lists_all and "page" not in typed.endpoint.query:
            log.info("tool.list_all", tool=name)  # by cursor: the bot reads every page
            try:
                _, _, filters = self.catalogue.validate(*typed.request(args)).path.partition("?")
            except RequestRefused as e:
                return f"Error: request refused: {e}."
            content, found = list_all(
                hr,
                self.catalogue,
                typed.endpoint,
                max_chars=MAX_RESULT_CHARS,
                clean=without_noise,
                filters=filters,
            )
            return self._as_asked(hr, found, context.last_asked) or ToolResult(content, found=found)
        if typed is not None and typed.lists_all:
            asked = context.last_asked
            page = args.get("page")
            if isinstance(page, int) and page >= 1 and not PAGE_ASKED.search(asked):
                # People do not read the directory a page at a time unless they say so.
                log.info("tool.page_unasked", tool=name)
                args = {k: v for k, v in args.items() if k != "page"}
            page = self._page_asked(typed, hr, asked)
            if page is not None and page != args.get("page"):  # the page people named
                log.info("tool.page_as_asked", tool=name)
                args = {**args, "page": page}
            if args.get("page") is None:
                log.info("tool.list_all", tool=name)
                content, found = list_all(
                    hr,
                    self.catalogue,
                    typed.endpoint,
                    max_chars=MAX_RESULT_CHARS,
                    clean=without_noise,
                )
                narrowed = self._as_asked(hr, found, asked)
                return narrowed or ToolResult(content, found=found)
        if typed is not None and typed.endpoint.method in ("PUT", "PATCH"):
            args = self._field_as_named(typed, args, context)
        finder = None  # one per call: the directory is read at most once
        if typed is not None and typed.endpoint.is_write and typed.refers is None:
            subject = self._subject_named(typed, args, hr)
            if isinstance(subject, Unresolved):
                log.info("tool.unresolved", tool=name, answered=subject.answer is not None)
                return answered(subject)
            args = subject
        if typed is not None and typed.refers is not None:  # the record, as the user named it
            finder = EmployeeFinder(hr, self.catalogue)
            change = typed.endpoint.is_write
            found = resolve(finder, args[typed.refers], noun=self.noun, change=change)
            if isinstance(found, Unresolved) and found.nobody:
                found = self._named_by_them(typed, args, context, finder) or found
            if isinstance(found, Unresolved):
                log.info("tool.unresolved", tool=name, answered=found.answer is not None)
                return answered(found)
            args = {**args, typed.refers: found}
        try:  # a typed call becomes the generic call it stands for, checked the same way
            generic = (args.get("method"), args.get("url"), args.get("body"))
            request = self.catalogue.validate(*(typed.request(args) if typed else generic))
        except RequestRefused as e:
            method = typed.endpoint.method if typed else args.get("method")
            log.info("tool.refused", tool=name, method=method, reason=str(e))
            return f"Error: request refused: {e}."
        if request.needs_approval:
            return self._hold(request, context, tool_call_id, hr, finder)
        return self._read(request, hr)

    def _subject_named(
        self, typed: TypedTool, args: dict[str, Any], hr: MeteredHR
    ) -> dict[str, Any] | Unresolved:
        """A change's arguments with the person its record is about (a time-off request's
        employee, given in a body field) resolved from a name or email to their id, the same
        way a person named in a path is; as they are when the record is about no one."""
        shape = self.catalogue.shape(typed.endpoint)
        parts = (shape.fields or {}).get(shape.subject or "", ())
        field = next((f for f in typed.endpoint.body or () if (f.at or f.name) in parts), None)
        if field is None or args.get(field.name) is None:
            return args
        finder = EmployeeFinder(hr, self.catalogue)
        found = resolve(finder, args[field.name], noun=self.noun, change=True)
        if isinstance(found, Unresolved):
            return found
        return {**args, field.name: str(found) if field.type == "string" else found}

    def _subject(self, request: ValidatedRequest, before: Any, hr: MeteredHR) -> Any:
        """The person (as the finder sees them) that a change to another kind of record is
        about: by the subject field of the record as it is, or of the body; None when the
        record is about no one; Unresolved when whose it is cannot be read."""
        shape = self.catalogue.shape(request.endpoint)
        parts = (shape.fields or {}).get(shape.subject or "", ())
        if not parts:
            return None
        ident = as_id(dig(before, parts[0])) if isinstance(before, dict) else None
        body = request.body if isinstance(request.body, dict) else {}
        for field in request.endpoint.body or ():
            if ident is None and (field.at or field.name) in parts:
                ident = as_id(body.get(field.name))
        one = self.catalogue.directory(one=True)
        noun = shape.noun or "record"
        nobody = Unresolved(
            f"Error: the {noun} names no {self.noun} that can be read; nothing was queued.",
            f"I could not tell whose {noun} this is, so nothing was queued.",
        )
        if not isinstance(ident, int) or one is None:
            return nobody
        try:
            path = re.sub(r"\{\w+\}", str(ident), one.path)
            record = hr.read_record(self.catalogue.validate("GET", path, None).path)
        except (HRError, RequestRefused):
            return nobody
        return self.catalogue.record.view(record) if isinstance(record, dict) else nobody

    def manager_of(self, person: int, hr: HRClient | MeteredHR) -> dict[str, Any] | None:
        """The manager of person `person` as the HR data has them now: {"id", "name", "email",
        "of"}; None when they have none (or manage themselves), or it cannot be read. Read when
        a change is held for its manager, and again when the manager decides it."""
        how, one = self.catalogue.record.manager, self.catalogue.directory(one=True)
        if how is None or one is None:
            return None
        path, field = how
        try:
            request = self.catalogue.validate("GET", re.sub(r"\{\w+\}", str(person), path), None)
            answer = hr.request("GET", request.path)
            records = self.catalogue.paging.records(answer.body) if answer.status == 200 else None
            found = records[0] if records else answer.record if answer.status == 200 else None
            ident = as_id(dig(found, field))
            if not isinstance(ident, int) or ident == person:
                return None
            read = self.catalogue.validate("GET", re.sub(r"\{\w+\}", str(ident), one.path), None)
            record = hr.read_record(read.path)
        except (HRError, RequestRefused, OverBudget, NotConnected):
            log.warning("tool.manager_unread", person=person)
            return None
        if not isinstance(record, dict):
            return None
        view = self.catalogue.record.view(record)
        return {"id": ident, "name": view.get("name"), "email": view.get("email"), "of": person}

    def manager_now(self, action: PendingAction) -> dict[str, Any] | None:
        """The manager of the person `action` is about, read again now (as its requester, with
        per-user HR access): what a manager's decision is checked against."""
        person = (action.manager or {}).get("of")
        if not isinstance(person, int):
            return None
        hr = MeteredHR(self.hr, HRBudget(4), authority=self.authority, person=action.requester)
        return self.manager_of(person, hr)

    def _owner(self, request: ValidatedRequest, hr: MeteredHR) -> dict[str, Any] | None:
        """The record of the same kind an action's path is on (`/v2/absence-periods/7/approve`:
        request 7), as the HR API has it now; None when there is none the catalogue reads."""
        path = request.path.partition("?")[0]
        while path.count("/") > 1:
            path = path.rsplit("/", 1)[0]
            endpoint = self.catalogue.endpoint("GET", path)
            if endpoint and endpoint.params and endpoint.resource == request.endpoint.resource:
                try:
                    record = hr.read_record(path)
                except HRError:
                    return None
                return record if isinstance(record, dict) else None
        return None

    def _page_asked(self, typed: TypedTool, hr: MeteredHR, asked: str) -> int | None:
        """The page of the list people's words name ("page 3", "the first page", "the last
        page"), or None; the last is learnt from the list's first page."""
        named = PAGE_NAMED.search(asked)
        if named is None:
            return None
        word = (named["which"] or named["which2"]).casefold()
        if word.isdigit():
            return int(word) if 0 < int(word) <= 10_000 else None
        if word in ORDINALS:
            return ORDINALS[word]
        try:  # "last" or "final"
            request = self.catalogue.validate("GET", f"{typed.endpoint.path}?page=1", None)
            response = hr.request("GET", request.path)
            return self.catalogue.paging.total(response.body) if response.status == 200 else None
        except (HRError, RequestRefused, OverBudget):
            return None  # the model's own call then says what could not be read

    def _as_asked(
        self,
        hr: MeteredHR,
        read: Found | None,
        asked: str,
        finder: EmployeeFinder | None = None,
        *,
        within: Found | None = None,
    ) -> ToolResult | None:
        """Whom the requester's question names, searched by its own words over the directory
        `read` whole, when that is not everyone and not no one: so a listing asked for by whom
        it wants ("list our recruiters") answers with them, not with a page or the model's
        sorting. With `within` (the model's own search), only when the question's words find
        all of those and more: the model narrowed what people asked ("engineers" searched as
        "software engineer", or worded so that it finds no one). None otherwise: the read
        answers as it is."""
        if read is None or not read.complete or not terms(asked[:MAX_QUERY]):
            return None  # "list everyone": nothing to search by
        if within is not None and not read.directory:
            return None  # looked up by id or email: the directory was not read
        everyone = list(read.directory or read.matches)
        finder = finder or EmployeeFinder(hr, self.catalogue, everyone=everyone)
        try:
            found = finder.search(asked[:MAX_QUERY])
        except (HRError, RequestRefused, OverBudget):
            return None  # a search by id that could not be read: the read answers
        if not found.complete or not 0 < found.count < len(everyone):
            return None
        if within is not None:  # the question's words find all the model's search did, and more
            theirs = {p.get("id") for p in within.matches}
            if not theirs < {p.get("id") for p in found.matches}:
                return None
        log.info("tool.read_as_asked", matches=found.count, widened=within is not None)
        found = replace(found, query=wanted(asked))
        content = finder.described(found.query, list(found.matches), complete=True)
        return ToolResult(content, found=found)

    @staticmethod
    def _field_as_named(typed: TypedTool, args: dict[str, Any], context: ToolContext) -> dict:
        """Where the requester's last message names one field by its words ("update her title":
        the job), a change goes to that field alone: its value if the model gave one (and no
        other field beside it), else the one value the model put in another field. Code, not
        the model, settles what is changed."""
        fields = tuple(f.name for f in typed.endpoint.body or ())
        given = [f for f in fields if f in args]
        named = field_named(context.last_asked, fields)
        if named is None or given in ([], [named]):
            return args
        rest = {k: v for k, v in args.items() if k not in given}
        if named in given:  # "update her title": the title alone, not a name beside it
            log.info("tool.field_as_named", tool=typed.name, given=given, named=named)
            return {**rest, named: args[named]}
        if len(given) == 1:  # the one value, in the field the words name
            log.info("tool.field_as_named", tool=typed.name, given=given, named=named)
            return {**rest, named: args[given[0]]}
        return args

    @property
    def noun(self) -> str:
        """What a record is called (the catalogue's "noun"), for the bot's own words."""
        return self.catalogue.record.noun or "record"

    def _read(self, request: ValidatedRequest, hr: MeteredHR) -> ToolResult | str:
        try:
            response = hr.request(request.method, request.path)
        except HRError as e:
            log.warning("tool.hr_unreachable", method=request.method, path=request.path)
            return f"Error: the HR API could not be reached ({e}). Tell the user it is unavailable."
        log.info("tool.read", method=request.method, path=request.path, status=response.status)
        if 300 <= response.status < 400:
            return json.dumps(
                {
                    "status": response.status,
                    "error": "the HR API redirected; redirects are not followed",
                }
            )
        return ToolResult(
            compact_result(response.status, response.body),
            found=self._read_found(request, response),
        )

    def _read_found(self, request: ValidatedRequest, response: HRResponse) -> Found | None:
        """The people a successful read shows: a page of the list, or one record."""
        if response.status != 200:
            return None
        shape = self.catalogue.shape(request.endpoint)
        if shape is not self.catalogue.record:
            return None  # not people: nothing an answer's names are checked against
        records = self.catalogue.paging.records(response.body)
        if records is None:  # not a list: one record, or something else
            one = response.record
            if not isinstance(one, dict):
                return None
            return Found(request.path, (shape.view(one),), searched=False)
        return Found(request.path, tuple(shape.view(r) for r in records), searched=False)

    def _hold(
        self,
        request: ValidatedRequest,
        context: ToolContext,
        tool_call_id: str,
        hr: MeteredHR,
        finder: EmployeeFinder | None = None,
    ) -> str | ToolResult:
        shape = self.catalogue.shape(request.endpoint)
        noun, people = shape.noun or "record", shape is self.catalogue.record
        before = None
        if request.method in ("PUT", "PATCH", "DELETE") and self.catalogue.readable(request.path):
            try:
                before = hr.read_record(request.path)
            except HRError as e:
                return f"Error: could not read the current record ({e}); nothing was queued."
            ident = record_id(request.path)
            said = [text for _, text in context.words]
            if before is None and ident and not id_written(said, ident, noun):
                # An id nobody gave (a small model's guess): the change goes to the one record
                # the requester's words name, or the model may name it again.
                log.info("tool.unknown_id", method=request.method, path=request.path)
                named = self._named_instead(request, context, hr) if people else None
                if named is not None:
                    return self._hold(named, context, tool_call_id, hr, finder)
                return (
                    f"Error: no {noun} has id {ident}, and the user never gave that id; "
                    f"nothing was queued. Name the {noun} as the user did: name, email or id."
                )
            if before is None:
                return ToolResult(
                    f"Error: there is no record at {request.path}; nothing was queued.",
                    answer=f"There is no {noun} at {request.path}, so nothing was queued.",
                )
        if before is not None and not isinstance(before, dict):
            return f"Error: no record came back for {request.path}; nothing was queued."
        ident = record_id(request.path)
        said = [text for _, text in context.words]
        body = request.body if isinstance(request.body, dict) else {}
        if request.method == "POST" and people and not ident and not asks_for_new_record(said):
            # A new record only when people asked for one: not for a memo, a room or a lunch.
            log.info("tool.create_unasked", path=request.path)
            named = self._existing_named(context, finder or EmployeeFinder(hr, self.catalogue))
            strike = ("create_unasked", request.path)
            if named and strike not in context.strikes:
                # People named someone who is already here: a change to them, most likely.
                context.strikes.add(strike)
                return (
                    f"Error: nothing was queued: the user did not ask for a new {self.noun}, "
                    f"and their words name existing ones ({named}). To change an existing "
                    f"{self.noun}'s record, call the tool that updates it, naming the "
                    f"{self.noun} as the user did; else answer the user without a tool."
                )
            return answered(new_record_unasked(self.noun))
        # An action on a record (approve a request) is shown and checked by the record it is on.
        owner = before if before is not None or people else self._owner(request, hr)
        subject = None if people else self._subject(request, owner, hr)
        if isinstance(subject, Unresolved):
            log.info("tool.subject_unknown", method=request.method, path=request.path)
            return answered(subject)
        if before is not None or (request.method != "POST" and ident) or subject is not None:
            # Only to a record someone named (their words are on the card); unreadable, by its
            # id; another kind of record about one person, by that person.
            record = shape.view(before) if before else {"id": ident}
            changes = tuple(v for v in body.values() if isinstance(v, str))
            finder = finder or EmployeeFinder(hr, self.catalogue)
            if subject is not None:
                record, ident, noun = subject, str(subject.get("id")), self.noun
            stray = unnamed(record, said, noun, finder, ident=ident, changes=changes)
            if stray is not None:
                log.info("tool.unnamed_record", method=request.method, path=request.path)
                return answered(stray)
        made_up = unsaid(body, said, before)
        if made_up:
            log.info("tool.value_unsaid", method=request.method, fields=[f for f, _ in made_up])
            values = "; ".join(f"{field} {coded(value)}" for field, value in made_up)
            return (
                f"Error: nothing was queued: {values} is not in the user's words. Change only "
                "what the user asked to change, to the values they gave; if they gave none, ask "
                "them."
            )
        said = context.requesters_words
        request = kept_as_typed(request, said, self.catalogue)
        thread = context.thread
        hr_subject = self.authority.subject(context.requester)
        if self.authority.required and hr_subject is None:
            raise NotConnected("your HR account is not connected.")
        about = subject if subject is not None else (shape.view(before) if before else None)
        manager = None
        if request.endpoint.approvers == "manager" and about and isinstance(about.get("id"), int):
            manager = self.manager_of(about["id"], hr)  # None: the approver group decides
        try:
            action = self._create(
                request, context, tool_call_id, before, thread, hr_subject, subject, owner, manager
            )
        except TooManyPending as e:
            who = "this user already has" if e.scope == "requester" else "there are already"
            return (
                f"Error: {who} {e.limit} actions waiting for approval; nothing was queued. "
                "Tell the user to wait for decisions (or withdraw one of theirs)."
            )
        log.info("action.requested", action_id=action.id, method=action.method, path=action.path)
        if self.on_pending is not None:
            try:
                self.on_pending(action)
            except Exception:  # the action is stored either way; approvers can still find it
                log.exception("action.notify_failed", action_id=action.id)
        return ToolResult(queued_message(action), answer=held_answer(action), held=action)

    def _existing_named(self, context: ToolContext, finder: EmployeeFinder) -> str:
        """The records a capitalised word of the requester's last message names ("Make George
        a director": both Georges), as labels; empty when it names none."""
        try:
            return named_labels(finder, context.last_asked)
        except (HRError, RequestRefused, OverBudget):
            return ""

    def _named_by_them(
        self, typed: TypedTool, args: dict[str, Any], context: ToolContext, finder: EmployeeFinder
    ) -> int | None:
        """For a change whose record the model named as no one's ("Amara Okofor", or the new
        name of someone just married): the one record whose whole name or email the requester's
        last message holds; else the one a word of its name singles out, when the model's
        reference holds that word too and the message names no one else; None otherwise. "Tobias
        Funke" is not Tobias Funkelstein."""
        changes = tuple(v for k, v in args.items() if k != typed.refers and isinstance(v, str))
        record = named_instead(finder, args[typed.refers], context.last_asked, changes)
        if record is None or not isinstance(record.get("id"), int):
            return None
        log.info("tool.named_by_them", tool=typed.name)
        return int(record["id"])

    def _named_instead(
        self, request: ValidatedRequest, context: ToolContext, hr: MeteredHR
    ) -> ValidatedRequest | None:
        """The same change on the one record the requester's last message names, when the
        model gave an id that is no one's; None when the message names none or several."""
        body = request.body if isinstance(request.body, dict) else {}
        changes = tuple(v for v in body.values() if isinstance(v, str))
        finder = EmployeeFinder(hr, self.catalogue)
        record = named_record(finder, context.last_asked, changes)
        if record is None or not isinstance(record.get("id"), int):
            return None
        path = request.path.rsplit("/", 1)[0] + f"/{record['id']}"
        try:
            return self.catalogue.validate(request.method, path, request.body)
        except RequestRefused:
            return None

    def _create(
        self,
        request: ValidatedRequest,
        context: ToolContext,
        tool_call_id: str,
        before: Any,
        thread: Thread | None,
        hr_subject: str | None,
        subject: dict[str, Any] | None = None,
        owner: Any = None,
        manager: dict[str, Any] | None = None,
    ) -> PendingAction:
        """The pending action; for a record about one person (`subject`), their name and email
        go beside its fields, so the card says whose it is and they cannot approve it."""
        shape = self.catalogue.shape(request.endpoint)
        shown = before if isinstance(before, dict) else owner
        fields = shape.view(shown) if isinstance(shown, dict) else None
        if subject is not None:
            fields = {**(fields or {}), "name": subject.get("name"), "email": subject.get("email")}
        return self.actions.create(
            requester=context.requester,
            channel=thread.channel if thread else None,
            thread_ts=thread.ts if thread else None,
            method=request.method,
            path=request.path,
            body=request.body,
            ttl_seconds=self.approval_ttl_seconds,
            approvals_required=request.endpoint.approvals_required,
            verb=request.endpoint.verb,
            hr_decision=request.endpoint.hr_decision,
            manager=manager,
            tool_call_id=tool_call_id,
            before=before,
            contributors=sorted(context.contributors | {context.requester}),
            noun=shape.noun,  # None stays None on the action
            fields_before=fields,
            max_pending_per_requester=self.max_pending_per_requester,
            max_pending_total=self.max_pending_total,
            hr_subject=hr_subject,
            words=context.words,
        )


def answered(unresolved: Unresolved) -> ToolResult:
    """A call the bot answers itself (when `answer` is set), the model told why."""
    return ToolResult(unresolved.content, answer=unresolved.answer)
