"""The generated project through the real Atlas engine, on a PostgreSQL reached as the README says."""

from __future__ import annotations

import shutil
import uuid

from tests.atlas_fixtures import run_atlas

# Every character that must be escaped somewhere on its way into atlas.hcl and URLs.
HOSTILE_PASSWORD = "p@ss:w/o?r#d%${x}%{y}&="


def local_project(render, pg_tcp, tmp_path, **answers):
    """A local-mode project whose dev database runs on pg_tcp, set up as its README says:
    the role (createuser --pwprompt), the database and the empty one Atlas plans against."""
    db = f"shop_{uuid.uuid4().hex[:8]}"
    project = shutil.copytree(
        render(dev_database="local", db_port=str(pg_tcp.port), db_name=db, db_user=f"{db}_owner",
               db_password=HOSTILE_PASSWORD, **answers),
        tmp_path / "server",
    )
    pg_tcp.create_role(f"{db}_owner", HOSTILE_PASSWORD)
    for name in (db, f"{db}_atlas_dev"):
        pg_tcp.create_database(name, owner=f"{db}_owner")
    return project


def test_schema_apply_then_synced(atlas, pg_tcp, render, tmp_path):
    project = local_project(render, pg_tcp, tmp_path, domains=["asset", "portfolio"],
                            better_auth_plugins=["organization", "admin"])

    first = run_atlas(atlas, project, "schema", "apply", "--env", "dev", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert 'CREATE TABLE "asset"."example"' in first.stdout, first.stdout

    second = run_atlas(atlas, project, "schema", "apply", "--env", "dev", "--auto-approve")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Schema is synced" in second.stdout, second.stdout
