"""The production safety net on real tools: db:lint (Squawk over the SQL Atlas would run) on both
production paths, its waivers, prod:apply stopped and the deliberate override; db:drift with its
baseline. The open-source Atlas engine and a real PostgreSQL (the production database and the
empty one Atlas plans against); each package.json script is run as npm runs it (`sh -c LINE ARGS`)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.helpers.atlas import atlas_url
from tests.helpers.git import commit_all, git, git_init
from tests.helpers.npm import install_squawk
from tests.helpers.postgres import pg_bin

# Changes that are safe on an empty table and dangerous on one with rows: what db:lint is for.
RISKY_SCHEMA_CHANGES = {
    "adding-required-field": "ALTER TABLE asset.example ADD COLUMN code text NOT NULL;\n",
    "require-concurrent-index-creation": "CREATE INDEX example_created_idx ON asset.example (created_at);\n",
    "constraint-missing-not-valid": "ALTER TABLE asset.example ADD CONSTRAINT example_name_set CHECK (name <> '');\n",
}


@pytest.fixture(scope="module")
def squawk_bin() -> Path:
    return install_squawk()


@dataclass
class Project:
    path: Path
    tools: str  # PATH: atlas, squawk, psql
    env: dict[str, str]  # DATABASE_URL (production) and ATLAS_DEV_URL

    def npm(self, script: str, *args: str) -> subprocess.CompletedProcess:
        """`npm run SCRIPT -- ARGS` as npm runs it: the script's line in `sh -c`, ARGS appended."""
        line = json.loads((self.path / "package.json").read_text())["scripts"][script]
        return subprocess.run(["sh", "-c", " ".join([line, *map(shlex.quote, args)])], cwd=self.path,
                              capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PATH": self.tools, "ATLAS_NO_UPDATE_NOTIFIER": "1", **self.env})

    def atlas(self, *args: str) -> str:
        run = subprocess.run(["atlas", *args], cwd=self.path, capture_output=True, text=True, timeout=180,
                             env={**os.environ, "PATH": self.tools, "ATLAS_NO_UPDATE_NOTIFIER": "1", **self.env})
        assert run.returncode == 0, run.stderr
        return run.stdout

    def append(self, relative: str, text: str) -> None:
        with (self.path / relative).open("a") as f:
            f.write(text)

    def sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []


def columns(project: Project, table: str) -> list[str]:
    schema, name = table.split(".")
    return [row[0] for row in project.sql(
        f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}'"
        f" AND table_name = '{name}' ORDER BY ordinal_position")]


@pytest.fixture
def project(render, pg_server, atlas, squawk_bin, tmp_path, request) -> Project:
    """A project on the parametrized production path, its production database built by prod:apply
    and holding a row: the state in which db:lint matters."""
    path = request.param
    rendered = render(domains=["asset"], use_better_auth=False, dev_database="local", production_path=path)
    name = f"prod_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}_scratch"')
    tools = os.pathsep.join([str(Path(atlas).parent), str(squawk_bin), str(Path(pg_bin("psql")).parent),
                             os.environ["PATH"]])
    result = Project(shutil.copytree(rendered, tmp_path / "server"), tools,
                     {"DATABASE_URL": atlas_url(pg_server, name), "ATLAS_DEV_URL": atlas_url(pg_server, f"{name}_scratch")})
    if path == "versioned":
        result.atlas("migrate", "diff", "--env", "dev", "initial")
    first = result.npm("prod:apply", *(["--auto-approve"] if path == "declarative" else []))
    assert first.returncode == 0, first.stdout + first.stderr
    result.sql("INSERT INTO asset.example (name) VALUES ('a row that exists')")
    yield result
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}_scratch" WITH (FORCE)')


def findings(output: str) -> dict[str, str]:
    """rule -> the line naming it: `WHERE:LINE: RULE[ (waived: REASON)]: STATEMENT`."""
    found = {}
    for line in output.splitlines():
        parts = line.split(": ", 2)
        if len(parts) == 3 and not line.startswith(" ") and ":" in parts[0]:
            found[parts[1].split(" ")[0]] = line
    return found


