"""A value the requester typed is kept as they typed it: where the model's value for a change
differs from a phrase of the requester's own words only in letter case ("Senior Analyst" for
"senior analyst"), the request carries the requester's spelling, which the card also quotes."""

from __future__ import annotations

from bot.catalogue import Catalogue, RequestRefused, ValidatedRequest


def as_typed(request: ValidatedRequest, said: list[str], catalogue: Catalogue) -> ValidatedRequest:
    """`request` with each string value of its body that the requester's messages (`said`)
    hold in another letter case spelled as they wrote it, if the catalogue takes it so; values
    they did not write are left as the model gave them."""
    if not request.body:
        return request
    body = {k: _spelled(v, said) if isinstance(v, str) else v for k, v in request.body.items()}
    if body == request.body:
        return request
    try:
        return catalogue.validate(request.method, request.path, body)
    except RequestRefused:  # an enum, say, that holds the model's spelling only
        return request


def _spelled(value: str, said: list[str]) -> str:
    wanted = value.lower()
    if not value.strip() or len(wanted) != len(value):  # lower-casing must keep every position
        return value
    for text in reversed(said):  # the latest message first
        if value in text:
            return value
        lowered = text.lower()
        at = lowered.find(wanted) if len(lowered) == len(text) else -1
        if at >= 0:
            return text[at : at + len(value)]
    return value
