"""The other projects of the monorepo a project lands in (apps/<slug>/server), as their answers say."""

from __future__ import annotations

import re
from pathlib import Path

from .layout import ANSWERS_FILE

FIRST_PORT = 5432
# The one line of an answers file the port scan needs. copier writes it as `db_port: '5433'`; a
# regex instead of a YAML parse keeps the scan cheap in a monorepo of many projects.
_DB_PORT = re.compile(r"""^db_port:[ \t]*(['"]?)([0-9]+)\1[ \t]*$""", re.M)


def monorepo_ports(dst: object) -> dict[int, str]:
    """Host ports the other projects of the monorepo answered (port -> apps/<slug>/server), read from
    their answers files; {} when DST is not apps/<slug>/server."""
    dst = Path(str(dst)).absolute()
    if dst.name != "server" or dst.parent.parent.name != "apps":
        return {}
    ports = {}
    for answers_file in sorted(dst.parent.parent.glob(f"*/server/{ANSWERS_FILE}")):
        project = answers_file.parent
        if project == dst:
            continue
        try:
            match = _DB_PORT.search(answers_file.read_text())
        except (OSError, UnicodeDecodeError):
            continue
        if match:
            ports.setdefault(int(match.group(2)), project.relative_to(dst.parent.parent.parent).as_posix())
    return ports


def free_port(dst: object) -> str:
    """The default host port: the first from 5432 up that no other project of the monorepo uses."""
    used = monorepo_ports(dst)
    port = FIRST_PORT
    while port in used:
        port += 1
    return str(port)
