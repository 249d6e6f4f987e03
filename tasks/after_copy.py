"""Run by copier after `copier copy` (a `_tasks` entry limited to copies), in the project folder.

The template's part of package.json, .gitignore, .env and .env.example is merged into the app's
own files (shared_files.py), and what was merged, kept or must be reviewed is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shared_files  # noqa: E402


def main(project: Path) -> int:
    report = shared_files.merge_shared_files(project)
    if text := shared_files.report_text(report, "Shared files (the template's part, merged into yours):"):
        print(text, file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
