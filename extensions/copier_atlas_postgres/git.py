"""The git commands the template's tasks run in a project (real git, no library)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path


def git(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=check)


def output(project: Path, *args: str) -> str:
    """What `git ARGS` prints (fails loudly when git does)."""
    return git(project, *args).stdout


def committed(project: Path, path: str) -> str | None:
    """PATH (relative to PROJECT) as the last commit has it, or None when it has no such file."""
    result = git(project, "show", f"HEAD:./{path}", check=False)
    return result.stdout if result.returncode == 0 else None


def paths(listing: str) -> list[str]:
    """The paths of a NUL-separated git listing (`-z`), once each, sorted."""
    return sorted({p for p in listing.split("\0") if p})


def has_changes(folder: Path) -> bool:
    """Whether git sees changes in FOLDER alone (the rest of the monorepo may be dirty)."""
    return bool(output(folder, "status", "--porcelain", "--", "."))


def stale_index_lock(project: Path) -> Path | None:
    """git's index lock when a killed git command left it behind (every git write fails then)."""
    result = git(project, "rev-parse", "--git-path", "index.lock", check=False)
    if result.returncode:
        return None  # not in git
    lock = (Path(project) / result.stdout.strip()).resolve()  # absolute: messages are read elsewhere
    return lock if lock.exists() else None


def lock_advice(lock: Path) -> str:
    """The one command that clears LOCK, and when it is safe."""
    return (f"{lock} exists: a git command was interrupted. If no git command is running, remove it,"
            f" then run the same command again:\n    rm {shlex.quote(str(lock))}")
