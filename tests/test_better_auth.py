"""The Better Auth `auth` schema: our SQL against what the real library creates."""

from __future__ import annotations

import json
import subprocess
import uuid

import pglast
import psycopg
import pytest
from pglast.parser import scan
from pglast.stream import RawStream

from extensions import better_auth
from extensions.better_auth import PACKAGES, PLUGINS, auth_schema_sql, npm_dependencies
from tests.npm_fixtures import load_maint_check

PLUGIN_SETS = load_maint_check().plugin_sets()  # core, each plugin, organization+teams, all


@pytest.fixture
def make_db(pg_server):
    """Factory of fresh empty databases (libpq URIs), dropped after the test."""
    names = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return pg_server.get_uri(name)

    yield make
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- equivalence with the real library ---------------------------------------


@pytest.fixture(scope="session")
def better_auth_catalogs(pg_server, better_auth_check, better_auth_modules):
    """{label: catalog} of the schema Better Auth itself creates (runMigrations on an
    empty database) for each plugin set; one node process for all of them."""
    names = {label: f"ba_{uuid.uuid4().hex[:12]}" for label, _, _ in PLUGIN_SETS}
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        better_auth_check.better_auth_migrate_many(better_auth_modules, [
            (pg_server.get_uri(names[label]), plugins, teams)
            for label, plugins, teams in PLUGIN_SETS])
        yield {label: better_auth_check.catalog(pg_server.get_uri(name))
               for label, name in names.items()}
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(("label", "plugins", "teams"), PLUGIN_SETS,
                         ids=[label for label, _, _ in PLUGIN_SETS])
def test_same_catalog_as_better_auth(better_auth_check, better_auth_catalogs, fresh_db,
                                     label, plugins, teams):
    theirs = better_auth_catalogs[label]
    assert any(line.startswith("relation | user |") for line in theirs)
    better_auth_check.apply_ours(fresh_db, plugins, teams)
    diff = better_auth_check.catalog_diff(better_auth_check.catalog(fresh_db), theirs)
    assert not diff, f"catalog differs from Better Auth {PACKAGES['better-auth']}:\n{diff}"


def test_comparison_sees_differences(better_auth_check, make_db):
    """The catalog comparison is not blind: a dropped column, a changed ON DELETE,
    a missing default, a lost index, a lost UNIQUE all show up."""
    reference_db = make_db()
    with psycopg.connect(reference_db) as conn:
        conn.execute(auth_schema_sql(PLUGINS, organization_teams=True))
    reference = better_auth_check.catalog(reference_db)
    assert len(reference) > 100

    sql = auth_schema_sql(PLUGINS, organization_teams=True)
    mutations = {
        "dropped column": ('    "image" text,\n', ""),
        "ON DELETE": ('("id") ON DELETE CASCADE,\n    "accessToken"', '("id") ON DELETE SET NULL,\n    "accessToken"'),
        "default": ('"createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    "updatedAt" timestamptz NOT NULL,\n    "ipAddress"',
                    '"createdAt" timestamptz NOT NULL,\n    "updatedAt" timestamptz NOT NULL,\n    "ipAddress"'),
        "index": ('CREATE INDEX "apikey_key_idx" ON auth."apikey" ("key");\n', ""),
        "unique": ('"slug" text NOT NULL UNIQUE', '"slug" text NOT NULL'),
        "type": ('"counter" integer NOT NULL', '"counter" bigint NOT NULL'),
        "nullability": ('"deviceType" text NOT NULL', '"deviceType" text'),
        "column order": ('    "role" text,\n    "banned" boolean,\n', '    "banned" boolean,\n    "role" text,\n'),
    }
    for what, (old, new) in mutations.items():
        assert sql.count(old) == 1, what
        db = make_db()
        with psycopg.connect(db) as conn:
            conn.execute(sql.replace(old, new))
        assert better_auth_check.catalog_diff(better_auth_check.catalog(db), reference), what


# ---- the rendered SQL itself --------------------------------------------------

ALL = [(PLUGINS, True), (PLUGINS, False), ((), False)]

