"""The generated project through the real Atlas engine: every npm script as a user types it, from a
fresh dev database to production, for each production path, with and without Atlas Pro.

PostgreSQL listens on 127.0.0.1 with password authentication (`pg_tcp`); the role and databases
are made the way the generated README says. The engine does not see functions or triggers
(its README): in Pro mode the tests judge tables and keys; the triggers are judged in free mode,
where `scripts/apply-triggers.sh` puts them in, and by tests/test_schemas_load.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from copier_atlas_postgres.world.better_auth import PLUGINS
from tests.helpers.atlas import run_atlas
from tests.helpers.npm import install_squawk
from tests.helpers.postgres import HOSTILE_PASSWORD, TcpPostgres, assert_trigger_moved_updated_at, pg_bin

# Every character that must be escaped somewhere on its way into atlas.hcl, .env and URLs.


def timestamped_table(name: str, column: str) -> str:
    """A table as the convention has them: uuid key, created_at and updated_at."""
    return f"""
CREATE TABLE {name} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  {column} text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
"""


# What a team adds: a table in public, a table to drop later, a foreign key across domains
# (portfolio -> asset, in a file that loads after every domain, as the README says).
PUBLIC_TABLE = timestamped_table("public.note", "body")
HOLDING_TABLE = timestamped_table("asset.holding", "name")
CROSS_DOMAIN = """ALTER TABLE portfolio.example ADD COLUMN asset_id uuid;
ALTER TABLE portfolio.example ADD CONSTRAINT example_asset_fk FOREIGN KEY (asset_id) REFERENCES asset.example (id);
CREATE INDEX example_asset_id_idx ON portfolio.example (asset_id);
"""
# Without Pro: what every apply script applies after Atlas, and the tables that then have the trigger.
FREE_TRIGGER_FILES = ["triggers/10_public.sql", "triggers/20_asset.sql", "triggers/20_portfolio.sql"]
FREE_TRIGGER_TABLES = ["asset.example", "asset.holding", "portfolio.example", "public.note"]


@dataclass
class Project:
    """A generated project, a copy the test may edit, and the shell a user types its npm scripts in."""

    path: Path
    atlas: str
    pg: TcpPostgres
    role: str

    def npm(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        """`npm run --silent SCRIPT -- ARGS` as npm runs it: the script's line in `sh -c` with ARGS
        appended (each quoted), in the project folder, node_modules/.bin first on PATH. Without npm's
        own start (0.3 s a run, some forty runs here); the commands are typed through npm and pnpm,
        as printed, in test_embedded_dev_database.py and test_workspace.py."""
        line = json.loads((self.path / "package.json").read_text())["scripts"][script]
        path = os.pathsep.join([str(self.path / "node_modules" / ".bin"), str(install_squawk()), str(Path(self.atlas).parent),
                                str(Path(pg_bin("psql")).parent), os.environ["PATH"]])
        # The deploy settings come only from the test (never from the machine running it).
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ATLAS_DEV_URL")}
        return subprocess.run(
            ["sh", "-c", " ".join([line, *map(shlex.quote, args)])],
            cwd=self.path, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
            env={**base, "PATH": path, "ATLAS_NO_UPDATE_NOTIFIER": "1", **env},
        )

    def ok(self, script: str, *args: str, **env: str) -> str:
        run = self.npm(script, *args, **env)
        assert run.returncode == 0, f"npm run {script} -- {' '.join(args)}\n{run.stdout}\n{run.stderr}"
        return run.stdout

    def database(self, suffix: str) -> str:
        """A new empty database owned by the project's role; its URL."""
        name = f"{self.path.parent.name}_{suffix}"
        self.pg.create_database(name, owner=self.role)
        return self.pg.url(self.role, HOSTILE_PASSWORD, name)

    def append(self, relative: str, text: str) -> None:
        with (self.path / relative).open("a") as f:
            f.write(text)

    def replace(self, relative: str, old: str, new: str) -> None:
        path = self.path / relative
        assert old in path.read_text(), f"{old!r} not in {relative}"
        path.write_text(path.read_text().replace(old, new))


