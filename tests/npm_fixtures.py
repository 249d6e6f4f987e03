"""npm-backed fixtures: the pinned Better Auth packages and bun, installed once.

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

REPO = Path(__file__).resolve().parent.parent
BUN_VERSION = "1.4.5"  # the bun the end-to-end test runs the generated server with

_timings: list[str] = []


def load_maint_check():
    """maint/better-auth/check.py as a module (its folder name is not importable)."""
    path = REPO / "maint" / "better-auth" / "check.py"
    spec = importlib.util.spec_from_file_location("better_auth_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
def better_auth_modules(better_auth_check) -> Path:
    """A folder whose node_modules holds exactly extensions.better_auth.PACKAGES."""
    _require("node")
    _require("npm")
    packages = better_auth_check.packages_for(None)
    target = npm_cache_root() / f"better-auth-{better_auth_check.packages_key(packages)}"
    if (target / "node_modules" / "better-auth").is_dir():
        _timings.append(f"better-auth packages: reused {target}")
    else:
        shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier install
        seconds = better_auth_check.npm_install(target, packages)
        _timings.append(f"better-auth packages: npm install {seconds:.1f}s -> {target}")
    return target


@pytest.fixture(scope="session")
def bun() -> str:
    """Path of a bun executable (`npm install bun@BUN_VERSION`, once)."""
    _require("npm")
    target = npm_cache_root() / f"bun-{BUN_VERSION}"
    exe = target / "node_modules" / ".bin" / "bun"
    if not exe.exists():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"private": true}\n')
        start = time.monotonic()
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"bun@{BUN_VERSION}"],
            cwd=target, check=True, capture_output=True,
        )
        _timings.append(f"bun: npm install {time.monotonic() - start:.1f}s -> {exe}")
    else:
        _timings.append(f"bun: reused {exe}")
    version = subprocess.run([str(exe), "--version"], check=True, capture_output=True, text=True)
    assert version.stdout.strip() == BUN_VERSION, version.stdout
    return str(exe)


def pytest_terminal_summary(terminalreporter):
    if _timings:
        terminalreporter.section("npm installs")
        for line in _timings:
            terminalreporter.write_line(line)
