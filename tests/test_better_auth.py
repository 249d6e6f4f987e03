"""The Better Auth `auth` schema: our SQL against what the real library creates."""

from __future__ import annotations

import re
import uuid

import pglast
import psycopg
import pytest
from pglast.parser import scan
from pglast.stream import RawStream

from copier_atlas_postgres.questions import rules
from copier_atlas_postgres.world import better_auth
from copier_atlas_postgres.world.better_auth import PLUGINS, auth_schema_sql, npm_dependencies
from tests.helpers.npm import load_maint_check

CHECK = load_maint_check()


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

RELEASES = [r.version for r in better_auth.RELEASES]
# (release, label, plugins, teams): every plugin set of every pinned release set.
CASES = [(release, *plugin_set) for release in RELEASES for plugin_set in CHECK.plugin_sets(release)]


@pytest.fixture(scope="session")
def better_auth_catalogs(pg_server, better_auth_check, release_modules):
    """catalogs(release) -> {label: catalog} of the schema Better Auth itself creates
    (runMigrations on an empty database) for each plugin set; one node process per release."""
    made: dict[str, dict[str, list[str]]] = {}
    databases: list[str] = []

    def catalogs(release: str) -> dict[str, list[str]]:
        if release not in made:
            sets = better_auth_check.plugin_sets(release)
            names = {label: f"ba_{uuid.uuid4().hex[:12]}" for label, _, _ in sets}
            with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
                for name in names.values():
                    conn.execute(f'CREATE DATABASE "{name}"')
            databases.extend(names.values())
            better_auth_check.better_auth_migrate_many(release_modules(release), [
                (pg_server.get_uri(names[label]), plugins, teams) for label, plugins, teams in sets])
            made[release] = {label: better_auth_check.catalog(pg_server.get_uri(name))
                             for label, name in names.items()}
        return made[release]

    yield catalogs
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        for name in databases:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(("release", "label", "plugins", "teams"), CASES,
                         ids=[f"{release}-{label}" for release, label, _, _ in CASES])
def test_same_catalog_as_better_auth(better_auth_check, better_auth_catalogs, fresh_db,
                                     release, label, plugins, teams):
    theirs = better_auth_catalogs(release)[label]
    assert any(line.startswith("relation | user |") for line in theirs)
    better_auth_check.apply_ours(fresh_db, plugins, teams, release)
    diff = better_auth_check.catalog_diff(better_auth_check.catalog(fresh_db), theirs)
    assert not diff, f"catalog differs from better-auth {release}:\n{diff}"


def test_every_offered_plugin_is_compared():
    """Each release set is checked for the core, every plugin it offers, teams and all together;
    every plugin is offered by at least one set, and the newest set offers every built-in plugin."""
    for release in better_auth.RELEASES:
        labels = [label for r, label, _, _ in CASES if r == release.version]
        assert labels == ["core", *release.plugins, "organization+teams", "all", "all+teams"]
    assert set(PLUGINS) == {p for r in better_auth.RELEASES for p in r.plugins}
    newest = better_auth.RELEASES[0]
    assert {p.id for p in better_auth.PLUGIN_INFO if not p.packages} <= set(newest.plugins)


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
        "unique index": ('CREATE UNIQUE INDEX "deviceCode_userCode_uidx"', 'CREATE INDEX "deviceCode_userCode_uidx"'),
        "unique": ('"slug" text NOT NULL UNIQUE', '"slug" text NOT NULL'),
        "type": ('"counter" integer NOT NULL', '"counter" bigint NOT NULL'),
        "nullability": ('"deviceType" text NOT NULL', '"deviceType" text'),
        "column order": ('    "role" text,\n    "banned" boolean,\n', '    "banned" boolean,\n    "role" text,\n'),
        "referenced column": ('REFERENCES auth."oauthResource" ("identifier")', 'REFERENCES auth."oauthResource" ("id")'),
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
    "INDEX", "TEXT_P", "BOOLEAN_P", "INTEGER", "SET",
}
TYPE_NAMES = {"timestamptz", "jsonb"}  # type names the scanner sees as identifiers


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
                        assert con.fk_del_action in ("c", "n")  # ON DELETE CASCADE or SET NULL
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
            if text == "auth" or text in TYPE_NAMES:  # the schema, written bare; a type name
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


# ---- release sets and npm dependencies ----------------------------------------------


def test_release_for_picks_the_newest_set_that_installs():
    newest = better_auth.RELEASES[0]
    assert better_auth.release_for([]) is newest
    for plugin in PLUGINS:
        chosen = better_auth.release_for(CHECK.with_required([plugin]))
        assert plugin in chosen.plugins
        newer = better_auth.RELEASES[:better_auth.RELEASES.index(chosen)]
        assert all(plugin not in r.plugins for r in newer), plugin
    # A plugin in its own package that pins exact peers holds the whole project back.
    for plugin in (p for p in PLUGINS if p not in newest.plugins):
        assert better_auth.release_for(["twoFactor", *CHECK.with_required([plugin])]) is not newest


