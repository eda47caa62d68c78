"""The HRIS sandbox's records in one SQLite file (or memory), seeded on first open: people and their
employments, departments, absence types, periods and balances, compensations. Each method reads
or changes them as one step, and refuses what the real service would."""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from sandbox.hris import seed
from sandbox.hris.errors import Conflict, NotFound, Problem, Unprocessable

TABLES: dict[str, dict[str, type]] = {
    "org_units": {"id": str, "type": str, "name": str, "abbreviation": str, "parent_id": str},
    "persons": {
        "id": str,
        "first_name": str,
        "last_name": str,
        "preferred_name": str,
        "email": str,
        "status": str,
        "created_at": str,
        "updated_at": str,
    },
    "employments": {
        "id": str,
        "person_id": str,
        "supervisor_id": str,
        "department_id": str,
        "position_title": str,
        "status": str,
        "start_date": str,
        "weekly_working_hours": float,
        "created_at": str,
        "updated_at": str,
    },
    "absence_types": {
        "id": str,
        "name": str,
        "category": str,
        "approval_required": int,
        "yearly_entitlement": float,
    },
    "absence_periods": {
        "id": str,
        "person_id": str,
        "absence_type_id": str,
        "starts_from": str,
        "ends_at": str,
        "status": str,
        "comment": str,
        "created_at": str,
        "updated_at": str,
    },
    "compensation_types": {"id": str, "name": str, "category": str},
    "compensations": {
        "id": str,
        "person_id": str,
        "type_id": str,
        "value": float,
        "currency": str,
        "interval": str,
        "effective_from": str,
        "comment": str,
        "created_at": str,
    },
}
FULL_TIME_HOURS = 40
# A request that still counts against the days left, and one that can still be decided.
HOLDING = ("PENDING", "APPROVED")
PENDING = "PENDING"


@dataclass(frozen=True)
class Page:
    """One page of a list, and the position after its last record when more follow."""

    items: list[dict[str, Any]]
    after: int | None