# Keywords the SQL may contain unquoted: structure and type names, never a name.
SQL_KEYWORDS = {
    "CREATE", "SCHEMA", "IF_P", "NOT", "EXISTS", "TABLE", "NULL_P", "PRIMARY", "KEY",
    "DEFAULT", "CURRENT_TIMESTAMP", "UNIQUE", "REFERENCES", "ON", "DELETE_P", "CASCADE",
    "INDEX", "TEXT_P", "BOOLEAN_P", "INTEGER",
}


def _names_in_ast(statements) -> list[str]:
    """Every table, column and index name the statements use (with repeats)."""
    names: list[str] = []
    for raw in statements:
        stmt = raw.stmt
        if isinstance(stmt, pglast.ast.CreateStmt):
            names.append(stmt.relation.relname)
            for col in stmt.tableElts:
                names.append(col.colname)
                for con in col.constraints or ():
                    if con.contype == pglast.enums.ConstrType.CONSTR_FOREIGN:
                        names.append(con.pktable.relname)
                        names += [a.sval for a in con.pk_attrs]
        elif isinstance(stmt, pglast.ast.IndexStmt):
            names += [stmt.idxname, stmt.relation.relname]
            names += [p.name for p in stmt.indexParams]
    return names


@pytest.mark.parametrize(("plugins", "teams"), ALL, ids=["all+teams", "all", "core"])
def test_sql_parses_and_is_qualified(plugins, teams):
    sql = auth_schema_sql(plugins, organization_teams=teams)
    statements = pglast.parse_sql(sql)
    assert isinstance(statements[0].stmt, pglast.ast.CreateSchemaStmt)
    assert statements[0].stmt.schemaname == "auth" and statements[0].stmt.if_not_exists
    for raw in statements[1:]:
        stmt = raw.stmt
        assert isinstance(stmt, (pglast.ast.CreateStmt, pglast.ast.IndexStmt)), type(stmt)
        assert stmt.relation.schemaname == "auth", stmt.relation
        if isinstance(stmt, pglast.ast.CreateStmt):
            for col in stmt.tableElts:
                assert isinstance(col, pglast.ast.ColumnDef)
                for con in col.constraints or ():
                    if con.contype == pglast.enums.ConstrType.CONSTR_FOREIGN:
                        assert con.pktable.schemaname == "auth"
                        assert con.fk_del_action == "c"  # ON DELETE CASCADE
    tables = better_auth.auth_tables(plugins, teams)
    creates = [s.stmt for s in statements if isinstance(s.stmt, pglast.ast.CreateStmt)]
    assert [c.relation.relname for c in creates] == [t.name for t in tables]
    assert sum(isinstance(s.stmt, pglast.ast.IndexStmt) for s in statements) == sum(
        len(t.indexes) for t in tables)
    # One `;` per statement, no stray ones (no `;` inside a statement either).
    assert len(pglast.split(sql)) == len(statements) == sql.count(";")
    # Round trip: PostgreSQL's parser, deparsed by pglast and parsed again, gives the same trees.
    deparsed = RawStream()(statements)
    assert [_shape(s) for s in pglast.parse_sql(deparsed)] == [_shape(s) for s in statements]


def _shape(node):
    """A parse tree as plain data, without source positions (which a deparse changes)."""
    if isinstance(node, pglast.ast.Node):
        return {k: _shape(v) for k, v in node(skip_none=True).items() if k not in ("location", "stmt_location", "stmt_len")}
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items() if k not in ("location", "stmt_location", "stmt_len")}
    if isinstance(node, (list, tuple)):
        return [_shape(v) for v in node]
    return node


@pytest.mark.parametrize(("plugins", "teams"), ALL, ids=["all+teams", "all", "core"])
def test_every_name_is_double_quoted(plugins, teams):
    sql = auth_schema_sql(plugins, organization_teams=teams)
    quoted: list[str] = []
    for tok in scan(sql):
        text = sql[tok.start:tok.end + 1]
        if tok.name == "IDENT":
            if text in ("auth", "timestamptz"):  # the schema, written bare; a type name
                continue
            assert text.startswith('"') and text.endswith('"'), f"unquoted name {text!r}"
            quoted.append(text[1:-1].replace('""', '"'))
        elif tok.kind != "NO_KEYWORD":
            assert tok.name in SQL_KEYWORDS, f"keyword {text!r} where a quoted name belongs?"
    # ... and the quoted tokens are exactly the names the parser sees, in order.
    assert quoted == _names_in_ast(pglast.parse_sql(sql))


