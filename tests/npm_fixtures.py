"""npm-backed fixtures: each pinned Better Auth release set and bun, installed once.

Installs go to a cache folder keyed by what is installed (reused by later
sessions on the same machine): $CAP_NPM_CACHE, or
~/.cache/copier-atlas-postgres/npm. Wall times of the installs are shown in
the terminal summary.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from extensions import better_auth

REPO = Path(__file__).resolve().parent.parent

_timings: list[str] = []


def load_maint_check():
    """maint/better-auth/check.py as a module (its folder name is not importable)."""
    path = REPO / "maint" / "better-auth" / "check.py"
    spec = importlib.util.spec_from_file_location("better_auth_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUN_VERSION = load_maint_check().BUN_VERSION  # the bun the end-to-end tests run the generated server with


def npm_cache_root() -> Path:
    root = os.environ.get("CAP_NPM_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "copier-atlas-postgres" / "npm"


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: the Better Auth tests need node and npm")


@pytest.fixture(scope="session")
def better_auth_check():
    return load_maint_check()


@pytest.fixture(scope="session")
def release_modules(better_auth_check):
    """release_modules(version) -> a folder whose node_modules holds exactly that pinned release
    set (a plain `npm install`, once per set and session: the set of a server with all its plugins)."""
    _require("node")
    _require("npm")
    folders: dict[str, Path] = {}

    def install(version: str) -> Path:
        if version not in folders:
            packages = next(r for r in better_auth.RELEASES if r.version == version).packages
            target = npm_cache_root() / f"better-auth-{better_auth_check.packages_key(packages)}"
            if (target / "node_modules" / "better-auth").is_dir():
                _timings.append(f"better-auth {version}: reused {target}")
            else:
                shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier install
                seconds = better_auth_check.npm_install(target, packages)
                _timings.append(f"better-auth {version}: npm install {seconds:.1f}s -> {target}")
            folders[version] = target
        return folders[version]

    return install


@pytest.fixture(scope="session")
def bun(better_auth_check) -> str:
    """Path of a bun executable (`npm install bun@BUN_VERSION`, once)."""
    _require("npm")
    start = time.monotonic()
    existed = (npm_cache_root() / f"bun-{BUN_VERSION}" / "node_modules" / ".bin" / "bun").exists()
    exe = better_auth_check.install_bun(npm_cache_root())
    _timings.append(f"bun: reused {exe}" if existed else f"bun: npm install {time.monotonic() - start:.1f}s -> {exe}")
    version = subprocess.run([exe, "--version"], check=True, capture_output=True, text=True)
    assert version.stdout.strip() == BUN_VERSION, version.stdout
    return exe


def pytest_terminal_summary(terminalreporter):
    if _timings:
        terminalreporter.section("npm installs")
        for line in _timings:
            terminalreporter.write_line(line)