def make_project(render, pg_tcp, atlas, tmp_path, *, dev_database, **answers) -> Project:
    name = f"shop_{uuid.uuid4().hex[:8]}"
    rendered = render(dev_database=dev_database, db_port=str(pg_tcp.port), db_name=name, db_user=f"{name}_owner",
                      db_password=HOSTILE_PASSWORD, domains=["asset", "portfolio"], **answers)
    (tmp_path / name).mkdir()
    project = Project(shutil.copytree(rendered, tmp_path / name / "server"), atlas, pg_tcp, f"{name}_owner")
    if dev_database == "local":
        run_readme_setup(project)
    else:  # `npm run db:up`: the postgres image creates POSTGRES_USER and POSTGRES_DB from .env
        settings = dotenv(project.path / ".env")
        pg_tcp.create_role(settings["POSTGRES_USER"], settings["POSTGRES_PASSWORD"])
        pg_tcp.create_database(settings["POSTGRES_DB"], owner=settings["POSTGRES_USER"])
    project.append("schemas/10_public.sql", PUBLIC_TABLE)
    project.append("schemas/20_asset.sql", HOLDING_TABLE)
    (project.path / "schemas" / "90_cross_domain.sql").write_text(CROSS_DOMAIN)
    return project


def run_readme_setup(project: Project) -> None:
    """The README's one-time commands for a local server, typed as written (createuser prompts twice)."""
    readme = (project.path / "DATABASE.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith(("createuser ", "createdb "))]
    assert len(commands) == 2, commands
    env = {**os.environ, "PATH": f"{Path(pg_bin('psql')).parent}{os.pathsep}{os.environ['PATH']}",
           "PGHOST": project.pg.host, "PGUSER": "postgres", "PGPASSWORD": project.pg.admin_password}
    for command in commands:
        # A new session has no terminal, so the password prompt reads stdin.
        run = subprocess.run(["sh", "-c", command], input=f"{HOSTILE_PASSWORD}\n" * 2, text=True, env=env,
                             capture_output=True, start_new_session=True, timeout=60)
        assert run.returncode == 0, f"{command}\n{run.stderr}"


def dotenv(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key: value.strip("'") for key, value in pairs}


def dev_url(project: Project) -> str:
    return dotenv(project.path / ".env")["DATABASE_URL"]


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema IN ('auth', 'public', 'asset', 'portfolio') AND table_type = 'BASE TABLE'"
        ).fetchall()
    return {row[0] for row in rows}


def foreign_keys(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("SELECT conname FROM pg_constraint WHERE contype = 'f'")}


def column_default(url: str, table: str, column: str) -> str | None:
    schema, name = table.split(".")
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT column_default FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            " AND column_name = %s", (schema, name, column)).fetchone()[0]


def triggered_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def assert_updated_at_triggers_work(url: str, expected: list[str]) -> None:
    """Exactly these tables have a trigger, and an UPDATE of a row stamped an hour ago moves updated_at."""
    assert triggered_tables(url) == expected
    for table in expected:
        column = "body" if table == "public.note" else "name"
        with psycopg.connect(url, autocommit=True) as conn:
            row_id, *before = conn.execute(
                f"INSERT INTO {table} ({column}, created_at, updated_at)"
                " VALUES ('a', now() - interval '1 hour', now() - interval '1 hour') RETURNING id, created_at, updated_at"
            ).fetchone()
            after = conn.execute(f"UPDATE {table} SET {column} = 'b' WHERE id = %s RETURNING created_at, updated_at",
                                 (row_id,)).fetchone()
        assert_trigger_moved_updated_at(before, after)


def assert_model_tables(url: str, *auth_tables: str) -> None:
    """What Atlas judges in every mode: the tables and keys of schemas/."""
    found = tables(url)
    assert {"auth.user", "auth.session", *auth_tables, "public.note", "asset.example", "asset.holding",
            "portfolio.example"} <= found, found
    assert {"example_asset_fk", "session_userId_fkey"} <= foreign_keys(url)


def applied_triggers(output: str) -> list[str]:
    return re.findall(r"^applied (triggers/\S+)$", output, re.MULTILINE)


def next_second_after(version: str) -> None:
    """Atlas names a migration by the current second; two with one version break `migrate apply`."""
    while time.strftime("%Y%m%d%H%M%S", time.gmtime()) <= version:
        time.sleep(0.05)


def migration_files(project: Project) -> list[str]:
    return sorted(p.name for p in (project.path / "migrations").glob("*.sql"))


