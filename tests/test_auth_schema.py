"""`npm run auth:generate` and `npm run auth:check` (scripts/auth-schema.mjs) on a generated project,
with the real Better Auth library, real Atlas and a real PostgreSQL.

One project, one node_modules (the session's install of its release set, plus the pinned esbuild)
and one dev database serve every test here, in order. The team changes src/auth.ts in every way the
template does not ask about at once: user.additionalFields (string, number, boolean, date; required
or not; with a default), a renamed model and field, organization teams, rate limits stored in the
database, and a plugin of its own with its own table (a local file, as a community plugin ships
one). auth:check names each difference and exits 1; auth:generate rewrites schemas/00_auth.sql;
auth:check passes; Atlas applies it to a dev database that already has a user; a real sign-up writes
every new column and table. Then a `copier update` that changes the plugins leaves the generated
file to the command.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml

from copier_atlas_postgres.rendering.values import scratch_database
from copier_atlas_postgres.world import better_auth
from tests.helpers.copier_runs import copy_in_process, update_in_process
from tests.helpers.files import replace_once
from tests.helpers.git import commit_all, git, git_init
from tests.helpers.npm import install_typescript_compiler, run_npm_script, server_env
from tests.helpers.postgres import load_schemas
from tests.helpers.releases import release_working_tree_as_v1

PLUGINS = ["organization"]
AUTH_SCHEMA = "schemas/00_auth.sql"

# A plugin the template does not list, with a table of its own, in a file of the app's own.
AUDIT_PLUGIN = """import type { BetterAuthPlugin } from "better-auth";
import { createAuthMiddleware } from "better-auth/api";

// Records each sign-up in a table of its own, as a community plugin would.
export const signUpAudit = () =>
  ({
    id: "sign-up-audit",
    schema: {
      signUpAudit: {
        fields: {
          userId: { type: "string", required: true, references: { model: "user", field: "id" }, index: true },
          email: { type: "string", required: true },
        },
      },
    },
    hooks: {
      after: [
        {
          matcher: (ctx) => ctx.path === "/sign-up/email",
          handler: createAuthMiddleware(async (ctx) => {
            const user = ctx.context.newSession?.user;
            if (user) {
              await ctx.context.adapter.create({ model: "signUpAudit", data: { userId: user.id, email: user.email } });
            }
          }),
        },
      ],
    },
  }) satisfies BetterAuthPlugin;
"""
# A column the team added the way earlier releases said: in 01_auth_custom.sql, and in additionalFields.
OWN_COLUMN = """ALTER TABLE auth."user" ADD COLUMN "locale" text NOT NULL DEFAULT 'en';\n"""
# What the team adds to the generated src/auth.ts.
TEAM_OPTIONS = """  user: {
    fields: { image: "avatarUrl" },
    additionalFields: {
      nickname: { type: "string", required: false },
      plan: { type: "string", required: true, defaultValue: "free" },
      age: { type: "number", required: true, defaultValue: 18 },
      newsletter: { type: "boolean", defaultValue: false },
      birthday: { type: "date", required: false },
      locale: { type: "string", required: false, defaultValue: "en" },
    },
  },
  session: { modelName: "sessions" },
  rateLimit: { enabled: true, storage: "database", window: 60, max: 100 },
"""
# What auth:check names before auth:generate, one line each in Better Auth's table order (and nothing else).
MISSING = [
    'column auth."user"."avatarUrl" text',
    'column auth."user"."nickname" text',
    'column auth."user"."plan" text NOT NULL',
    'column auth."user"."age" integer NOT NULL',
    'column auth."user"."newsletter" boolean NOT NULL',
    'column auth."user"."birthday" timestamptz',
    'table auth."sessions"',
    'table auth."team"',
    'table auth."teamMember"',
    'column auth."invitation"."teamId" text',
    'table auth."signUpAudit"',
    'table auth."rateLimit"',
]
SIGN_UP = """
import { auth } from "./src/auth.ts";
const body = { email: "ann@example.com", password: "correct horse battery staple", name: "Ann",
  image: "https://example.com/ann.png", nickname: "annie", age: 42 };
