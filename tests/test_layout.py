"""The shape of the code, checked: who may import whom, no cycles, no private names across
modules, packages that say what they own, and the one place the app is assembled."""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ("infra", "approvals", "bot")  # what ships; sandbox and dev are beside it, never in it
OUTSIDE = ("sandbox", "dev", "tests")

# Package → the packages it must never import. A message reads one way: Slack → conversation
# → agent → tools → HR, the approvals engine under all of it, infrastructure under everything.
FORBIDDEN = {
    "infra": {"approvals", "bot", *OUTSIDE},
    "approvals": {"approvals.slack", "bot", *OUTSIDE},
    "approvals.slack": {"bot", *OUTSIDE},
    "bot": set(OUTSIDE),
    "bot.hr": {"bot.tools", "bot.agent", "bot.conversation", "bot.slack"},
    "bot.tools": {"bot.agent", "bot.conversation", "bot.slack"},
    "bot.agent": {"bot.conversation", "bot.slack"},
}
ASSEMBLED_ONCE = (
    "Agent",
    "Announcer",
    "CardCopies",
    "ClickHandler",
    "Executor",
    "Gate",
    "HRClient",
    "Home",
    "Housekeeper",
    "Inbox",
    "Intake",
    "People",
    "Replies",
    "Sweeper",
    "Toolbox",
    "Upkeep",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def app_modules() -> dict[str, Path]:
    return {module_name(p): p for top in APP for p in sorted((ROOT / top).rglob("*.py"))}


def package_of(module: str) -> str:
    """The package a module belongs to (a package's __init__ belongs to the package itself)."""
    path = app_modules()[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports_of(path: Path, *, at_import: bool = False) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for each import in the file. With `at_import`,
    only those run when the module is imported: not inside functions, nor for type checkers."""
    found = []

    def visit(node: ast.AST) -> None:
        if at_import and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        if at_import and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in app_modules():
                    found.append((submodule, []))
                else:
                    found.append((node.module, [alias.name]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def imports(module: str, *, at_import: bool = False) -> list[tuple[str, list[str]]]:
    return imports_of(app_modules()[module], at_import=at_import)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def governing(package: str) -> list[str]:
    """Every rule's package that `package` is, or is inside of."""
    return [rule for rule in FORBIDDEN if within(package, rule)]


def test_every_app_module_is_found():
    assert {"bot.app", "approvals.store", "approvals.slack.cards", "infra.db"} <= set(app_modules())


@pytest.mark.parametrize("module", sorted(app_modules()))
def test_a_module_imports_only_what_its_package_may_know(module):
    package = package_of(module)
    forbidden = set().union(*(FORBIDDEN[rule] for rule in governing(package)))
    # A subpackage's own modules are its, even where its parent may not import it.
    offenders = sorted(
        imported
        for imported, _ in imports(module)
        if any(within(imported, f) for f in forbidden) and not within(imported, package)
    )
    assert offenders == []


@pytest.mark.parametrize("module", sorted(app_modules()))
def test_no_private_name_is_imported_from_another_module(module):
    private = sorted(
        f"{imported}.{name}"
        for imported, names in imports(module)
        for name in names
        if name.startswith("_") and imported in app_modules()
    )
    assert private == []


def graph(*, at_import: bool = False) -> dict[str, set[str]]:
    return {
        module: {
            imported
            for imported, _ in imports(module, at_import=at_import)
            if imported in app_modules()
        }
        - {module}
        for module in app_modules()
    }


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle in a directed graph, or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for after in sorted(edges.get(node, ())):
            if state.get(after) == 1:
                return [*path[path.index(after) :], after]
            if after not in state and (found := visit(after)):
                return found
        path.pop()
        state[node] = 2
        return []

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_two_modules_import_each_other_even_through_others():
    # What runs at import; an engine loaded on demand (infra.db → infra.postgres) may look back.
    assert cycle(graph(at_import=True)) == []


def test_no_two_packages_import_each_other_even_through_others():
    packages: dict[str, set[str]] = {}
    for module, imported in graph().items():
        packages.setdefault(package_of(module), set()).update(package_of(i) for i in imported)
    assert cycle({p: after - {p} for p, after in packages.items()}) == []


def test_cycle_finds_a_cycle_and_only_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


@pytest.mark.parametrize(
    "package", sorted(m for m, p in app_modules().items() if p.name == "__init__.py")
)
def test_each_package_says_what_it_owns_and_exports_what_others_use(package):
    tree = ast.parse(app_modules()[package].read_text())
    assert ast.get_docstring(tree), f"{package}/__init__.py needs a docstring"
    exported = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exported = {elt.value for elt in node.value.elts}
    users = [p for top in (*APP, *OUTSIDE) for p in sorted((ROOT / top).rglob("*.py"))]
    used_outside = {
        name
        for path in users
        if not within(module_name(path), package)
        for imported, names in imports_of(path)
        if imported == package
        for name in names
    }
    assert exported >= used_outside, "what other packages take from it is in __all__"
    assert exported <= used_outside, "what no other package of the app uses is not exported"


def test_the_app_parts_are_constructed_in_exactly_one_module():
    sites: dict[str, set[str]] = {name: set() for name in ASSEMBLED_ONCE}
    for top in (*APP, "sandbox", "dev"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func  # Class(...) or module.Class(...)
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in sites:
                    sites[name].add(str(path.relative_to(ROOT)))
    assert sites == {name: {"bot/app.py"} for name in ASSEMBLED_ONCE}
