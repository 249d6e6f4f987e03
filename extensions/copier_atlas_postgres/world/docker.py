"""Whether Docker can run the dev database here (the docker mode): the project's own
scripts/docker-check.sh says, the same check every script that needs Docker runs first."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

CHECK_SCRIPT = "scripts/docker-check.sh"


def docker_problem(project: object, who: str) -> str:
    """The one line naming what is missing (CLI, compose plugin, daemon), WHO first, and the way
    out; '' when Docker runs, or when the project has no check (another dev database mode)."""
    project = Path(str(project))
    if not (project / CHECK_SCRIPT).is_file():
        return ""
    check = subprocess.run(["sh", CHECK_SCRIPT, who, "--compose"], cwd=project, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, check=False)
    return check.stderr.strip() if check.returncode else ""


def warning_lines(project: object, who: str, width: int = 80) -> list[str]:
    """docker_problem as a warning within WIDTH columns, its way-out command on a line of its own
    (to copy as typed); [] when there is nothing to say."""
    problem, then, command = docker_problem(project, who).partition(" then ")
    if not problem:
        return []
    text = textwrap.wrap(f"Warning: {problem}{then.rstrip()}", width=width, subsequent_indent="  ")
    return [*text, f"    {command}"] if command else text
