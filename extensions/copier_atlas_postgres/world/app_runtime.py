"""How the app itself runs, from its package.json scripts: the env files it loads and its port."""

from __future__ import annotations

import re
from pathlib import Path

from .monorepo import package_json

# `node --env-file=.env.local`, `tsx --env-file .env.local`, `dotenv -e .env.local --`, `bun --env-file=...`
_ENV_FILE_FLAG = re.compile(r"(?:--env-file(?:-if-exists)?[= ]|dotenv(?:-cli)?\s+(?:\S+\s+)*?-e\s+)['\"]?([^\s'\"]+)")
# `next dev --port 3001`, `vite -p 3001`, `PORT=3001 tsx watch ...`
_PORT = re.compile(r"(?:--port[= ]|-p\s+|\bPORT=)([0-9]{2,5})\b")
# The scripts that start the app in development, the first one present.
DEV_SCRIPTS = ("dev", "start:dev", "develop", "start")


def _scripts(project: Path) -> dict[str, str]:
    scripts = package_json(project).get("scripts")
    return {k: v for k, v in scripts.items() if isinstance(v, str)} if isinstance(scripts, dict) else {}


def app_env_files(project: object, conventional: tuple[str, ...]) -> list[str]:
    """The env files other than .env the app loads: those its scripts name (--env-file, dotenv -e),
    and the CONVENTIONAL ones (that frameworks load by themselves) that exist."""
    project = Path(str(project))
    named = [m.group(1) for command in _scripts(project).values() for m in _ENV_FILE_FLAG.finditer(command)]
    existing = [name for name in conventional if (project / name).is_file()]
    return [name for name in dict.fromkeys(named + existing) if name != ".env"]


def app_port(project: object, default: int = 3000) -> int:
    """The port the app's dev script listens on (--port, -p, PORT=), else DEFAULT."""
    scripts = _scripts(Path(str(project)))
    for name in DEV_SCRIPTS:
        if name in scripts and (match := _PORT.search(scripts[name])):
            return int(match.group(1))
    return default
