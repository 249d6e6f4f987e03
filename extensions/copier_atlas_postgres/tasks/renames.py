"""A convention migration for a release that renames files users edit (CONTRIBUTING.md, "Releases").

Copier cannot merge a rename: it deletes the old file (with the user's tables) and writes the new
one fresh from the template. Run as an "after" migration with the release's `version:`, listed
before the update guard:

    python tasks.py rename-files . schemas/20_ schemas/30_ [triggers/20_ triggers/30_ ...]

For each pair of path prefixes, every tracked file starting with OLD whose new name the new
template version has just written gets the user's committed text back under the new name,
staged as a rename (`git mv`), so `git diff --cached -M` shows a pure rename. Files whose new
name was not written (e.g. a domain removed in the same update) are left to the update guard.

So a release that renames a file must not change its text: the user's committed text replaces
the freshly rendered one. Change the text in another release, where copier merges it as usual.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..git import output


def renames(project: Path, old_prefix: str, new_prefix: str) -> list[tuple[str, str]]:
    """(old, new) paths to move: tracked under OLD, and NEW written by the template."""
    tracked = output(project, "ls-files", "-z", "--", f"{old_prefix}*").split("\0")
    pairs = [(old, new_prefix + old[len(old_prefix):]) for old in sorted(filter(None, tracked))]
    return [(old, new) for old, new in pairs if (project / new).is_file()]


def rename(project: Path, old: str, new: str) -> None:
    """Committed text of OLD (copier deleted it from disk) moved over the fresh NEW."""
    output(project, "checkout", "--", old)
    output(project, "mv", "-f", "--", old, new)


def main(project: Path, prefixes: list[str]) -> int:
    if not prefixes or len(prefixes) % 2:
        print("usage: tasks.py rename-files PROJECT OLD_PREFIX NEW_PREFIX [OLD_PREFIX NEW_PREFIX ...]", file=sys.stderr)
        return 2
    for old_prefix, new_prefix in zip(prefixes[::2], prefixes[1::2], strict=True):
        for old, new in renames(project, old_prefix, new_prefix):
            rename(project, old, new)
            print(f"renamed {old} -> {new} (your text kept, staged)", file=sys.stderr)
    return 0
