"""A Better Auth upgrade on a database with users: a user signed up with better-auth 1.3.14 (the real
library), then the app moves to the newest pinned release. auth:check names what it needs and what
each change does to a table with rows; auth:generate writes the steps that keep the rows; they run
(psql), prod:apply finds nothing left that locks or fails (its lint passes), and the user signs in
with the new release. Real npm installs, Atlas, Squawk and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg

from copier_atlas_postgres.world import better_auth
from tests.helpers.atlas import atlas_url
from tests.helpers.npm import install_squawk, install_typescript_compiler, link_modules, run_npm_script
from tests.helpers.postgres import pg_bin
from tests.npm_packages import install_older_better_auth

SIGN_IN = """
import { loadAuth } from "./scripts/auth-config.mjs";
const auth = await loadAuth("src/auth.ts", "sign-in");
const response = await auth.api.signInEmail({ body: { email: process.argv[2], password: process.argv[3] }, asResponse: true });
console.log("signed in", response.status);
process.exit(0);
"""

# The core tables of 1.3.14 lack the indexes 1.4.0 added: on tables with rows, each locks writes.
NEW_INDEXES = {"session_userId_idx", "account_userId_idx", "verification_identifier_idx"}


def test_an_upgrade_keeps_every_row_and_the_sign_in(render, pg_server, atlas, release_modules, better_auth_check,
                                                    tmp_path):
    newest = better_auth.release_for([]).version
    project = shutil.copytree(render(use_better_auth=True, dev_database="local", production_path="declarative"),
                              tmp_path / "server")
    compiler = install_typescript_compiler()
    link_modules(project, install_older_better_auth("1.3.14"), compiler)
    database = f"upgrade_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
        conn.execute(f'CREATE DATABASE "{database}_scratch"')
    uri = pg_server.get_uri(database)
    # better-auth 1.3.14 ignores database.schemaName: the pool's search_path finds schema auth.
    node_url = better_auth_check.node_database_url(uri) + "?options=-c%20search_path%3Dauth"
    (project / ".env").write_text(f"DATABASE_URL={node_url}\nBETTER_AUTH_SECRET={'s' * 32}\n"
                                  "BETTER_AUTH_URL=http://localhost:3000\n")
    tools = os.pathsep.join([str(Path(atlas).parent), str(install_squawk()), str(Path(pg_bin("psql")).parent),
                             os.environ["PATH"]])
    env = {**os.environ, "PATH": tools, "ATLAS_NO_UPDATE_NOTIFIER": "1", "DATABASE_URL": atlas_url(pg_server, database),
           "ATLAS_DEV_URL": atlas_url(pg_server, f"{database}_scratch")}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120)

    try:
        for step in (["npm", "run", "--silent", "auth:generate"], ["npm", "run", "--silent", "prod:apply", "--", "--auto-approve"],
                     ["npm", "run", "--silent", "auth:try", "--", "ann@example.com", "correct horse battery"]):
            done = run(*step)
            assert done.returncode == 0, done.stdout + done.stderr
        assert "signed up ann@example.com" in done.stdout

        shutil.rmtree(project / "node_modules")
        link_modules(project, release_modules(newest), compiler)
        checked = run_npm_script(project, "auth:check")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert checked.stdout.startswith(
            f"auth:check: schemas/00_auth.sql is written for better-auth 1.3.14; the app runs {newest}, which needs:\n")
        named = [line for line in checked.stdout.splitlines() if line.startswith("  index ")]
        assert {line.split('"')[1] for line in named} == NEW_INDEXES, checked.stdout
        assert all(line.endswith("-- locks writes while it builds: auth:generate builds it CONCURRENTLY first")
                   for line in named), checked.stdout

        generated = run_npm_script(project, "auth:generate")
        assert generated.returncode == 0, generated.stderr
        assert "wrote auth-upgrade.sql: 3 steps" in generated.stdout
        steps = (project / "auth-upgrade.sql").read_text()
        assert steps.count("CREATE INDEX CONCURRENTLY IF NOT EXISTS") == 3, steps
        for _ in range(2):  # safe to run again
            upgraded = run(pg_bin("psql"), "-v", "ON_ERROR_STOP=1", uri, "-f", "auth-upgrade.sql")
            assert upgraded.returncode == 0, upgraded.stderr
        applied = run("npm", "run", "--silent", "prod:apply", "--", "--auto-approve")  # lints first
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert run_npm_script(project, "auth:check").returncode == 0

        with psycopg.connect(uri) as conn:
            rows = {t: conn.execute(f'SELECT count(*) FROM auth."{t}"').fetchone()[0] for t in ("user", "account")}
            indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'auth'")}
        assert rows == {"user": 1, "account": 1} and NEW_INDEXES <= indexes
        (project / "sign-in.mjs").write_text(SIGN_IN)
        signed_in = run("node", "sign-in.mjs", "ann@example.com", "correct horse battery")
        assert "signed in 200" in signed_in.stdout, signed_in.stdout + signed_in.stderr
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{database}_scratch" WITH (FORCE)')
