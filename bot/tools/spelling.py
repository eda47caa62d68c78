"""A value the requester typed is kept as they typed it: where, in a field the catalogue marks
`as_typed` (job titles here), the model's value for a change differs from the requester's own
words only in letter case or in what joins the words ("Senior Analyst", "senior_analyst" for
"senior analyst"), the request carries the
requester's spelling, which the card also quotes."""

from __future__ import annotations

import re

from bot.tools.catalogue import Catalogue, RequestRefused, ValidatedRequest


def kept_as_typed(
    request: ValidatedRequest, said: list[str], catalogue: Catalogue
) -> ValidatedRequest:
    """`request` with each value of a field the catalogue marks `as_typed` that the requester's
    messages (`said`) hold, as whole words, in another letter case spelled as they wrote it, if
    the catalogue takes it so; anything else is left as the model gave it."""
    fields = {f.name for f in request.endpoint.body or () if f.as_typed}
    if not request.body or not fields:
        return request
    body = {
        k: _spelled(v, said) if k in fields and isinstance(v, str) else v
        for k, v in request.body.items()
    }
    if body == request.body:
        return request
    try:
        return catalogue.validate(request.method, request.path, body)
    except RequestRefused:  # an enum, say, that holds the model's spelling only
        return request


def _spelled(value: str, said: list[str]) -> str:
    if not value.strip():
        return value
    # "benefits_manager" or "Benefits-Manager" for "benefits manager": the letters alike.
    words = r"[\s_-]+".join(re.escape(part) for part in re.split(r"[\s_-]+", value.strip()))
    wanted = re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)
    for text in reversed(said):  # the latest message first
        if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            return value  # typed so: left alone
        found = wanted.search(text)
        if found and len(found[0]) == len(value):
            return found[0]
    return value
