"""What goes wrong in the HRIS sandbox, and the error body it answers with: Personio's v2 shape,
a trace id, a timestamp and one entry per problem.

    HRISError → BadRequest (400) · Unauthorized (401) · NotFound (404) · NotAllowed (405)
              · Conflict (409) · TooLarge (413) · Unprocessable (422)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar, Self

# Where each error's `type` points: a reserved name, so that nothing resolves it by mistake.
ERROR_TYPES = "https://hris-sandbox.invalid/error-codes#"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request; `where` names the field or parameter, when there is one."""

    detail: str
    where: str | None = None


@dataclass(eq=False)
class HRISError(Exception):
    """A request the sandbox refuses; every problem found is reported at once."""

    problems: list[Problem]
    headers: tuple[tuple[str, str], ...] = field(default=())
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "internal_error"

    @classmethod
    def of(
        cls, detail: str, where: str | None = None, *, headers: tuple[tuple[str, str], ...] = ()
    ) -> Self:
        return cls([Problem(detail, where)], headers)

    def __str__(self) -> str:
        return "; ".join(problem.detail for problem in self.problems)


class BadRequest(HRISError):
    """The request is malformed: not JSON, an unknown field or parameter, a wrong type."""

    status, code = HTTPStatus.BAD_REQUEST, "invalid_request"


class Unauthorized(HRISError):
    """The bearer API key is missing or wrong."""

    status, code = HTTPStatus.UNAUTHORIZED, "unauthorized"


class NotFound(HRISError):
    """No such endpoint, or no record with that id."""

    status, code = HTTPStatus.NOT_FOUND, "not_found"


class NotAllowed(HRISError):
    """The endpoint exists but not with this method."""

    status, code = HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed"


class Conflict(HRISError):
    """The record's state forbids it: deciding a request that is no longer pending."""

    status, code = HTTPStatus.CONFLICT, "conflict"


class TooLarge(HRISError):
    """The body is larger than the sandbox reads."""

    status, code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large"


class Unprocessable(HRISError):
    """Well-formed, but it cannot be done: an unknown person named in the body, dates reversed,
    too few days left."""

    status, code = HTTPStatus.UNPROCESSABLE_ENTITY, "unprocessable"


def error_body(error: HRISError) -> dict[str, Any]:
    return {
        "personio_trace_id": str(uuid.uuid4()),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "errors": [
            {
                "title": error.status.phrase,
                "detail": problem.detail,
                "type": ERROR_TYPES + error.code,
                "_meta": {"field": problem.where} if problem.where else {},
            }
            for problem in error.problems
        ],
    }
