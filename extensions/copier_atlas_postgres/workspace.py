"""The JavaScript workspace a project lands in, read from the monorepo's own files: its package
manager (how every command the template prints or runs is typed), the host ports its compose files
already publish, and the name the app's package.json gives.

The monorepo is the git top level around the destination; outside git only the destination itself
is read (never the folders above a stray copy)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .layout import COMPOSE_FILES


@dataclass(frozen=True)
class PackageManager:
    # `<name> install` in the project folder (in a workspace it installs the whole workspace)
    ci_install: str  # the install in CI
    run: str  # the prefix of a package.json script run
    # Between a script's name and the arguments meant for its command: npm takes what follows the
    # script name for itself unless `--` ends its options; pnpm, yarn and bun hand everything after
    # the name to the script, and pnpm 10 would hand a `--` on too (Atlas then reads no flag).
    args_separator: str
    ci_setup: str  # the GitHub Actions step that puts the tool on the runner ('' when it is there)


PACKAGE_MANAGERS: dict[str, PackageManager] = {
    "npm": PackageManager("npm install --no-audit --no-fund", "npm run", "-- ", ""),
    # corepack (shipped with Node.js) runs the version the root's packageManager field names.
    "pnpm": PackageManager("pnpm install", "pnpm run", "", "run: corepack enable"),
    "yarn": PackageManager("yarn install", "yarn run", "", "run: corepack enable"),
    "bun": PackageManager("bun install", "bun run", "", "uses: oven-sh/setup-bun@v2"),
}
DEFAULT_PACKAGE_MANAGER = "npm"  # outside a workspace: what comes with Node.js

# The files that name a workspace's package manager, in the order one folder's are trusted after
# its package.json `packageManager` field.
MARKER_FILES = {"pnpm-workspace.yaml": "pnpm", "pnpm-lock.yaml": "pnpm", "yarn.lock": "yarn",
                "bun.lock": "bun", "bun.lockb": "bun", "package-lock.json": "npm"}


def monorepo_root(dst: object) -> Path | None:
    """The git top level holding DST (DST need not exist yet), or None outside git."""
    folder = Path(str(dst)).absolute()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _folders_up(dst: object) -> list[Path]:
    """DST and its parents up to the monorepo root, nearest first (DST alone outside git)."""
    folder = Path(str(dst)).absolute()
    root = monorepo_root(folder)
    if root is None:
        return [folder]
    return [folder, *(parent for parent in folder.parents if len(parent.parts) >= len(root.parts))]


def _package_json(folder: Path) -> dict:
    try:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def detect_package_manager(dst: object) -> str:
    """The package manager of the workspace around DST: the nearest package.json `packageManager`
    field (`pnpm@10.12.1`), else the nearest workspace file or lockfile; npm when none says."""
    folders = _folders_up(dst)
    for folder in folders:
        field = _package_json(folder).get("packageManager")
        if isinstance(field, str) and (name := field.split("@", 1)[0]) in PACKAGE_MANAGERS:
            return name
    for folder in folders:
        for marker, name in MARKER_FILES.items():
            if (folder / marker).is_file():
                return name
    return DEFAULT_PACKAGE_MANAGER


def package_manager_error(value: object):
    if value not in PACKAGE_MANAGERS:
        return f"one of {', '.join(PACKAGE_MANAGERS)}"  # the whole line fits 80 columns
    return ""


# Dependency versions npm cannot install: `npm install` stops at the first one
# (EUNSUPPORTEDPROTOCOL `Unsupported URL Type "catalog:"`).
NOT_FOR_NPM = ("catalog:", "workspace:")


def npm_in_a_workspace_error(value: object, dst: object) -> tuple[str, str] | str:
    """npm answered for an app whose package.json has dependencies only a workspace manager installs."""
    if value != "npm" or not dst:
        return ""
    package = _package_json(Path(str(dst)))
    for section in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        for name, version in (package.get(section) or {}).items():
            if isinstance(version, str) and version.startswith(NOT_FOR_NPM):
                found = detect_package_manager(dst)
                advice = found if found != "npm" else "pnpm"
                protocol = version.split(":", 1)[0] + ":"
                return (f"npm cannot install {name} ({version}): answer {advice}",
                        f"{protocol} needs {advice}, not npm")
    return ""


# pnpm (10.26+, and by default from 11) stops `pnpm install` at any dependency install script that
# the workspace has not allowed or denied (allowBuilds in pnpm-workspace.yaml, exact names). The
# template's: embedded-postgres's binary packages (embedded-postgres's optionalDependencies) link
# their shared libraries in one, which db:up does itself, so it may be denied; esbuild's checks its
# binary.
EMBEDDED_POSTGRES_BINARY_PACKAGES = tuple(f"@embedded-postgres/{platform}" for platform in (
    "darwin-arm64", "darwin-x64", "linux-arm", "linux-arm64", "linux-ia32", "linux-ppc64", "linux-x64", "windows-x64"))


def pnpm_build_decisions(dev_database: str, use_better_auth: bool) -> dict[str, bool]:
    """The allowBuilds entries pnpm needs for the packages the template adds."""
    decisions = dict.fromkeys(EMBEDDED_POSTGRES_BINARY_PACKAGES, False) if dev_database == "embedded" else {}
    return {**decisions, **({"esbuild": True} if use_better_auth else {})}


def run_command(script: str, package_manager: object = None) -> str:
    """How a user types SCRIPT (a package.json script name, then its arguments, if any) with
    PACKAGE_MANAGER: `schema:apply --dry-run` is `npm run schema:apply -- --dry-run` and
    `pnpm run schema:apply --dry-run`."""
    manager = PACKAGE_MANAGERS.get(str(package_manager), PACKAGE_MANAGERS[DEFAULT_PACKAGE_MANAGER])
    name, _, args = script.partition(" ")
    return f"{manager.run} {name} {manager.args_separator}{args}" if args else f"{manager.run} {name}"


# ---- ports the monorepo's compose files publish ------------------------------------------------

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


def shared_compose_file_error(value: object) -> tuple[str, ...] | str:
    if value == "" or isinstance(value, str) and SHARED_COMPOSE_FILE.fullmatch(value):
        return ""
    return ("a compose file's path from this folder, e.g. ../../../compose.yaml", "e.g. ../../../compose.yaml")


def service_name_error(value: object) -> tuple[str, ...] | str:
    if value == "" or isinstance(value, str) and SERVICE_NAME.fullmatch(value):
        return ""
    return ("a compose service name: a-z, A-Z, 0-9, _ . - (a letter or digit first)", "a compose service name")


NO_SHARED_POSTGRES = ("the monorepo's root compose file has no PostgreSQL service publishing a port: pick another",
                      "no PostgreSQL service in the root compose file: pick another", "no PostgreSQL in root compose file")


# ---- names -------------------------------------------------------------------------------------

_NAME_SUFFIXES = ("-server", "-api", "-backend")


def project_name_from_package(dst: object, fallback: str) -> str:
    """The app's name from its package.json (`@repo/null-horizon-server` gives "Null Horizon"), else
    FALLBACK."""
    name = _package_json(Path(str(dst))).get("name")
    if not isinstance(name, str):
        return fallback
    name = name.rpartition("/")[2]
    for suffix in _NAME_SUFFIXES:
        name = name.removesuffix(suffix)
    words = [word for word in re.split(r"[-_.]+", name) if word]
    return " ".join(word.capitalize() for word in words) or fallback


# ---- pnpm catalogs -----------------------------------------------------------------------------

_AUTH_PACKAGE = re.compile(r"better-auth|@better-auth/.+")
_EXACT_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?")


def _catalogs(root: Path) -> dict[str, dict]:
    """pnpm-workspace.yaml's catalogs by name ('default' for `catalog:`), {} when it has none."""
    import yaml  # copier's own dependency

    try:
        data = yaml.safe_load((root / "pnpm-workspace.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    found = {name: entries for name, entries in (data.get("catalogs") or {}).items() if isinstance(entries, dict)} \
        if isinstance(data.get("catalogs"), dict) else {}
    if isinstance(data.get("catalog"), dict):
        found["default"] = data["catalog"]
    return found


def catalog_notes(dst: object) -> list[str]:
    """In a pnpm workspace with catalogs: the lines that put the template's dependencies (as its
    part of package.json pins them, .copier/package.fragment.json) in the catalog the app uses, and
    a warning for each Better Auth package whose range (the app's, or its catalog's) allows another
    release than the one the auth schema was written for. [] anywhere else."""
    dst = Path(str(dst)).absolute()
    root = monorepo_root(dst)
    catalogs = _catalogs(root) if root else {}
    if not catalogs:
        return []
    try:
        fragment = json.loads((dst / ".copier" / "package.fragment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    pinned = {**fragment.get("dependencies", {}), **fragment.get("devDependencies", {})}
    app = _package_json(dst)
    specs = {**app.get("devDependencies", {}), **app.get("dependencies", {})}
    used = [spec.split(":", 1)[1] or "default" for spec in specs.values()
            if isinstance(spec, str) and spec.startswith("catalog:")]
    catalog = max(set(used), key=used.count) if used else ("default" if "default" in catalogs else min(catalogs))
    reference = "catalog:" if catalog == "default" else f"catalog:{catalog}"
    where = "catalog" if catalog == "default" else f"catalogs.{catalog}"
    notes, missing, unreferenced = [], [], []
    for name, version in pinned.items():
        spec = specs.get(name)
        in_catalog = (spec.split(":", 1)[1] or "default") if isinstance(spec, str) and spec.startswith("catalog:") else None
        if in_catalog is None and name not in catalogs.get(catalog, {}):
            missing.append(f"    {json.dumps(name)}: {version}")
        elif in_catalog is None:
            unreferenced.append(name)
        source = catalogs.get(in_catalog, {}).get(name) if in_catalog else spec
        if _AUTH_PACKAGE.fullmatch(name) and source is not None and str(source) != version \
                and not _EXACT_VERSION.fullmatch(str(source).lstrip("=v")):
            said = f"catalog {in_catalog!r} says" if in_catalog else "package.json says"
            notes += [f"{name}: {said} {str(source)!r}, which allows releases other than",
                      f"  {version}, the one schemas/00_auth.sql was written for: pin {version}",
                      "  (or run auth:check after each bump)"]
    if unreferenced:
        notes[:0] = [f"pnpm catalogs: {where} has {', '.join(unreferenced)}: write {reference!r}",
                     "  for them in package.json (updates keep it)."]
    if missing:
        notes[:0] = [f"pnpm catalogs: to keep the template's packages in {where}",
                     "  of pnpm-workspace.yaml, add there", *missing,
                     f"  and write {reference!r} for them in package.json (updates keep it)."]
    return notes