def test_npm_dependencies():
    core = npm_dependencies([])
    newest = better_auth.RELEASES[0]
    assert list(core) == sorted(core)
    assert set(core) == {"better-auth", "@better-auth/core", "kysely", "pg"}
    assert core["better-auth"] == core["@better-auth/core"] == newest.version
    for release in better_auth.RELEASES:
        # All of a set's plugins need every package it pins: so the session's npm install of a
        # set is the plain `npm install` of the largest server generated with it.
        assert npm_dependencies(release.plugins) == dict(sorted(release.packages.items()))
        assert all(v[0].isdigit() for v in release.packages.values()), "exact versions only"
    if "passkey" in PLUGINS:
        deps = npm_dependencies(["passkey"])
        assert deps["@better-auth/passkey"] and "@better-auth/api-key" not in deps
        assert deps["better-auth"] == better_auth.release_for(["passkey"]).version
    if "stripe" in PLUGINS:
        assert "stripe" in npm_dependencies(["stripe"])  # auth.ts creates the Stripe client


@pytest.mark.parametrize("release", RELEASES)
def test_release_set_installs_with_bun(bun, better_auth_check, release):
    packages = next(r for r in better_auth.RELEASES if r.version == release).packages
    better_auth_check.bun_install(bun, packages)  # raises unless every package lands at its pin


def test_plugin_imports():
    """Each plugin is imported once, from its own package or better-auth/plugins, in PLUGINS order."""
    imports = better_auth.plugin_imports(["apiKey", "jwt", "twoFactor", "passkey"])
    assert imports == {"better-auth/plugins": ["twoFactor", "jwt"], "@better-auth/api-key": ["apiKey"],
                       "@better-auth/passkey": ["passkey"]}
    every = better_auth.plugin_imports(PLUGINS)
    assert sorted(p for names in every.values() for p in names) == sorted(PLUGINS)
    pinned = {name for r in better_auth.RELEASES for name in r.packages}
    assert set(every) - {"better-auth/plugins"} <= pinned  # pinned in package.json
    assert better_auth.plugin_imports([]) == {}


def test_plugins_that_need_another_plugin():
    with pytest.raises(ValueError, match="oauthProvider needs jwt"):
        better_auth.selected_plugins(["oauthProvider"])
    assert better_auth.selected_plugins(["oauthProvider", "jwt"]) == ("jwt", "oauthProvider")
    assert rules.fit("better_auth_plugins", better_auth.plugins_error(["oauthProvider"])) == "oauthProvider needs jwt too"
    assert better_auth.plugins_error(["sso"]) == "" and better_auth.plugins_error(None) == ""
    assert "'oidc'" in better_auth.plugins_error(["oidc"])[0]


# ---- detecting plugins in a hand-made auth schema ----------------------------------


def _columns_by_table(plugins, teams=False, release=None) -> dict[str, set[str]]:
    return {t.name: {c.name for c in t.columns} for t in better_auth.auth_tables(plugins, teams, release)}


@pytest.mark.parametrize("release", RELEASES)
def test_detect_plugins_finds_each_plugins_own_schema(release):
    offered = next(r for r in better_auth.RELEASES if r.version == release).plugins
    assert better_auth.detect_plugins(_columns_by_table((), release=release)) == ([], False)
    for plugin in offered:
        chosen = CHECK.with_required([plugin])
        found, teams = better_auth.detect_plugins(_columns_by_table(chosen, release=release))
        expected = [p for p in chosen if p != "magicLink"]  # adds nothing: cannot be seen
        assert (found, teams) == (expected, False), plugin
    everything = [p for p in offered if p != "magicLink"]
    assert better_auth.detect_plugins(_columns_by_table(offered, True, release)) == (everything, True)
    assert better_auth.detect_plugins(_columns_by_table(["organization"], True, release)) == (["organization"], True)


def test_detect_plugins_needs_every_column():
    tables = _columns_by_table(["twoFactor", "admin"])
    tables["user"].discard("banned")
    assert better_auth.detect_plugins(tables) == (["twoFactor"], False)
    tables = _columns_by_table(["twoFactor"])
    del tables["twoFactor"]
    assert better_auth.detect_plugins(tables) == ([], False)


@pytest.mark.parametrize(("plugins", "rule"), [(["oauthProvider"], "oauthProvider needs jwt"),
                                               (["sso", "oidc"], "'oidc' is not in")])  # copier's own choices check
def test_bad_plugin_list_is_refused_and_nothing_is_written(template_dir, tmp_path, plugins, rule):
    """Through real copier: the question and the rule are named, no project folder is written."""
    import copier

    destination = tmp_path / "server"
    with pytest.raises(ValueError) as caught:
        copier.run_copy(str(template_dir), str(destination), defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True,
                        data={"project_name": "Demo Shop", "project_slug": "shop", "better_auth_plugins": plugins})
    assert "better_auth_plugins" in str(caught.value) and rule in str(caught.value), str(caught.value)
    assert not destination.exists()
    # The control: the list made good is accepted.
    good = [p for p in plugins if p in PLUGINS] + (["jwt"] if "oauthProvider" in plugins else [])
    copier.run_copy(str(template_dir), str(destination), defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True,
                    data={"project_name": "Demo Shop", "project_slug": "shop", "better_auth_plugins": good})
    assert re.findall(r"^    (\w+)\(", (destination / "src" / "auth.ts").read_text(), re.M) == \
        list(better_auth.selected_plugins(good))
