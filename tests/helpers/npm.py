"""npm and Better Auth: the project's npm scripts, the pinned packages installed once into the
tests' cache, the environment a generated server runs with."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from .postgres import pg_bin
from .releases import TEMPLATE_ROOT


def run_npm_script(project: Path, script: str, *args: str, atlas: str | None = None) -> subprocess.CompletedProcess:
    """`npm run <script>` in the generated project, with PostgreSQL's client programs (and the
    folder of ATLAS, when given) on PATH."""
    folders = [*([str(Path(atlas).parent)] if atlas else []), str(Path(pg_bin("psql")).parent), os.environ["PATH"]]
    env = {**os.environ, "PATH": os.pathsep.join(folders), "ATLAS_NO_UPDATE_NOTIFIER": "1"}
    return subprocess.run(
        ["npm", "run", "--silent", script, *(["--", *args] if args else [])],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


def load_maint_check():
    """maint/better-auth/check.py as a module (its folder name is not importable)."""
    path = TEMPLATE_ROOT / "maint" / "better-auth" / "check.py"
    spec = importlib.util.spec_from_file_location("better_auth_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def npm_cache_root() -> Path:
    root = os.environ.get("CAP_NPM_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "copier-atlas-postgres" / "npm"


@contextlib.contextmanager
def npm_cache_locked(name: str):
    """One process at a time installs NAME into the test cache (pytest-xdist runs two; the
    installs before the suite run side by side, one per name)."""
    npm_cache_root().mkdir(parents=True, exist_ok=True)
    with open(npm_cache_root() / f".lock-{name}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# pnpm through corepack (shipped with Node.js): the version the pnpm workspace of the tests pins;
# corepack checks the signature of what it downloads, and the registry served here signs nothing.
PNPM_VERSION = "10.12.1"


COREPACK_ENV = {"COREPACK_INTEGRITY_KEYS": "0", "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0"}


def install_release_set(version: str) -> tuple[Path, float | None]:
    """The folder whose node_modules holds exactly that pinned Better Auth release set (a plain
    `npm install`, once: the set of a server with all its plugins), and the install's seconds
    (None when it was there)."""
    from copier_atlas_postgres.world import better_auth

    check = load_maint_check()
    packages = next(r for r in better_auth.RELEASES if r.version == version).packages
    target = npm_cache_root() / f"better-auth-{check.packages_key(packages)}"
    with npm_cache_locked(target.name):
        if (target / "node_modules" / "better-auth").is_dir():
            return target, None
        shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier install
        return target, check.npm_install(target, packages)


def install_typescript_compiler() -> Path:
    """The folder whose node_modules holds the esbuild the auth scripts pin (installed once)."""
    from copier_atlas_postgres.world import better_auth

    check = load_maint_check()
    target = npm_cache_root() / f"esbuild-{check.packages_key(better_auth.TYPESCRIPT_COMPILER_PACKAGES)}"
    with npm_cache_locked(target.name):
        if not (target / "node_modules" / "esbuild").is_dir():
            check.npm_install(target, better_auth.TYPESCRIPT_COMPILER_PACKAGES)
    return target



def install_packages(name: str, packages: dict[str, str]) -> Path:
    """The folder whose node_modules holds exactly PACKAGES (name -> version), installed once into
    the tests' npm cache under NAME and the set's key; an incomplete earlier install is redone."""
    check = load_maint_check()
    target = npm_cache_root() / f"{name}-{check.packages_key(packages)}"
    with npm_cache_locked(target.name):
        if not all((target / "node_modules" / package / "package.json").is_file() for package in packages):
            shutil.rmtree(target, ignore_errors=True)
            check.npm_install(target, packages)
    return target


# Older better-auth releases an app may pin, for the auth scripts' range (world/better_auth.py's
# SCRIPTS_SUPPORT): one inside it, one below it; with what the generated src/auth.ts imports.
OLDER_BETTER_AUTH = ("1.3.14", "1.2.12")


def install_older_better_auth(version: str) -> Path:
    """The folder whose node_modules holds better-auth VERSION, kysely and pg (installed once)."""
    return install_packages("better-auth-app", {"better-auth": version, "kysely": "0.28.19", "pg": "8.23.1"})

# What reads the schema views in the tests besides the project's TypeScript: Mermaid's own parser (it
# needs a DOM: jsdom's).
SCHEMA_VIEW_READERS = {"mermaid": "11.17.2", "jsdom": "26.1.0"}


def install_schema_view_tools() -> Path:
    """The folder whose node_modules holds what a project's db:types runs on (kysely-codegen,
    typescript, kysely, pg: its devDependencies without Better Auth) and Mermaid (installed once)."""
    from copier_atlas_postgres.world import schema_views

    packages = {**schema_views.dev_dependencies(use_better_auth=False), **SCHEMA_VIEW_READERS}
    return install_packages("schema-views", packages)


def install_bun() -> str:
    """Path of the bun the end-to-end tests run the generated server with (installed once)."""
    check = load_maint_check()
    with npm_cache_locked("bun"):
        return check.install_bun(npm_cache_root())


def server_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "BETTER_AUTH_SECRET": "x" * 40,
            "BETTER_AUTH_URL": "http://localhost:3000", "SCIM_CREDENTIAL_HASH_SECRET": "s" * 32,
            "STRIPE_SECRET_KEY": "sk_test_not_used", "STRIPE_WEBHOOK_SECRET": "whsec_not_used"}


def install_squawk() -> Path:
    """The folder holding the `squawk` that db:lint runs: the squawk-cli a project pins (installed once)."""
    from copier_atlas_postgres.rendering.package_json import SQUAWK_RELEASE

    return install_packages("squawk-cli", {"squawk-cli": SQUAWK_RELEASE}) / "node_modules" / ".bin"


def link_modules(project: Path, *installs: Path) -> None:
    """PROJECT's node_modules: links to the packages of each install folder (the first one wins)."""
    modules = project / "node_modules"
    modules.mkdir()
    for install in installs:
        for entry in (install / "node_modules").iterdir():
            if not entry.name.startswith(".") and not (modules / entry.name).exists():
                (modules / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