def test_sql_does_not_depend_on_plugin_order_or_repeats():
    """The file is a function of the plugin *set*: re-ordering the answer changes nothing in git."""
    sql = auth_schema_sql(PLUGINS, organization_teams=True)
    assert sql == auth_schema_sql(list(reversed(PLUGINS)) + ["jwt"], organization_teams=True)
    assert sql.endswith(";\n") and not sql.endswith("\n\n")


def test_teams_need_organization():
    assert auth_schema_sql([], organization_teams=True) == auth_schema_sql([])
    assert '"team"' in auth_schema_sql(["organization"], organization_teams=True)
    assert '"team"' not in auth_schema_sql(["organization"])


@pytest.mark.parametrize("bad", [["twofactor"], ["twoFactor", "oidc"], "twoFactor", [""]])
def test_unknown_plugin(bad):
    with pytest.raises(ValueError) as err:
        auth_schema_sql(bad)
    with pytest.raises(ValueError):
        npm_dependencies(bad)
    if isinstance(bad, list):
        assert repr([p for p in bad if p not in PLUGINS][0]) in str(err.value)


# ---- npm dependencies -----------------------------------------------------------


def test_npm_dependencies():
    core = npm_dependencies([])
    assert list(core) == sorted(core)
    assert set(core) == {"better-auth", "@better-auth/core", "kysely", "pg"}
    assert npm_dependencies(["passkey"])["@better-auth/passkey"] == PACKAGES["@better-auth/passkey"]
    assert "@better-auth/passkey" not in npm_dependencies(["apiKey"])
    # All plugins need every pinned package: so the session's npm install of
    # PACKAGES is the plain `npm install` of the largest generated server.
    assert npm_dependencies(PLUGINS) == dict(sorted(PACKAGES.items()))
    assert all(v[0].isdigit() for v in PACKAGES.values()), "exact versions only"


def test_pinned_set_installs_with_bun(bun, tmp_path):
    (tmp_path / "package.json").write_text(json.dumps(
        {"name": "bun-install-check", "private": True, "dependencies": npm_dependencies(PLUGINS)}))
    proc = subprocess.run([bun, "install"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, version in PACKAGES.items():
        installed = json.loads((tmp_path / "node_modules" / name / "package.json").read_text())
        assert installed["version"] == version, name


def test_plugin_imports():
    """Each plugin is imported once, from its own package or better-auth/plugins, in PLUGINS order."""
    imports = better_auth.plugin_imports(["apiKey", "jwt", "twoFactor", "passkey"])
    assert imports == {"better-auth/plugins": ["twoFactor", "jwt"], "@better-auth/api-key": ["apiKey"],
                       "@better-auth/passkey": ["passkey"]}
    every = better_auth.plugin_imports(PLUGINS)
    assert sorted(p for names in every.values() for p in names) == sorted(PLUGINS)
    assert set(every) - {"better-auth/plugins"} == set(PACKAGES) & set(every)  # pinned in package.json
    assert better_auth.plugin_imports([]) == {}


@pytest.mark.parametrize("plugins", [[], ["passkey", "twoFactor"], list(PLUGINS)], ids=["none", "two", "all"])
def test_auth_ts_imports_and_calls_exactly_the_selected_plugins(render, plugins):
    import re

    text = (render(use_better_auth=True, better_auth_plugins=plugins) / "src" / "auth.ts").read_text()
    imported = {module: names.split(", ") for names, module in re.findall(r'^import \{ (.+) \} from "(.+)";$', text, re.M)}
    expected = {"better-auth": ["betterAuth"], "kysely": ["PostgresDialect"], "pg": ["Pool"],
                **better_auth.plugin_imports(plugins)}
    assert imported == expected
    called = re.findall(r"^    (\w+)\(", text, re.M)
    assert called == list(better_auth.selected_plugins(plugins))
