"""The Better Auth `auth` schema, as SQL, for the pinned Better Auth release sets.

Stdlib only (it runs in the user's copier environment). Everything it knows
about Better Auth is data in ``data/better_auth/`` beside this file, written by
``maint/better-auth/generate.py`` from what the real library creates:

- ``plugins.json``: the plugins offered, in the order of auth.ts and of the
  columns they add, with the module each is imported from and its npm packages;
- ``<version>.json``, one per pinned release set: the exact npm versions, the
  plugins that install with it, and the tables Better Auth creates in schema
  ``auth`` (the "full" form: ``CREATE TABLE`` with inline UNIQUE and REFERENCES,
  as ``getMigrations()`` creates them in an empty database) for the core and
  for each plugin.

A project gets the newest release set that installs with every plugin it
chose (some plugin packages lag behind better-auth and pin exact peers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..project_files import AUTH_SCHEMA_FILE
from .sql_text import quote_identifier

SCHEMA = "auth"
DATA_DIR = Path(__file__).parent.parent / "data" / "better_auth"
# The option of the organization plugin that adds tables: its schema is stored under this id.
TEAMS_VARIANT = "organization+teams"
# How schemas/00_auth.sql starts once `npm run auth:generate` (scripts/auth-schema.mjs) wrote it from
# the app's auth config: from then on the file is the command's, and copier leaves it alone.
GENERATED_MARK = "-- Better Auth tables written by `npm run auth:generate`"
# What compiles a TypeScript auth config for `npm run auth:generate` and `auth:check` (a dependency
# the template adds, pinned like the Better Auth set).
TYPESCRIPT_COMPILER_PACKAGES = {"esbuild": "0.28.2"}
# The better-auth releases the auth scripts (auth:generate, auth:check, auth:try) run with: from the
# first, up to the second (not included). Checked with 1.3.0, 1.3.14, 1.4.22 and the pinned sets; its
# getMigrations() moved from better-auth/db to better-auth/db/migration in 1.5.0, and a 2.x may move
# it again. Outside the range the scripts name the release found and the line to change.
SCRIPTS_SUPPORT = ("1.3.0", "2.0.0")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as PostgreSQL names it (format_type), timestamptz for timestamp with time zone
    not_null: bool = False
    default: str | None = None  # SQL expression, as PostgreSQL prints it
    unique: bool = False
    primary_key: bool = False
    references: str | None = None  # table in the same schema
    references_column: str = "id"
    on_delete: str = "CASCADE"


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()


@dataclass(frozen=True)
class PluginSchema:
    """What one plugin adds to the core: columns and indexes on existing tables, new tables."""
    columns: tuple[tuple[str, Column], ...] = ()
    indexes: tuple[tuple[str, Index], ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Plugin:
    id: str
    module: str  # what auth.ts imports the factory from
    packages: tuple[str, ...]  # npm packages it needs besides the core set
    requires: tuple[str, ...]  # plugins it needs alongside


@dataclass(frozen=True)
class Release:
    version: str  # of better-auth
    packages: dict[str, str]  # every pinned npm package: the core set and each plugin's
    core_packages: tuple[str, ...]  # the ones every server needs
    plugins: tuple[str, ...]  # plugins that install with this set
    core: tuple[Table, ...]
    schemas: dict[str, PluginSchema]  # plugin id (or TEAMS_VARIANT) -> what it adds


def _column(data: dict) -> Column:
    return Column(**data)


def _table(data: dict) -> Table:
    return Table(data["name"], tuple(_column(c) for c in data["columns"]),
                 tuple(Index(i["name"], tuple(i["columns"]), i.get("unique", False)) for i in data.get("indexes", ())))


def _plugin_schema(data: dict) -> PluginSchema:
    return PluginSchema(
        columns=tuple((table, _column(c)) for table, c in data.get("columns", ())),
        indexes=tuple((table, Index(i["name"], tuple(i["columns"]), i.get("unique", False)))
                      for table, i in data.get("indexes", ())),
        tables=tuple(_table(t) for t in data.get("tables", ())),
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _load() -> tuple[tuple[Plugin, ...], tuple[Release, ...]]:
    plugins = tuple(
        Plugin(p["id"], p["module"], tuple(p.get("packages", ())), tuple(p.get("requires", ())))
        for p in json.loads((DATA_DIR / "plugins.json").read_text(encoding="utf-8"))["plugins"]
    )
    releases = []
    for path in DATA_DIR.glob("better-auth-*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        releases.append(Release(
            version=data["packages"]["better-auth"],
            packages=dict(data["packages"]),
            core_packages=tuple(data["core_packages"]),
            plugins=tuple(data["plugins"]),
            core=tuple(_table(t) for t in data["core"]),
            schemas={name: _plugin_schema(s) for name, s in data["schemas"].items()},
        ))
    releases.sort(key=lambda r: _version_key(r.version), reverse=True)
    return plugins, tuple(releases)


PLUGIN_INFO, RELEASES = _load()
# Plugin ids = the names of Better Auth's plugin factory functions, in the
# order of the plugins in auth.ts and of the columns they add.
PLUGINS: tuple[str, ...] = tuple(p.id for p in PLUGIN_INFO)
_INFO = {p.id: p for p in PLUGIN_INFO}


def selected_plugins(plugins: Iterable[str]) -> tuple[str, ...]:
    """Validate plugin ids; return them once each, in PLUGINS order."""
    if isinstance(plugins, str):
        raise ValueError(f"plugins must be a list of plugin ids, not the string {plugins!r}")
    chosen = set()
    for plugin in plugins:
        if plugin not in _INFO:
            raise ValueError(
                f"unknown Better Auth plugin {plugin!r}; known: {', '.join(PLUGINS)}"
            )
        chosen.add(plugin)
    for plugin in sorted(chosen, key=PLUGINS.index):
        missing = [r for r in _INFO[plugin].requires if r not in chosen]
        if missing:
            raise ValueError(f"the Better Auth plugin {plugin} needs {', '.join(missing)}: choose it too")
    return tuple(p for p in PLUGINS if p in chosen)


def plugins_error(plugins) -> tuple[str, ...] | str:
    """Why copier must refuse a plugin list, in a few lengths, longest first ('' when fine): the
    question's validator shows the longest that fits one 80-column line (answers.fit)."""
    if isinstance(plugins, str):
        return ("must be a list of plugins",)
    for plugin in plugins or []:
        if plugin not in _INFO:
            return (f"unknown plugin {plugin!r}: pick from the list", "unknown plugin: pick from the list")
    chosen = set(plugins or [])
    for plugin in sorted(chosen, key=PLUGINS.index):
        if missing := [r for r in _INFO[plugin].requires if r not in chosen]:
            needs = ", ".join(missing)
            return (f"{plugin} needs {needs}: choose it too", f"{plugin} needs {needs} too")
    return ""


