"""Playwright driving Chromium (Debian's package; Playwright's own download cannot work here).
Without Chromium the browser tests are skipped, loudly; with HRBOT_BROWSER_TESTS=required (CI)
its absence is an error."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system_needs import BROWSER

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def chromium_path() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium(request) -> Iterator[object]:
    path = chromium_path()
    if path is None:
        BROWSER.missing(request)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()
