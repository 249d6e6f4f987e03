"""The monorepo a project lands in (apps/<slug>/server): its root, the other projects and the
ports their answers say, and the name the app's package.json gives.

The monorepo is the git top level around the destination; outside git only the destination itself
is read (never the folders above a stray copy)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..project_files import ANSWERS_FILE


def monorepo_root(dst: object) -> Path | None:
    """The git top level holding DST (DST need not exist yet), or None outside git."""
    folder = Path(str(dst)).absolute()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def folders_up(dst: object) -> list[Path]:
    """DST and its parents up to the monorepo root, nearest first (DST alone outside git)."""
    folder = Path(str(dst)).absolute()
    root = monorepo_root(folder)
    if root is None:
        return [folder]
    return [folder, *(parent for parent in folder.parents if len(parent.parts) >= len(root.parts))]


def package_json(folder: Path) -> dict:
    try:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


FIRST_PORT = 5432
# The two lines of an answers file the port default needs. copier writes them as `db_port: '5433'`
# and `dev_database: local`; a regex instead of a YAML parse keeps the scan cheap in a monorepo of
# many projects.
_DB_PORT = re.compile(r"""^db_port:[ \t]*(['"]?)([0-9]+)\1[ \t]*$""", re.M)
_DEV_DATABASE = re.compile(r"""^dev_database:[ \t]*(['"]?)([a-z]+)\1[ \t]*$""", re.M)


@dataclass(frozen=True)
class Project:
    folder: str  # apps/<slug>/server
    port: int
    dev_database: str  # embedded, docker, local


def other_projects(dst: object) -> list[Project]:
    """The other projects of the monorepo, as their answers files say; [] when DST is not
    apps/<slug>/server."""
    dst = Path(str(dst)).absolute()
    if dst.name != "server" or dst.parent.parent.name != "apps":
        return []
    projects = []
    for answers_file in sorted(dst.parent.parent.glob(f"*/server/{ANSWERS_FILE}")):
        if answers_file.parent == dst:
            continue
        try:
            text = answers_file.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        if port := _DB_PORT.search(text):
            mode = _DEV_DATABASE.search(text)
            projects.append(Project(answers_file.parent.relative_to(dst.parent.parent.parent).as_posix(),
                                    int(port.group(2)), mode.group(2) if mode else "docker"))
    return projects


# ---- names -------------------------------------------------------------------------------------

_NAME_SUFFIXES = ("-server", "-api", "-backend")


def project_name_from_package(dst: object, fallback: str) -> str:
    """The app's name from its package.json (`@repo/null-horizon-server` gives "Null Horizon"), else
    FALLBACK."""
    name = package_json(Path(str(dst))).get("name")
    if not isinstance(name, str):
        return fallback
    name = name.rpartition("/")[2]
    for suffix in _NAME_SUFFIXES:
        name = name.removesuffix(suffix)
    words = [word for word in re.split(r"[-_.]+", name) if word]
    return " ".join(word.capitalize() for word in words) or fallback