@pytest.mark.parametrize("project", ["declarative"], indirect=True)
def test_lint_declarative_plan_then_stop_waive_and_override(project):
    for change in RISKY_SCHEMA_CHANGES.values():
        project.append("schemas/20_asset.sql", change)
    schema_file = project.path / "schemas" / "20_asset.sql"
    schema_file.write_text(schema_file.read_text().replace("name text NOT NULL", "name varchar(80) NOT NULL")
                           .replace("  created_at timestamptz", "  legacy text,\n  created_at timestamptz", 1))
    # An existing column that schemas/ no longer has: planned only with allow_drops.
    project.sql("ALTER TABLE asset.example ADD COLUMN legacy text")
    schema_file.write_text(schema_file.read_text().replace("  legacy text,\n", ""))

    lint = project.npm("db:lint", "--env", "prod", "--var", "allow_drops=true")
    assert lint.returncode == 1, lint.stdout + lint.stderr
    found = findings(lint.stdout)
    assert {*RISKY_SCHEMA_CHANGES, "changing-column-type", "ban-drop-column"} <= set(found), lint.stdout
    assert 'ALTER TABLE "asset"."example" ' in found["adding-required-field"]  # Atlas's statement, whole
    assert 'ADD COLUMN "code" text NOT NULL' in found["adding-required-field"]
    assert "safe form: add the column nullable" in lint.stdout
    assert "(waived: --var allow_drops=true)" in found["ban-drop-column"]  # the flag is the deliberate yes

    # prod:apply lints first and stops; nothing reached the database.
    stopped = project.npm("prod:apply", "--auto-approve")
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "To apply anyway, for this run only: npm run prod:apply -- --accept-lint-findings" in stopped.stderr
    assert "code" not in columns(project, "asset.example")

    # Keep two changes that apply on rows; waive one, so one finding is left; then override it.
    schema_file.write_text(schema_file.read_text().replace(RISKY_SCHEMA_CHANGES["adding-required-field"], "")
                           .replace("name varchar(80) NOT NULL", "name text NOT NULL"))
    project.append("db-lint-waivers.txt", "asset.example require-concurrent-index-creation one row, no wait\n")
    waived = project.npm("db:lint", "--env", "prod")
    assert waived.returncode == 1, waived.stdout
    assert "(waived: one row, no wait)" in findings(waived.stdout)["require-concurrent-index-creation"]
    assert set(findings(waived.stdout)) == {"require-concurrent-index-creation", "constraint-missing-not-valid"}
    assert project.npm("prod:apply", "--auto-approve").returncode == 1
    applied = project.npm("prod:apply", "--auto-approve", "--accept-lint-findings")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "applying despite 1 finding(s)" in applied.stderr
    assert project.sql("SELECT 1 FROM pg_constraint WHERE conname = 'example_name_set'")
    assert project.npm("db:lint", "--env", "prod").returncode == 0


@pytest.mark.parametrize("project", ["versioned"], indirect=True)
def test_lint_versioned_pending_files_then_stop(project):
    # A hand-written migration with each risky kind of statement, not yet applied.
    (project.path / "migrations" / "29990101000000_risky.sql").write_text(
        "".join(RISKY_SCHEMA_CHANGES.values())
        + "ALTER TABLE asset.example ALTER COLUMN name TYPE varchar(80);\n"
        + "ALTER TABLE asset.example RENAME COLUMN name TO title;\n"
        + "ALTER TABLE asset.example DROP COLUMN updated_at;\n")
    project.atlas("migrate", "hash", "--env", "dev")
    lint = project.npm("db:lint", "--env", "prod")
    assert lint.returncode == 1, lint.stdout + lint.stderr
    found = findings(lint.stdout)
    assert {*RISKY_SCHEMA_CHANGES, "changing-column-type", "renaming-column", "ban-drop-column"} <= set(found)
    assert found["adding-required-field"].startswith("migrations/29990101000000_risky.sql:1: ")
    assert "-- atlas:txmode none" in lint.stdout  # the safe form of an index on this path
    assert not any("initial" in line for line in found.values())  # applied files are not linted again

    stopped = project.npm("prod:apply")
    assert stopped.returncode == 1 and "stopped before changing anything" in stopped.stderr
    assert "title" not in columns(project, "asset.example")
    status = json.loads(project.atlas("migrate", "status", "--env", "prod", "--format", "{{ json . }}"))
    assert [file["Name"] for file in status["Pending"]] == ["29990101000000_risky.sql"]

    # Drift on this path: against the applied files only (the pending one is not drift).
    assert project.npm("db:drift", "--env", "prod").returncode == 0
    project.sql("ALTER TABLE asset.example ADD COLUMN hotfix text")
    drift = project.npm("db:drift", "--env", "prod")
    assert drift.returncode == 1 and 'new drift: ALTER TABLE "asset"."example" DROP COLUMN "hotfix"' in drift.stdout


