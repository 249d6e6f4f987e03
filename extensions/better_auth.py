"""The Better Auth `auth` schema, as SQL, for one pinned Better Auth release.

Standalone (stdlib only): copier loads it by file path, the tests import it as
``extensions.better_auth``. Bumping Better Auth = change PACKAGES, run
``maint/better-auth/check.py``, fix the model below until it prints no
difference, run the tests.

The model is Better Auth's own "full" form: what ``getMigrations()`` creates
in an EMPTY database (``CREATE TABLE`` with inline UNIQUE and REFERENCES),
with ``schemaName: "auth"``. ``tests/test_better_auth.py`` compares the
catalog our SQL creates with the one the real library creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# The pinned release set: exact npm versions, used for the generated server's
# package.json, the tests and maint/better-auth/check.py. Keep the four
# Better Auth packages at one version: the plugin packages pin exact peers
# (better-call, @better-auth/utils) that newer better-auth releases dropped,
# and @better-auth/api-key was last released at 1.7.5, so 1.7.5 is the newest
# set that installs with a plain `npm install` and `bun install`.
# @better-auth/core must be a direct dependency, or npm resolves the plugin
# packages' peer to the newest core and fails with ERESOLVE.
PACKAGES: dict[str, str] = {
    "better-auth": "1.7.5",
    "@better-auth/core": "1.7.5",
    "@better-auth/passkey": "1.7.5",
    "@better-auth/api-key": "1.7.5",
    # The dialect class in auth.ts comes from kysely (better-auth does not re-export it);
    # the version npm itself resolves for better-auth 1.7.5, so there is a single copy.
    "kysely": "0.28.19",
    "pg": "8.23.1",
}

# Plugin ids = the names of Better Auth's plugin factory functions. This order
# is also the order of the plugins in auth.ts and of the columns they add.
PLUGINS: tuple[str, ...] = (
    "twoFactor",
    "organization",
    "admin",
    "username",
    "passkey",
    "apiKey",
    "jwt",
    "anonymous",
    "phoneNumber",
    "magicLink",
)

# Plugins that live in their own npm package (the others are in better-auth).
PLUGIN_PACKAGES: dict[str, str] = {
    "passkey": "@better-auth/passkey",
    "apiKey": "@better-auth/api-key",
}

SCHEMA = "auth"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text | boolean | integer | timestamptz
    not_null: bool = False
    default: str | None = None  # SQL expression
    unique: bool = False
    primary_key: bool = False
    references: str | None = None  # table in the same schema; always its "id"
    on_delete: str = "CASCADE"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    indexes: tuple[str, ...] = ()  # single-column indexes, named <table>_<column>_idx


def _id() -> Column:
    return Column("id", "text", not_null=True, primary_key=True)


def _text(name: str, **kw) -> Column:
    return Column(name, "text", **kw)


def _bool(name: str, **kw) -> Column:
    return Column(name, "boolean", **kw)


def _int(name: str, **kw) -> Column:
    return Column(name, "integer", **kw)


def _ts(name: str, **kw) -> Column:
    return Column(name, "timestamptz", **kw)


NOW = "CURRENT_TIMESTAMP"


def _fk(name: str, table: str) -> Column:
    return Column(name, "text", not_null=True, references=table)


# ---- Better Auth 1.7.5 -------------------------------------------------------

CORE: tuple[Table, ...] = (
    Table("user", (
        _id(),
        _text("name", not_null=True),
        _text("email", not_null=True, unique=True),
        _bool("emailVerified", not_null=True),
        _text("image"),
        _ts("createdAt", not_null=True, default=NOW),
        _ts("updatedAt", not_null=True, default=NOW),
    )),
    Table("session", (
        _id(),
        _ts("expiresAt", not_null=True),
        _text("token", not_null=True, unique=True),
        _ts("createdAt", not_null=True, default=NOW),
        _ts("updatedAt", not_null=True),
        _text("ipAddress"),
        _text("userAgent"),
        _fk("userId", "user"),
    ), indexes=("userId",)),
    Table("account", (
        _id(),
        _text("accountId", not_null=True),
        _text("providerId", not_null=True),
        _fk("userId", "user"),
        _text("accessToken"),
        _text("refreshToken"),
        _text("idToken"),
        _ts("accessTokenExpiresAt"),
        _ts("refreshTokenExpiresAt"),
        _text("scope"),
        _text("password"),
        _ts("createdAt", not_null=True, default=NOW),
        _ts("updatedAt", not_null=True),
    ), indexes=("userId",)),
    Table("verification", (
        _id(),
        _text("identifier", not_null=True),
        _text("value", not_null=True),
        _ts("expiresAt", not_null=True),
        _ts("createdAt", not_null=True, default=NOW),
        _ts("updatedAt", not_null=True, default=NOW),
    ), indexes=("identifier",)),
)


@dataclass(frozen=True)
class PluginSchema:
    columns: tuple[tuple[str, Column], ...] = ()  # (existing table, added column)
    tables: tuple[Table, ...] = ()


def _organization(teams: bool) -> PluginSchema:
    columns = [("session", _text("activeOrganizationId"))]
    tables = [Table("organization", (
        _id(),
        _text("name", not_null=True),
        _text("slug", not_null=True, unique=True),
        _text("logo"),
        _ts("createdAt", not_null=True),
        _text("metadata"),
    ))]
    if teams:
        columns.append(("session", _text("activeTeamId")))
        tables += [
            Table("team", (
                _id(),
                _text("name", not_null=True),
                _int("memberCount", not_null=True),
                _fk("organizationId", "organization"),
                _ts("createdAt", not_null=True),
                _ts("updatedAt"),
            ), indexes=("organizationId",)),
            Table("teamMember", (
                _id(),
                _fk("teamId", "team"),
                _fk("userId", "user"),
                _text("membershipKey", unique=True),
                _ts("createdAt"),
            ), indexes=("teamId", "userId")),
        ]
    tables += [
        Table("member", (
            _id(),
            _fk("organizationId", "organization"),
            _fk("userId", "user"),
            _text("role", not_null=True),
            _ts("createdAt", not_null=True),
        ), indexes=("organizationId", "userId")),
        Table("invitation", (
            _id(),
            _fk("organizationId", "organization"),
            _text("email", not_null=True),
            _text("role"),
            *((_text("teamId"),) if teams else ()),
            _text("status", not_null=True),
            _ts("expiresAt", not_null=True),
            _ts("createdAt", not_null=True, default=NOW),
            _fk("inviterId", "user"),
        ), indexes=("organizationId", "email")),
    ]
    return PluginSchema(tuple(columns), tuple(tables))


def _plugin_schema(plugin: str, organization_teams: bool) -> PluginSchema:
    if plugin == "organization":
        return _organization(organization_teams)
    return _PLUGIN_SCHEMAS[plugin]


_PLUGIN_SCHEMAS: dict[str, PluginSchema] = {
    "twoFactor": PluginSchema(
        columns=(("user", _bool("twoFactorEnabled")),),
        tables=(Table("twoFactor", (
            _id(),
            _text("secret", not_null=True),
            _text("backupCodes", not_null=True),
            _fk("userId", "user"),
            _bool("verified"),
            _int("failedVerificationCount"),
            _ts("lockedUntil"),
        ), indexes=("secret", "userId")),),
    ),
    "admin": PluginSchema(columns=(
        ("user", _text("role")),
        ("user", _bool("banned")),
        ("user", _text("banReason")),
        ("user", _ts("banExpires")),
        ("session", _text("impersonatedBy")),
    )),
    "username": PluginSchema(columns=(
        ("user", _text("username", unique=True)),
        ("user", _text("displayUsername")),
    )),
    "passkey": PluginSchema(tables=(Table("passkey", (
        _id(),
        _text("name"),
        _text("publicKey", not_null=True),
        _fk("userId", "user"),
        _text("credentialID", not_null=True),
        _int("counter", not_null=True),
        _text("deviceType", not_null=True),
        _bool("backedUp", not_null=True),
        _text("transports"),
        _ts("createdAt"),
        _text("aaguid"),
    ), indexes=("userId", "credentialID")),)),
    # referenceId is a user or an organization: no foreign key.
    "apiKey": PluginSchema(tables=(Table("apikey", (
        _id(),
        _text("configId", not_null=True),
        _text("name"),
        _text("start"),
        _text("referenceId", not_null=True),
        _text("prefix"),
        _text("key", not_null=True),
        _int("refillInterval"),
        _int("refillAmount"),
        _ts("lastRefillAt"),
        _bool("enabled"),
        _bool("rateLimitEnabled"),
        _int("rateLimitTimeWindow"),
        _int("rateLimitMax"),
        _int("requestCount"),
        _int("remaining"),
        _ts("lastRequest"),
        _ts("expiresAt"),
        _ts("createdAt", not_null=True),
        _ts("updatedAt", not_null=True),
        _text("permissions"),
        _text("metadata"),
    ), indexes=("configId", "referenceId", "key")),)),
    "jwt": PluginSchema(tables=(Table("jwks", (
        _id(),
        _text("publicKey", not_null=True),
        _text("privateKey", not_null=True),
        _ts("createdAt", not_null=True),
        _ts("expiresAt"),
        _text("alg"),
        _text("crv"),
    )),)),
    "anonymous": PluginSchema(columns=(("user", _bool("isAnonymous")),)),
    "phoneNumber": PluginSchema(columns=(
        ("user", _text("phoneNumber", unique=True)),
        ("user", _bool("phoneNumberVerified")),
    )),
    "magicLink": PluginSchema(),  # uses the core verification table
}


def selected_plugins(plugins: Iterable[str]) -> tuple[str, ...]:
    """Validate plugin ids; return them once each, in PLUGINS order."""
    if isinstance(plugins, str):
        raise ValueError(f"plugins must be a list of plugin ids, not the string {plugins!r}")
    chosen = set()
    for plugin in plugins:
        if plugin not in PLUGINS:
            raise ValueError(
                f"unknown Better Auth plugin {plugin!r}; known: {', '.join(PLUGINS)}"
            )
        chosen.add(plugin)
    return tuple(p for p in PLUGINS if p in chosen)


def auth_tables(plugins: Iterable[str], organization_teams: bool = False) -> tuple[Table, ...]:
    """Core tables plus what the plugins add, in Better Auth's order.

    ``organization_teams`` only matters when "organization" is selected.
    """
    schemas = [_plugin_schema(p, organization_teams) for p in selected_plugins(plugins)]
    tables = {t.name: list(t.columns) for t in CORE}
    indexes = {t.name: t.indexes for t in CORE}
    for schema in schemas:  # columns for core tables come first, in plugin order
        for table, column in schema.columns:
            tables[table].append(column)
    for schema in schemas:
        for t in schema.tables:
            tables[t.name] = list(t.columns)
            indexes[t.name] = t.indexes
    return tuple(Table(name, tuple(cols), indexes[name]) for name, cols in tables.items())


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _rel(table: str) -> str:
    return f"{SCHEMA}.{_q(table)}"


def _column_sql(c: Column) -> str:
    parts = [_q(c.name), c.type]
    if c.not_null:
        parts.append("NOT NULL")
    if c.primary_key:
        parts.append("PRIMARY KEY")
    if c.default is not None:
        parts.append(f"DEFAULT {c.default}")
    if c.unique:
        parts.append("UNIQUE")
    if c.references:
        parts.append(f"REFERENCES {_rel(c.references)} (\"id\") ON DELETE {c.on_delete}")
    return " ".join(parts)


def auth_schema_sql(plugins: Iterable[str], organization_teams: bool = False) -> str:
    """SQL that creates the `auth` schema Better Auth expects, from an empty database."""
    tables = auth_tables(plugins, organization_teams)
    out = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};", ""]
    for t in tables:
        cols = ",\n".join("    " + _column_sql(c) for c in t.columns)
        out += [f"CREATE TABLE {_rel(t.name)} (\n{cols}\n);", ""]
    for t in tables:
        for col in t.indexes:
            out.append(f"CREATE INDEX {_q(f'{t.name}_{col}_idx')} ON {_rel(t.name)} ({_q(col)});")
    return "\n".join(out).rstrip("\n") + "\n"


def plugin_imports(plugins: Iterable[str]) -> dict[str, list[str]]:
    """What auth.ts imports for these plugins: module -> plugin factories, in PLUGINS order."""
    imports: dict[str, list[str]] = {}
    for plugin in selected_plugins(plugins):
        imports.setdefault(PLUGIN_PACKAGES.get(plugin, "better-auth/plugins"), []).append(plugin)
    return imports


def npm_dependencies(plugins: Iterable[str]) -> dict[str, str]:
    """Runtime npm dependencies of a server using these plugins, sorted by name."""
    names = {"better-auth", "@better-auth/core", "kysely", "pg"}
    names |= {PLUGIN_PACKAGES[p] for p in selected_plugins(plugins) if p in PLUGIN_PACKAGES}
    return {name: PACKAGES[name] for name in sorted(names)}


def detect_plugins(columns_by_table: dict[str, set[str]]) -> tuple[list[str], bool]:
    """The plugins (in PLUGINS order) whose tables and columns are all present in a hand-made
    auth schema, and whether organization teams are on. Plugins that add nothing are not found."""
    def added(plugins, teams=False) -> set[tuple[str, str]]:
        core = {(t.name, c.name) for t in auth_tables([]) for c in t.columns}
        return {(t.name, c.name) for t in auth_tables(plugins, teams) for c in t.columns} - core

    found = {(table, column) for table, columns in columns_by_table.items() for column in columns}
    plugins = [p for p in PLUGINS if added([p]) and added([p]) <= found]
    teams = "organization" in plugins and added(["organization"], True) <= found
    return plugins, teams
