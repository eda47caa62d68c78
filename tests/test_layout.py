"""The shape of the code, checked: who may import whom, where the app is assembled, file sizes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("approvals", "bot", "sandbox", "dev")
FORBIDDEN = {
    "approvals": {"bot", "sandbox", "dev"},
    "bot": {"sandbox", "dev"},
}
ASSEMBLED_ONCE = (
    "Agent",
    "Announcer",
    "CardCopies",
    "ClickHandler",
    "Executor",
    "Gate",
    "HRClient",
    "Housekeeper",
    "Inbox",
    "Intake",
    "People",
    "Replies",
    "Sweeper",
    "Toolbox",
    "Upkeep",
)
MAX_LINES = 320  # "about 300": past that a module usually holds two things


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).glob("*.py"))


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_what_it_must_not_know(package):
    offenders = {
        path.name: sorted(imported_packages(path) & FORBIDDEN[package])
        for path in modules(package)
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_the_app_parts_are_constructed_in_exactly_one_module():
    sites: dict[str, set[str]] = {name: set() for name in ASSEMBLED_ONCE}
    for package in PACKAGES:
        for path in modules(package):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func  # Class(...) or module.Class(...)
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in sites:
                    sites[name].add(f"{package}/{path.name}")
    assert sites == {name: {"bot/app.py"} for name in ASSEMBLED_ONCE}


@pytest.mark.parametrize("package", ["approvals", "bot"])
def test_no_module_of_the_app_is_much_over_three_hundred_lines(package):
    long = {
        p.name: n for p in modules(package) if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