def test_declarative_path_free_mode_local_server(atlas, pg_tcp, render, tmp_path):
    """Local dev mode as generated, every Better Auth plugin, the prod env's drop policy."""
    project = make_project(render, pg_tcp, atlas, tmp_path, dev_database="local", production_path="declarative",
                           better_auth_plugins=list(PLUGINS), organization_teams=True)
    assert not any(name.startswith("migrate:") for name in scripts(project))  # one path: no migrations

    # Development: -- --auto-approve reaches Atlas, and the trigger step still follows.
    first = project.ok("schema:apply", "--auto-approve")
    assert 'CREATE TABLE "public"."note"' in first
    assert "example_asset_fk" in first
    assert applied_triggers(first) == FREE_TRIGGER_FILES
    second = project.ok("schema:apply", "--auto-approve")
    assert "Schema is synced" in second
    assert applied_triggers(second) == FREE_TRIGGER_FILES
    assert "Schemas are synced" in project.ok("schema:diff")
    assert re.search(r'^table ("public" )?"note" \{', project.ok("schema:inspect"), re.MULTILINE)
    assert_model_tables(dev_url(project), "auth.organization", "auth.teamMember", "auth.apikey", "auth.passkey")
    assert_updated_at_triggers_work(dev_url(project), FREE_TRIGGER_TABLES)

    # Production, as the deploy job runs it: review, apply (then the triggers on DATABASE_URL).
    prod = {"DATABASE_URL": project.database("prod")}
    plan = project.ok("prod:apply", "--dry-run", **prod)
    assert 'CREATE TABLE "asset"."holding"' in plan
    assert applied_triggers(plan) == []
    assert tables(prod["DATABASE_URL"]) == set(), "--dry-run changed the database"
    assert applied_triggers(project.ok("prod:apply", "--auto-approve", **prod)) == FREE_TRIGGER_FILES
    assert_updated_at_triggers_work(prod["DATABASE_URL"], FREE_TRIGGER_TABLES)

    # A release that drops a table and changes a DEFAULT and a NOT NULL: the drop is refused and
    # stays listed by prod:diff, everything else is applied; allow_drops applies the drop once.
    project.replace("schemas/20_asset.sql", HOLDING_TABLE, "")
    project.replace("schemas/10_public.sql", "body text NOT NULL,", "body text DEFAULT 'empty',")
    applied = project.ok("prod:apply", "--auto-approve", **prod)
    assert "SET DEFAULT 'empty'" in applied
    assert "DROP NOT NULL" in applied
    assert "DROP TABLE" not in applied
    assert column_default(prod["DATABASE_URL"], "public.note", "body") == "'empty'::text"
    assert "asset.holding" in tables(prod["DATABASE_URL"]), "dropped without allow_drops"
    assert 'DROP TABLE "asset"."holding"' in project.ok("prod:diff", **prod)
    dropped = project.ok("prod:apply", "--auto-approve", "--var", "allow_drops=true", **prod)
    assert 'DROP TABLE "asset"."holding"' in dropped
    assert "asset.holding" not in tables(prod["DATABASE_URL"])
    assert "Schemas are synced" in project.ok("prod:diff", **prod)


def test_declarative_path_pro_mode(atlas, pg_tcp, render, tmp_path):
    """Pro files (functions and triggers in schemas/) through the engine: tables and keys, synced re-apply."""
    project = make_project(render, pg_tcp, atlas, tmp_path, dev_database="local", production_path="declarative",
                           atlas_pro=True)
    assert applied_triggers(project.ok("schema:apply", "--auto-approve")) == []
    assert "Schema is synced" in project.ok("schema:apply", "--auto-approve")
    prod = {"DATABASE_URL": project.database("prod")}
    project.ok("prod:apply", "--auto-approve", **prod)
    assert_model_tables(prod["DATABASE_URL"])
    assert "Schemas are synced" in project.ok("prod:diff", **prod)