const response = await auth.handler(new Request("http://localhost:3000/api/auth/sign-up/email", {
  method: "POST", body: JSON.stringify(body),
  headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.7", origin: "http://localhost:3000" },
}));
console.log("sign-up", response.status, response.status === 200 ? "" : await response.text());
const headers = new Headers({ cookie: response.headers.get("set-cookie")!.split(";")[0] });
const organization = await auth.api.createOrganization({ body: { name: "Acme", slug: "acme" }, headers });
const team = await auth.api.createTeam({ body: { name: "Core", organizationId: organization!.id }, headers });
console.log("team", team.name);
process.exit(0);
"""


@dataclass
class AuthProject:
    path: Path
    mono: Path
    database_url: str  # the dev database, as .env has it


def install_dependencies(project: Path, release: str, release_modules, better_auth_check) -> None:
    """The project's node_modules: the session's install of its Better Auth release set and one of
    the pinned esbuild, linked (Node follows each link to the package's own folder, where its
    dependencies are); exactly the versions package.json declares."""
    compiler = install_typescript_compiler()
    modules = project / "node_modules"
    modules.mkdir()
    for install in (release_modules(release), compiler):
        for entry in (install / "node_modules").iterdir():
            if not entry.name.startswith(".") and not (modules / entry.name).exists():
                (modules / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    declared = json.loads((project / "package.json").read_text())["dependencies"]
    assert {name: better_auth_check.installed_version(project, name) for name in declared} == declared


@pytest.fixture
def auth_project(tmp_path, pg_tcp, release_modules, better_auth_check) -> AuthProject:
    """A project copied the way a user copies it (its auth schema written without node), its
    dependencies installed, its dev role and databases made, the template's schema loaded and one
    user in it."""
    tmp = tmp_path
    template = release_working_tree_as_v1(tmp / "template")
    # v2 rewords the header of the template's 00_auth.sql (the tables stay the same).
    header = template / "template" / "schemas" / "{% if use_better_auth %}00_auth.sql{% endif %}.jinja"
    header.write_text("-- Reworded in the next release.\n" + header.read_text())
    commit_all(template, "v2")
    git(template, "tag", "v2.0.0")
    mono = tmp / "mono"
    git_init(mono)
    name = f"auth_{uuid.uuid4().hex[:8]}"
    answers = {"project_name": "Auth shop", "project_slug": "shop", "domains": [], "use_better_auth": True,
               "better_auth_plugins": PLUGINS, "dev_database": "local", "db_port": str(pg_tcp.port),
               "db_name": name, "db_user": f"{name}_owner", "db_password": "dev-pw"}
    copy_in_process(mono, template, "apps/shop/server", answers, ref="v1.0.0")
    project = mono / "apps" / "shop" / "server"
    assert not better_auth.written_by_auth_generate(project)  # the copy wrote it, from the answers
    commit_all(mono, "shop")

    install_dependencies(project, better_auth.release_for(PLUGINS).version, release_modules, better_auth_check)

    pg_tcp.create_role(answers["db_user"], answers["db_password"])
    for database in (name, scratch_database(name)):
        pg_tcp.create_database(database, owner=answers["db_user"])
    url = pg_tcp.url(answers["db_user"], answers["db_password"], name)
    custom = project / "schemas" / "01_auth_custom.sql"
    custom.write_text(custom.read_text() + OWN_COLUMN)
    load_schemas(url, project)
    with psycopg.connect(url, autocommit=True) as conn:  # a user from before the change
        conn.execute("""INSERT INTO auth."user" (id, name, email, "emailVerified")
                        VALUES ('u0', 'Bob', 'bob@example.com', true)""")
    return AuthProject(project, mono, url)


def ci_step_run(project: Path, name_start: str) -> str:
    """The `run` of the step of the project's CI workflow whose name starts with NAME_START."""
    recipe = yaml.safe_load((project / "ci" / "github-workflow.yml").read_text())
    return next(s for s in recipe["jobs"]["db-check"]["steps"] if s.get("name", "").startswith(name_start))["run"]


def strip_static_defaults(sql: str) -> str:
    """auth:generate's SQL without the DEFAULTs Better Auth gives only when it adds a column."""
    return re.sub(r" DEFAULT (?!CURRENT_TIMESTAMP)('(?:[^']|'')*'|[^ ,\n]+)", "", sql)


