"""Real servers that follow the convention doc only almost, or keep their schema elsewhere: each is
adopted, or refused with commands that are then run exactly as printed. Each server here is a small
one written for its layout; its original schema is built on a real PostgreSQL, then the adopted
project goes through the real Atlas engine: the dry-run plan must be empty (no DROP, no change to
the team's tables), and atlas.hcl's schemas list may only grow."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import copier as copier_api
import psycopg
import pytest
from copier.errors import UserMessageError

from copier_atlas_postgres.questions import destination
from copier_atlas_postgres.world import handmade_server, sql_text
from tests.helpers.answers import MATRIX
from tests.helpers.atlas import atlas_schemas, run_atlas
from tests.helpers.copier_runs import copy_in_process, update_in_process, working_directory
from tests.helpers.files import snapshot
from tests.helpers.git import commit_all, git

SERVER = "apps/shop/server"


def dev_url(pg_tcp, database: str) -> str:
    return pg_tcp.admin_url(database)


def team_atlas_hcl(*schemas: str, src: str = 'schema {\n    src = "file://schemas"\n  }', extra: str = "") -> str:
    listed = ", ".join(f'"{s}"' for s in schemas)
    return (f'env "dev" {{\n  url = "postgres://team:teampw@localhost:5432/shop?sslmode=disable"\n'
            f'  dev = "docker://postgres/17/dev"\n  schemas = [{listed}]\n  {src}\n{extra}}}\n')


def server_with(mono: Path, files: dict[str, str]) -> Path:
    """apps/shop/server holding FILES, committed."""
    server = mono / SERVER
    for rel, text in files.items():
        (server / rel).parent.mkdir(parents=True, exist_ok=True)
        (server / rel).write_text(text)
    commit_all(mono, "the team's server")
    return server


def refusal(mono: Path, template: Path) -> str:
    """The message of a copy that must be refused (`copier copy --trust --defaults --overwrite`, in
    this process); nothing may be written."""
    before = snapshot(mono / "apps")
    with working_directory(mono), pytest.raises(UserMessageError) as refused:
        copier_api.run_copy(str(template), SERVER, data={"project_name": "Shop"}, defaults=True, unsafe=True,
                            overwrite=True, quiet=True)
    assert snapshot(mono / "apps") == before
    assert git(mono, "status", "--porcelain", "--untracked-files=all") == ""
    return str(refused.value)


def printed_commands(message: str) -> list[str]:
    """The commands a refusal prints, as printed."""
    assert "then copy again with --overwrite" in message, message
    return [line[4:] for line in message.split("then copy again with --overwrite", 1)[1].splitlines()
            if line.startswith("    ")]


def follow(mono: Path, message: str, atlas: str) -> None:
    """Run the refusal's commands as a user pastes them, from where the copy ran."""
    env = {"PATH": f"{Path(atlas).parent}:/usr/bin:/bin", "ATLAS_NO_UPDATE_NOTIFIER": "1", "HOME": str(mono)}
    run = subprocess.run(["sh", "-ec", "\n".join(printed_commands(message))], cwd=mono, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def adopt(mono: Path, template: Path, capfd, ref: str | None = None) -> str:
    """`copier copy --trust --defaults --overwrite` (in this process): what it prints."""
    capfd.readouterr()
    copy_in_process(mono, template, SERVER, {"project_name": "Shop"}, ref=ref, overwrite=True)
    return capfd.readouterr().err


def database_from(pg_tcp, *sql: str) -> str:
    """A database built by running SQL texts in order (the team's files, as they loaded)."""
    name = f"team_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(name)
    with psycopg.connect(pg_tcp.admin_url(name), autocommit=True) as conn:
        for text in sql:
            conn.execute(text)
    return name


def planned(atlas: str, server: Path, pg_tcp, database: str) -> list[str]:
    """The statements `atlas schema apply --env dev --dry-run` plans for DATABASE (real Atlas)."""
    scratch = f"scratch_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(scratch)
    plan = run_atlas(atlas, server, "schema", "apply", "--env", "dev", "--url", dev_url(pg_tcp, database),
                     "--dev-url", dev_url(pg_tcp, scratch), "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    if "Schema is synced, no changes to be made" in plan.stdout:
        return []
    sql = "\n".join(line for line in plan.stdout.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in sql.split(";") if s.strip()]


def assert_adopted(atlas, server: Path, pg_tcp, database: str, listed_before: list[str]) -> None:
    """Atlas loads the adopted files and plans nothing for the database the team's files built;
    every schema the old atlas.hcl listed is still listed."""
    assert planned(atlas, server, pg_tcp, database) == []
    assert set(listed_before) <= set(atlas_schemas(server)), atlas_schemas(server)


# ---- a domain named with a reserved word, and a schema spread over two files --------------------------

RESERVED = {
    "atlas.hcl": team_atlas_hcl("public", "content", "system", "user"),
    "schemas/public.sql": "CREATE SCHEMA IF NOT EXISTS public;\n\n"
                          "CREATE TABLE public.setting (key text PRIMARY KEY, value text NOT NULL);\n",
    "schemas/content.sql": "CREATE SCHEMA IF NOT EXISTS content;\n\n"
                           "CREATE TABLE content.article (id uuid PRIMARY KEY, title text NOT NULL);\n",
    # a second file of schema content
    "schemas/content_tags.sql": "CREATE TABLE content.tag (id uuid PRIMARY KEY,"
                                " article_id uuid NOT NULL REFERENCES content.article (id));\n",
    "schemas/system.sql": "CREATE SCHEMA IF NOT EXISTS system;\n\nCREATE TABLE system.job (id uuid PRIMARY KEY);\n",
    # `user` is reserved: a new domain may not take it, but this team has it (quoted in its SQL)
    "schemas/user.sql": 'CREATE SCHEMA IF NOT EXISTS "user";\n\n'
                        'CREATE TABLE "user".profile (id uuid PRIMARY KEY, nickname text);\n',
}


def test_a_reserved_schema_name_and_a_schema_in_two_files_stay_managed(template_repo, mono, atlas, pg_tcp, capfd):
    server = server_with(mono, RESERVED)
    database = database_from(pg_tcp, *(RESERVED[f"schemas/{n}.sql"] for n in
                                       ("content", "content_tags", "public", "system", "user")))
    stderr = adopt(mono, template_repo, capfd, ref="v1.0.0")  # a release: the project updates later

    answers = (server / ".copier-answers.yml").read_text()
    assert "domains:\n- content\n- system\n- user\n" in answers, answers
    assert 'CREATE SCHEMA IF NOT EXISTS "user";' in (server / "schemas/20_user.sql").read_text()
    assert "schemas/content_tags.sql: merged into schemas/20_content.sql" in stderr, stderr
    assert "CREATE TABLE content.tag" in (server / "schemas/20_content.sql").read_text()
    assert_adopted(atlas, server, pg_tcp, database, ["public", "content", "system", "user"])

    # The team's name stays valid for later updates, and a new domain comes beside it.
    git(mono, "commit", "-q", "-m", "Move schema files to the numbered names")
    commit_all(mono, "adopt")
    update_in_process(mono, "shop", {"domains": ["content", "system", "user", "billing"]})
    assert (server / "schemas/20_billing.sql").is_file()
    assert atlas_schemas(server) == ["public", "content", "system", "user", "billing"]


# ---- the team's load order: schema ai uses content, in a file named to load after it -----------------

ORDER = {
    "atlas.hcl": team_atlas_hcl("public", "content"),  # ai left out: Atlas did not manage it
    "schemas/public.sql": "CREATE SCHEMA IF NOT EXISTS public;\n",
    "schemas/content.sql": "CREATE SCHEMA IF NOT EXISTS content;\n\n"
                           "CREATE TABLE content.article (id uuid PRIMARY KEY, title text NOT NULL);\n",
    "schemas/content_ai.sql": "-- after content.sql: ai uses content's articles\nCREATE SCHEMA IF NOT EXISTS ai;\n\n"
                              "CREATE TABLE ai.summary (id uuid PRIMARY KEY,"
                              " article_id uuid NOT NULL REFERENCES content.article (id));\n"
                              "CREATE INDEX summary_article_idx ON ai.summary (article_id);\n",
}


def test_the_teams_load_order_still_loads(template_dir, mono, atlas, pg_tcp, capfd):
    server = server_with(mono, ORDER)
    database = database_from(pg_tcp, *(ORDER[f"schemas/{n}.sql"] for n in ("content", "content_ai", "public")))
    stderr = adopt(mono, template_dir, capfd)

    assert_adopted(atlas, server, pg_tcp, database, ["public", "content"])  # Atlas loads it
    assert 'atlas.hcl: schemas = ["public", "content"] before, ["public", "content", "ai"] now' in stderr, stderr
    assert "  ai: now managed (your schema files define it)" in stderr, stderr
    assert "CREATE TABLE ai.summary" in (server / "schemas/30_ai.sql").read_text()
    assert "CREATE TABLE" not in (server / "schemas/20_ai.sql").read_text()  # its schema, nothing of content's
    assert "schemas/30_ai.sql: ai's statements that use what schemas/20_content.sql defines" in stderr, stderr


# ---- one schema file elsewhere, and migrations/; then the old advice (atlas.hcl moved away) ----------

STORE_SQL = ("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);\n"
             "CREATE TABLE sessions (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));\n")
STORE = {
    "atlas.hcl": 'env "dev" {\n  url = "postgres://team:teampw@localhost:5432/shop?sslmode=disable"\n'
                 '  dev = "docker://postgres/17/dev"\n  src = "file://internal/store/schema.sql"\n'
                 '  migration {\n    dir = "file://migrations"\n  }\n}\n',
    "internal/store/schema.sql": STORE_SQL,
    "migrations/20240101000000_init.sql": STORE_SQL,
    "main.go": "package main\n",
}


def test_a_schema_file_elsewhere_is_refused_with_commands_that_adopt_it(template_dir, mono, atlas, pg_tcp, capfd):
    server = server_with(mono, STORE)
    database = database_from(pg_tcp, STORE_SQL)
    first = refusal(mono, template_dir)

    # What a team did with the advice this replaces ("move atlas.hcl away"): refused too, never a
    # copy whose first apply drops their tables; the schema file is named, with the way out.
    git(server, "rm", "-q", "atlas.hcl")
    git(mono, "commit", "-q", "-m", "atlas.hcl moved away")
    second = refusal(mono, template_dir)
    assert "  - internal/store/schema.sql: SQL that defines tables" in second, second
    assert "  - internal/store/schema.sql: atlas.hcl's src, a schema file" in first, first
    assert "    git mv -- internal/store/schema.sql schemas/schema.sql\n" in first, first  # the same way out
    follow(mono, second, atlas)
    stderr = adopt(mono, template_dir, capfd)

    assert "production_path: versioned" in (server / ".copier-answers.yml").read_text()  # migrations/ kept
    assert "schemas/schema.sql -> schemas/10_public.sql" in stderr, stderr
    assert_adopted(atlas, server, pg_tcp, database, ["public"])


# ---- atlas.hcl in a subfolder, numbered files of the team's in schemas/ ------------------------------

PGFLOW = {
    "atlas/atlas.hcl": team_atlas_hcl("pgflow", "public", src='schema {\n    src = "file://../schemas"\n  }'),
    "schemas/0001_pgflow.sql": "CREATE SCHEMA IF NOT EXISTS pgflow;\n\nCREATE TABLE pgflow.flows (slug text PRIMARY KEY);\n",
    "schemas/0002_runs.sql": "CREATE TABLE pgflow.runs (id uuid PRIMARY KEY,"
                             " flow_slug text NOT NULL REFERENCES pgflow.flows (slug));\n",
    "schemas/0003_app.sql": "CREATE TABLE public.app_user (id uuid PRIMARY KEY, email text NOT NULL,"
                            " last_run uuid REFERENCES pgflow.runs (id));\n",
}


def test_atlas_hcl_in_a_subfolder_is_refused_then_numbered_files_are_adopted(template_dir, mono, atlas, pg_tcp,
                                                                            capfd):
    server = server_with(mono, PGFLOW)
    database = database_from(pg_tcp, *(text for rel, text in sorted(PGFLOW.items()) if rel.endswith(".sql")))
    message = refusal(mono, template_dir)
    assert "  - atlas/atlas.hcl: Atlas's project file, in a subfolder" in message, message
    assert "move yours elsewhere" not in message  # the team's numbered files are adopted, not pushed out
    follow(mono, message, atlas)
    stderr = adopt(mono, template_dir, capfd)

    assert "schemas/0001_pgflow.sql -> schemas/20_pgflow.sql" in stderr, stderr
    assert "schemas/0002_runs.sql: merged into schemas/20_pgflow.sql" in stderr, stderr
    # public's table uses pgflow's, which loads later: it moves to a file of the team's after it
    assert "CREATE TABLE public.app_user" in (server / "schemas/30_public.sql").read_text()
    assert sorted(p.name for p in (server / "schemas").glob("*.sql")) == ["10_public.sql", "20_pgflow.sql",
                                                                         "30_public.sql"]
    assert_adopted(atlas, server, pg_tcp, database, ["pgflow", "public"])


# ---- an HCL schema: written as SQL by Atlas itself, then adopted -----------------------------------

SCHEMA_HCL = """schema "public" {}
schema "content" {}
table "setting" {
  schema = schema.public
  column "key" {
    type = text
  }
  primary_key {
    columns = [column.key]
  }
}
table "article" {
  schema = schema.content
  column "id" {
    type = uuid
  }
  column "setting_key" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "article_setting_fk" {
    columns     = [column.setting_key]
    ref_columns = [table.setting.column.key]
  }
  index "article_setting_idx" {
    columns = [column.setting_key]
  }
}
"""


def hcl_schema_server(mono: Path, atlas: str, pg_tcp, dev: str | None = None) -> tuple[Path, str, str]:
    """A server whose schema is SCHEMA_HCL, its env's dev database DEV (default: a scratch database),
    applied to the team's database: (server, database, scratch)."""
    database, scratch = f"team_{uuid.uuid4().hex[:8]}", f"scratch_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(database)
    pg_tcp.create_database(scratch)
    hcl = (f'env "dev" {{\n  url = "{dev_url(pg_tcp, database)}"\n  dev = "{dev or dev_url(pg_tcp, scratch)}"\n'
           '  schemas = ["public", "content"]\n  src = "file://schema.hcl"\n}\n')
    server = server_with(mono, {"atlas.hcl": hcl, "schema.hcl": SCHEMA_HCL})
    applied = run_atlas(atlas, server, "schema", "apply", "--env", "dev", "--dev-url", dev_url(pg_tcp, scratch),
                        "--auto-approve")  # the team's database
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return server, database, scratch


def test_an_hcl_schema_is_refused_and_its_commands_adopt_it_as_sql(template_dir, mono, atlas, pg_tcp, capfd):
    server, database, _ = hcl_schema_server(mono, atlas, pg_tcp)

    message = refusal(mono, template_dir)
    assert "  - schema.hcl: an HCL schema, not SQL" in message, message
    follow(mono, message, atlas)
    assert not (server / "schema.hcl").exists()
    stderr = adopt(mono, template_dir, capfd)

    assert "schemas/schema.sql: its statements of public -> schemas/10_public.sql" in stderr, stderr  # split
    assert 'CREATE TABLE "public"."setting"' in (server / "schemas/10_public.sql").read_text()
    assert 'CREATE TABLE "content"."article"' in (server / "schemas/20_content.sql").read_text()
    assert_adopted(atlas, server, pg_tcp, database, ["public", "content"])


# ---- a list of files elsewhere, stray SQL in schemas/, then a schema name no domain can have ---------

LEGACY_CORE = 'CREATE SCHEMA IF NOT EXISTS "Legacy";\n\nCREATE TABLE "Legacy".item (id uuid PRIMARY KEY, name text NOT NULL);\n'
LEGACY_NOTE = 'CREATE TABLE public.item_note (id uuid PRIMARY KEY, item_id uuid NOT NULL REFERENCES "Legacy".item (id));\n'
LEGACY = {
    # the list loads zz_core.sql first: its order differs from the names'
    "atlas.hcl": team_atlas_hcl("Legacy", "public", src='schema {\n    src = ["file://db/sql/zz_core.sql",'
                                                        ' "file://db/sql/aa_note.sql"]\n  }'),
    "db/sql/zz_core.sql": LEGACY_CORE,
    "db/sql/aa_note.sql": LEGACY_NOTE,
    "schemas/scratch.sql": "CREATE TABLE scratch (id int);\n",  # not what Atlas manages
}


def test_a_list_of_files_and_a_schema_name_no_domain_can_have(template_dir, mono, atlas, pg_tcp, capfd):
    server = server_with(mono, LEGACY)
    database = database_from(pg_tcp, LEGACY_CORE, LEGACY_NOTE)
    first = refusal(mono, template_dir)
    assert "    git mv -- db/sql/zz_core.sql schemas/01_zz_core.sql\n" in first, first  # the list's order kept
    follow(mono, first, atlas)
    assert (server / "scratch.sql").is_file()

    second = refusal(mono, template_dir)
    fix = 'ALTER SCHEMA "Legacy" RENAME TO legacy'
    assert '  - schemas/01_zz_core.sql: schema "Legacy": domain schemas are named a-z' in second, second
    assert fix in second, second
    pg_tcp.execute(fix, database=database)  # as printed, in the team's database...
    for path in (server / "atlas.hcl", *(server / "schemas").glob("*.sql")):  # ...and in their files
        path.write_text(path.read_text().replace('"Legacy"', "legacy"))
    commit_all(mono, "schema Legacy renamed legacy")
    stderr = adopt(mono, template_dir, capfd)

    assert "schemas/02_aa_note.sql -> schemas/30_public.sql" in stderr, stderr
    assert_adopted(atlas, server, pg_tcp, database, ["legacy", "public"])


# ---- migrations elsewhere, and no schema file at all ----------------------------------------------

MIGRATIONS = {
    "db/migrations/20240101000000_init.sql": "CREATE SCHEMA billing;\n"
                                              "CREATE TABLE billing.invoice (id uuid PRIMARY KEY, total numeric NOT NULL);\n",
    "db/migrations/20240201000000_customer.sql": "CREATE TABLE public.customer (id uuid PRIMARY KEY);\n"
                                                  "ALTER TABLE billing.invoice ADD COLUMN customer_id uuid"
                                                  " REFERENCES public.customer (id);\n",
}


def test_migrations_alone_are_refused_until_a_schema_file_says_what_they_build(template_dir, mono, atlas, pg_tcp,
                                                                             capfd):
    hcl = team_atlas_hcl("public", "billing", src='migration {\n    dir = "file://db/migrations"\n  }')
    server = server_with(mono, {"atlas.hcl": hcl, **MIGRATIONS})
    hashed = run_atlas(atlas, server, "migrate", "hash", "--dir", "file://db/migrations")
    assert hashed.returncode == 0, hashed.stderr
    commit_all(mono, "atlas.sum")
    database = f"team_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(database)
    migrated = run_atlas(atlas, server, "migrate", "apply", "--dir", "file://db/migrations",
                         "--url", dev_url(pg_tcp, database))
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    message = refusal(mono, template_dir)
    assert "    git mv -- db/migrations migrations\n" in message, message
    follow(mono, message, atlas)
    export = re.search(r"e\.g\. (mkdir .*? schemas/schema\.sql), then git add it", message).group(1)
    export = export.replace("<a database migrated to the last one>", dev_url(pg_tcp, database))
    subprocess.run(["sh", "-ec", export], cwd=server, check=True, env={"PATH": f"{Path(atlas).parent}:/usr/bin:/bin"})
    commit_all(mono, "the schema the migrations build")
    stderr = adopt(mono, template_dir, capfd)

    assert "production_path: versioned" in (server / ".copier-answers.yml").read_text()
    assert "atlas_schema_revisions" not in stderr + (server / "atlas.hcl").read_text()
    assert_adopted(atlas, server, pg_tcp, database, ["public", "billing"])


# ---- a new project: a domain that starts using a domain whose file loads later -----------------------

# asset, feed, portfolio without Better Auth or Pro: one of the answer sets every structural test renders
THREE_DOMAINS = next(p.values[0] for p in MATRIX if len(p.values[0].get("domains", [])) == 3
                     and not p.values[0]["use_better_auth"] and not p.values[0]["atlas_pro"])
USES_PORTFOLIO = "CREATE TABLE asset.position (id uuid PRIMARY KEY, example_id uuid REFERENCES portfolio.example (id));\n"


def test_a_domain_using_one_that_loads_later_is_named_with_its_fix(render, atlas, pg_tcp, tmp_path):
    project = shutil.copytree(render(**THREE_DOMAINS), tmp_path / "project")
    asset = project / "schemas" / "20_asset.sql"
    asset.write_text(asset.read_text() + "\n" + USES_PORTFOLIO)
    line = asset.read_text().count("\n")
    env = {"PATH": f"{Path(atlas).parent}:/usr/bin:/bin", "ATLAS_NO_UPDATE_NOTIFIER": "1"}
    named = (f"schemas/20_asset.sql:{line}: load-order: uses portfolio.example, which schemas/20_portfolio.sql"
             " creates, and schemas/20_portfolio.sql loads after it; fix: move what uses it into a file of your"
             " own that loads after schemas/20_portfolio.sql, e.g. schemas/90_cross_domain.sql")

    check = subprocess.run(["sh", "scripts/db-check.sh"], cwd=project, env=env, capture_output=True, text=True)
    assert check.returncode == 1, check.stdout + check.stderr
    assert named in check.stdout, check.stdout + check.stderr  # no database needed
    database, scratch = f"new_{uuid.uuid4().hex[:8]}", f"scratch_{uuid.uuid4().hex[:8]}"
    for name in (database, scratch):
        pg_tcp.create_database(name)
    apply = ["sh", "scripts/apply-triggers.sh", "--after", "atlas", "schema", "apply", "--env", "dev", "--url",
             dev_url(pg_tcp, database), "--dev-url", dev_url(pg_tcp, scratch), "--auto-approve"]
    failed = subprocess.run(apply, cwd=project, env=env, capture_output=True, text=True)
    assert failed.returncode != 0, failed.stderr
    assert 'schema "portfolio" does not exist' in failed.stderr, failed.stderr
    assert named in failed.stderr, failed.stderr  # after Atlas's own error: which file, and the fix

    # The fix, as it says: the statement in a file of the team's that loads after 20_portfolio.sql.
    asset.write_text(asset.read_text().replace(USES_PORTFOLIO, ""))
    (project / "schemas" / "90_cross_domain.sql").write_text(USES_PORTFOLIO)
    assert subprocess.run(["sh", "scripts/db-check.sh", "--load-order"], cwd=project, env=env).returncode == 0
    applied = subprocess.run(apply[3:], cwd=project, env=env, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr


# ---- refusals whose way out is not only commands: followed by hand, as written ------------------------

CONTENT_SQL = "CREATE SCHEMA IF NOT EXISTS content;\nCREATE TABLE content.article (id uuid PRIMARY KEY);\n"
MANUAL = {
    # case: (files, what the refusal says, the way out it names, done by hand)
    "atlas.hcl and nothing to adopt": (
        {"atlas.hcl": team_atlas_hcl("public"), "src/index.ts": "export {};\n"},
        "atlas.hcl: Atlas's project file, but no SQL schema file to adopt",
        "git mv -- atlas.hcl atlas.hcl.orig", None),
    "two atlas.hcl in subfolders": (
        {"db/atlas.hcl": team_atlas_hcl("content"), "tools/atlas.hcl": team_atlas_hcl("x"),
         "schemas/content.sql": CONTENT_SQL},
        "db/atlas.hcl, tools/atlas.hcl: several Atlas project files",
        "git mv <it> atlas.hcl", lambda server: git(server, "mv", "db/atlas.hcl", "atlas.hcl")),
    "src an expression": (
        {"atlas.hcl": team_atlas_hcl("content", src="src = local.schema_src"), "schemas/content.sql": CONTENT_SQL},
        "atlas.hcl line 5: src = local.schema_src: not a plain file:// path",
        'set it to "file://schemas"', lambda server: (server / "atlas.hcl").write_text(
            (server / "atlas.hcl").read_text().replace("local.schema_src", '"file://schemas"'))),
    "a listed schema no file defines": (
        {"atlas.hcl": team_atlas_hcl("public", "content", "archive"), "schemas/content.sql": CONTENT_SQL},
        "atlas.hcl: its schemas list names archive, which no file of schemas/ defines",
        "add schemas/archive.sql holding CREATE SCHEMA IF NOT EXISTS archive;", lambda server: (
            server / "schemas" / "archive.sql").write_text("CREATE SCHEMA IF NOT EXISTS archive;\n")),
    "src not files": (
        {"atlas.hcl": team_atlas_hcl("content", src='src = "atlas://shop"'), "schemas/content.sql": CONTENT_SQL},
        'atlas.hcl line 5: src = "atlas://shop" is not files of this server',
        'set src = "file://schemas"', lambda server: (server / "atlas.hcl").write_text(
            (server / "atlas.hcl").read_text().replace("atlas://shop", "file://schemas"))),
}


@pytest.mark.parametrize("case", list(MANUAL))
def test_refusals_name_a_way_out_that_ends_them(mono, case):
    files, said, way_out, by_hand = MANUAL[case]
    server = server_with(mono, files)
    with working_directory(mono):
        problems, commands = destination.copy_refusal(SERVER, overwrite=True)
    assert any(line.startswith(said) for line in problems), problems
    assert way_out in "\n".join(problems + commands), problems + commands
    if by_hand is None:
        subprocess.run(["sh", "-ec", "\n".join(commands)], cwd=mono, check=True, capture_output=True)
    else:
        by_hand(server)
        commit_all(mono, "as the refusal says")
    with working_directory(mono):
        assert destination.copy_refusal(SERVER, overwrite=True) == ([], [])


# ---- the reading of statements that adoption and its order rest on, against PostgreSQL's parser ------


def test_statement_schemas_and_uses_match_pglast():
    """Each statement's schema (what it defines something in) and the schema-qualified relations it
    uses, as pglast (PostgreSQL's own parser) reads them, for every statement of the servers above."""
    import pglast
    from pglast.visitors import referenced_relations

    from tests.test_text_readers import TRICKY_SQL

    fixtures = [RESERVED, ORDER, STORE, PGFLOW, LEGACY, MIGRATIONS]
    texts = [TRICKY_SQL, *(text for files in fixtures for rel, text in files.items() if rel.endswith(".sql"))]
    for statement in (s for text in texts for s in sql_text.split_statements(text)):
        node = pglast.parse_sql(statement.text)[0].stmt
        kind = type(node).__name__
        relation = getattr(node, "relation", None) or getattr(node, "view", None)
        if kind == "CreateSchemaStmt":
            expected = node.schemaname
        elif kind == "CreateFunctionStmt":
            expected = node.funcname[0].sval if len(node.funcname) > 1 else "public"
        elif relation is not None:
            expected = relation.schemaname or "public"
        else:
            expected = None
        assert handmade_server.defined_schema(statement) == expected, statement.text
        theirs = {tuple(sql_text.fold(part) for part in re.findall(r'"(?:[^"]|"")*"|[^.]+', name))
                  for name in referenced_relations(statement.text)}
        assert {name for name in theirs if len(name) == 2} <= handmade_server.used_names(statement), statement.text
