"""`npm run db:check` on a real PostgreSQL: each rule fires on a table made to break it and only there,
waivers silence exactly what they name, and the CI recipe in DATABASE.md is a valid workflow that works."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pglast
import psycopg
import pytest
import yaml

from tests.helpers.npm import run_npm_script
from tests.helpers.postgres import HOSTILE_PASSWORD, load_schemas, pg_bin

TRIGGER_PROBLEM = "no enabled BEFORE UPDATE FOR EACH ROW trigger (on every column) whose function sets updated_at"

# Tables a user adds in schema asset (free mode: `npm run db:triggers` then gives each one with
# updated_at its trigger; Atlas Pro: the user writes it, see pro_triggers).
USER_TABLES = """
-- Clean: every rule kept. Foreign keys to a domain table, to Better Auth's user and a two-column
-- one whose index has the same columns in another order.
CREATE TABLE asset.holding (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  example_id uuid NOT NULL REFERENCES asset.example (id),
  owner_id text REFERENCES auth."user" ("id"),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX holding_example_id_idx ON asset.holding (example_id);
CREATE INDEX holding_owner_id_created_at_idx ON asset.holding (owner_id, created_at);

-- Each of the following breaks exactly one rule.
CREATE TABLE asset.no_pk (name text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE asset.bigint_pk (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE asset.pk_without_default (id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE asset.two_column_pk (a uuid, b uuid, PRIMARY KEY (a, b),
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE asset.naive_created_at (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE asset.no_created_at (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE asset.nullable_updated_at (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE TABLE asset.clock_updated_at (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE asset.unindexed_fk (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), example_id uuid REFERENCES asset.example (id),
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX unindexed_fk_created_at_example_id_idx ON asset.unindexed_fk (created_at, example_id);  -- not leading
CREATE INDEX unindexed_fk_example_id_partial_idx ON asset.unindexed_fk (example_id) WHERE example_id IS NOT NULL;

-- Clean again: a two-column foreign key, indexed with its columns in another order.
CREATE TABLE asset.pair_note (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), a uuid, b uuid,
  FOREIGN KEY (a, b) REFERENCES asset.two_column_pk (a, b),
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX pair_note_b_a_idx ON asset.pair_note (b, a);

-- A schema atlas.hcl does not list, and the one `atlas migrate apply` keeps its revisions in.
CREATE SCHEMA legacy;
CREATE SCHEMA atlas_schema_revisions;
"""
USER_TABLES_WITH_UPDATED_AT = [
    "holding", "no_pk", "bigint_pk", "pk_without_default", "two_column_pk", "naive_created_at", "no_created_at",
    "nullable_updated_at", "clock_updated_at", "unindexed_fk", "pair_note",
]

# Created after the triggers are in place; each has a trigger that does not keep updated_at current.
TRIGGER_BREAKERS = """
CREATE FUNCTION asset.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE asset.trigger_missing (LIKE asset.example INCLUDING ALL);
CREATE TABLE asset.trigger_disabled (LIKE asset.example INCLUDING ALL);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON asset.trigger_disabled FOR EACH ROW EXECUTE FUNCTION asset.update_updated_at_column();
ALTER TABLE asset.trigger_disabled DISABLE TRIGGER set_updated_at;
CREATE TABLE asset.trigger_after (LIKE asset.example INCLUDING ALL);
CREATE TRIGGER set_updated_at AFTER UPDATE ON asset.trigger_after FOR EACH ROW EXECUTE FUNCTION asset.update_updated_at_column();
CREATE TABLE asset.trigger_per_statement (LIKE asset.example INCLUDING ALL);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON asset.trigger_per_statement FOR EACH STATEMENT EXECUTE FUNCTION asset.update_updated_at_column();
CREATE TABLE asset.trigger_of_one_column (LIKE asset.example INCLUDING ALL);
CREATE TRIGGER set_updated_at BEFORE UPDATE OF name ON asset.trigger_of_one_column FOR EACH ROW EXECUTE FUNCTION asset.update_updated_at_column();
CREATE TABLE asset.trigger_other_function (LIKE asset.example INCLUDING ALL);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON asset.trigger_other_function FOR EACH ROW EXECUTE FUNCTION asset.audit();
"""

EXPECTED = sorted([
    ("asset.no_pk", "uuid-pk", "no primary key"),
    ("asset.bigint_pk", "uuid-pk", "primary key id is bigint"),
    ("asset.pk_without_default", "uuid-pk", "primary key id has no default"),
    ("asset.two_column_pk", "uuid-pk", "primary key has 2 columns"),
    ("asset.naive_created_at", "created-at", "created_at is timestamp without time zone"),
    ("asset.no_created_at", "created-at", "no created_at column"),
    ("asset.nullable_updated_at", "updated-at", "updated_at allows NULL"),
    ("asset.clock_updated_at", "updated-at", "updated_at defaults to clock_timestamp()"),
    ("asset.unindexed_fk", "fk-index",
     "foreign key unindexed_fk_example_id_fkey (example_id) has no index that starts with its columns"),
    ("legacy", "schemas", "schema in the database but not in atlas.hcl's schemas list"),
    ("billing", "schemas", "schema in atlas.hcl's schemas list but not in the database"),
    *((f"asset.trigger_{kind}", "updated-at-trigger", TRIGGER_PROBLEM)
      for kind in ("missing", "disabled", "after", "per_statement", "of_one_column", "other_function")),
])


def pg_client_env(**extra: str) -> dict:
    """The environment with PostgreSQL's client programs (psql) first on PATH."""
    return {**os.environ, "PATH": f"{Path(pg_bin('psql')).parent}{os.pathsep}{os.environ['PATH']}", **extra}


def db_check(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`sh scripts/db-check.sh [URL]`, the plain command (what `npm run db:check` runs)."""
    return subprocess.run(["sh", "scripts/db-check.sh", *args], cwd=project, env=pg_client_env(**env),
                          capture_output=True, text=True, timeout=60)


def report(stdout: str) -> tuple[list[tuple[str, str, str, str]], list[str], str]:
    """(problems as (subject, rule, problem, fix) sorted, the other lines, the summary line)."""
    lines = stdout.splitlines()
    problems, others = [], []
    for line in lines[:-1]:
        match = re.fullmatch(r"(\S+): ([a-z-]+): (.*); fix: (.*)", line)
        if match:
            problems.append(match.groups())
        else:
            others.append(line)
    return sorted(problems), others, lines[-1]


def set_env_url(project: Path, url: str) -> None:
    """Point DATABASE_URL in the project's .env at `url` (what a developer's .env holds)."""
    env_file = project / ".env"
    text = re.sub(r"(?m)^DATABASE_URL=.*$", lambda _: f"DATABASE_URL='{url}'", env_file.read_text())
    env_file.write_text(text)


def pro_triggers(tables: list[str]) -> str:
    """With Atlas Pro the user writes each new table's trigger in schemas/, like the example's."""
    return "".join(f"CREATE TRIGGER update_{t}_updated_at BEFORE UPDATE ON asset.{t} FOR EACH ROW"
                   f" EXECUTE FUNCTION asset.update_updated_at_column();\n" for t in tables)


def run_trigger_files(uri: str, project: Path) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        for path in sorted((project / "triggers").glob("*.sql")):
            conn.execute(path.read_text())


@pytest.mark.parametrize("pro", [False, True], ids=["free", "pro"])
def test_each_rule_fires_on_its_table_only_and_its_fix_works(render, fresh_db, tmp_path, pro):
    # The MATRIX's 3-domain project (rendered once for the session), with Better Auth.
    project = shutil.copytree(render(domains=["asset", "portfolio", "feed"], use_better_auth=True,
                                     atlas_pro=pro, dev_database="docker"), tmp_path / "server")
    atlas_hcl = project / "atlas.hcl"
    atlas_hcl.write_text(atlas_hcl.read_text().replace('"feed"]', '"feed", "billing"]'))  # a schema not applied
    load_schemas(fresh_db, project)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(USER_TABLES + (pro_triggers(USER_TABLES_WITH_UPDATED_AT) if pro else ""))
    if not pro:
        run_trigger_files(fresh_db, project)  # `npm run db:triggers` after the apply
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(TRIGGER_BREAKERS)

    run = db_check(project, fresh_db)
    assert run.returncode == 1, run.stdout + run.stderr
    problems, others, summary = report(run.stdout)
    # Exactly the broken tables, each with its rule: not the template's example tables, not
    # Better Auth's (text ids, no triggers), not the clean tables the user added.
    assert [p[:3] for p in problems] == EXPECTED, run.stdout
    assert others == []
    assert summary == "db:check: failed: 17 problems, 0 waived (20 tables in 4 schemas checked)"
    fixes = {(subject, rule): fix for subject, rule, _, fix in problems}
    assert fixes["asset.no_pk", "uuid-pk"] == "id uuid PRIMARY KEY DEFAULT gen_random_uuid()"
    assert fixes["asset.no_created_at", "created-at"] == "created_at timestamptz NOT NULL DEFAULT now()"
    assert fixes["asset.clock_updated_at", "updated-at"] == "updated_at timestamptz NOT NULL DEFAULT now()"

    # The fixes that are statements work as printed: run them, and those lines are gone.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for fix in fixes.values():
            if fix.startswith("in schemas/: "):
                conn.execute(re.match(r"in schemas/: (.*;)", fix).group(1))
    if not pro:
        assert fixes["asset.trigger_missing", "updated-at-trigger"].startswith("npm run db:triggers ")
        trigger_run = run_npm_script(project, "db:triggers", fresh_db)
        assert trigger_run.returncode == 0, trigger_run.stderr
    after = db_check(project, fresh_db)
    assert [p[:3] for p in report(after.stdout)[0]] == [p for p in EXPECTED if p[1] not in ("fk-index", "updated-at-trigger")]


def test_waivers_silence_exactly_the_named_table_and_rule(render, fresh_db, tmp_path):
    project = shutil.copytree(render(domains=["asset"], use_better_auth=False, atlas_pro=False, dev_database="local"),
                              tmp_path / "server")
    # A schema name that would be SQL if it were ever spliced into the query.
    hostile_schema = "x');DROP/**/TABLE/**/asset.example;--"
    atlas_hcl = project / "atlas.hcl"
    atlas_hcl.write_text(atlas_hcl.read_text().replace('"asset"]', f'"asset", "{hostile_schema}"]'))
    load_schemas(fresh_db, project)
    run_trigger_files(fresh_db, project)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE asset.legacy (id bigint PRIMARY KEY, example_id uuid REFERENCES asset.example (id),
              created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE asset.other (id bigint PRIMARY KEY,
              created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        """)
    run_trigger_files(fresh_db, project)
    reason = """ids are the old ERP's: "fine"; DROP TABLE asset.example; -- :'waivers' $$ \\"""
    waivers = project / "db-check-waivers.txt"
    waivers.write_text(waivers.read_text() + "\n".join([
        f"asset.legacy   uuid-pk   {reason}",          # line 6
        "asset.legacy created-at nothing to waive",   # line 7: a rule the table keeps
        "asset.legacy no-such-rule because",          # line 8
        "just-a-table-name",                          # line 9
    ]) + "\n")

    run = db_check(project, fresh_db)
    assert run.returncode == 1, run.stdout + run.stderr
    problems, others, summary = report(run.stdout)
    assert [p[:3] for p in problems] == sorted([
        ("asset.legacy", "fk-index", "foreign key legacy_example_id_fkey (example_id) has no index that starts with its columns"),
        ("asset.other", "uuid-pk", "primary key id is bigint"),
        (hostile_schema, "schemas", "schema in atlas.hcl's schemas list but not in the database"),
        ("db-check-waivers.txt:8", "waiver", "unknown rule no-such-rule"),
        ("db-check-waivers.txt:9", "waiver", "not a `schema.table rule reason` line"),
    ]), run.stdout
    assert others == [
        f"asset.legacy: uuid-pk: waived (db-check-waivers.txt:6: {reason}): primary key id is bigint",
        "db-check-waivers.txt:7: asset.legacy created-at waives nothing (fixed? then delete the line)",
    ]
    assert summary == "db:check: failed: 5 problems, 1 waived (3 tables in 2 schemas checked)"

    # Everything waived: exit 0, through `npm run db:check` with the URL from .env.
    waivers.write_text(f"asset.legacy uuid-pk {reason}\nasset.legacy fk-index until the ERP import ends\n"
                       f"asset.other uuid-pk same\n{hostile_schema} schemas not yet\n")
    set_env_url(project, fresh_db)
    run = run_npm_script(project, "db:check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "db:check: ok: 0 problems, 4 waived (3 tables in 2 schemas checked)"
    with psycopg.connect(fresh_db) as conn:  # no file content ever ran as SQL
        assert conn.execute("SELECT to_regclass('asset.example') IS NOT NULL").fetchone() == (True,)


def test_failures_to_check_exit_2_and_say_why(render, fresh_db, tmp_path):
    project = shutil.copytree(render(domains=["asset"], use_better_auth=False, atlas_pro=False, dev_database="local"),
                              tmp_path / "server")
    (project / ".env").unlink()
    run = db_check(project)
    assert run.returncode == 2
    assert "no database URL given and no .env file" in run.stderr

    missing = re.sub(r"/(t_[0-9a-f]+)\?", "/no_such_database?", fresh_db)
    run = db_check(project, missing)
    assert run.returncode == 2
    assert 'database "no_such_database" does not exist' in run.stderr

    run = db_check(project, fresh_db, PSQL="/nonexistent/psql")
    assert run.returncode == 2
    assert "psql not found" in run.stderr

    # atlas.hcl without a readable list: the check says so instead of checking nothing.
    atlas_hcl = project / "atlas.hcl"
    atlas_hcl.write_text(re.sub(r"schemas = \[.*\]", "schemas = local.schemas", atlas_hcl.read_text()))
    run = db_check(project, fresh_db)
    assert run.returncode == 1
    assert run.stdout.splitlines()[0].startswith("atlas.hcl: schemas: no `schemas = [...]` list")


# ---- The CI workflow the project gets (ci/github-workflow.yml) ----------------------

CI_VARIANTS = [  # MATRIX renders (shared with the other tests): docker and local, Pro and free
    pytest.param({"domains": d, "use_better_auth": True, "atlas_pro": pro, "dev_database": dev}, id=f"{dev}-{'pro' if pro else 'free'}")
    for d, dev in ((["asset", "portfolio", "feed"], "docker"), (["asset"], "local"))
    for pro in (False, True)
]


def ci_recipe(project: Path) -> str:
    """The project's GitHub Actions workflow."""
    return (project / "ci" / "github-workflow.yml").read_text()


def test_ci_recipes_are_valid_github_workflows(render, tmp_path):
    files = []
    for variant in CI_VARIANTS:
        path = tmp_path / f"{variant.id}.yml"
        path.write_text(ci_recipe(render(**variant.values[0])))
        files.append(str(path))
    check = subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True, text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("answers", CI_VARIANTS)
def test_ci_recipe_fits_its_project(render, answers):
    project = render(**answers)
    workflow = yaml.safe_load(ci_recipe(project))
    job = workflow["jobs"]["db-check"]
    service = job["services"]["postgres"]
    assert service["image"] == "postgres:17"
    port = yaml.safe_load((project / ".copier-answers.yml").read_text())["db_port"]
    assert service["ports"] == [f"{port}:5432"]  # the runner's service on the project's port
    assert job["defaults"]["run"]["working-directory"] == "apps/shop/server"
    steps = job["steps"]
    setup_atlas = [s for s in steps if s.get("uses", "").startswith("ariga/setup-atlas@")]
    assert bool(setup_atlas) == answers["atlas_pro"]  # Pro features need a login; else the open-source build
    scripts = json.loads((project / "package.json").read_text())["scripts"]
    npm_runs = [re.search(r"npm run (\S+)", s["run"]).group(1) for s in steps if "npm run" in s.get("run", "")]
    assert npm_runs == ["auth:check", "schema:apply", "db:lint", "schema:apply", "db:check", "db:drift", "schema:apply",
                        "template:check"]  # Better Auth's tables first; the base commit's schema, then the lint
    assert set(npm_runs) <= set(scripts)
    setup = next(s for s in steps if s.get("name", "").startswith("The dev role"))
    assert setup["env"]["PGPORT"] == str(port)
    if answers["dev_database"] == "local":  # the empty database atlas.hcl's dev URL names
        dev_url = re.search(r'scratch_database\s+=\s+"([^"]+)"', (project / "atlas.hcl").read_text()).group(1)
        assert f"-v scratch={dev_url.rsplit('/', 1)[1].split('?')[0]} " in setup["run"]
        assert 'CREATE DATABASE :"scratch"' in setup["run"]


# ---- Through real Atlas --------------------------------------------------------


def run_recipe_setup_step(project: Path, pg_tcp) -> None:
    """The CI recipe's own step that creates the dev role and databases, run as Actions runs it
    (bash -eo pipefail), on pg_tcp instead of the service (whose superuser password differs)."""
    step = next(s for s in yaml.safe_load(ci_recipe(project))["jobs"]["db-check"]["steps"]
                if s.get("name", "").startswith("The dev role"))
    script = project.parent / "setup-step.sh"
    script.write_text(step["run"])
    env = pg_client_env(**{**step["env"], "PGPORT": str(pg_tcp.port), "PGPASSWORD": pg_tcp.admin_password})
    run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=project, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def pro_functions_and_triggers(project: Path) -> str:
    """What Atlas Pro applies beyond the tables: schemas/' functions and triggers."""
    return "\n".join(
        statement + ";"
        for path in sorted((project / "schemas").glob("*.sql"))
        for statement in pglast.split(path.read_text())
        if type(pglast.parse_sql(statement)[0].stmt).__name__ in ("CreateFunctionStmt", "CreateTrigStmt")
    )


@pytest.mark.parametrize("pro", [False, True], ids=["free", "pro"])
def test_apply_then_db_check_clean_then_synced(atlas, pg_tcp, render, tmp_path, pro):
    db = f"shop_{uuid.uuid4().hex[:8]}"
    project = shutil.copytree(
        render(dev_database="local", db_port=str(pg_tcp.port), db_name=db, db_user=f"{db}_owner",
               db_password=HOSTILE_PASSWORD, domains=["asset", "portfolio"], atlas_pro=pro),
        tmp_path / "server",
    )
    run_recipe_setup_step(project, pg_tcp)  # role, database and Atlas's empty one, from .env.example

    # The recipe's steps, as it runs them: the apply (and, without Pro, the trigger step after it).
    first = run_npm_script(project, "schema:apply", "--auto-approve", atlas=atlas)
    assert first.returncode == 0, first.stdout + first.stderr
    if pro:
        # The open-source engine drops functions and triggers without a word; the check sees it.
        run = db_check(project)
        assert run.returncode == 1
        assert [p[:2] for p in report(run.stdout)[0]] == [
            ("asset.example", "updated-at-trigger"), ("portfolio.example", "updated-at-trigger")]
        with psycopg.connect(pg_tcp.url(f"{db}_owner", HOSTILE_PASSWORD, db), autocommit=True) as conn:
            conn.execute(pro_functions_and_triggers(project))
    else:
        assert "applied triggers/20_portfolio.sql" in first.stdout, first.stdout

    check = run_npm_script(project, "db:check")  # DATABASE_URL from .env, as the recipe runs it
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines() == ["db:check: ok: 0 problems, 0 waived (2 tables in 3 schemas checked)"]

    second = run_npm_script(project, "schema:apply", "--auto-approve", atlas=atlas)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Schema is synced" in second.stdout, second.stdout


def test_copy_into_an_app_with_its_own_db_check_files_is_refused(tmp_path):
    """The check's files are written whole, never merged: an app's own file of that name stops the copy."""
    from copier_atlas_postgres.questions import destination

    (tmp_path / "scripts").mkdir()
    for name in ("scripts/db-check.sh", "scripts/db-check.sql", "db-check-waivers.txt"):
        (tmp_path / name).write_text("the app's own\n")
    assert destination.copy_problems(tmp_path) == [
        f"{name}: the template writes this path; move yours elsewhere first"
        for name in ("scripts/db-check.sh", "scripts/db-check.sql", "db-check-waivers.txt")
    ]
