import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_the_readme_cites_exists():
    readme = (ROOT / "README.md").read_text()
    cited_functions = set(re.findall(r"`(test_[a-z0-9_]+)`", readme))
    cited_files = set(re.findall(r"`(test_[a-z0-9_]+\.py)`", readme)) | set(
        re.findall(r"`tests/(test_[a-z0-9_]+\.py)`", readme)
    )
    source = "\n".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    assert cited_functions, "the security model should name its tests"
    missing = sorted(
        name
        for name in cited_functions
        if not name.endswith(".py") and f"def {name}(" not in source
    )
    assert missing == []
    assert all((ROOT / "tests" / name).is_file() for name in cited_files)


def test_the_two_set_up_commands_are_the_makefile_targets():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make run" in readme and "make test" in readme
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
