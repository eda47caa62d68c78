"""What the bot lends the approvals engine for an approver's edit (approvals.revisions): the
endpoint catalogue's fields and rules for a request's body, and the note that tells the model
about the edit afterwards."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from approvals import PendingAction
from approvals.slack.modals import EditableField
from approvals.slack.revisions import BodyRefused, Change
from bot.agent.history import NOTICE_PREFIX, ConversationStore, conversation_key, written_for
from bot.tools.catalogue import BodyField, Catalogue
from bot.tools.checks import RequestRefused, check_body

_WHOLE = re.compile(r"-?[0-9]{1,18}")


class EditRules:
    """approvals.revisions.EditRules from the endpoint catalogue: a request's body fields, an
    edited body checked exactly as the model's input is (Catalogue.validate) with each field's
    problem named on that field, and the model told of the edit in `conversations`."""

    def __init__(self, catalogue: Catalogue, conversations: ConversationStore) -> None:
        self.catalogue = catalogue
        self.conversations = conversations

    def fields(self, method: str, path: str) -> list[EditableField] | None:
        endpoint = self.catalogue.endpoint(method, path)
        if endpoint is None or not endpoint.body:
            return None
        return [
            EditableField(f.name, f.required, f.max_length, f.description) for f in endpoint.body
        ]

    def check(self, method: str, path: str, typed: Mapping[str, str | None]) -> dict[str, Any]:
        endpoint = self.catalogue.endpoint(method, path)
        if endpoint is None or not endpoint.body:
            raise BodyRefused(f"{method} {path} is no longer in the endpoint catalogue.")
        specs = {f.name: f for f in endpoint.body}
        body: dict[str, Any] = {}
        for name, text in typed.items():
            spec = specs.get(name)
            if spec is None:
                body[name] = text  # not the catalogue's: the whole body's check refuses it
            elif text is None and spec.required:
                raise BodyRefused(f"{name} is required.", name)
            elif text is not None:
                body[name] = _value(spec, text)
                alone = dataclasses.replace(
                    endpoint, body=(dataclasses.replace(spec, required=False),)
                )
                try:  # the catalogue's rules for one value: type, characters, emptiness, length
                    check_body(alone, {name: body[name]})
                except RequestRefused as e:
                    raise BodyRefused(_sentence(str(e)), name) from e
        try:
            checked = self.catalogue.validate(method, path, body).body
        except RequestRefused as e:
            raise BodyRefused(_sentence(str(e))) from e
        return checked or {}

    def edited(self, action: PendingAction, editor: str, changes: Sequence[Change]) -> None:
        note_edit(self.conversations, action, editor, changes)


def _value(spec: BodyField, text: str) -> Any:
    """What was typed, as the field's type: the modal only has text inputs."""
    if spec.type == "integer":
        if not _WHOLE.fullmatch(text):
            raise BodyRefused(f"{spec.name} must be a whole number.", spec.name)
        return int(text)
    if spec.type == "number":
        try:
            number = int(text) if _WHOLE.fullmatch(text) else float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise BodyRefused(f"{spec.name} must be a number.", spec.name)
        return number
    if spec.type == "boolean":
        if text not in ("true", "false"):
            raise BodyRefused(f"{spec.name} must be true or false.", spec.name)
        return text == "true"
    return text


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def note_edit(
    conversations: ConversationStore, action: PendingAction, editor: str, changes: Sequence[Change]
) -> None:
    """Tell the model, in the requester's conversation, that an approver edited the action, so
    it does not contradict the card. The facts go in a system notice; the new values are the
    approver's, so they follow in a turn in the approver's name (never in a system message),
    written by the bot: no card quotes it as their words."""
    if action.thread is None:
        return
    names = ", ".join(name for name, _, _ in changes)
    fact = (
        f"Action #{action.id} ({action.method} {action.path}) was edited by {editor} while it "
        f"waited for approval (fields changed: {names}). It still waits for approval, and the "
        f"edited request is what would be sent. The new values follow, in {editor}'s name."
    )
    said = f"Edited action #{action.id}: " + "; ".join(
        f"{name}: {_shown(new)} (was {_shown(old)})" for name, old, new in changes
    )
    conversations.append(
        conversation_key(action.thread, action.requester),
        [
            {"role": "system", "content": f"{NOTICE_PREFIX}{fact}"},
            written_for(editor, said),
        ],
    )


def _shown(value: Any) -> str:
    return "not set" if value is None else json.dumps(value, ensure_ascii=False)
