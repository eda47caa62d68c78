"""The installable package: a wheel built from the project, installed into a fresh virtual
environment, gives the `hr-approval-bot` command, which finds what ships with the bot (the
catalogue, the manifest, the local workspace's page) inside the package, wherever it is run."""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

from bot import cli
from tests.test_children import free_port
from tests.test_workspace_page import eventually, free_pair

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("bot", "approvals", "infra", "sandbox")


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if match := re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z]+\])?==(\S+)", line.strip()):
            found[match[1].lower().replace("_", "-")] = match[3]
    return found


def test_the_packages_dependencies_are_the_pinned_runtime_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = (ROOT / "requirements.txt").read_text().split("# Test")[0].splitlines()
    assert pins(project["dependencies"]) == pins(required)
    assert project["scripts"] == {"hr-approval-bot": "bot.cli:main"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the project (the checkout stays clean) and installed
    without its dependencies into a new venv that borrows them from this one: what is tested
    is the wheel's own content. Returns the venv's bin directory."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    for name in SHIPPED:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("hr_approval_bot-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    venv_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(venv_site) / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv / "bin"


def command(bin_dir: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "HOME": str(cwd)}
    return subprocess.run(
        [str(bin_dir / "hr-approval-bot"), *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_installed_command_runs_from_anywhere_with_what_ships_inside_it(installed, tmp_path):
    helped = command(installed, "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "hr-approval-bot run" in helped.stdout

    manifest = command(installed, "manifest", cwd=tmp_path)
    assert json.loads(manifest.stdout) == json.loads(
        (ROOT / "bot" / "slack" / "manifest.json").read_text()
    )
    checked = command(installed, "catalogue", "check", cwd=tmp_path)
    assert checked.returncode == 0 and "- GET /api/users/{id}: One employee." in checked.stdout
    assert "held for approval" in checked.stdout

    stats = command(installed, "stats", "--db", str(tmp_path / "none.sqlite3"), cwd=tmp_path)
    assert stats.returncode != 0 and "none.sqlite3" in stats.stderr  # the approvals CLI, folded in
    wrong = command(installed, "launch", cwd=tmp_path)
    assert wrong.returncode == 2 and "usage: hr-approval-bot" in wrong.stderr


def test_the_installed_command_starts_the_local_workspace(installed, tmp_path):
    port, scrape = free_pair(), free_port()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PORT": str(port)}
    bot = subprocess.Popen(
        [str(installed / "hr-approval-bot"), "run"],
        cwd=tmp_path,
        env={**env, "METRICS_PORT": str(scrape)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said = []
        for line in bot.stdout:  # until it says it is ready (or ends)
            said.append(line)
            if line.startswith("Ready: open"):
                break
        assert said and said[-1].startswith("Ready: open"), "".join(said)
        assert not [line for line in said if "HR sign-ins" in line]  # no per-user HR here
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "workspace" in page.text.lower()
        script = requests.get(f"http://127.0.0.1:{port}/app.js", timeout=10)
        assert script.status_code == 200 and "renderBlocks" in script.text  # from the package
        # The operator's endpoints: readiness on the bot's port, the metrics on their own.
        ready = eventually(
            lambda: (r := requests.get(f"http://127.0.0.1:{port + 1}/readyz", timeout=5)).ok and r
        )
        assert ready.text == "ready\n"
        scraped = requests.get(f"http://127.0.0.1:{scrape}/metrics", timeout=5)
        assert "hrbot_actions_pending 0.0" in scraped.text
    finally:
        bot.terminate()
        bot.wait(30)
        bot.stdout.close()
    assert bot.returncode == 0


def test_the_commands_usage_names_each_command(capsys):
    assert cli.main([]) == 2
    assert "usage: hr-approval-bot" in capsys.readouterr().err
    assert cli.main(["catalogue", "check", str(ROOT / "pyproject.toml")]) == 1
    assert "cannot read catalogue" in capsys.readouterr().err
