"""Layouts seen in real Atlas projects, each judged end to end: the team's original schema applied
to a real PostgreSQL first, then the documented copy (adopted, or refused and its printed way out
followed as typed), then the real Atlas engine's dry-run against the team's database: no DROP, and
no role or database created anywhere on the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
from plumbum import local

from tests.helpers.copier_runs import copy_in_process
from tests.helpers.files import snapshot
from tests.helpers.git import commit_all, git
from tests.test_adoption_layouts import (
    SCHEMA_HCL,
    SERVER,
    adopt,
    database_from,
    dev_url,
    follow,
    hcl_schema_server,
    planned,
    printed_commands,
    refusal,
    server_with,
)


def cluster_catalog(pg_tcp) -> tuple:
    """The server's roles and databases (what a psql bootstrap script would create)."""
    with psycopg.connect(pg_tcp.admin_url("postgres"), autocommit=True) as conn:
        roles = sorted(r for (r,) in conn.execute("SELECT rolname FROM pg_roles"))
        databases = sorted(d for (d,) in conn.execute("SELECT datname FROM pg_database"))
    return roles, databases


# ---- psql bootstrap scripts beside the schema: named "not schema", never run ---------------------------

SHOP_SQL = ("CREATE TABLE public.customer (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);\n"
            "CREATE TABLE public.purchase (id bigserial PRIMARY KEY,"
            " customer_id bigint NOT NULL REFERENCES public.customer (id));\n")
BOOTSTRAP = {
    "atlas.hcl": 'env "local" {\n  url = "postgres://team:teampw@localhost:5432/shop?sslmode=disable"\n'
                 '  dev = "docker://postgres/17/dev"\n  schemas = ["public"]\n  src = "file://schemas"\n}\n',
    "schemas/schema.sql": SHOP_SQL,
    # in the folder Atlas loads: it would run on every database Atlas plans with
    "schemas/00_roles.sql": "CREATE ROLE shop_reader LOGIN PASSWORD 'reader';\n"
                            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO shop_reader;\n",
    "db/init/01_database.sql": "SELECT 'CREATE DATABASE ' || quote_ident(:'db_name')\n"
                               "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db_name') \\gexec\n"
                               "CREATE ROLE shop_app LOGIN PASSWORD 'app';\n",
    "db/init/02_connect.sql": '\\c :"db_name"\nCREATE ROLE shop_admin LOGIN;\n'
                              "GRANT ALL ON SCHEMA public TO shop_app, shop_admin;\n",
    "db/init/03_grants.sql": "GRANT USAGE ON SCHEMA public TO shop_app;\n"
                             "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO shop_app;\n",
}


def test_psql_bootstrap_scripts_are_named_not_schema_and_never_run(template_dir, mono, atlas, pg_tcp, capfd):
    server = server_with(mono, BOOTSTRAP)
    database = database_from(pg_tcp, SHOP_SQL)
    catalog = cluster_catalog(pg_tcp)
    message = refusal(mono, template_dir)

    assert "  - schemas/00_roles.sql: not schema (cluster set-up (CREATE ROLE)" in message, message
    for script in ("db/init/01_database.sql", "db/init/02_connect.sql", "db/init/03_grants.sql"):
        assert f"  - {script}: " in message and script not in "\n".join(printed_commands(message)), message
    assert "not schema, left where it is" in message
    follow(mono, message, atlas)
    stderr = adopt(mono, template_dir, capfd)

    assert "db/init" not in stderr and "00_roles" not in stderr, stderr
    assert (server / "00_roles.sql").is_file() and (server / "db/init/02_connect.sql").is_file()
    assert sorted(p.name for p in (server / "schemas").glob("*.sql")) == ["10_public.sql"]
    assert planned(atlas, server, pg_tcp, database) == []
    assert cluster_catalog(pg_tcp)[0] == catalog[0]  # no role created (databases: the dry-run's scratch one)
    assert set(cluster_catalog(pg_tcp)[1]) - set(catalog[1]) <= {d for d in cluster_catalog(pg_tcp)[1]
                                                                 if d.startswith("scratch_")}


# ---- extensions and a trigram index: the extensions stay part of the schema ---------------------------

