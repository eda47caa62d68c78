"""The documentation keeps up with the code: README stays short, and every path, link, command,
test and setting that README and docs/ name exists."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from collections import Counter
from pathlib import Path

import pytest

from bot import config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_LIMIT = 12 * 1024

# A backticked name without a slash is a file only when it ends like one.
EXTENSIONS = (".py", ".md", ".json", ".png", ".txt", ".toml", ".js", ".html", ".css", ".example")
FENCED = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
# Inline code, which may wrap onto the next line (not across a blank one).
CODE_SPAN = re.compile(r"(?<!`)`((?:[^`\n]|\n(?!\n))+)`(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"\n]*\")?\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
MAKE = re.compile(r"\bmake ([a-z][\w-]*)")
PYTHON_M = re.compile(r"\bpython3? -m ([A-Za-z_][\w.]*)")
# A setting as the docs write one: `LEASE_SECONDS`, `HR_AUTH=oauth`, `PORT=3000`.
SETTING = re.compile(r"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=.*)?|([A-Z][A-Z0-9]+)=.*")
TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.M)


def top_level() -> tuple[set[str], set[str]]:
    """The entries at the root that git keeps, and the names it ignores (made at run time, such
    as data/ and .venv/)."""
    ignored = {".git"}
    for line in (ROOT / ".gitignore").read_text().splitlines():
        if line and not line.startswith(("#", "!")) and "*" not in line:
            ignored.add(line.strip("/"))
    return {path.name for path in ROOT.iterdir()} - ignored, ignored


def code_spans(text: str) -> list[str]:
    """Inline code outside code blocks, a wrapped span read as one line."""
    return [span.replace("\n", " ") for span in CODE_SPAN.findall(prose(text))]


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return FENCED.sub("", text)


def code(text: str) -> str:
    """Everything written as code: fenced blocks and inline code spans."""
    blocks = [match.group(0) for match in FENCED.finditer(text)]
    return "\n".join(blocks + code_spans(text))


def names_a_path(span: str, kept: set[str], ignored: set[str]) -> bool:
    """Whether backticked text is a repository path: it starts with an entry git keeps and has a
    slash or a file's ending, or it is any other slashed name with a file's ending (so a misspelt
    first folder is caught too), but not one under a folder git ignores (data/hrbot.sqlite3 is
    made at run time)."""
    if not re.fullmatch(r"[\w.+-]+(/[\w.+-]*)*", span) or span.startswith(".."):
        return False
    first, is_file = span.split("/")[0], span.endswith(EXTENSIONS)
    if first in kept:
        return "/" in span or is_file
    return first not in ignored and "/" in span and is_file


def backticked_paths(text: str, kept: set[str], ignored: set[str]) -> list[str]:
    """Repository paths written in backticks outside code blocks, relative to the root."""
    return [span for span in code_spans(text) if names_a_path(span, kept, ignored)]


def link_targets(text: str) -> list[str]:
    """Markdown link and image targets outside code, as written."""
    return LINK.findall(CODE_SPAN.sub("``", prose(text)))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(prose(text)):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def settings_named(text: str) -> set[str]:
    """Settings written in backticks, and NAME= lines in code blocks."""
    spans = code_spans(text)
    lines = re.findall(r"^([A-Z][A-Z0-9_]*)=", "\n".join(FENCED.findall(text)), re.M)
    named = {m.group(1) or m.group(2) for s in spans if (m := SETTING.fullmatch(s))}
    return named | set(lines)


def cited_tests(text: str) -> tuple[set[str], set[str]]:
    """Test functions and test files cited in backticks."""
    spans = code_spans(text)
    functions = {span for span in spans if re.fullmatch(r"test_[a-z0-9_]+", span)}
    files = {m.group(1) for s in spans if (m := re.fullmatch(r"(?:tests/)?(test_\w+\.py)", s))}
    return functions, files


SAMPLE = """# A page

See `bot/app.py`, `approvals/slack/`, `.env.example`, `bots/app.py` and
[the manifest](../manifest.json "its title").

![a picture](../test-artifacts/x.png)

*Its caption.*

## Not paths: `users.info`, `PUBLIC_URL/oauth/callback`, `/api/users`, `data/hrbot.json`

