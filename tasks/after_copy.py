"""Run by copier after `copier copy` (a `_tasks` entry limited to copies), in the project folder.

1. A server built by hand from the convention doc is adopted (adopt.py): its files move onto the
   template's numbered names.
2. The template's part of package.json, .gitignore, .env and .env.example is merged into the app's
   own files (shared_files.py).
What was moved, merged, kept or must be reviewed is printed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shared_files  # noqa: E402

_NUMBERED = re.compile(r"\d+_")


def auth_config_note(project: Path, path: str) -> str:
    """What the app's own Better Auth config at PATH (kept as found) must contain, when it lacks it."""
    if not path:
        return ""
    if re.search(r"""schemaName\s*:\s*["'`]auth["'`]""", (project / path).read_text()):
        return f"Better Auth: your config {path} is kept; it already uses schema auth."
    return (f"Better Auth: your config {path} is kept. Review: Atlas owns schema auth, so its database option\n"
            '  needs schemaName: "auth" (DATABASE.md, "Files shared with the app").')


def main(project: Path, app_auth_config: str = "") -> int:
    # Only a server that had schemas/ before the copy has unnumbered schema files: adoption (and
    # the modules it needs) only then.
    if any(not _NUMBERED.match(p.name) for p in (project / "schemas").glob("*.sql")):
        import adopt
        import yaml  # copier's own dependency

        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        if adoption := adopt.adopt(project, answers):
            print(adopt.report_text(adoption), file=sys.stderr, flush=True)
    if note := auth_config_note(project, app_auth_config):
        print(note, file=sys.stderr, flush=True)
    report = shared_files.merge_shared_files(project, base_of=lambda *_: None)  # a first copy: no base
    if text := shared_files.report_text(report, "Shared files (the template's part, merged into yours):"):
        print(text, file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), *sys.argv[2:]))
