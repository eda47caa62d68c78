"""What some tests need from the machine (Chromium, PostgreSQL's server binaries). Without it
those tests are skipped and the run ends with a loud banner; with the need's variable set to
`required` (CI sets both) its absence fails them instead."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NoReturn

import pytest


@dataclass(frozen=True)
class Need:
    name: str  # "browser", "postgres": the option is --{name}-required
    variable: str  # HRBOT_BROWSER_TESTS, HRBOT_POSTGRES_TESTS
    what: str  # what is missing, in a sentence's middle
    install: str  # the command that installs it
    consequence: str  # what went untested without it
    skipped: pytest.StashKey[bool] = field(default_factory=pytest.StashKey)

    def add_option(self, parser: pytest.Parser) -> None:
        parser.addoption(
            f"--{self.name}-required",
            action="store_true",
            default=os.environ.get(self.variable) == "required",
            help=f"fail (not skip) the tests that need {self.what} when it is missing; CI "
            f"sets {self.variable}=required",
        )

    def missing(self, request: pytest.FixtureRequest) -> NoReturn:
        if request.config.getoption(f"--{self.name}-required"):
            pytest.fail(f"{self.what} is required for these tests: {self.install}")
        request.config.stash[self.skipped] = True
        pytest.skip(f"{self.what} is not installed ({self.install}): tests skipped")

    def report(self, config: pytest.Config, reporter) -> None:
        if config.stash.get(self.skipped, False):
            reporter.section(f"{self.name.upper()} TESTS SKIPPED", sep="!", red=True, bold=True)
            reporter.line(
                f"{self.what} is not installed, so {self.consequence} Install it "
                f"({self.install}) and run make test again.",
                red=True,
            )


BROWSER = Need(
    "browser",
    "HRBOT_BROWSER_TESTS",
    "Chromium",
    "apt-get install -y chromium",
    "the local workspace page was not tested in a browser.",
)
POSTGRES = Need(
    "postgres",
    "HRBOT_POSTGRES_TESTS",
    "PostgreSQL's server (/usr/lib/postgresql/*/bin, or HRBOT_POSTGRES_BIN)",
    "apt-get install -y postgresql",
    "nothing was tested on PostgreSQL: not the stores, not several replicas.",
)
NEEDS = (BROWSER, POSTGRES)
