"""The monorepo's compose files: the host ports they publish, and the PostgreSQL service of its root
compose file that the `shared` dev database uses."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..project_files import ANSWERS_FILE, COMPOSE_FILES
from .monorepo import monorepo_root

COMPOSE_FILE = re.compile(r"(docker-)?compose(\.[\w-]+)?\.ya?ml")
_SKIPPED_FOLDERS = {"node_modules", "dist", "build", "coverage", "vendor"}
_MAX_DEPTH = 4  # apps/<slug>/server/compose.yaml sits at depth 3; deeper is not a service's file
# A port mapping's host part: `[IP:]HOST:CONTAINER[/proto]`; HOST may be `${VAR:-5432}`.
_PORT_MAPPING = re.compile(r"^(?:.*:)?(?:\$\{\w+:?-)?([0-9]+)\}?:[0-9]+(?:/\w+)?$")


def compose_files(root: Path, skip: Path | None = None) -> list[Path]:
    """The compose files of the monorepo at ROOT, except those under SKIP (the project itself)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        depth = len(here.relative_to(root).parts)
        subfolders[:] = [] if depth >= _MAX_DEPTH else sorted(
            name for name in subfolders if not name.startswith(".") and name not in _SKIPPED_FOLDERS
            and (skip is None or here / name != skip))
        found += [here / name for name in sorted(files) if COMPOSE_FILE.fullmatch(name)]
    return found


def compose_services(path: Path) -> dict[str, dict]:
    """A compose file's services by name ({} when the file is missing or unreadable)."""
    import yaml  # copier's own dependency

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    services = data.get("services") if isinstance(data, dict) else None
    return {str(name): service for name, service in services.items() if isinstance(service, dict)} \
        if isinstance(services, dict) else {}


def published_ports(path: Path) -> set[int]:
    """The host ports a compose file's services publish (short `"127.0.0.1:5432:5432"` and long
    `published: 5432` syntax); an unreadable file publishes none."""
    ports: set[int] = set()
    for service in compose_services(path).values():
        for mapping in service.get("ports") or []:
            if isinstance(mapping, dict):
                host = str(mapping.get("published", ""))
            elif match := _PORT_MAPPING.match(str(mapping)):
                host = match.group(1)
            else:
                continue  # a container port alone: Docker picks the host port
            if host.isascii() and host.isdigit():
                ports.add(int(host))
    return ports


def taken_ports(dst: object) -> set[int]:
    """The host ports any compose file of the monorepo around DST publishes (DST's own excepted)."""
    root = monorepo_root(dst)
    if root is None:
        return set()
    skip = Path(str(dst)).absolute()
    return set().union(*(published_ports(path) for path in compose_files(root, skip)))


# ---- the monorepo's own PostgreSQL ---------------------------------------------------------------

# An image that runs PostgreSQL: postgres:17, docker.io/library/postgres:17-alpine, postgis/postgis:17-3.5,
# pgvector/pgvector:pg17, timescale/timescaledb:latest-pg17.
_POSTGRES_IMAGE = re.compile(r"(?:.*/)?(?:postgres|postgis|pgvector|timescaledb(?:-ha)?)(?::([\w.-]+))?(?:@.*)?")
_TAG_MAJOR = re.compile(r"(?:^|.*-)(?:pg)?([0-9]+)(?:[.-].*)?$")
# ${VAR}, ${VAR:-default}, ${VAR-default} and $VAR, as compose interpolates them.
_INTERPOLATION = re.compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")
SHARED_COMPOSE_FILE = re.compile(r"(?:\.\./)*(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml")
SERVICE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")  # the compose specification's rule


@dataclass(frozen=True)
class SharedPostgres:
    """A PostgreSQL service of the monorepo's root compose file, as the `shared` dev database uses it."""

    compose_file: str  # from the project folder: ../../../docker-compose.yml
    service: str
    port: str  # the host port it publishes for 5432
    user: str  # POSTGRES_USER (the image's default: postgres)
    password: str | None  # POSTGRES_PASSWORD, when the files say it
    version: str | None  # the image tag's major version, when it names one


def _dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (compose's .env and env_file), quotes taken off."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip().strip("'\"") for key, value in pairs}


def _interpolated(value: object, variables: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        return variables.get(name) or match.group(2) or ""

    return _INTERPOLATION.sub(one, str(value))


def _environment(service: dict, folder: Path, variables: dict[str, str]) -> dict[str, str]:
    """A service's environment: its env_file files, then its environment key (list or mapping)."""
    found: dict[str, str] = {}
    env_files = service.get("env_file") or []
    for entry in [env_files] if isinstance(env_files, (str, dict)) else env_files:
        path = entry.get("path") if isinstance(entry, dict) else entry
        if isinstance(path, str):
            found.update(_dotenv(folder / _interpolated(path, variables)))
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(str(item).split("=", 1) for item in environment if "=" in str(item))
    if isinstance(environment, dict):
        found.update({str(k): _interpolated(v, variables) for k, v in environment.items() if v is not None})
    return found


def _published_postgres_port(service: dict, variables: dict[str, str]) -> str | None:
    for mapping in service.get("ports") or []:
        if isinstance(mapping, dict):
            host, target = str(mapping.get("published", "")), str(mapping.get("target", ""))
        else:
            parts = _interpolated(mapping, variables).split("/")[0].rsplit(":", 2)
            host, target = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
        host = _interpolated(host, variables)
        if target == "5432" and host.isascii() and host.isdigit():
            return host
    return None


def shared_postgres(dst: object) -> SharedPostgres | None:
    """The PostgreSQL service of the monorepo's root compose file (compose.yaml, ..., the names
    `docker compose` reads at the root) that publishes a host port, or None."""
    dst = Path(str(dst)).absolute()
    root = monorepo_root(dst)
    if root is None:
        return None
    variables = _dotenv(root / ".env")  # what compose interpolates, as run at the root
    for name in COMPOSE_FILES:
        for service_name, service in compose_services(root / name).items():
            image = service.get("image")
            if not isinstance(image, str) or not SERVICE_NAME.fullmatch(service_name):
                continue
            match = _POSTGRES_IMAGE.fullmatch(_interpolated(image, variables))
            port = _published_postgres_port(service, variables) if match else None
            if port is None:
                continue
            environment = _environment(service, root, variables)
            version = _TAG_MAJOR.match(match.group(1) or "")
            return SharedPostgres(
                compose_file=Path(os.path.relpath(root / name, dst)).as_posix(), service=service_name, port=port,
                user=environment.get("POSTGRES_USER") or "postgres", password=environment.get("POSTGRES_PASSWORD") or None,
                version=version.group(1) if version else None)
    return None


def shared_postgres_setting(dst: object, key: str, fallback: object) -> object:
    """One setting of the monorepo's shared PostgreSQL (shared_postgres), else FALLBACK."""
    found = shared_postgres(dst)
    value = getattr(found, key, None) if found else None
    return fallback if value is None else value


# The shared mode's two hidden answers; '' is none found (copier.yml's shared_service_check then
# stops the copy, naming the dev_database question).


def shared_service_found(dst: object) -> bool:
    """The monorepo's root compose file runs a PostgreSQL for every app, or the project at DST
    already uses the shared mode (an update keeps its answer even where the service is gone)."""
    if shared_postgres(dst) is not None:
        return True
    answers = Path(str(dst)) / ANSWERS_FILE
    return answers.is_file() and re.search(r"^dev_database:[ \t]*['\"]?shared['\"]?[ \t]*$",
                                           answers.read_text(errors="replace"), re.M) is not None
