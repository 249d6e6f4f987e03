"""Atlas in a generated project: its CLI, and the schemas atlas.hcl names."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


def run_atlas(atlas: str, project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`atlas ARGS` in the project folder, without a terminal (as in CI)."""
    return subprocess.run(
        [atlas, *args], cwd=project, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        env={**os.environ, "ATLAS_NO_UPDATE_NOTIFIER": "1", **(env or {})},
    )


def atlas_schemas(project: Path) -> list[str]:
    line = re.search(r"^\s*schemas\s*=\s*\[(.*)\]", (project / "atlas.hcl").read_text(), re.M)
    return re.findall(r'"([^"]+)"', line.group(1))


def atlas_url(pg_server, database: str) -> str:
    """A database of the test server, as Atlas and libpq read it (over its Unix socket)."""
    socket = pg_server.get_uri().split("host=", 1)[1]
    return f"postgres://postgres@/{database}?host={socket}&sslmode=disable"
