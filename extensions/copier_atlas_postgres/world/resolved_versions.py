"""The version of an npm package the workspace around a project really runs: the installed one in
node_modules, else what the lockfile resolved (package-lock.json, pnpm-lock.yaml, yarn.lock,
bun.lock), else an exact version package.json or its pnpm catalog declares. Read-only, stdlib and
PyYAML (copier's own dependency)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .monorepo import folders_up, package_json

_EXACT = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?")


def _shown(path: Path, project: Path) -> str:
    """PATH as the project's folder sees it (the monorepo's files are above it)."""
    return os.path.relpath(path, project)


def _installed(folders: list[Path], name: str) -> tuple[str, str] | None:
    for folder in folders:  # as Node resolves: the nearest node_modules first
        manifest = folder / "node_modules" / name / "package.json"
        try:
            return json.loads(manifest.read_text(encoding="utf-8"))["version"], _shown(manifest, folders[0])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def _package_lock(root: Path, project: str, name: str) -> str | None:
    packages = json.loads((root / "package-lock.json").read_text(encoding="utf-8")).get("packages", {})
    for key in (f"{project}/node_modules/{name}", f"node_modules/{name}"):
        if isinstance(packages.get(key), dict) and packages[key].get("version"):
            return packages[key]["version"]
    return None


def _pnpm_lock(root: Path, project: str, name: str) -> str | None:
    import yaml

    importers = (yaml.safe_load((root / "pnpm-lock.yaml").read_text(encoding="utf-8")) or {}).get("importers", {})
    for section in ("dependencies", "devDependencies"):
        entry = (importers.get(project or ".") or {}).get(section, {}).get(name)
        version = entry.get("version") if isinstance(entry, dict) else entry
        if isinstance(version, str) and (match := _EXACT.match(version)):  # "1.3.14(react@19.1.0)"
            return match.group(0)
    return None


def _yarn_lock(root: Path, project: str, name: str) -> str | None:
    # A block per resolution: `"better-auth@^1.3.0", "better-auth@npm:1.3.14":` then `  version "1.3.14"`.
    text = (root / "yarn.lock").read_text(encoding="utf-8")
    for block in re.split(r"\n(?=\S)", text):
        header = block.split("\n", 1)[0]
        if re.search(rf'(^|[\s",]){re.escape(name)}@', header):
            if match := re.search(r'^\s+version:?\s+"?([^"\s]+)"?', block, re.M):
                return match.group(1)
    return None


def _bun_lock(root: Path, project: str, name: str) -> str | None:
    match = re.search(rf'"{re.escape(name)}":\s*\[\s*"{re.escape(name)}@([^"]+)"', (root / "bun.lock").read_text(encoding="utf-8"))
    return match.group(1) if match else None


LOCKFILES = {"package-lock.json": _package_lock, "pnpm-lock.yaml": _pnpm_lock, "yarn.lock": _yarn_lock,
             "bun.lock": _bun_lock}


def _declared(folders: list[Path], name: str) -> tuple[str, str] | None:
    from .package_managers import pnpm_catalogs

    for folder in folders:
        manifest = package_json(folder)
        spec = {**manifest.get("devDependencies", {}), **manifest.get("dependencies", {})}.get(name)
        if not isinstance(spec, str):
            continue
        if spec.startswith("catalog:"):
            catalog = spec.split(":", 1)[1] or "default"
            for root in folders:
                if (version := str(pnpm_catalogs(root).get(catalog, {}).get(name, ""))) and _EXACT.fullmatch(version):
                    return version, _shown(root / "pnpm-workspace.yaml", folders[0])
            return None
        return (spec.lstrip("=v"), _shown(folder / "package.json", folders[0])) if _EXACT.fullmatch(spec.lstrip("=v")) else None
    return None


def resolved_version(dst: object, name: str) -> tuple[str, str] | None:
    """(version, the file that says it) of package NAME for the project at DST; None when nothing says."""
    folders = folders_up(dst)
    if not folders:
        return None
    if found := _installed(folders, name):
        return found
    for folder in folders:
        for lockfile, read in LOCKFILES.items():
            if (folder / lockfile).is_file():
                project = folders[0].relative_to(folder).as_posix()
                try:
                    version = read(folder, "" if project == "." else project, name)
                except Exception:  # a lockfile we cannot read (or PyYAML cannot): say nothing rather than guess
                    version = None
                if version:
                    return version, _shown(folder / lockfile, folders[0])
    return _declared(folders, name)
