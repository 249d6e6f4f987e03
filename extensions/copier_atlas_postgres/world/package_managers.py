"""The workspace's package manager: how every command the template prints or runs is typed, which
one the monorepo's own files name, what pnpm must be told, and pnpm's catalogs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .monorepo import folders_up, monorepo_root, package_json


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


def detect_package_manager(dst: object) -> str:
    """The package manager of the workspace around DST: the nearest package.json `packageManager`
    field (`pnpm@10.12.1`), else the nearest workspace file or lockfile; npm when none says."""
    folders = folders_up(dst)
    for folder in folders:
        field = package_json(folder).get("packageManager")
        if isinstance(field, str) and (name := field.split("@", 1)[0]) in PACKAGE_MANAGERS:
            return name
    for folder in folders:
        for marker, name in MARKER_FILES.items():
            if (folder / marker).is_file():
                return name
    return DEFAULT_PACKAGE_MANAGER


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


# ---- pnpm catalogs -----------------------------------------------------------------------------

_AUTH_PACKAGE = re.compile(r"better-auth|@better-auth/.+")
_EXACT_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?")


def pnpm_catalogs(root: Path) -> dict[str, dict]:
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
    catalogs = pnpm_catalogs(root) if root else {}
    if not catalogs:
        return []
    try:
        fragment = json.loads((dst / ".copier" / "package.fragment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    pinned = {**fragment.get("dependencies", {}), **fragment.get("devDependencies", {})}
    app = package_json(dst)
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
