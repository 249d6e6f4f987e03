"""Run by copier after every `copier update` (an unversioned `_migrations` entry), in the project folder.

1. The template's part of package.json, .gitignore, .env and .env.example is merged again
   (shared_files.py): what the template changed changes, what the user changed stays.
2. The update guard (update_guard.py) restores data-definition files copier deleted and names
   every conflict; it exits 1 when the user must act.

Both always run: a failed merge is reported and fails the update too, after the guard.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shared_files  # noqa: E402
import update_guard  # noqa: E402


def main(project: Path) -> int:
    status = 0
    try:
        report = shared_files.merge_shared_files(project)
    except ValueError as error:  # the app's package.json, or a fragment holding conflict markers
        print(f"Shared files not merged: {error}. Fix it, commit, and run the update again.",
              file=sys.stderr, flush=True)
        status = 1
    else:
        if text := shared_files.report_text(report, "Shared files (the template's part, merged into yours):"):
            print(text, file=sys.stderr, flush=True)
    return update_guard.guard(project) or status


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
