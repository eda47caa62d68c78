"""How the HR API's records look (the catalogue's "record" section): the one place that knows a
record's field names, so cards, the finder and the model see records in the request's terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordShape:
    """How the HR API's records look, from the catalogue's "record" section: what a record is
    called and which record fields hold each request field (a name kept as first and last)."""

    noun: str | None = None
    id_field: str = "id"
    fields: dict[str, tuple[str, ...]] | None = None
    # The fields a whole-directory listing shows (with the id); None: all of them.
    listed: tuple[str, ...] | None = None

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as a directory listing shows it: its view, cut to the listed fields."""
        view = self.view(record)
        if self.listed is None:
            return view
        return {k: v for k, v in view.items() if k == "id" or k in self.listed}

    def view(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record under the request's field names (plus its id): what the model is shown
        and what a card compares a change against. Without a mapping, the record as it is."""
        if self.fields is None:
            return dict(record)
        view: dict[str, Any] = {"id": record.get(self.id_field)}
        for name, parts in self.fields.items():
            if len(parts) == 1:
                view[name] = record.get(parts[0])
            else:
                words = [str(record[p]) for p in parts if record.get(p) not in (None, "")]
                view[name] = " ".join(words)
        return view


def record_shape(entry: Any) -> RecordShape:
    """The catalogue's "record" section; ValueError says what is wrong with it. None means
    records are shown as they are."""
    if entry is None:
        return RecordShape()
    fields = entry.get("fields") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or not isinstance(fields, dict):
        raise ValueError('"record" is {"noun": ..., "fields": {"name": ["first_name", ...]}}')
    for name, parts in fields.items():
        if not (isinstance(parts, list) and parts and all(isinstance(p, str) for p in parts)):
            raise ValueError(f"record field {name!r} needs a list of the HR API's field names")
    noun = entry.get("noun")
    if noun is not None and not (
        isinstance(noun, str) and re.fullmatch(r"[a-z][a-z ]{0,30}", noun)
    ):
        raise ValueError("record noun must be a short lower-case word, like 'employee'")
    listed = entry.get("listed")
    if listed is not None and not (
        isinstance(listed, list) and listed and all(name in fields for name in listed)
    ):
        raise ValueError('record "listed" is a list of its own field names, like ["name", "job"]')
    return RecordShape(
        noun=noun,
        id_field=str(entry.get("id", "id")),
        fields={name: tuple(parts) for name, parts in fields.items()},
        listed=tuple(listed) if listed is not None else None,
    )
