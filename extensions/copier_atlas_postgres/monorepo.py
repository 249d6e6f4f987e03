"""The other projects of the monorepo a project lands in (apps/<slug>/server), as their answers say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import workspace
from .layout import ANSWERS_FILE

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


def free_port(dst: object, dev_database: str = "docker") -> str:
    """The default host port. The monorepo's shared PostgreSQL: the port its root compose file
    publishes. A local server serves every local project: the port the other local projects
    answered (5432 when there is none). A server per project (embedded, a container): the first
    port from 5432 up that no other project uses (a local server's port included) and no compose
    file of the monorepo publishes (a shared PostgreSQL at the root, say)."""
    if dev_database == "shared":
        return str(workspace.shared_postgres_setting(dst, "port", FIRST_PORT))
    projects = other_projects(dst)
    if dev_database == "local":
        return str(next((p.port for p in projects if p.dev_database == "local"), FIRST_PORT))
    used = {p.port for p in projects} | workspace.taken_ports(dst)
    port = FIRST_PORT
    while port in used:
        port += 1
    return str(port)
