"""`hr-approval-bot`, the installed command: one entry point for everything an operator runs.

    hr-approval-bot run            the Slack app (what `make run` and `python -m bot` start)
    hr-approval-bot rotate-keys    re-encrypt stored HR tokens under TOKEN_ENCRYPTION_KEYS' first
    hr-approval-bot audit …        print, verify or export the audit trail
    hr-approval-bot checkpoint     a signed checkpoint of the audit trail
    hr-approval-bot stats …        outcomes, time to decision, expiries, each approver's load
    hr-approval-bot catalogue check [FILE]   validate an endpoint catalogue, list what it offers
    hr-approval-bot catalogue import SPEC [--out FILE [--force]]
                                   draft a catalogue from an OpenAPI 3.0 or 3.1 document (a
                                   file or an http(s) URL), every endpoint held back for review
    hr-approval-bot manifest       print the Slack app manifest (paste it at api.slack.com/apps)

Everything it reads that ships with the bot (the catalogue, the manifest, the local workspace's
page) is found inside the installed package, never in the working directory."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path

from bot.tools.catalogue import (
    DEFAULT_CATALOGUE,
    Catalogue,
    CatalogueError,
    catalogue_file,
    presets,
)

APPROVALS_COMMANDS = ("audit", "checkpoint", "stats")
USAGE = (
    "usage: hr-approval-bot {run,rotate-keys,audit,checkpoint,stats,catalogue,manifest} …\n"
    "       hr-approval-bot COMMAND --help, or hr-approval-bot --help for what each does"
)


def manifest_text() -> str:
    """The Slack app manifest, as shipped in the package."""
    return resources.files("bot.slack").joinpath("manifest.json").read_text()


def check_catalogue(args: list[str]) -> int:
    """`catalogue check [FILE]`: the catalogue (the shipped one by default, or a preset by its
    name) read and validated; its endpoints listed, or every problem it has, a line each, and a
    non-zero exit."""
    if args[:1] != ["check"] or len(args) > 2:
        print(
            "usage: hr-approval-bot catalogue check [FILE | PRESET]\n"
            "       hr-approval-bot catalogue import SPEC [--out FILE [--force]]",
            file=sys.stderr,
        )
        return 2
    path = catalogue_file(args[1]) if len(args) == 2 else DEFAULT_CATALOGUE
    if path is None:
        print(f"{args[1]}: no such file, nor a preset ({', '.join(presets())})", file=sys.stderr)
        return 1
    try:
        catalogue = Catalogue.load(path)
    except CatalogueError as e:
        for problem in str(e).splitlines():  # every problem found, one a line, each with the file
            print(f"{path}: {problem}", file=sys.stderr)
        return 1
    held = sum(1 for endpoint in catalogue.endpoints if endpoint.approval)
    print(catalogue.describe())
    kinds = ", ".join(shape.noun or name for name, shape in catalogue.resources.items())
    waiting = f"; {len(catalogue.held_back)} not kept yet" if catalogue.held_back else ""
    print(
        f"{path}: {len(catalogue.endpoints)} endpoints, {held} of them held for approval"
        f"{waiting}; records are called {catalogue.record.noun or 'record'}"
        + (f"; kinds of record: {kinds}." if len(catalogue.resources) > 1 else ".")
    )
    return 0


def import_catalogue(args: list[str]) -> int:
    """`catalogue import SPEC [--out FILE [--force]]`: a draft catalogue from an OpenAPI
    document, printed or written whole; what could not be mapped told on stderr, a line each.
    A document that cannot be used writes nothing and exits 1, a line per problem."""
    from bot.tools.importer import SpecError, draft_catalogue, read_spec  # its parsers only here

    parser = argparse.ArgumentParser(
        prog="hr-approval-bot catalogue import",
        description="Draft an endpoint catalogue from an OpenAPI 3.0 or 3.1 document. Nothing "
        'in the draft is offered until you set "keep": true on it.',
    )
    parser.add_argument("spec", metavar="SPEC", help="the OpenAPI document: a file or a URL")
    parser.add_argument("--out", metavar="FILE", help="write the draft here, not to stdout")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    options = parser.parse_args(args)
    out = Path(options.out) if options.out else None
    if out is not None and out.exists() and not options.force:
        print(f"{out} exists; give --force to replace it", file=sys.stderr)
        return 1
    try:
        document = read_spec(options.spec)
    except SpecError as e:
        for problem in e.problems:
            print(f"{options.spec}: {problem}", file=sys.stderr)
        return 1
    draft = draft_catalogue(document, options.spec)
    unmapped = draft["draft"]["unmapped"]
    for entry in unmapped:
        print(f"not mapped: {entry['operation']}: {entry['why']}", file=sys.stderr)
    text = json.dumps(draft, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            write_whole(out, text, replace=options.force)
        except FileExistsError:
            print(f"{out} exists; give --force to replace it", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"cannot write {out}: {e.strerror or e}", file=sys.stderr)
            return 1
    endpoints = draft["endpoints"]
    held = sum(1 for endpoint in endpoints if endpoint["approval"])
    print(
        f"{len(endpoints)} endpoints drafted ({held} held for approval), none kept yet; "
        f"{len(unmapped)} things not mapped. Review it, set keep on what the bot may offer, "
        "then run: hr-approval-bot catalogue check " + (str(out) if out else "FILE"),
        file=sys.stderr,
    )
    return 0


def write_whole(path: Path, text: str, *, replace: bool) -> None:
    """`text` in `path` all at once, never half-written; FileExistsError, leaving the file as
    it was, when it exists and `replace` is False."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from a bot run as another user
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # unlike a rename, refuses a name that is taken
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


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
    if command == "catalogue" and rest[:1] == ["import"]:
        return import_catalogue(rest[1:])
    if command == "catalogue":
        return check_catalogue(rest)
    if command == "manifest" and not rest:
        print(manifest_text(), end="")
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