def release_for(plugins: Iterable[str]) -> Release:
    """The newest pinned release set that installs with every one of these plugins."""
    chosen = set(selected_plugins(plugins))
    for release in RELEASES:
        if chosen <= set(release.plugins):
            return release
    raise ValueError(f"no pinned Better Auth release installs with {', '.join(sorted(chosen))}")


def _release(plugins, release: str | None) -> Release:
    if release is None:
        return release_for(plugins)
    for candidate in RELEASES:
        if candidate.version == release:
            return candidate
    raise ValueError(f"better-auth {release} is not pinned; pinned: {', '.join(r.version for r in RELEASES)}")


def _schemas(release: Release, plugins: tuple[str, ...], organization_teams: bool) -> list[PluginSchema]:
    missing = [p for p in plugins if p not in release.plugins]
    if missing:
        raise ValueError(f"better-auth {release.version} does not install with {', '.join(missing)}")
    return [release.schemas[TEAMS_VARIANT if p == "organization" and organization_teams else p]
            for p in plugins]


def auth_tables(plugins: Iterable[str], organization_teams: bool = False,
                release: str | None = None) -> tuple[Table, ...]:
    """Core tables plus what the plugins add, in Better Auth's order.

    ``organization_teams`` only matters when "organization" is selected;
    ``release`` (a better-auth version) defaults to ``release_for(plugins)``.
    """
    plugins = selected_plugins(plugins)
    chosen = _release(plugins, release)
    schemas = _schemas(chosen, plugins, organization_teams)
    columns = {t.name: list(t.columns) for t in chosen.core}
    indexes = {t.name: list(t.indexes) for t in chosen.core}
    for schema in schemas:  # columns for core tables come first, in plugin order
        for table, column in schema.columns:
            columns[table].append(column)
        for table, index in schema.indexes:
            indexes[table].append(index)
    for schema in schemas:
        for t in schema.tables:
            columns[t.name] = list(t.columns)
            indexes[t.name] = list(t.indexes)
    return tuple(Table(name, tuple(cols), tuple(indexes[name])) for name, cols in columns.items())


def _rel(table: str) -> str:
    return f"{SCHEMA}.{quote_identifier(table)}"


def column_sql(c: Column) -> str:
    parts = [quote_identifier(c.name), c.type]
    if c.not_null:
        parts.append("NOT NULL")
    if c.primary_key:
        parts.append("PRIMARY KEY")
    if c.default is not None:
        parts.append(f"DEFAULT {c.default}")
    if c.unique:
        parts.append("UNIQUE")
    if c.references:
        parts.append(f"REFERENCES {_rel(c.references)} ({quote_identifier(c.references_column)}) ON DELETE {c.on_delete}")
    return " ".join(parts)