def test_auth_ts_changes_are_checked_generated_applied_written_and_kept_by_updates(auth_project, atlas, bun,
                                                                                  capfd):
    project = auth_project.path
    auth_ts = project / "src" / "auth.ts"
    (project / "src" / "audit-plugin.ts").write_text(AUDIT_PLUGIN)
    replace_once(auth_ts, 'import { Pool } from "pg";\n', 'import { Pool } from "pg";\nimport { signUpAudit } from "./audit-plugin";\n')
    replace_once(auth_ts, "  emailAndPassword: { enabled: true },\n", "  emailAndPassword: { enabled: true },\n" + TEAM_OPTIONS)
    replace_once(auth_ts, "    organization(),\n", "    organization({ teams: { enabled: true } }),\n    signUpAudit(),\n")
    template_schema = (project / AUTH_SCHEMA).read_text()

    # The check names each difference, and nothing the template's own file already creates.
    check = run_npm_script(project, "auth:check")
    assert check.returncode == 1, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert lines[0].startswith("auth:check: schemas/ does not create what src/auth.ts needs")
    errors = [line.strip() for line in lines[1:] if line.startswith("  ")]
    assert errors == MISSING, check.stdout
    assert "auth:check: warning: table auth.\"session\" (schemas/00_auth.sql:" in check.stdout
    assert "auth:check: warning: column auth.\"user\".\"image\" (schemas/00_auth.sql:" in check.stdout
    assert lines[-1] == "Fix: npm run auth:generate (rewrites schemas/00_auth.sql from src/auth.ts), then npm run schema:apply"

    generate = run_npm_script(project, "auth:generate")
    assert generate.returncode == 0, generate.stdout + generate.stderr
    assert generate.stdout.splitlines()[0].startswith("auth:generate: wrote schemas/00_auth.sql from src/auth.ts")
    assert "note:" not in generate.stdout  # every new NOT NULL column on a table with rows has its default
    own = len((project / "schemas" / "01_auth_custom.sql").read_text().splitlines())
    assert f'left to its file: column auth."user"."locale": added by schemas/01_auth_custom.sql:{own}' in generate.stdout
    generated = (project / AUTH_SCHEMA).read_text()
    assert better_auth.written_by_auth_generate(project)
    assert '"locale"' not in generated
    assert '    "plan" text NOT NULL DEFAULT \'free\',\n    "age" integer NOT NULL DEFAULT 18,\n' in generated
    assert 'REFERENCES auth."user" ("id") ON DELETE CASCADE' in generated.split('CREATE TABLE auth."signUpAudit"')[1]
    # Tables the team did not touch are written as the template writes them.
    body = template_schema.split("CREATE SCHEMA", 1)[1]
    for table in ("account", "verification", "organization", "member"):
        block = re.compile(rf'CREATE TABLE auth\."{table}" \(\n.*?\n\);\n', re.S)
        assert strip_static_defaults(block.search(generated).group()) == block.search(body).group(), table

    # The CI recipe's step passes, without a warning: so the file is also exactly what a second
    # auth:generate would write (the check compares the text of a file the command wrote).
    recipe_check = subprocess.run(["bash", "-eo", "pipefail", "-c", ci_step_run(project, "Better Auth")], cwd=project,
                                  capture_output=True, text=True, timeout=120)
    assert recipe_check.returncode == 0, recipe_check.stdout + recipe_check.stderr
    assert [line for line in recipe_check.stdout.splitlines() if line.startswith("auth:")] == [
        "auth:check: ok: schemas/ creates every table, column, index and constraint src/auth.ts needs (11 tables)"]

    # Atlas applies it to the dev database, where a user already exists; a real sign-up writes it all.
    apply = run_npm_script(project, "schema:apply", "--auto-approve", atlas=atlas)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    (project / "sign-up.ts").write_text(SIGN_UP)
    run = subprocess.run([bun, "run", "sign-up.ts"], cwd=project, env=server_env(auth_project.database_url),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "sign-up 200" in run.stdout, run.stdout + run.stderr
    with psycopg.connect(auth_project.database_url) as conn:
        users = conn.execute("""SELECT email, "avatarUrl", nickname, plan, age, newsletter, birthday, locale
                                FROM auth."user" ORDER BY email""").fetchall()
        assert users == [("ann@example.com", "https://example.com/ann.png", "annie", "free", 42, False, None, "en"),
                         ("bob@example.com", None, None, "free", 18, False, None, "en")]
        ann = conn.execute("""SELECT id FROM auth."user" WHERE email = 'ann@example.com'""").fetchone()[0]
        assert conn.execute('SELECT "userId" FROM auth.sessions').fetchall() == [(ann,)]
        assert conn.execute('SELECT "userId", email FROM auth."signUpAudit"').fetchall() == [(ann, "ann@example.com")]
        assert conn.execute('SELECT name FROM auth.team WHERE name = \'Core\'').fetchall() == [("Core",)]
        assert conn.execute('SELECT count(*) FROM auth."rateLimit"').fetchone()[0] >= 1

    # The file is the command's now: an update to a release whose 00_auth.sql differs leaves it byte
    # for byte, and says how to bring it up to date.
    (project / "sign-up.ts").unlink()
    commit_all(auth_project.mono, "the team's auth config")
    generated = (project / AUTH_SCHEMA).read_bytes()
    capfd.readouterr()
    update_in_process(auth_project.mono, "shop")  # raises on a conflict
    assert (project / AUTH_SCHEMA).read_bytes() == generated
    assert "npm install && npm run auth:generate" in capfd.readouterr().err
    assert not git(auth_project.mono, "status", "--porcelain", "--", "apps/shop/server/schemas")


def test_a_fresh_project_with_every_plugin_passes_auth_check(render, release_modules, better_auth_check, tmp_path):
    """The schema Better Auth plans for the generated auth.ts with every plugin of the oldest set
    (34 tables) is the one the template's own 00_auth.sql creates, as auth:check reads it: no error
    and no warning, so a new project's CI passes."""
    release = better_auth.RELEASES[-1]
    project = shutil.copytree(render(use_better_auth=True, better_auth_plugins=list(release.plugins),
                                     organization_teams=True, domains=["asset"]), tmp_path / "server")
    install_dependencies(project, release.version, release_modules, better_auth_check)
    env_file = project / ".env"  # the secrets the generated auth.ts reads for scim and stripe
    env_file.write_text(env_file.read_text() + "SCIM_CREDENTIAL_HASH_SECRET=" + "s" * 32
                        + "\nSTRIPE_SECRET_KEY=sk_test_not_used\nSTRIPE_WEBHOOK_SECRET=whsec_not_used\n")
    check = run_npm_script(project, "auth:check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines() == [
        f"auth:check: ok: schemas/ creates every table, column, index and constraint src/auth.ts needs "
        f"({len(better_auth.auth_tables(release.plugins, True, release.version))} tables)"]
