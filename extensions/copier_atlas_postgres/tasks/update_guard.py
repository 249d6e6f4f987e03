"""Checks at the end of every `copier update` (tasks.py after-update) that no user work was lost.

Copier itself (9.19) has two silent traps during an update:

* A domain removed from the `domains` answer makes copier DELETE `schemas/20_<domain>.sql` and
  `triggers/20_<domain>.sql`, even when they hold the user's tables, and exit 0.
* A merge conflict leaves `<<<<<<< before updating` markers (or, with `--conflict rej`, `.rej`
  files) and still exits 0, naming no file.

It runs after copier has applied the merge and deleted the files of the old version, in the
project folder. It

1. restores every file under `schemas/` and `triggers/` that the update deleted (copier unlinks
   them without touching the git index, so `git ls-files --deleted` lists them; a deliberate
   `git rm` or a migration's `git mv` changes the index, so those are left alone), and
2. finds files with conflict markers and `.rej` files,

then prints one banner naming each file and returns 1 if it found anything, so `copier update`
itself exits non-zero ("Task ... returned non-zero exit status 1"). Nothing is deleted or
rewritten by this script except restoring the kept files from the index (= the last commit,
since copier refuses to update a dirty folder).

Every git command is limited to the project folder (a pathspec), so a large monorepo costs nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..git import output, paths

# Folders whose files hold data definitions: an update never deletes them.
PROTECTED_DIRS = ("schemas", "triggers")
CONFLICT_MARKERS = (b"<<<<<<< before updating", b">>>>>>> after updating")


def deleted_protected_files(project: Path) -> list[str]:
    """Files under schemas/ or triggers/ that are in the git index but missing on disk."""
    return paths(output(project, "ls-files", "--deleted", "-z", "--", *PROTECTED_DIRS))


def restore(project: Path, files: list[str]) -> None:
    """Put back the committed (indexed) version of each file."""
    if files:
        output(project, "checkout", "--", *files)


def conflicted_files(project: Path) -> list[str]:
    """Files in the project (relative paths) holding copier's conflict markers, and .rej files."""
    candidates = paths(
        output(project, "ls-files", "-z", "--modified", "--others", "--exclude-standard", "--", ".")
        + "\0"
        + output(project, "diff", "--relative", "--name-only", "-z", "--diff-filter=U", "--", ".")
    )
    # .rej files may be git-ignored (a `*.rej` rule): list ignored untracked paths too.
    ignored = paths(output(project, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory", "--", "."))
    found = set()
    for rel in candidates + ignored:
        path = project / rel
        if rel.endswith(".rej") and path.is_file():
            found.add(rel)
        elif rel in candidates and path.is_file() and _has_markers(path):
            found.add(rel)
    return sorted(found)


def _has_markers(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return any(line.rstrip() in CONFLICT_MARKERS for line in handle)
    except OSError:
        return False


def report(kept: list[str], conflicts: list[str], prefix: str) -> str:
    """The banner shown at the end of the update ('' when there is nothing to say)."""
    if not kept and not conflicts:
        return ""
    where = prefix.rstrip("/") or "."
    rule = "!" * 78
    lines = [rule, f"!! copier update of {where}: ACTION NEEDED (exit status 1)", rule]
    if conflicts:
        lines += [
            "!! CONFLICTS: the template changed the same lines you changed. Your text is kept in",
            "!! each file, between <<<<<<< before updating / ======= / >>>>>>> after updating:",
            *(f"!!   {prefix}{p}" for p in conflicts),
            "!! Edit each file to keep what you want, remove the three marker lines (for a .rej",
            "!! file: apply its hunk by hand, then delete it), then `git add` and commit.",
        ]
    if kept:
        if conflicts:
            lines.append("!!")
        quoted = " ".join(f"{prefix}{p}" for p in kept)
        lines += [
            "!! KEPT: the new answers no longer generate these files (a domain removed from",
            "!! `domains`, or triggers/ after switching to Atlas Pro). copier deleted them; they",
            "!! were restored from git, because data definitions are never deleted by an update:",
            *(f"!!   {prefix}{p}" for p in kept),
            "!! Move what you still need elsewhere, then delete them deliberately:",
            f"!!   git rm {quoted}",
            "!! or, for a domain, put it back in the list with the same update command and",
            "!! --data 'domains=[...]'.",
        ]
    lines.append(rule)
    return "\n".join(lines)


def guard(project: Path) -> int:
    """Restore deleted data-definition files, report conflicts; return the exit status."""
    project = project.resolve()
    kept = deleted_protected_files(project)
    restore(project, kept)
    conflicts = conflicted_files(project)
    prefix = output(project, "rev-parse", "--show-prefix").strip()
    message = report(kept, conflicts, prefix)
    if message:
        print(message, file=sys.stderr, flush=True)
        return 1
    return 0

