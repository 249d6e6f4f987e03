"""The team's own columns on Better Auth's tables (schemas/01_auth_custom.sql): they survive a
`copier update` that changes the plugins (so 00_auth.sql is regenerated) and a template release
that changes the file's own text, and sign-up writes them once they are in additionalFields.

Real git, real copier (its API, in this process), a real PostgreSQL and the real Better Auth library (run by bun)."""

from __future__ import annotations

import os
import subprocess

import psycopg

from copier_atlas_postgres.world import better_auth
from tests.helpers.copier_runs import copy_in_process, update_in_process
from tests.helpers.files import replace_once
from tests.helpers.git import commit_all, git, git_init
from tests.helpers.npm import server_env
from tests.helpers.postgres import load_schemas
from tests.helpers.releases import release_working_tree_as_v1

CUSTOM = "schemas/01_auth_custom.sql"
TEAM_COLUMN = """ALTER TABLE auth."user" ADD COLUMN "locale" text NOT NULL DEFAULT 'en';\n"""
# What the README tells the team to add to src/auth.ts for that column.
ADDITIONAL_FIELDS = """  user: {
    additionalFields: {
      locale: { type: "string", required: false, defaultValue: "en" },
    },
  },
"""
SIGN_UP = """
import { auth } from "./src/auth.ts";
const password = "correct horse battery staple";
await auth.api.signUpEmail({ body: { email: "ann@example.com", password, name: "Ann", locale: "fr" } });
await auth.api.signUpEmail({ body: { email: "bob@example.com", password, name: "Bob" } });
process.exit(0);
"""


def test_own_auth_columns_survive_updates_and_are_written(tmp_path, fresh_db, bun, better_auth_check,
                                                          release_modules):
    template = release_working_tree_as_v1(tmp_path / "template")
    mono = tmp_path / "mono"
    git_init(mono)
    answers = {"project_name": "Demo shop", "project_slug": "shop", "domains": [], "use_better_auth": True,
               "better_auth_plugins": ["twoFactor"]}
    copy_in_process(mono, template, "apps/shop/server", answers, ref="v1.0.0")  # raises unless it succeeds
    project = mono / "apps" / "shop" / "server"
    custom = project / CUSTOM
    assert "additionalFields" in custom.read_text() and "ADD COLUMN" in custom.read_text()

    # The team adds its column and declares it, as the README says.
    custom.write_text(custom.read_text() + TEAM_COLUMN)
    replace_once(project / "src" / "auth.ts", "  emailAndPassword: { enabled: true },\n",
                 "  emailAndPassword: { enabled: true },\n" + ADDITIONAL_FIELDS)
    commit_all(mono, "our own auth column")
    ours = custom.read_bytes()

    # A template release that also rewords the file's header, then an update that adds a plugin.
    template_file = template / "template" / "schemas" / "{% if use_better_auth %}01_auth_custom.sql{% endif %}.jinja"
    template_file.write_text("-- Reworded in the next release.\n" + template_file.read_text())
    commit_all(template, "v2")
    git(template, "tag", "v2.0.0")
    before = (project / "schemas" / "00_auth.sql").read_text()
    update_in_process(mono, "shop", {"better_auth_plugins": ["twoFactor", "admin"]})  # raises unless it succeeds

    after = (project / "schemas" / "00_auth.sql").read_text()
    assert after != before and '"banned" boolean' in after  # regenerated for the new plugin set
    assert custom.read_bytes() == ours  # untouched: neither merged nor reworded
    auth_ts = (project / "src" / "auth.ts").read_text()
    assert "admin()" in auth_ts and ADDITIONAL_FIELDS in auth_ts  # the team's edit merged in

    # Load every schema file in Atlas's order; sign up twice through the team's auth.ts.
    load_schemas(fresh_db, project)
    release = better_auth.release_for(["twoFactor", "admin"]).version
    (project / "node_modules").symlink_to(release_modules(release) / "node_modules", target_is_directory=True)
    (project / "sign-up.ts").write_text(SIGN_UP)
    env = server_env(better_auth_check.node_database_url(fresh_db))
    run = subprocess.run([bun, "run", "sign-up.ts"], cwd=project, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    with psycopg.connect(fresh_db) as conn:
        locales = dict(conn.execute('SELECT email, locale FROM auth."user"').fetchall())
    assert locales == {"ann@example.com": "fr", "bob@example.com": "en"}
    assert os.path.islink(project / "node_modules")
