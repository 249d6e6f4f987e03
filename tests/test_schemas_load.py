"""Generated SQL on a real PostgreSQL, in Atlas's load order, and the updated_at triggers at work."""

from __future__ import annotations

import re
import shutil

import psycopg
import pytest

from tests.helpers.answers import MATRIX
from tests.helpers.npm import run_npm_script
from tests.helpers.postgres import assert_trigger_moved_updated_at, load_schemas, schema_files

# A user edit: a domain table that references Better Auth's user table.
USER_FK = """
ALTER TABLE account.example ADD COLUMN user_id text REFERENCES auth."user" ("id") ON DELETE CASCADE;
"""


@pytest.mark.parametrize("answers", MATRIX)
def test_schemas_load_in_atlas_order(render, fresh_db, answers):
    load_schemas(fresh_db, render(**answers))


def editable_copy(project, tmp_path):
    """Copy a rendered project so a test can edit it (renders are shared by the session)."""
    return shutil.copytree(project, tmp_path / "server")


def test_domain_sorting_before_auth_can_reference_auth_user(render, fresh_db, tmp_path):
    project = editable_copy(render(domains=["account", "portfolio"]), tmp_path)
    with (project / "schemas" / "20_account.sql").open("a") as f:
        f.write(USER_FK)
    load_schemas(fresh_db, project)
    with psycopg.connect(fresh_db) as conn:
        fk = conn.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE conrelid = 'account.example'::regclass AND contype = 'f'"
        ).fetchone()
    assert fk == ('auth."user"',)


def test_doc_file_names_would_break_that_reference(render, fresh_db, tmp_path):
    """Control: with the convention doc's names (account.sql before auth.sql) the same edit fails."""
    project = editable_copy(render(domains=["account"]), tmp_path)
    for path in schema_files(project):
        path.rename(path.with_name(path.name.split("_", 1)[1]))
    with (project / "schemas" / "account.sql").open("a") as f:
        f.write(USER_FK)
    with pytest.raises(AssertionError, match="account.sql does not load"):
        load_schemas(fresh_db, project)


def timestamps(conn, table):
    return conn.execute(f"SELECT created_at, updated_at FROM {table}").fetchone()


def touch_row(uri, table="asset.example"):
    """Insert a row stamped an hour ago, update it, return (created, updated) before and after."""
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {table}")
        conn.execute(
            f"INSERT INTO {table} (name, created_at, updated_at) VALUES ('a', now() - interval '1 hour', now() - interval '1 hour')"
        )
        before = timestamps(conn, table)
        conn.execute(f"UPDATE {table} SET name = 'b'")
        return before, timestamps(conn, table)


def test_updated_at_trigger_with_atlas_pro(render, fresh_db, tmp_path):
    project = editable_copy(render(domains=["asset", "portfolio"], atlas_pro=True), tmp_path)
    # A public table with the trigger its file's comment shows (public has the function too).
    comment = (project / "schemas" / "10_public.sql").read_text().split("its trigger:\n", 1)[1]
    trigger = "\n".join(line.removeprefix("-- ") for line in comment.splitlines()).replace("<table>", "note")
    with (project / "schemas" / "10_public.sql").open("a") as f:
        f.write("\nCREATE TABLE public.note (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text,"
                " created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\n")
        f.write(trigger + "\n")
    load_schemas(fresh_db, project)
    for table in ("asset.example", "portfolio.example", "public.note"):
        assert_trigger_moved_updated_at(*touch_row(fresh_db, table))


def test_updated_at_trigger_without_atlas_pro(render, fresh_db, tmp_path):
    project = editable_copy(render(domains=["asset", "portfolio"], atlas_pro=False), tmp_path)
    # Tables the user added later, in a domain and in public, also get their trigger from the script.
    for schema_file, table in (("20_asset.sql", "asset.holding"), ("10_public.sql", "public.note")):
        with (project / "schemas" / schema_file).open("a") as f:
            f.write(f"\nCREATE TABLE {table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text,"
                    " created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());\n")
    load_schemas(fresh_db, project)  # what `atlas schema apply` leaves: tables, no triggers
    before, after = touch_row(fresh_db)
    assert after[1] == before[1], "without the script there is no trigger (Atlas's free builds drop them)"

    # The way a user runs it: `npm run db:triggers`, DATABASE_URL taken from .env.
    env_file = project / ".env"
    env_file.write_text(env_file.read_text().replace(
        next(line for line in env_file.read_text().splitlines() if line.startswith("DATABASE_URL=")),
        f"DATABASE_URL='{fresh_db}'",
    ))
    for _ in range(2):  # idempotent: a second run changes nothing and does not fail
        run = run_npm_script(project, "db:triggers")
        assert run.returncode == 0, run.stderr
        assert run.stdout.split() == ["applied", "triggers/10_public.sql", "applied", "triggers/20_asset.sql",
                                      "applied", "triggers/20_portfolio.sql"]
    with psycopg.connect(fresh_db) as conn:
        triggers = conn.execute(
            "SELECT tgrelid::regclass::text, count(*) FROM pg_trigger WHERE NOT tgisinternal GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert triggers == [("asset.example", 1), ("asset.holding", 1), ("note", 1), ("portfolio.example", 1)]
    for table in ("asset.example", "asset.holding", "portfolio.example", "public.note"):
        assert_trigger_moved_updated_at(*touch_row(fresh_db, table))


def test_trigger_script_fails_clearly_without_a_database(render, tmp_path):
    project = editable_copy(render(domains=["asset"]), tmp_path)
    (project / ".env").unlink()
    run = run_npm_script(project, "db:triggers")
    assert run.returncode != 0
    assert "no .env file" in run.stderr


def test_the_documented_user_reference_loads_and_a_uuid_one_is_refused(render, fresh_db):
    project = render(domains=["asset"])
    documented = re.search(r'`(user_id text REFERENCES auth\."user" \(id\))`', (project / "DATABASE.md").read_text())
    load_schemas(fresh_db, project)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE asset.example ADD COLUMN {documented.group(1)}")
        with pytest.raises(psycopg.errors.DatatypeMismatch, match="cannot be implemented"):
            conn.execute('ALTER TABLE asset.example ADD COLUMN owner_id uuid REFERENCES auth."user" (id)')