class Records:
    """Every record of the sandbox HRIS; each public method is one step under one lock."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite_utils.Database(
            sqlite3.connect(path, check_same_thread=False), execute_plugins=False
        )
        with self._step():
            if "persons" not in self.db.table_names():
                for name, columns in TABLES.items():
                    self.db[name].create({"seq": int, **columns}, pk="seq")
                    self.db[name].create_index(["id"], unique=True)
                _plant(self.db)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _step(self) -> Iterator[None]:
        """One read or change, whole: under the lock and in one transaction."""
        with self._lock, self.db.atomic():
            yield

    # People and their employments

    def persons(self, *, limit: int, after: int, **filters: list[str]) -> Page:
        with self._step():
            return self._page("persons", _person, limit, after, filters)

    def person(self, person_id: str) -> dict[str, Any]:
        with self._step():
            return _person(self.db, self._row("persons", person_id, "person"))

    def create_person(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._step():
            self._email_free(body["email"], None)
            now = _now()
            person_id = str(self._next_number("persons", 1001))
            self.db["persons"].insert(
                {
                    "id": person_id,
                    "first_name": body["first_name"].strip(),
                    "last_name": body["last_name"].strip(),
                    "preferred_name": body.get("preferred_name", "").strip(),
                    "email": body["email"].strip().lower(),
                    "status": "ACTIVE",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            # Like the real service, a new person comes with an employment to fill in.
            self.db["employments"].insert(
                {
                    "id": seed.employment_id(person_id),
                    "person_id": person_id,
                    "status": "ONBOARDING",
                    "start_date": now[:10],
                    "weekly_working_hours": FULL_TIME_HOURS,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            return _person(self.db, self._row("persons", person_id, "person"))

    def update_person(self, person_id: str, body: dict[str, Any]) -> None:
        with self._step():
            row = self._row("persons", person_id, "person")
            changes = {name: value.strip() for name, value in body.items()}
            if "email" in changes:
                changes["email"] = changes["email"].lower()
                self._email_free(changes["email"], person_id)
            self.db["persons"].update(row["seq"], {**changes, "updated_at": _now()})

    def employments(self, person_id: str, *, limit: int, after: int) -> Page:
        with self._step():
            self._row("persons", person_id, "person")
            return self._page("employments", _employment, limit, after, {"person_id": [person_id]})

    def employment(self, person_id: str, employment_id: str) -> dict[str, Any]:
        with self._step():
            return _employment(self.db, self._employment_row(person_id, employment_id))

    def update_employment(self, person_id: str, employment_id: str, body: dict[str, Any]) -> None:
        with self._step():
            row = self._employment_row(person_id, employment_id)
            changes: dict[str, Any] = {}
            problems: list[Problem] = []
            if "supervisor" in body:
                supervisor = body["supervisor"] and body["supervisor"]["id"]
                problems += self._supervisor_problems(person_id, supervisor)
                changes["supervisor_id"] = supervisor
            if "org_units" in body:
                department, found = self._department(body["org_units"])
                problems += found
                changes["department_id"] = department
            if "position" in body:
                changes["position_title"] = body["position"] and body["position"]["title"].strip()
            for name in ("status", "weekly_working_hours"):
                if name in body:
                    changes[name] = body[name]
            if problems:
                raise Unprocessable(problems)
            self.db["employments"].update(row["seq"], {**changes, "updated_at": _now()})

    # Departments

    def org_units(self, *, limit: int, after: int, **filters: list[str]) -> Page:
        with self._step():
            return self._page("org_units", _org_unit, limit, after, filters)

    def org_unit(self, unit_id: str, unit_type: str) -> dict[str, Any]:
        with self._step():
            row = self._row("org_units", unit_id, "org unit")
            if row["type"] != unit_type:
                raise NotFound.of(f"No {unit_type} org unit has the id {unit_id}.", "id")
            return _org_unit(self.db, row)

    # Time off

    def absence_types(self, *, limit: int, after: int) -> Page:
        with self._step():
            return self._page("absence_types", _absence_type, limit, after, {})

    def absence_periods(self, *, limit: int, after: int, **filters: list[str]) -> Page:
        with self._step():
            return self._page("absence_periods", _absence_period, limit, after, filters)

    def absence_period(self, period_id: str) -> dict[str, Any]:
        with self._step():
            return _absence_period(self.db, self._row("absence_periods", period_id, "period"))

    def create_absence_period(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._step():
            person_id, type_id = body["person"]["id"], body["absence_type"]["id"]
            starts, ends = body["starts_from"]["date_time"], body["ends_at"]["date_time"]
            problems = self._reference_problems(
                ("persons", person_id, "person.id"), ("absence_types", type_id, "absence_type.id")
            )
            days = working_days(starts, ends)
            if ends[:10] < starts[:10]:
                problems.append(Problem("'ends_at' is before 'starts_from'", "ends_at.date_time"))
            elif days == 0:
                problems.append(Problem("the period covers no working day", "starts_from"))
            if problems:
                raise Unprocessable(problems)
            problems += self._overlap_problems(person_id, starts, ends)
            absence_type = self._row("absence_types", type_id, "absence type")
            allowed = absence_type["yearly_entitlement"]
            if allowed is not None:
                left = allowed - sum(self._days_taken(person_id, type_id).values())
                if days > left:
                    detail = f"{days:g} working days asked, {left:g} left of {absence_type['name']}"
                    problems.append(Problem(detail, "ends_at.date_time"))
            if problems:
                raise Unprocessable(problems)
            now = _now()
            period_id = str(uuid.uuid4())
            self.db["absence_periods"].insert(
                {
                    "id": period_id,
                    "person_id": person_id,
                    "absence_type_id": type_id,
                    "starts_from": starts,
                    "ends_at": ends,
                    "status": PENDING if absence_type["approval_required"] else "APPROVED",
                    "comment": body.get("comment", ""),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            return _absence_period(self.db, self._row("absence_periods", period_id, "period"))

    def delete_absence_period(self, period_id: str) -> None:
        with self._step():
            self.db["absence_periods"].delete(
                self._row("absence_periods", period_id, "period")["seq"]
            )

    def decide(self, period_id: str, status: str) -> dict[str, Any]:
        """Approve or reject a pending request, once: a decided one is a Conflict."""
        with self._step():
            row = self._row("absence_periods", period_id, "period")
            if row["status"] != PENDING:
                verb = "approved" if status == "APPROVED" else "rejected"
                raise Conflict.of(
                    f"Absence period {period_id} is {row['status']}; only a PENDING one can be "
                    f"{verb}."
                )
            self.db["absence_periods"].update(row["seq"], {"status": status, "updated_at": _now()})
            return _absence_period(self.db, self._row("absence_periods", period_id, "period"))

    def balances(self, person_id: str) -> list[dict[str, Any]]:
        """Per counted absence type: days allowed, taken (approved), pending, and left."""
        with self._step():
            self._row("persons", person_id, "person")
            found = []
            for kind in self.db["absence_types"].rows_where(
                "yearly_entitlement is not null", order_by="seq"
            ):
                taken = self._days_taken(person_id, kind["id"])
                allowed = kind["yearly_entitlement"]
                found.append(
                    {
                        "absence_type": {"id": kind["id"], "name": kind["name"]},
                        "unit": "DAY",
                        "entitlement": allowed,
                        "used": taken["APPROVED"],
                        "pending": taken[PENDING],
                        "balance": allowed - taken["APPROVED"],
                    }
                )
            return found

    # Compensation

    def compensation_types(self, *, limit: int, after: int) -> Page:
        with self._step():
            return self._page("compensation_types", _compensation_type, limit, after, {})

    def compensations(self, *, limit: int, after: int, **filters: list[str]) -> Page:
        with self._step():
            return self._page("compensations", _compensation, limit, after, filters)

    def create_compensation(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new compensation from its effective date; one of the same person, type and date
        is replaced, as the real service does for a fixed salary."""
        with self._step():
            person_id, type_id = body["person"]["id"], body["type"]["id"]
            problems = self._reference_problems(
                ("persons", person_id, "person.id"), ("compensation_types", type_id, "type.id")
            )
            if problems:
                raise Unprocessable(problems)
            kind = self._row("compensation_types", type_id, "compensation type")
            record = {
                "person_id": person_id,
                "type_id": type_id,
                "value": body["value"],
                "currency": body.get("currency", "EUR"),
                "interval": None
                if kind["category"] == "ONE_TIME"
                else body.get("interval", "MONTHLY"),
                "effective_from": body["effective_from"],
                "comment": body.get("comment", ""),
            }
            same = list(
                self.db["compensations"].rows_where(
                    "person_id = ? and type_id = ? and effective_from = ?",
                    [person_id, type_id, body["effective_from"]],
                )
            )
            if same:
                self.db["compensations"].update(same[0]["seq"], record)
                compensation_id = same[0]["id"]
            else:
                compensation_id = str(uuid.uuid4())
                self.db["compensations"].insert(
                    {**record, "id": compensation_id, "created_at": _now()}
                )
            return _compensation(self.db, self._row("compensations", compensation_id, "record"))

    # Inside one step (the lock is held)

    def _page(
        self, table: str, render: Any, limit: int, after: int, filters: dict[str, list[str]]
    ) -> Page:
        where, params = ["seq > ?"], [after]
        for column, values in filters.items():
            where.append(f"[{column}] in ({', '.join('?' for _ in values)})")
            params += values
        rows = list(
            self.db[table].rows_where(" and ".join(where), params, order_by="seq", limit=limit + 1)
        )
        more = len(rows) > limit
        return Page(
            [render(self.db, row) for row in rows[:limit]], rows[limit - 1]["seq"] if more else None
        )

    def _row(self, table: str, record_id: str, noun: str) -> dict[str, Any]:
        rows = list(self.db[table].rows_where("id = ?", [record_id]))
        if not rows:
            raise NotFound.of(f"No {noun} has the id {record_id}.", "id")
        return rows[0]

    def _employment_row(self, person_id: str, employment_id: str) -> dict[str, Any]:
        self._row("persons", person_id, "person")
        row = self._row("employments", employment_id, "employment")
        if row["person_id"] != person_id:
            raise NotFound.of(f"Person {person_id} has no employment {employment_id}.", "id")
        return row

    def _exists(self, table: str, record_id: str) -> bool:
        return bool(list(self.db[table].rows_where("id = ?", [record_id])))

    def _reference_problems(self, *references: tuple[str, str, str]) -> list[Problem]:
        return [
            Problem(f"'{where}' names no record: {record_id}", where)
            for table, record_id, where in references
            if not self._exists(table, record_id)
        ]

    def _next_number(self, table: str, first: int) -> int:
        numbers = [int(row["id"]) for row in self.db[table].rows if row["id"].isdigit()]
        return max(numbers, default=first - 1) + 1

    def _email_free(self, address: str, person_id: str | None) -> None:
        for row in self.db["persons"].rows_where("email = ?", [address.strip().lower()]):
            if row["id"] != person_id:
                raise Conflict.of(f"The email {address} belongs to person {row['id']}.", "email")

    def _supervisor_problems(self, person_id: str, supervisor: str | None) -> list[Problem]:
        where = "supervisor.id"
        if supervisor is None:
            return []
        if not self._exists("persons", supervisor):
            return [Problem(f"'{where}' names no person: {supervisor}", where)]
        if supervisor == person_id:
            return [Problem("a person cannot be their own supervisor", where)]
        seen, above = {supervisor}, supervisor
        while above is not None:
            rows = list(self.db["employments"].rows_where("person_id = ?", [above]))
            above = rows[0]["supervisor_id"] if rows else None
            if above == person_id:
                return [Problem(f"{supervisor} already reports to {person_id}", where)]
            if above in seen:
                break
            seen.add(above)
        return []

    def _department(self, org_units: list[dict[str, str]]) -> tuple[str | None, list[Problem]]:
        if len(org_units) > 1:
            return None, [Problem("an employment belongs to one department", "org_units")]
        if not org_units:
            return None, []
        unit_id = org_units[0]["id"]
        rows = list(self.db["org_units"].rows_where("id = ? and type = 'department'", [unit_id]))
        if not rows:
            return None, [Problem(f"'org_units[0].id' names no department: {unit_id}", "org_units")]
        return unit_id, []

    def _overlap_problems(self, person_id: str, starts: str, ends: str) -> list[Problem]:
        return [
            Problem(f"overlaps absence period {row['id']} ({row['status']})", "starts_from")
            for row in self.db["absence_periods"].rows_where(
                "person_id = ? and status in (?, ?) and substr(starts_from, 1, 10) <= ? "
                "and substr(ends_at, 1, 10) >= ?",
                [person_id, *HOLDING, ends[:10], starts[:10]],
            )
        ]

    def _days_taken(self, person_id: str, type_id: str) -> dict[str, float]:
        taken = dict.fromkeys(HOLDING, 0.0)
        for row in self.db["absence_periods"].rows_where(
            "person_id = ? and absence_type_id = ? and status in (?, ?)",
            [person_id, type_id, *HOLDING],
        ):
            taken[row["status"]] += working_days(row["starts_from"], row["ends_at"])
        return taken


