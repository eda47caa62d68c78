"""The company the HRIS sandbox starts with: 15 people in 4 departments, who reports to whom, time
off requested and decided, days off allowed, and each person's pay over time."""

from __future__ import annotations

import uuid

SEEDED_AT = "2025-01-06T09:00:00Z"
EMAIL_DOMAIN = "northwind.example"
_NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-4e8a-9c55-0d2b8f9e1a37")


def seed_id(kind: str, key: str) -> str:
    """A stable UUID for a seeded record, so that a fresh sandbox always has the same ids."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


# id, name, abbreviation
DEPARTMENTS = [
    ("301", "Platform", "PLT"),
    ("302", "Sales", "SLS"),
    ("303", "Operations", "OPS"),
    ("304", "Finance", "FIN"),
]

# id, first name, last name, job title, department id, supervisor id, weekly hours
PEOPLE = [
    ("1001", "Margaret", "Okoye", "Chief Executive Officer", "303", None, 40),
    ("1002", "Janet", "Weaver", "Head of Platform", "301", "1001", 40),
    ("1003", "Bob", "Lindqvist", "Backend Engineer", "301", "1002", 40),
    ("1004", "Carol", "Nguyen", "Data Analyst", "304", "1008", 32),
    ("1005", "Dana", "Whitfield", "Site Reliability Engineer", "301", "1002", 40),
    ("1006", "Emeka", "Obi", "Frontend Engineer", "301", "1002", 40),
    ("1007", "Farah", "Haddad", "Head of Sales", "302", "1001", 40),
    ("1008", "Gustav", "Berg", "Head of Finance", "304", "1001", 40),
    ("1009", "Hana", "Sato", "Account Executive", "302", "1007", 40),
    ("1010", "Ivan", "Petrov", "Sales Development Representative", "302", "1007", 40),
    ("1011", "Julia", "Costa", "Payroll Specialist", "304", "1008", 30),
    ("1012", "Kwame", "Mensah", "Office Manager", "303", "1013", 40),
    ("1013", "Lena", "Fischer", "Head of People", "303", "1001", 40),
    ("1014", "Mateo", "Rossi", "Recruiter", "303", "1013", 40),
    ("1015", "Nadia", "Karim", "QA Engineer", "301", "1002", 40),
]


def email(first: str, last: str) -> str:
    return f"{first}.{last}@{EMAIL_DOMAIN}".lower()


def employment_id(person_id: str) -> str:
    return str(int(person_id) + 4000)


# name, category, whether a request waits for approval, days allowed a year (None: not counted)
ABSENCE_TYPES = [
    ("Paid vacation", "paid_vacation", True, 28),
    ("Sick leave", "sick_leave", False, None),
    ("Training days", "training", True, 5),
]

# key, person id, absence type name, first day, last day, status, comment
ABSENCE_PERIODS = [
    ("bob-winter", "1003", "Paid vacation", "2026-02-02", "2026-02-06", "APPROVED", "Ski week"),
    ("hana-january", "1009", "Paid vacation", "2026-01-12", "2026-01-16", "APPROVED", ""),
    ("ivan-flu", "1010", "Sick leave", "2026-02-16", "2026-02-17", "APPROVED", ""),
    ("emeka-summer", "1006", "Paid vacation", "2026-07-06", "2026-07-17", "APPROVED", ""),
    ("julia-june", "1011", "Paid vacation", "2026-06-01", "2026-06-12", "REJECTED", "Payroll run"),
    ("janet-march", "1002", "Paid vacation", "2026-03-09", "2026-03-13", "PENDING", "Family visit"),
    ("bob-april", "1003", "Paid vacation", "2026-04-20", "2026-04-24", "PENDING", ""),
    ("dana-may", "1005", "Paid vacation", "2026-05-04", "2026-05-08", "PENDING", "Wedding"),
    ("carol-course", "1004", "Training days", "2026-03-26", "2026-03-27", "PENDING", "SQL course"),
]

# name, category
COMPENSATION_TYPES = [
    ("Base salary", "FIXED"),
    ("Annual bonus", "ONE_TIME"),
]

# person id, [(effective from, yearly base salary in EUR)], oldest first
SALARY_HISTORY = [
    ("1001", [("2023-01-01", 180000), ("2025-01-01", 195000)]),
    ("1002", [("2023-04-01", 98000), ("2024-04-01", 104000), ("2025-04-01", 110000)]),
    ("1003", [("2024-02-01", 68000), ("2025-02-01", 72000)]),
    ("1004", [("2024-09-01", 52000)]),
    ("1005", [("2023-03-01", 62000), ("2025-03-01", 66000)]),
    ("1006", [("2024-06-01", 64000)]),
    ("1007", [("2023-01-01", 95000), ("2025-01-01", 101000)]),
    ("1008", [("2023-01-01", 97000)]),
    ("1009", [("2024-01-15", 58000), ("2025-01-15", 61000)]),
    ("1010", [("2025-05-01", 45000)]),
    ("1011", [("2023-08-01", 49000), ("2024-08-01", 51500)]),
    ("1012", [("2024-03-01", 42000)]),
    ("1013", [("2023-01-01", 92000), ("2024-07-01", 96000)]),
    ("1014", [("2025-02-01", 50000)]),
    ("1015", [("2024-11-01", 57000)]),
]

# person id, paid on, amount in EUR
BONUSES = [
    ("1007", "2025-03-31", 12000),
    ("1009", "2025-03-31", 6000),
]
