"""End to end with the generated code: install the generated server's dependencies as a user does,
apply the generated schemas, then sign up, sign in and create an organization with the generated
src/auth.ts (run by bun, which runs TypeScript directly)."""

from __future__ import annotations

import os
import shutil
import subprocess

import psycopg

from extensions import better_auth
from tests.conftest import load_schemas

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


def test_sign_up_sign_in_and_organization(render, fresh_db, bun, better_auth_check, tmp_path):
    project = shutil.copytree(
        # Every plugin, so every branch of the generated auth.ts runs.
        render(use_better_auth=True, better_auth_plugins=list(better_auth.PLUGINS), organization_teams=True,
               domains=["asset"]),
        tmp_path / "server",
    )
    # Exactly what a user runs: a plain `npm install` of the generated package.json.
    install = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                             cwd=project, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    load_schemas(fresh_db, project)

    (project / "smoke.ts").write_text(SMOKE)
    env = {**os.environ, "DATABASE_URL": better_auth_check.node_database_url(fresh_db),
           "BETTER_AUTH_SECRET": "x" * 40, "BETTER_AUTH_URL": "http://localhost:3000"}
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