def test_a_waiver_without_a_reason_is_refused(render, tmp_path):
    path = shutil.copytree(render(domains=["asset"], use_better_auth=False, dev_database="local"), tmp_path / "s")
    (path / "db-lint-waivers.txt").write_text("asset.example require-concurrent-index-creation\n")
    run = subprocess.run(["node", "scripts/db-lint.mjs"], cwd=path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip() == "db:lint: db-lint-waivers.txt:1: a waiver needs a reason: schema.table rule reason"


@pytest.mark.parametrize("project", ["declarative"], indirect=True)
def test_drift_found_accepted_then_new_drift_found(project):
    assert project.npm("db:drift", "--env", "prod").returncode == 0
    project.sql("ALTER TABLE asset.example ADD COLUMN hotfix text")
    found = project.npm("db:drift", "--env", "prod")
    assert found.returncode == 1, found.stdout + found.stderr
    assert 'new drift: ALTER TABLE "asset"."example" DROP COLUMN "hotfix"' in found.stdout
    assert "If they are meant to stay: npm run db:drift -- --env prod --accept" in found.stdout

    assert project.npm("db:drift", "--env", "prod", "--accept").returncode == 0
    baseline = (project.path / "db-drift-baseline.txt").read_text()
    assert baseline.endswith('\nALTER TABLE "asset"."example" DROP COLUMN "hotfix"\n')
    accepted = project.npm("db:drift", "--env", "prod")
    assert accepted.returncode == 0, accepted.stdout
    assert "(1 accepted)" in accepted.stdout

    # A second column on the same table: Atlas plans both in one statement; only the new one fails.
    project.sql("ALTER TABLE asset.example ADD COLUMN second_hotfix text")
    again = project.npm("db:drift", "--env", "prod")
    assert again.returncode == 1
    assert [line for line in again.stdout.splitlines() if line.startswith("new drift:")] == \
        ['new drift: ALTER TABLE "asset"."example" DROP COLUMN "second_hotfix"']


def test_the_ci_workflow_runs_step_by_step(render, pg_tcp, atlas, tmp_path):
    """Every `run:` of ci/github-workflow.yml, in order, as Actions runs it (bash -eo pipefail, in
    the server folder), on a pull request that adds a table and a nullable column. The test's
    PostgreSQL stands in for the service (its superuser password differs), and the test's Atlas for
    the step that installs it; npm installs the project's packages for real."""
    name = f"ci_{uuid.uuid4().hex[:8]}"
    rendered = render(domains=["asset"], use_better_auth=False, dev_database="local", db_port=str(pg_tcp.port),
                      db_name=name, db_user=f"{name}_owner", db_password="dev-pw")
    mono = tmp_path / "monorepo"
    server = shutil.copytree(rendered, mono / "apps" / "shop" / "server")
    git_init(mono)
    commit_all(mono, "shop's database")
    base = git(mono, "rev-parse", "HEAD").strip()
    with (server / "schemas" / "20_asset.sql").open("a") as f:
        f.write("ALTER TABLE asset.example ADD COLUMN note text;\n"
                "CREATE TABLE asset.tag (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), label text NOT NULL,\n"
                "  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\n")
    commit_all(mono, "a table and a column")

    workflow = yaml.safe_load((server / "ci" / "github-workflow.yml").read_text())
    tools = os.pathsep.join([str(Path(atlas).parent), str(Path(pg_bin("psql")).parent), os.environ["PATH"]])
    stand_ins = {"PGPORT": str(pg_tcp.port), "PGPASSWORD": pg_tcp.admin_password, "BASE_SHA": base}
    ran = []
    for step in workflow["jobs"]["db-check"]["steps"]:
        # template:check needs the project's template release (a render here has none): test_every_project.
        if "run" not in step or step["name"].startswith(("Install Atlas", "The template's own check")):
            continue
        env = {key: stand_ins.get(key, value) for key, value in step.get("env", {}).items()}
        run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=server,
                             env={**os.environ, "PATH": tools, "CI": "true", "RUNNER_TEMP": str(tmp_path),
                                  "ATLAS_NO_UPDATE_NOTIFIER": "1", **env},
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"{step['name']}\n{run.stdout}\n{run.stderr}"
        ran.append((step["name"], run.stdout))
    outputs = dict(ran)
    assert "db:lint: ok" in outputs["Lint the change (Squawk; waivers in db-lint-waivers.txt)"]
    assert "applied triggers/20_asset.sql" in outputs["Apply schemas/ and triggers/"]
    assert "db:drift: ok" in next(out for step, out in ran if step.startswith("No drift"))
    assert (tmp_path / "base" / "apps" / "shop" / "server" / "atlas.hcl").is_file()  # the lint compared with it

    # `npm run ci:workflow` puts it where GitHub reads it.
    line = json.loads((server / "package.json").read_text())["scripts"]["ci:workflow"]
    subprocess.run(["sh", "-c", line], cwd=server, check=True, capture_output=True, timeout=60)
    assert (mono / ".github" / "workflows" / "shop-database.yml").read_bytes() == \
        (server / "ci" / "github-workflow.yml").read_bytes()