`HTTP`, `RETURNING`, <https://api.slack.com/apps>, [a site](https://example.com),
[this page](#not-paths-usersinfo-public_urloauthcallback-apiusers-datahrbotjson).

```sh
OPENAI_BASE_URL=http://localhost:8080/v1 make run  # `not/a_path.py`, [no](link.md)
python -m approvals audit --db data/x.sqlite3
```

Set `HR_AUTH=oauth` or `DATABASE_URL`; run `make test` or `python -m
dev.eval`; see `test_x_works` and `tests/test_y.py`.

## A page
"""


def test_the_extractors_find_what_a_page_names_and_nothing_else():
    kept, ignored = {"bot", "approvals", "tests", ".env.example", "docs"}, {"data", ".venv"}
    assert backticked_paths(SAMPLE, kept, ignored) == [
        "bot/app.py",
        "approvals/slack/",
        ".env.example",
        "bots/app.py",
        "tests/test_y.py",
    ]
    assert link_targets(SAMPLE) == [
        "../manifest.json",
        "../test-artifacts/x.png",
        "https://example.com",
        "#not-paths-usersinfo-public_urloauthcallback-apiusers-datahrbotjson",
    ]
    assert anchors(SAMPLE) == {
        "a-page",
        "a-page-1",
        "not-paths-usersinfo-public_urloauthcallback-apiusers-datahrbotjson",
    }
    assert set(MAKE.findall(code(SAMPLE))) == {"run", "test"}
    assert set(PYTHON_M.findall(code(SAMPLE))) == {"approvals", "dev.eval"}
    assert settings_named(SAMPLE) == {"OPENAI_BASE_URL", "HR_AUTH", "DATABASE_URL"}
    assert cited_tests(SAMPLE) == ({"test_x_works"}, {"test_y.py"})


def test_the_extractors_find_plenty_on_the_real_pages():
    text = "\n".join(page.read_text() for page in PAGES)
    assert len(backticked_paths(text, *top_level())) > 50
    assert len(link_targets(text)) > 30
    assert {"run", "test", "eval", "format"} <= set(MAKE.findall(code(text)))
    assert len(settings_named(text)) > 40
    assert len(cited_tests(text)[0]) > 50


def test_readme_is_a_short_page():
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail to docs/"


def test_the_index_links_every_docs_page():
    index = DOCS / "README.md"
    linked = {(DOCS / t.partition("#")[0]).resolve() for t in link_targets(index.read_text())}
    pages = [page for page in DOCS.glob("*.md") if page != index]
    assert sorted(page.name for page in pages if page.resolve() not in linked) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_path_a_page_names_exists(page):
    missing = [
        path
        for path in backticked_paths(page.read_text(), *top_level())
        if not (ROOT / path).exists()
    ]
    assert missing == []


def leads_somewhere(page: Path, target: str) -> bool:
    """A link from `page` to a file or folder in the repository (to a heading, if it names one)."""
    path, _, anchor = target.partition("#")
    linked = (page.parent / path).resolve() if path else page
    if not linked.is_relative_to(ROOT) or not linked.exists():
        return False
    return not anchor or (linked.suffix == ".md" and anchor in anchors(linked.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_link_a_page_makes_leads_somewhere(page):
    targets = [t for t in link_targets(page.read_text()) if not SCHEME.match(t)]
    assert [target for target in targets if not leads_somewhere(page, target)] == []


def test_every_make_target_and_python_module_the_docs_name_exists():
    text = "\n".join(code(page.read_text()) for page in PAGES)
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    assert sorted(set(MAKE.findall(text)) - targets) == []

    def runnable(module: str) -> bool:
        path = ROOT.joinpath(*module.split("."))
        if not (ROOT / module.split(".")[0]).exists():
            return importlib.util.find_spec(module) is not None
        return path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()

    assert sorted(m for m in set(PYTHON_M.findall(text)) if not runnable(m)) == []


def test_the_two_set_up_commands_are_the_makefile_targets():
    readme = README.read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make run" in readme and "make test" in readme
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_test_the_docs_cite_exists():
    functions, files = cited_tests("\n".join(page.read_text() for page in PAGES))
    source = "\n".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    assert functions, "the security model should name its tests"
    assert sorted(name for name in functions if f"def {name}(" not in source) == []
    assert sorted(name for name in files if not (ROOT / "tests" / name).is_file()) == []


def environment_reads(path: Path) -> set[str]:
    """The variables a module reads with os.environ.get, os.environ[…] or os.getenv, each named
    by a string or by a constant of a module it imports (checkpoints.KEY_VARIABLE)."""
    tree = ast.parse(path.read_text())
    imported = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"os.environ.get", "os.getenv"}:
            name = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            name = node.slice
        else:
            continue
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            names.add(name.value)
        elif isinstance(name, ast.Attribute) and isinstance(name.value, ast.Name):
            module = importlib.import_module(imported[name.value.id])
            names.add(getattr(module, name.attr))
        else:
            pytest.fail(f"{path.name} reads a variable named by {ast.unparse(name)}")
    return names


def variables_the_code_reads() -> set[str]:
    # tests/test_config.py checks that bot/config.py reads exactly config.VARIABLES, and that
    # nothing else in bot/, approvals/ or infra/ reads the environment but the audit command.
    return set(config.VARIABLES) | environment_reads(ROOT / "approvals" / "__main__.py")


def test_the_audit_command_reads_its_checkpoint_key_and_the_database():
    read = environment_reads(ROOT / "approvals" / "__main__.py")
    assert read == {"AUDIT_CHECKPOINT_KEY", "DATABASE_URL", "DATABASE_PATH"}


def test_every_variable_the_code_reads_is_in_the_configuration_table_once():
    rows = Counter(TABLE_ROW.findall(CONFIGURATION.read_text()))
    read = variables_the_code_reads()
    assert sorted(name for name, count in rows.items() if count > 1) == []
    assert sorted(read - set(rows)) == [], "read by the code, missing from the table"
    assert sorted(set(rows) - read) == [], "in the table, read by nothing"


def test_every_setting_the_docs_and_env_example_name_is_one_the_code_reads():
    # The test suite's own switches (HRBOT_…) are read in tests/ and documented with them.
    tests = "\n".join(path.read_text() for path in (ROOT / "tests").glob("*.py"))
    known = variables_the_code_reads() | set(re.findall(r'"(HRBOT_[A-Z0-9_]+)"', tests))
    named = set().union(*(settings_named(page.read_text()) for page in PAGES))
    example = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert sorted(named - known) == []
    assert sorted(example - known) == []
