"""End to end with the generated code, for every pinned release set with all its plugins: the
generated package.json's dependencies installed as a user does, the generated schemas applied, then
sign-up, sign-in and an organization through the generated src/auth.ts (run by bun, which runs
TypeScript directly); and the schema Better Auth derives from that same auth.ts equals ours."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import psycopg
import pytest

from copier_atlas_postgres.world import better_auth
from tests.helpers.npm import server_env
from tests.helpers.postgres import load_schemas

SMOKE = """
import { auth } from "./src/auth.ts";
const email = "ann@example.com";
const password = "correct horse battery staple";
const up = await auth.api.signUpEmail({ body: { email, password, name: "Ann" } });
console.log("signed up", up.user.email);
const signIn = await auth.api.signInEmail({ body: { email, password }, asResponse: true });
console.log("signed in", signIn.status);
const headers = new Headers({ cookie: signIn.headers.get("set-cookie")!.split(";")[0] });
const org = await auth.api.createOrganization({ body: { name: "Acme", slug: "acme" }, headers });
console.log("organization", org!.slug);
process.exit(0);
"""

# Better Auth's own schema for the options of the generated auth.ts, applied to an empty database.
MIGRATE = """
import { getMigrations } from "better-auth/db/migration";
import { auth } from "./src/auth.ts";
const migrations = await getMigrations(auth.options);
await migrations.runMigrations();
process.exit(0);
"""


def installed_project(render, release_modules, tmp_path, release, **answers):
    """The rendered project with node_modules from the session's plain `npm install` of the same
    dependencies as its package.json (asserted), linked in instead of installed a second time."""
    project = shutil.copytree(render(use_better_auth=True, **answers), tmp_path / "server")
    modules = release_modules(release)
    generated = json.loads((project / "package.json").read_text())["dependencies"]
    installed = json.loads((modules / "package.json").read_text())["dependencies"]
    # (esbuild, for `npm run auth:*` only, is installed by test_auth_schema.py)
    assert generated == {**installed, **better_auth.TYPESCRIPT_COMPILER_PACKAGES}
    (project / "node_modules").symlink_to(modules / "node_modules", target_is_directory=True)
    return project


@pytest.mark.parametrize("release", [r.version for r in better_auth.RELEASES])
def test_sign_up_sign_in_and_organization(render, fresh_db, pg_server, bun, better_auth_check,
                                          release_modules, tmp_path, release):
    offered = next(r for r in better_auth.RELEASES if r.version == release).plugins
    # Every plugin of the set, so every branch of the generated auth.ts runs.
    project = installed_project(render, release_modules, tmp_path, release, better_auth_plugins=list(offered),
                                organization_teams=True, domains=["asset"])
    assert better_auth.release_for(offered).version == release
    load_schemas(fresh_db, project)

    (project / "smoke.ts").write_text(SMOKE)
    env = server_env(better_auth_check.node_database_url(fresh_db))
    run = subprocess.run([bun, "run", "smoke.ts"], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    print(run.stdout)  # shown with `pytest -rP`: the run's own account of what it did
    assert "signed in 200" in run.stdout and "organization acme" in run.stdout, run.stdout

    with psycopg.connect(fresh_db) as conn:
        counts = {t: conn.execute(f'SELECT count(*) FROM auth."{t}"').fetchone()[0]
                  for t in ("user", "account", "session", "organization", "member")}
        public_tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()[0]
    assert counts["user"] == 1 and counts["account"] == 1 and counts["session"] >= 1, counts
    assert counts["organization"] == 1 and counts["member"] == 1, counts
    assert public_tables == 0  # Better Auth wrote only to schema auth

    # The schema Better Auth derives from the generated auth.ts (its real options) is ours.
    theirs_db = f"e2e_{release.replace('.', '_')}_{os.getpid()}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{theirs_db}"')
        conn.execute(f'CREATE DATABASE "{theirs_db}"')
    try:
        (project / "migrate.ts").write_text(MIGRATE)
        env = server_env(better_auth_check.node_database_url(pg_server.get_uri(theirs_db)))
        run = subprocess.run([bun, "run", "migrate.ts"], cwd=project, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        diff = better_auth_check.catalog_diff(better_auth_check.catalog(fresh_db),
                                              better_auth_check.catalog(pg_server.get_uri(theirs_db)))
        assert not diff, f"the generated auth.ts makes Better Auth expect another schema:\n{diff}"
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{theirs_db}" WITH (FORCE)')