CATALOG_SQL = ("CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION IF NOT EXISTS citext;\n\n"
               "CREATE SCHEMA IF NOT EXISTS catalog;\n"
               "CREATE TABLE catalog.product (id bigserial PRIMARY KEY, name text NOT NULL, sku citext NOT NULL);\n"
               "CREATE INDEX product_name_trgm ON catalog.product USING gin (name gin_trgm_ops);\n")
EXTENSIONS = {
    "atlas.hcl": 'env "dev" {\n  url = "postgres://team:teampw@localhost:5432/shop?sslmode=disable"\n'
                 '  dev = "docker://postgres/17/dev"\n  schemas = ["public", "catalog"]\n'
                 '  src = "file://schemas"\n}\n',
    "schemas/catalog.sql": CATALOG_SQL,
}


def test_extensions_stay_part_of_the_schema_and_load_before_it(template_dir, mono, atlas, pg_tcp, capfd):
    server = server_with(mono, EXTENSIONS)
    database = database_from(pg_tcp, CATALOG_SQL)
    proof = f"proof_{uuid.uuid4().hex[:8]}"  # the empty database the adoption proves its files on
    pg_tcp.create_database(proof)
    capfd.readouterr()
    # copier runs its tasks with plumbum's copy of the environment
    with local.env(ATLAS_DEV_URL=dev_url(pg_tcp, proof), PATH=f"{Path(atlas).parent}:{os.environ['PATH']}"):
        copy_in_process(mono, template_dir, SERVER, {"project_name": "Shop", "dev_database": "local"}, overwrite=True)
    stderr = capfd.readouterr().err

    assert "atlas_pro: false" in (server / ".copier-answers.yml").read_text()
    assert "Adopted a server" in stderr and "not yet loaded" not in stderr, stderr  # proven on `proof`
    assert "extensions pg_trgm, citext: moved to extensions/00_adopted.sql" in stderr, stderr
    assert "EXTENSION" not in "".join(p.read_text() for p in (server / "schemas").glob("*.sql"))
    assert not list((server / "triggers").glob("90_*"))
    # The project's own apply, as its package.json runs it, on an empty dev database: schemas/ loads
    # (the trigram index finds its operator class), and nothing is planned against the team's database.
    scratch = f"scratch_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(scratch)
    env = {"PATH": f"{Path(atlas).parent}:/usr/bin:/bin", "ATLAS_NO_UPDATE_NOTIFIER": "1",
           "PSQL": shutil.which("psql") or "psql"}
    apply = ["sh", "scripts/apply-triggers.sh", "--after", "atlas", "schema", "apply", "--env", "dev",
             "--url", dev_url(pg_tcp, database), "--dev-url", dev_url(pg_tcp, scratch), "--dry-run"]
    plan = subprocess.run(apply, cwd=server, env=env, capture_output=True, text=True)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Schema is synced, no changes to be made" in plan.stdout, plan.stdout
    # A new database gets the extensions first, then the schema that needs them.
    fresh = f"fresh_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(fresh)
    on_fresh = [dev_url(pg_tcp, fresh) if a == dev_url(pg_tcp, database) else a for a in apply]
    applied = subprocess.run([*on_fresh[:-1], "--auto-approve"], cwd=server, env=env, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = subprocess.run(on_fresh, cwd=server, env=env, capture_output=True, text=True)
    assert "Schema is synced, no changes to be made" in again.stdout, again.stdout + again.stderr


# ---- the proof refuses: a generated column uses a function that must leave schemas/ without Pro --------

SLUG_SQL = ("CREATE SCHEMA IF NOT EXISTS content;\n"
            "CREATE FUNCTION content.slugify(title text) RETURNS text IMMUTABLE LANGUAGE sql"
            " AS $$ SELECT lower(replace(title, ' ', '-')) $$;\n"
            "CREATE TABLE content.article (id bigserial PRIMARY KEY, title text NOT NULL,"
            " slug text GENERATED ALWAYS AS (content.slugify(title)) STORED);\n")


def test_an_adoption_that_would_not_load_is_refused_and_the_files_restored(template_dir, mono, atlas, pg_tcp):
    server = server_with(mono, {"atlas.hcl": EXTENSIONS["atlas.hcl"].replace('"catalog"', '"content"'),
                                "schemas/content.sql": SLUG_SQL})
    before = snapshot(server)
    proof = f"proof_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(proof)
    env = {**os.environ, "ATLAS_DEV_URL": dev_url(pg_tcp, proof), "PATH": f"{Path(atlas).parent}:{os.environ['PATH']}"}
    copy = subprocess.run(["copier", "copy", "--trust", "--defaults", "--overwrite", "--data", "project_name=Shop",
                           "--data", "atlas_pro=false", str(template_dir), SERVER], cwd=mono, env=env,
                          capture_output=True, text=True, timeout=120)

    assert copy.returncode != 0, copy.stderr
    assert "Not adopted: the adopted files were checked" in copy.stderr, copy.stderr
    assert "content.slugify" in copy.stderr and "Adopted a server" not in copy.stderr, copy.stderr
    assert snapshot(server) == before  # the team's files as committed, nothing of the copy's left
    assert git(mono, "status", "--porcelain", "--untracked-files=all") == ""


# ---- two envs, two databases, each its own schema: refused with the split to make ----------------------

APP_SQL = "CREATE TABLE public.account (id bigserial PRIMARY KEY, email text NOT NULL);\n"
ANALYTICS_SQL = "CREATE TABLE public.event (id bigserial PRIMARY KEY, name text NOT NULL, at timestamptz NOT NULL);\n"


def env_block(name: str, database: str, src: str) -> str:
    return (f'env "{name}" {{\n  url = "postgres://team:teampw@localhost:5432/{database}?sslmode=disable"\n'
            f'  dev = "docker://postgres/17/dev"\n  schemas = ["public"]\n  src = "{src}"\n}}\n')


def test_envs_of_two_databases_are_refused_with_the_split_then_each_is_adopted(template_dir, mono, atlas, pg_tcp,
                                                                              capfd):
    server = server_with(mono, {"atlas.hcl": env_block("app", "app", "file://db/app.sql")
                                + env_block("analytics", "analytics", "file://db/analytics.sql"),
                                "db/app.sql": APP_SQL, "db/analytics.sql": ANALYTICS_SQL})
    database = database_from(pg_tcp, APP_SQL)
    message = refusal(mono, template_dir)
    assert ('atlas.hcl: its envs keep different schemas (env "app": src = "file://db/app.sql" (database app);'
            ' env "analytics": src = "file://db/analytics.sql" (database analytics))') in message, message
    assert "db/analytics.sql schemas/" not in message and "db/app.sql schemas/" not in message  # never merged

    # The split, as it says: the analytics env and its schema to a server folder of their own.
    other = mono / "apps/analytics/server"
    (other / "db").mkdir(parents=True)
    git(mono, "mv", f"{SERVER}/db/analytics.sql", "apps/analytics/server/db/analytics.sql")
    (other / "atlas.hcl").write_text(env_block("analytics", "analytics", "file://db/analytics.sql"))
    (server / "atlas.hcl").write_text(env_block("app", "app", "file://db/app.sql"))
    commit_all(mono, "one project per database")
    follow(mono, refusal(mono, template_dir), atlas)  # now the one src elsewhere: moved into schemas/
    adopt(mono, template_dir, capfd)
    assert planned(atlas, server, pg_tcp, database) == []
    assert "event" not in "".join(p.read_text() for p in (server / "schemas").glob("*.sql"))


# ---- src outside the server folder (a glob two folders up), in an env not named dev ----------------------

SHARED_TABLES = "CREATE TABLE public.warehouse (id bigserial PRIMARY KEY, name text NOT NULL);\n"
SHARED_MORE = ("CREATE TABLE public.shelf (id bigserial PRIMARY KEY,"
               " warehouse_id bigint NOT NULL REFERENCES public.warehouse (id));\n")


def test_a_src_outside_the_server_folder_is_moved_in_with_its_history(template_dir, mono, atlas, pg_tcp, capfd):
    (mono / "db").mkdir()
    (mono / "db/01_tables.sql").write_text(SHARED_TABLES)
    (mono / "db/02_more.sql").write_text(SHARED_MORE)
    hcl = ('env "local" {\n  url = "postgres://team:teampw@localhost:5432/stock?sslmode=disable"\n'
           '  dev = "docker://postgres/18/dev"\n  schemas = ["public"]\n  src = "file://../../../db/*.sql"\n}\n')
    server = server_with(mono, {"atlas.hcl": hcl, "main.go": "package main\n"})
    database = database_from(pg_tcp, SHARED_TABLES, SHARED_MORE)
    message = refusal(mono, template_dir)
    assert "  - ../../../db/*.sql: atlas.hcl's src, outside the server folder" in message, message
    assert "    git mv -- ../../../db/01_tables.sql schemas/01_tables.sql\n" in message, message
    follow(mono, message, atlas)
    stderr = adopt(mono, template_dir, capfd)

    answers = (server / ".copier-answers.yml").read_text()
    assert "db_name: stock" in answers and "postgres_version: '18'" in answers, answers  # env "local" read
    assert "schemas/02_more.sql: merged into schemas/10_public.sql" in stderr, stderr
    assert git(mono, "log", "--follow", "--format=%s", "--", f"{SERVER}/schemas/01_tables.sql")  # history kept
    assert planned(atlas, server, pg_tcp, database) == []


# ---- an HCL schema whose env's dev database is Docker's: the advice never empties or removes a file -------


def test_an_hcl_schema_whose_env_needs_docker_keeps_its_files_until_the_sql_is_written(template_dir, mono, atlas,
                                                                                      pg_tcp, capfd):
    server, database, scratch = hcl_schema_server(mono, atlas, pg_tcp, dev="docker://postgres/17/dev")
    message = refusal(mono, template_dir)
    assert "without Docker, first export ATLAS_DEV_URL=" in message, message

    # Pasted line by line without Docker: the inspect fails, and nothing of the team's is emptied or removed.
    env = {"PATH": f"{Path(atlas).parent}:/usr/bin:/bin", "ATLAS_NO_UPDATE_NOTIFIER": "1", "HOME": str(mono)}
    for command in printed_commands(message):
        subprocess.run(["sh", "-c", command], cwd=mono if command.startswith("cd ") else server, env=env,
                       capture_output=True)
    assert (server / "schema.hcl").read_text() == SCHEMA_HCL
    assert not (server / "schemas/schema.sql").exists()
    assert git(mono, "ls-files", "--", f"{SERVER}/schema.hcl").strip()
    # Then as it says: with ATLAS_DEV_URL, the same commands write the SQL and only then remove the HCL.
    git(mono, "reset", "-q", "--hard")
    typed = subprocess.run(["sh", "-ec", "\n".join(printed_commands(message))], cwd=mono, capture_output=True,
                           text=True, env={**env, "ATLAS_DEV_URL": dev_url(pg_tcp, scratch)})
    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert not (server / "schema.hcl").exists()
    adopt(mono, template_dir, capfd)
    assert planned(atlas, server, pg_tcp, database) == []


def test_the_proof_names_what_the_adopted_files_lost(tmp_path):
    """The object half of the proof, on the hand-made server's own reader: a table, a type and an
    index the team defined and the adopted files do not hold are each named; the ones kept are not."""
    from copier_atlas_postgres.tasks.adoption_proof import missing
    from copier_atlas_postgres.world.handmade_server import read_handmade_server

    team = ("CREATE SCHEMA asset;\nCREATE TYPE asset.kind AS ENUM ('a');\n"
            "CREATE TABLE asset.holding (id uuid PRIMARY KEY);\nCREATE TABLE asset.lot (id uuid PRIMARY KEY);\n"
            "CREATE INDEX lot_id_idx ON asset.lot (id);\n")
    server = read_handmade_server(tmp_path, None, {"schemas/asset.sql": team})
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "20_asset.sql").write_text("CREATE SCHEMA asset;\nCREATE TABLE asset.holding (id uuid PRIMARY KEY);\n")
    assert missing(tmp_path, server) == ["index lot_id_idx", "table asset.lot", "type asset.kind"]
