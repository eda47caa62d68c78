"""`hr-approval-bot`, the installed command: one entry point for everything an operator runs.

    hr-approval-bot run            the Slack app (what `make run` and `python -m bot` start)
    hr-approval-bot rotate-keys    re-encrypt stored HR tokens under TOKEN_ENCRYPTION_KEYS' first
    hr-approval-bot audit …        print, verify or export the audit trail
    hr-approval-bot checkpoint     a signed checkpoint of the audit trail
    hr-approval-bot stats …        outcomes, time to decision, expiries, each approver's load
    hr-approval-bot catalogue check [FILE]   validate an endpoint catalogue, list what it offers
    hr-approval-bot manifest       print the Slack app manifest (paste it at api.slack.com/apps)

Everything it reads that ships with the bot (the catalogue, the manifest, the local workspace's
page) is found inside the installed package, never in the working directory."""

from __future__ import annotations

import sys
from importlib import resources

from bot.tools.catalogue import DEFAULT_CATALOGUE, Catalogue, CatalogueError

APPROVALS_COMMANDS = ("audit", "checkpoint", "stats")
USAGE = (
    "usage: hr-approval-bot {run,rotate-keys,audit,checkpoint,stats,catalogue,manifest} …\n"
    "       hr-approval-bot COMMAND --help, or hr-approval-bot --help for what each does"
)


def manifest_text() -> str:
    """The Slack app manifest, as shipped in the package."""
    return resources.files("bot.slack").joinpath("manifest.json").read_text()


def check_catalogue(args: list[str]) -> int:
    """`catalogue check [FILE]`: the catalogue (the shipped one by default) read and validated;
    its endpoints listed, or the one error that stops it, and a non-zero exit."""
    if args[:1] != ["check"] or len(args) > 2:
        print("usage: hr-approval-bot catalogue check [FILE]", file=sys.stderr)
        return 2
    path = args[1] if len(args) == 2 else DEFAULT_CATALOGUE
    try:
        catalogue = Catalogue.load(path)
    except CatalogueError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    held = sum(1 for endpoint in catalogue.endpoints if endpoint.approval)
    print(catalogue.describe())
    print(
        f"{path}: {len(catalogue.endpoints)} endpoints, {held} of them held for approval; "
        f"records are called {catalogue.record.noun or 'record'}."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command in ("-h", "--help"):
        print(__doc__)
        return 0
    if command in ("run", "rotate-keys") and not rest:
        from bot.__main__ import main as bot_main  # the Slack app's own imports, only here

        return bot_main([] if command == "run" else ["rotate-keys"])
    if command in APPROVALS_COMMANDS:
        from approvals.__main__ import main as approvals_main

        return approvals_main([command, *rest], prog="hr-approval-bot")
    if command == "catalogue":
        return check_catalogue(rest)
    if command == "manifest" and not rest:
        print(manifest_text(), end="")
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