def working_days(starts: str, ends: str) -> int:
    """Monday to Friday from the first day to the last, both included (absences are whole days)."""
    first = datetime.date.fromisoformat(starts[:10])
    last = datetime.date.fromisoformat(ends[:10])
    count = (last - first).days + 1
    return sum(1 for i in range(max(count, 0)) if (first + datetime.timedelta(i)).weekday() < 5)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# Rows as the API shows them


def _person(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    employments = db["employments"].rows_where("person_id = ?", [row["id"]], order_by="seq")
    return {
        "id": row["id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "preferred_name": row["preferred_name"] or "",
        "email": row["email"],
        "status": row["status"],
        "employments": [{"id": employment["id"]} for employment in employments],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _employment(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    department = row["department_id"]
    return {
        "id": row["id"],
        "person": {"id": row["person_id"]},
        "supervisor": {"id": row["supervisor_id"]} if row["supervisor_id"] else None,
        "org_units": [{"id": department, "type": "department"}] if department else [],
        "position": {"title": row["position_title"]} if row["position_title"] else None,
        "status": row["status"],
        "type": "INTERNAL",
        "start_date": row["start_date"],
        "weekly_working_hours": row["weekly_working_hours"],
        "full_time_weekly_working_hours": FULL_TIME_HOURS,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _org_unit(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "abbreviation": row["abbreviation"],
        "parent_id": row["parent_id"],
    }


def _absence_type(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "category": row["category"],
        "unit": "DAY",
        "approval_required": bool(row["approval_required"]),
    }


def _absence_period(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "person": {"id": row["person_id"]},
        "absence_type": {"id": row["absence_type_id"]},
        "starts_from": {"date_time": row["starts_from"]},
        "ends_at": {"date_time": row["ends_at"]},
        "approval": {"status": row["status"]},
        "working_days": working_days(row["starts_from"], row["ends_at"]),
        "comment": row["comment"] or "",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _compensation_type(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "category": row["category"]}


def _compensation(db: sqlite_utils.Database, row: dict[str, Any]) -> dict[str, Any]:
    kind = next(db["compensation_types"].rows_where("id = ?", [row["type_id"]]))
    return {
        "id": row["id"],
        "person": {"id": row["person_id"]},
        "type": _compensation_type(db, kind),
        "value": row["value"],
        "currency": row["currency"],
        "interval": row["interval"],
        "effective_from": row["effective_from"],
        "comment": row["comment"] or "",
        "created_at": row["created_at"],
    }


def _plant(db: sqlite_utils.Database) -> None:
    """The seed company (sandbox/hris/seed.py), into empty tables."""
    at = seed.SEEDED_AT
    db["org_units"].insert_all(
        {"id": unit_id, "type": "department", "name": name, "abbreviation": short}
        for unit_id, name, short in seed.DEPARTMENTS
    )
    for person_id, first, last, title, department, supervisor, hours in seed.PEOPLE:
        db["persons"].insert(
            {
                "id": person_id,
                "first_name": first,
                "last_name": last,
                "preferred_name": "",
                "email": seed.email(first, last),
                "status": "ACTIVE",
                "created_at": at,
                "updated_at": at,
            }
        )
        db["employments"].insert(
            {
                "id": seed.employment_id(person_id),
                "person_id": person_id,
                "supervisor_id": supervisor,
                "department_id": department,
                "position_title": title,
                "status": "ACTIVE",
                "start_date": "2023-01-01",
                "weekly_working_hours": hours,
                "created_at": at,
                "updated_at": at,
            }
        )
    type_ids = {}
    for name, category, approval, allowed in seed.ABSENCE_TYPES:
        type_ids[name] = seed.seed_id("absence-type", category)
        db["absence_types"].insert(
            {
                "id": type_ids[name],
                "name": name,
                "category": category,
                "approval_required": int(approval),
                "yearly_entitlement": allowed,
            }
        )
    for key, person_id, kind, first, last, status, comment in seed.ABSENCE_PERIODS:
        db["absence_periods"].insert(
            {
                "id": seed.seed_id("absence-period", key),
                "person_id": person_id,
                "absence_type_id": type_ids[kind],
                "starts_from": f"{first}T00:00:00",
                "ends_at": f"{last}T23:59:59",
                "status": status,
                "comment": comment,
                "created_at": at,
                "updated_at": at,
            }
        )
    pay_ids = {}
    for name, category in seed.COMPENSATION_TYPES:
        pay_ids[name] = seed.seed_id("compensation-type", name)
        db["compensation_types"].insert({"id": pay_ids[name], "name": name, "category": category})
    pay = [
        (person_id, "Base salary", effective, value, "YEARLY")
        for person_id, history in seed.SALARY_HISTORY
        for effective, value in history
    ] + [(person_id, "Annual bonus", paid, value, None) for person_id, paid, value in seed.BONUSES]
    db["compensations"].insert_all(
        {
            "id": seed.seed_id("compensation", f"{person_id}:{name}:{effective}"),
            "person_id": person_id,
            "type_id": pay_ids[name],
            "value": value,
            "currency": "EUR",
            "interval": interval,
            "effective_from": effective,
            "comment": "",
            "created_at": at,
        }
        for person_id, name, effective, value, interval in pay
    )