def test_versioned_path_free_mode_docker_mode(atlas, pg_tcp, render, tmp_path):
    """Docker dev mode without Docker: --dev-url / ATLAS_DEV_URL name an empty scratch database."""
    project = make_project(render, pg_tcp, atlas, tmp_path, dev_database="docker", production_path="versioned")
    scratch = ("--dev-url", project.database("scratch"))

    # A production database that `schema apply` built before the project used migrations
    # (here through --url, which the trigger step follows too).
    legacy = {"DATABASE_URL": project.database("legacy"), "ATLAS_DEV_URL": scratch[1]}
    built = project.ok("schema:apply", "--auto-approve", "--url", legacy["DATABASE_URL"], *scratch)
    assert applied_triggers(built) == FREE_TRIGGER_FILES
    assert triggered_tables(legacy["DATABASE_URL"]) == FREE_TRIGGER_TABLES

    # Development: the first migration, checked and applied to the fresh dev database.
    assert project.ok("migrate:diff", "initial", *scratch) == ""
    assert len(migration_files(project)) == 1
    project.ok("migrate:validate", *scratch)
    assert "Pending Files:   1" in project.ok("migrate:status")
    applied = project.ok("migrate:apply")
    assert 'CREATE TABLE "public"."note"' in applied
    assert applied_triggers(applied) == FREE_TRIGGER_FILES
    assert "Schemas are synced" in project.ok("schema:diff", *scratch)  # the migrations rebuild schemas/
    assert_updated_at_triggers_work(dev_url(project), FREE_TRIGGER_TABLES)

    # Baseline: migrate apply refuses the legacy database until told the version it has.
    refused = project.npm("prod:apply", **legacy)
    assert refused.returncode != 0, refused.stderr
    assert "connected database is not clean" in refused.stderr, refused.stderr
    assert "Schemas are synced" in project.ok("prod:diff", **legacy)
    project.ok("prod:apply", "--baseline", migration_files(project)[0].split("_")[0], **legacy)

    # A second migration: a changed DEFAULT.
    next_second_after(migration_files(project)[-1].split("_")[0])
    project.replace("schemas/10_public.sql", "body text NOT NULL,", "body text NOT NULL DEFAULT 'empty',")
    project.ok("migrate:diff", "note_default", *scratch)
    assert "SET DEFAULT 'empty'" in (project.path / "migrations" / migration_files(project)[-1]).read_text()
    project.ok("migrate:apply")

    # Production, as the deploy job runs it, on a new database and on the baselined one.
    prod = {"DATABASE_URL": project.database("prod"), "ATLAS_DEV_URL": scratch[1]}
    assert "Pending Files:   2" in project.ok("prod:status", **prod)
    plan = project.ok("prod:apply", "--dry-run", **prod)
    assert "SET DEFAULT 'empty'" in plan
    assert applied_triggers(plan) == []
    assert tables(prod["DATABASE_URL"]) == set(), "--dry-run changed the database"
    for target in (prod, legacy):
        applied = project.ok("prod:apply", **target)
        assert "SET DEFAULT 'empty'" in applied
        assert applied_triggers(applied) == FREE_TRIGGER_FILES
        assert column_default(target["DATABASE_URL"], "public.note", "body") == "'empty'::text"
        assert_updated_at_triggers_work(target["DATABASE_URL"], FREE_TRIGGER_TABLES)
    assert "Already at latest version" in project.ok("prod:status", **legacy)
    assert "Schemas are synced" in project.ok("prod:diff", **prod)
    # The other path is closed: the prod env has no schema source to plan from.
    declarative = run_atlas(atlas, project.path, "schema", "apply", "--env", "prod", "--auto-approve", env=prod)
    assert declarative.returncode != 0, declarative.stderr
    assert '"to" is required' in declarative.stderr, declarative.stderr


def test_versioned_path_pro_mode(atlas, pg_tcp, render, tmp_path):
    """Pro files through migrate diff/apply and the prod env: tables and keys, prod equals migrations/."""
    project = make_project(render, pg_tcp, atlas, tmp_path, dev_database="docker", production_path="versioned",
                           atlas_pro=True)
    scratch = project.database("scratch")
    project.ok("migrate:diff", "initial", "--dev-url", scratch)
    assert applied_triggers(project.ok("migrate:apply")) == []
    prod = {"DATABASE_URL": project.database("prod"), "ATLAS_DEV_URL": scratch}
    project.ok("prod:apply", **prod)
    assert_model_tables(prod["DATABASE_URL"])
    assert "Schemas are synced" in project.ok("prod:diff", **prod)


def scripts(project: Project) -> dict[str, str]:
    return json.loads((project.path / "package.json").read_text())["scripts"]