def auth_schema_sql(plugins: Iterable[str], organization_teams: bool = False,
                    release: str | None = None) -> str:
    """SQL that creates the `auth` schema Better Auth expects, from an empty database."""
    tables = auth_tables(plugins, organization_teams, release)
    out = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA};", ""]
    for t in tables:
        cols = ",\n".join("    " + column_sql(c) for c in t.columns)
        out += [f"CREATE TABLE {_rel(t.name)} (\n{cols}\n);", ""]
    for t in tables:
        for i in t.indexes:
            unique = "UNIQUE " if i.unique else ""
            out.append(f"CREATE {unique}INDEX {quote_identifier(i.name)} ON {_rel(t.name)} ({', '.join(map(quote_identifier, i.columns))});")
    return "\n".join(out).rstrip("\n") + "\n"


def plugin_imports(plugins: Iterable[str]) -> dict[str, list[str]]:
    """What auth.ts imports for these plugins: module -> plugin factories, in PLUGINS order."""
    imports: dict[str, list[str]] = {}
    for plugin in selected_plugins(plugins):
        imports.setdefault(_INFO[plugin].module, []).append(plugin)
    return imports


def npm_dependencies(plugins: Iterable[str]) -> dict[str, str]:
    """Runtime npm dependencies of a server using these plugins (exact versions), sorted by name."""
    plugins = selected_plugins(plugins)
    release = release_for(plugins)
    names = set(release.core_packages)
    for plugin in plugins:
        names |= set(_INFO[plugin].packages)
    return {name: release.packages[name] for name in sorted(names)}


def server_dependencies(plugins: Iterable[str]) -> dict[str, str]:
    """What the template adds to package.json's dependencies: npm_dependencies() and what compiles a
    TypeScript auth config for `npm run auth:generate` / `auth:check`, sorted by name."""
    return dict(sorted({**npm_dependencies(plugins), **TYPESCRIPT_COMPILER_PACKAGES}.items()))


def _additions(schema: PluginSchema) -> dict[str, set[str]]:
    added: dict[str, set[str]] = {}
    for table, column in schema.columns:
        added.setdefault(table, set()).add(column.name)
    for t in schema.tables:
        added.setdefault(t.name, set()).update(c.name for c in t.columns)
    return added


def detect_plugins(columns_by_table: dict[str, set[str]]) -> tuple[list[str], bool]:
    """The plugins whose tables and columns are all in an existing `auth` schema, and
    whether organization teams are on. ``columns_by_table``: table name -> column names.

    A plugin counts when everything it adds in some pinned release is there.
    Plugins that add nothing (magicLink) cannot be seen and are never returned.
    """
    def present(schema: PluginSchema) -> bool:
        added = _additions(schema)
        return bool(added) and all(columns <= set(columns_by_table.get(table, ()))
                                   for table, columns in added.items())

    found = [p for p in PLUGINS
             if any(p in r.plugins and present(r.schemas[p]) for r in RELEASES)]
    teams = "organization" in found and any(present(r.schemas[TEAMS_VARIANT]) for r in RELEASES
                                            if TEAMS_VARIANT in r.schemas)
    return found, teams


def written_by_auth_generate(project) -> bool:
    """Whether the project's schemas/00_auth.sql is the one `npm run auth:generate` wrote."""
    try:
        with open(Path(project) / AUTH_SCHEMA_FILE, encoding="utf-8") as file:
            return file.readline().startswith(GENERATED_MARK)
    except (OSError, UnicodeDecodeError):
        return False


def _release_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", version)[:3])


def scripts_support(version: str) -> bool:
    """Whether the auth scripts run with this better-auth release (SCRIPTS_SUPPORT)."""
    first, beyond = SCRIPTS_SUPPORT
    return _release_key(first) <= _release_key(version) < _release_key(beyond)


def version_notes(dst: object) -> list[str]:
    """When the workspace runs another better-auth than the one schemas/00_auth.sql was written for
    (the template's pin, .copier/package.fragment.json): which, where it says so, and the way out."""
    from .package_managers import detect_package_manager, run_command
    from .resolved_versions import resolved_version

    project = Path(str(dst)).absolute()
    try:
        fragment = json.loads((project / ".copier" / "package.fragment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    pinned = fragment.get("dependencies", {}).get("better-auth")
    found = resolved_version(project, "better-auth")
    if not pinned or not found or found[0] == pinned:
        return []
    version, where = found
    manager = detect_package_manager(project)
    notes = [f"Better Auth: this workspace runs better-auth {version} ({where});",
             f"  {AUTH_SCHEMA_FILE} is written for {pinned}."]
    if scripts_support(version):
        return notes + [f"  Pin {pinned}, or write it for {version}: {manager} install && "
                        f"{run_command('auth:generate', manager)}"]
    first, beyond = SCRIPTS_SUPPORT
    return notes + [f"  The auth scripts run with {first} up to {beyond} (not included): pin {pinned}."]
