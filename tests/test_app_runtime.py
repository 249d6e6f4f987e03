"""An app that keeps its own Better Auth release and its own env files: the auth scripts run with
the release it pins (real npm installs of better-auth 1.3.14 and 1.2.12), or say in one line what
to change; the copy names the release the workspace resolves, and the lines the app's .env.local needs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from copier_atlas_postgres.tasks.merged_files import env_file_notes
from copier_atlas_postgres.world import better_auth
from tests.helpers.copier_runs import copy_in_process
from tests.helpers.git import git_init
from tests.helpers.npm import install_older_better_auth, install_typescript_compiler, link_modules, run_npm_script


@pytest.fixture(scope="module")
def app(tmp_path_factory, template_dir) -> Path:
    """An app server in a pnpm workspace whose catalog and lockfile pin better-auth 1.3.14, whose dev
    script listens on 3001 and which loads .env.local: copied into, as an adoption does."""
    mono = tmp_path_factory.mktemp("workspace") / "mono"
    git_init(mono)
    (mono / "pnpm-workspace.yaml").write_text("packages: ['apps/*/server']\ncatalog:\n  better-auth: 1.3.14\n")
    (mono / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\nimporters:\n  apps/shop/server:\n    dependencies:\n"
        "      better-auth:\n        specifier: 'catalog:'\n        version: 1.3.14(react@19.1.0)\n")
    server = mono / "apps" / "shop" / "server"
    server.mkdir(parents=True)
    (server / "package.json").write_text(json.dumps({
        "name": "shop-server", "private": True, "type": "module",
        "scripts": {"dev": "tsx watch --env-file=.env.local --port 3001 src/index.ts"},
        "dependencies": {"better-auth": "catalog:"}}, indent=2) + "\n")
    (server / ".env.local").write_text("LOG_LEVEL=debug\n")
    copy_in_process(mono, template_dir, "apps/shop/server", {
        "project_name": "Shop", "project_slug": "shop", "use_better_auth": True, "dev_database": "local",
        "package_manager": "pnpm"})
    return server


def test_the_copy_names_the_release_the_workspace_runs_and_the_lines_env_local_needs(app):
    pinned = better_auth.release_for([]).version
    assert better_auth.version_notes(app) == [
        "Better Auth: this workspace runs better-auth 1.3.14 (../../../pnpm-lock.yaml);",
        f"  schemas/00_auth.sql is written for {pinned}.",
        f"  Pin {pinned}, or write it for 1.3.14: pnpm install && pnpm run auth:generate"]
    env = (app / ".env").read_text()
    assert "BETTER_AUTH_URL='http://localhost:3001'\n" in env  # the dev script's port
    notes = env_file_notes(app)
    assert notes == [".env.local: the app loads it; add from .env what it lacks",
                     "  (DATABASE_URL, BETTER_AUTH_SECRET, BETTER_AUTH_URL):",
                     "  grep -E '^(DATABASE_URL|BETTER_AUTH_(SECRET|URL))=' .env >> .env.local"]
    assert max(map(len, notes)) <= 80
    subprocess.run(notes[-1], shell=True, cwd=app, check=True)  # as typed
    local = (app / ".env.local").read_text()
    assert local.startswith("LOG_LEVEL=debug\n") and all(
        line in local for line in env.splitlines() if line.startswith(("DATABASE_URL=", "BETTER_AUTH_")))
    assert env_file_notes(app) == []


def test_the_auth_scripts_run_with_the_apps_release_or_name_the_line_to_change(app):
    compiler = install_typescript_compiler()
    link_modules(app, install_older_better_auth("1.3.14"), compiler)
    generated = run_npm_script(app, "auth:generate")
    assert generated.returncode == 0, generated.stderr
    assert "auth:generate: wrote schemas/00_auth.sql from src/auth.ts (better-auth 1.3.14, 4 tables)" in generated.stdout
    checked = run_npm_script(app, "auth:check")
    assert checked.returncode == 0 and "auth:check: ok:" in checked.stdout, checked.stdout + checked.stderr

    shutil.rmtree(app / "node_modules")  # links, and the scripts' cache
    link_modules(app, install_older_better_auth("1.2.12"), compiler)
    first, beyond = better_auth.SCRIPTS_SUPPORT
    pinned = better_auth.release_for([]).version
    for script in ("auth:check", "auth:try"):
        refused = run_npm_script(app, script, *(["ann@example.com"] if script == "auth:try" else []))
        assert (refused.returncode, refused.stdout) == (2, "")
        line, = refused.stderr.splitlines()
        assert line.startswith(f"{script}: better-auth 1.2.12 (")
        assert line.endswith(f"is outside the releases this script runs with ({first} up to {beyond}, not included): "
                             f"write better-auth: {pinned} in catalog of pnpm-workspace.yaml, then pnpm install")
