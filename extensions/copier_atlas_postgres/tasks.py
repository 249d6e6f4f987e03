"""What copier runs in the project folder after rendering (copier.yml, through tasks.py):

* after-copy PROJECT [AUTH_CONFIG] (a `_tasks` entry limited to copies):
  1. a server built by hand from the convention doc is adopted (adoption.py): its files move onto
     the template's numbered names;
  2. the template's part of package.json, .gitignore, .env and .env.example is merged into the
     app's own files (shared_files.py).
* after-update PROJECT (the unversioned `_migrations` entry, last):
  1. the shared files are merged again: what the template changed changes, what the user changed
     stays;
  2. the update guard (update_guard.py) restores data-definition files copier deleted and names
     every conflict; it exits 1 when the user must act. Both always run: a failed merge is
     reported and fails the update too, after the guard.
* rename-files OLD NEW ... (a versioned `_migrations` entry of a release that renames files).

What was moved, merged, kept or must be reviewed is printed. Modules are imported when their
step runs: a plain copy pays only for what it uses.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import shared_files
from .layout import ANSWERS_FILE, NUMBERED

MERGE_HEADING = "Shared files (the template's part, merged into yours):"


def say(text: str) -> None:
    if text:
        print(text, file=sys.stderr, flush=True)


def auth_config_note(project: Path, path: str) -> str:
    """What the app's own Better Auth config at PATH (kept as found) must contain, when it lacks it."""
    if not path:
        return ""
    if re.search(r"""schemaName\s*:\s*["'`]auth["'`]""", (project / path).read_text()):
        return f"Better Auth: your config {path} is kept; it already uses schema auth."
    return (f"Better Auth: your config {path} is kept. Review: Atlas owns schema auth, so its database option\n"
            '  needs schemaName: "auth" (DATABASE.md, "Files shared with the app").')


def after_copy(project: Path, app_auth_config: str = "") -> int:
    # Only a server that had schemas/ before the copy has unnumbered schema files: adoption (and
    # the modules it needs) only then.
    if any(not NUMBERED.match(p.name) for p in (project / "schemas").glob("*.sql")):
        import yaml  # copier's own dependency

        from . import adoption

        answers = yaml.safe_load((project / ANSWERS_FILE).read_text())
        if result := adoption.adopt(project, answers):
            say(adoption.report_text(result))
    say(auth_config_note(project, app_auth_config))
    report = shared_files.merge_shared_files(project, base_of=lambda *_: None)  # a first copy: no base
    say(shared_files.report_text(report, MERGE_HEADING))
    return 0


def after_update(project: Path) -> int:
    from . import update_guard

    status = 0
    try:
        report = shared_files.merge_shared_files(project)
    except ValueError as error:  # the app's package.json, or a fragment holding conflict markers
        say(f"Shared files not merged: {error}. Fix it, commit, and run the update again.")
        status = 1
    else:
        say(shared_files.report_text(report, MERGE_HEADING))
    return update_guard.guard(project) or status


def rename_files(project: Path, *prefixes: str) -> int:
    from . import renames

    return renames.main(project, list(prefixes))


COMMANDS = {"after-copy": after_copy, "after-update": after_update, "rename-files": rename_files}
USAGE = ("usage: tasks.py after-copy PROJECT [AUTH_CONFIG] | after-update PROJECT"
         " | rename-files PROJECT OLD_PREFIX NEW_PREFIX ...")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in COMMANDS:
        say(USAGE)
        return 2
    return COMMANDS[argv[0]](Path(argv[1]), *argv[2:])
