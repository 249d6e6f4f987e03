"""A server built by hand from the convention doc, and the answers its files already give.

The doc's layout: `atlas.hcl` and `schemas/<name>.sql` files (`auth.sql`, `public.sql`,
`<domain>.sql`). Real servers follow it only almost: a schema spread over several files, several
schemas in one file, numbered files that keep the team's load order, a schema named with a reserved
word (`"user"`). So the model reads `schemas/*.sql` in Atlas's load order (file names), statement by
statement, and gives each statement the schema it defines something in; adoption (adoption.py)
writes the statements of each schema into that schema's file, and places the statements that use a
schema loading later into a file of the team's that loads after it (`load_plan`).

copier.yml's questions start from what these files say (questions.defaults), and adoption
reads the same model from the last commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..project_files import ANSWERS_FILE, is_generated, schema_file_name
from . import hcl_text, not_schema, sql_text
from .sql_text import sql_identifier

PRO_ONLY_KINDS = {"create function", "create procedure", "create trigger", "create event", "do",
                  "create extension", "create view", "create materialized", "create aggregate"}
# Statements that define something in a schema, and the word their qualified name follows.
_NAMED_AFTER = {"table": "table", "type": "type", "view": "view", "materialized": "view", "sequence": "sequence",
                "domain": "domain", "function": "function", "procedure": "procedure", "aggregate": "aggregate"}
# A qualified name in code (comments and strings blanked): schema . name
_QUALIFIED = re.compile(r'(?<![\w$."])([A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")\s*\.\s*([A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")')


def defined_schema(statement: sql_text.Statement) -> str | None:
    """The schema STATEMENT defines something in (unqualified names are in public), or None for a
    statement that defines nothing in a schema (DO, CREATE EXTENSION, GRANT, ...)."""
    kind = statement.kind.split()
    if len(kind) < 2:
        return None
    if kind == ["create", "schema"]:
        name = sql_text.qualified_name_after(statement, "schema")
        return name[1] if name else None
    if kind in (["create", "index"], ["create", "trigger"]):
        name = sql_text.qualified_name_after(statement, "on")
    elif kind[0] == "comment":
        words = statement.words
        if len(words) < 4:
            return None
        name = sql_text.qualified_name_after(statement, "on", words[2])
        if name and words[2] == "schema":
            return name[1]
    elif kind[0] in ("create", "alter") and kind[1] in _NAMED_AFTER:
        name = sql_text.qualified_name_after(statement, _NAMED_AFTER[kind[1]])
    else:
        return None
    if not name:
        return None
    return name[0] or "public"


def defines_something(statement: sql_text.Statement) -> bool:
    """A statement of a schema file (CREATE or ALTER), not a seed's INSERT or a query."""
    return statement.kind.startswith(("create ", "alter "))


def defined_name(statement: sql_text.Statement) -> tuple[str, str] | None:
    """(schema, name) of the table, type, view, sequence, domain or function STATEMENT creates."""
    kind = statement.kind.split()
    if len(kind) == 2 and kind[0] == "create" and kind[1] in _NAMED_AFTER:
        name = sql_text.qualified_name_after(statement, _NAMED_AFTER[kind[1]])
        if name:
            return name[0] or "public", name[1]
    return None


def used_names(statement: sql_text.Statement) -> set[tuple[str, str]]:
    """Every schema-qualified (schema, name) the statement's code mentions (bodies and strings not)."""
    return {(sql_text.fold(a), sql_text.fold(b)) for a, b in _QUALIFIED.findall(statement.code)}


@dataclass
class SchemaFile:
    path: str  # relative to the server, e.g. "schemas/asset.sql"
    schema: str  # the schema it is about: the one it creates first, else the first it defines something in
    statements: list = field(default_factory=list)
    text: str = ""  # as the team wrote it


@dataclass(frozen=True)
class Placed:
    """One statement of the team's, with the schema it belongs to."""

    statement: sql_text.Statement
    source: SchemaFile
    schema: str


@dataclass
class LoadPlan:
    """Where each statement of the team's goes: its schema's file, or (when it uses a schema whose
    file loads later) a file of the team's that loads after that one."""

    target: dict[int, str]  # id(statement) -> file name in schemas/
    later: dict[str, list[str]]  # a later file -> the files it must load after (why it exists)
    problems: list[str]


@dataclass
class HandmadeServer:
    """A server laid out as the convention doc says: atlas.hcl and schemas/*.sql files."""

    atlas_blocks: list
    atlas_attributes: list
    files: list[SchemaFile]
    has_migrations: bool = False

    def attribute(self, *path: str):
        return next((a for a in self.atlas_attributes if a.path == path), None)

    @property
    def env_names(self) -> list[str]:
        """The old atlas.hcl's envs, whatever their names, the team's own database first: dev, then
        local, then the others in file order, prod last."""
        names = list(dict.fromkeys(b.path[1] for b in self.atlas_blocks if len(b.path) == 2 and b.path[0] == "env"))
        rank = {"dev": 0, "local": 1, "prod": 3}
        return sorted(names, key=lambda name: rank.get(name, 2))

    def env_string(self, key: str, *envs: str) -> str | None:
        for env in envs or self.env_names:
            if (attr := self.attribute("env", env, *key.split("."))) and attr.string is not None:
                return attr.string
        return None

    def listed_schemas(self) -> list[str]:
        """The `schemas` list of the old atlas.hcl (its first env that has one), [] when it has none."""
        for env in self.env_names:
            if (attr := self.attribute("env", env, "schemas")) and attr.strings is not None:
                return attr.strings
        return []

    @cached_property
    def statements(self) -> list[Placed]:
        """Every statement, in Atlas's load order, with its schema: the one it defines something
        in, else the schema of the statement before it in its file (a DO block, a GRANT)."""
        placed = []
        for schema_file in self.files:
            current = schema_file.schema
            for statement in schema_file.statements:
                current = defined_schema(statement) or current
                placed.append(Placed(statement, schema_file, current))
        return placed

    @property
    def schemas(self) -> list[str]:
        """The schemas the files define, in the order they first appear."""
        return list(dict.fromkeys(p.schema for p in self.statements))

    @property
    def domains(self) -> list[str]:
        return [s for s in self.schemas if s not in ("auth", "public")]

    def statements_of(self, schema: str) -> list[sql_text.Statement]:
        return [p.statement for p in self.statements if p.schema == schema]

    def files_of(self, schema: str) -> list[SchemaFile]:
        return [f for f in self.files if any(p.source is f and p.schema == schema for p in self.statements)]

    @property
    def auth_file(self) -> SchemaFile | None:
        return next((f for f in self.files if f.schema == "auth"), None)

    def auth_columns(self) -> dict[str, list[tuple[str, str]]]:
        """Tables the team defines in auth and their (column, definition), as written."""
        tables = {}
        for statement in self.statements_of("auth"):
            if statement.kind == "create table":
                name = sql_text.qualified_name_after(statement, "table")
                if name:
                    tables[name[1]] = sql_text.table_columns(statement)
        return tables

    def list_problems(self) -> list[str]:
        """Schemas the old atlas.hcl lists that no file defines anything in: the template lists only
        the schemas its files define, so Atlas would stop managing them."""
        return [f"atlas.hcl: its schemas list names {schema}, which no file of schemas/ defines (so Atlas kept it"
                f" empty); the template lists the schemas its files define: to keep it managed, add"
                f" schemas/{schema}.sql holding CREATE SCHEMA IF NOT EXISTS {sql_identifier(schema)}; (or, for Atlas to"
                " leave it alone, remove it from the list), commit, then copy again"
                for schema in self.listed_schemas() if schema not in self.schemas and schema not in ("auth", "public")]

    def load_plan(self, keep=lambda statement: True) -> LoadPlan:
        """Where each kept statement goes so that everything it uses loads before it (Atlas loads
        schemas/*.sql in file-name order). A schema's statements go to its file (10_public.sql,
        20_<domain>.sql; auth's to 01_auth_custom.sql) until one uses what a later file defines: that
        one and the rest of its schema's statements go to `<3N>_<schema>.sql`, the first such name
        that loads after what they use."""
        placed = [p for p in self.statements if keep(p.statement)]
        by_schema: dict[str, list[Placed]] = {}
        for p in placed:
            by_schema.setdefault(p.schema, []).append(p)
        split = {schema: len(items) for schema, items in by_schema.items()}  # index of the first later statement
        band = dict.fromkeys(by_schema, 0)  # the later file: 30_ for 1, 31_ for 2, ...

        def file_of(schema: str, index: int) -> str:
            return schema_file_name(schema) if index < split[schema] else f"{29 + band[schema]}_{schema}.sql"

        def last_file(schema: str) -> str:
            return file_of(schema, len(by_schema[schema]) - 1)

        limit = 2 * len(placed) + 10  # each round moves one statement later; moves only go one way
        last_band = 70  # 99_<schema>.sql: past it, names would no longer sort in load order
        for _ in range(limit):
            defined = {}
            for schema, items in by_schema.items():
                for index, p in enumerate(items):
                    if (name := defined_name(p.statement)) and name not in defined:
                        defined[name] = file_of(schema, index)
            changed = False
            for schema, items in by_schema.items():
                if schema == "auth":
                    continue  # Better Auth's tables are generated: they load first, whatever they use
                for index, p in enumerate(items):
                    here = file_of(schema, index)
                    needs = [defined.get(name) or last_file(name[0]) for name in used_names(p.statement)
                             if name[0] in by_schema and name[0] != schema and name[0] != "auth"]
                    if not needs or max(needs) < here:
                        continue
                    if index < split[schema]:
                        split[schema] = index
                    band[schema] = max(band[schema], 1)
                    while file_of(schema, index) <= max(needs) and band[schema] < last_band:
                        band[schema] += 1
                    changed = True
                    break
            if not changed:
                break
        else:
            tangled = sorted(s for s in by_schema if split[s] < len(by_schema[s]))
            return LoadPlan({}, {}, [f"schemas {', '.join(tangled)} use each other in a way no file order"
                                     " can load (each needs the other first): move the foreign keys that"
                                     " close the circle into ALTER TABLE statements at the end of their"
                                     " files, commit, then copy again"])
        target, later = {}, {}
        for schema, items in by_schema.items():
            for index, p in enumerate(items):
                target[id(p.statement)] = file_of(schema, index)
            if split[schema] < len(items):
                uses = sorted({used for p in items[split[schema]:] for name in used_names(p.statement)
                               if name[0] in by_schema and name[0] not in (schema, "auth")
                               and (used := defined.get(name) or last_file(name[0])) > schema_file_name(schema)})
                later[file_of(schema, split[schema])] = uses
        return LoadPlan(target, later, [])

    def answers(self) -> dict:
        """Answer defaults from the files: the values copier.yml's questions start from."""
        found: dict = {}
        local = [env for env in self.env_names if env != "prod"]  # prod's URL is not the dev database
        if local and (url := self.env_string("url", *local)):
            parts = urlsplit(url)
            if parts.scheme in ("postgres", "postgresql"):
                found.update(db_user=unquote(parts.username or ""), db_password=unquote(parts.password or ""),
                             db_name=unquote(parts.path.lstrip("/")), db_port=str(parts.port or 5432))
        if dev := self.env_string("dev", *self.env_names):
            found["dev_database"] = "docker" if dev.startswith("docker://") else "local"
            if match := re.match(r"docker://postgres/(\d+)", dev):
                found["postgres_version"] = match.group(1)
        if repo := self.env_string("schema.repo.name"):
            found["atlas_repo"] = repo
        found["domains"] = self.domains
        found["adopted_domains"] = self.domains
        found["use_better_auth"] = "auth" in self.schemas
        if found["use_better_auth"]:
            from . import better_auth

            plugins, teams = better_auth.detect_plugins(
                {table: {name for name, _ in columns} for table, columns in self.auth_columns().items()})
            found["better_auth_plugins"] = plugins
            found["organization_teams"] = teams
        # Migration files: the team followed the doc's `migrate diff` / `migrate apply` workflow.
        found["production_path"] = "versioned" if self.has_migrations else "declarative"
        # Functions or triggers in the domain files: the team ran Atlas Pro (the doc's boilerplate).
        # (CREATE EXTENSION alone is no sign: the open-source build loads it too.)
        found["atlas_pro"] = any(p.statement.kind in PRO_ONLY_KINDS - {"create extension"} for p in self.statements
                                 if p.schema not in ("auth", "public"))
        return {key: value for key, value in found.items() if value not in ("", None)}


def read_handmade_server(root: Path, atlas_hcl: str | None, sql_texts: dict[str, str] | None = None) -> HandmadeServer | None:
    """The hand-made server in ROOT: ATLAS_HCL as its atlas.hcl (None: it has none) and SQL_TEXTS,
    file name -> text, by default ROOT's schemas/*.sql; None when there is no SQL file. ValueError
    (with its line) when atlas.hcl cannot be read."""
    if sql_texts is None:
        sql_texts = {path.name: path.read_text() for path in (Path(root) / "schemas").glob("*.sql")}
    # A psql or cluster script is never schema (not_schema.py): the layout check moves it out.
    sql_texts = {name: text for name, text in sql_texts.items() if not_schema.reason(text) is None}
    parsed = {name: sql_text.split_statements(text) for name, text in sorted(sql_texts.items())}
    if not any(defines_something(s) for statements in parsed.values() for s in statements):
        return None  # no schema here: SQL that defines no table or schema (or no file at all)
    blocks, attributes = hcl_text.read(atlas_hcl or "")  # ValueError: the copy is refused (questions/destination.py)
    files = []
    for name, text in sorted(sql_texts.items()):
        statements = parsed[name]
        created = [sql_text.qualified_name_after(s, "schema") for s in statements if s.kind == "create schema"]
        defined = [schema for s in statements if (schema := defined_schema(s))]
        schema = created[0][1] if created and created[0] else (defined[0] if defined else "public")
        files.append(SchemaFile(f"schemas/{name}", schema, statements, text))
    return HandmadeServer(blocks, attributes, files, has_migrations=any((Path(root) / "migrations").glob("*.sql")))


def in_destination(dst: object) -> HandmadeServer | None:
    """The hand-made server in DST (a HandmadeServer: atlas.hcl and schemas/*.sql,
    or schema files alone), or None. ValueError when its atlas.hcl cannot be read."""
    dst = Path(str(dst))
    if is_generated(dst) or not any((dst / "schemas").glob("*.sql")):
        return None
    hcl = dst / "atlas.hcl"
    return read_handmade_server(dst, hcl.read_text() if hcl.is_file() else None)


_answers_cache: dict[tuple, dict] = {}


def answers_in(dst: object) -> dict:
    """The answers a hand-made server in DST gives (empty for any other folder), as its files say
    them: questions.defaults offers those that pass their question's rule."""
    dst = Path(str(dst))
    if not any((dst / "schemas").glob("*.sql")):
        return {}
    key = (str(dst.resolve()), _signature(dst))
    if key not in _answers_cache:
        try:
            server = in_destination(dst)
        except ValueError:  # an unreadable atlas.hcl: the copy is refused before any question
            server = None
        _answers_cache[key] = server.answers() if server else {}
    return _answers_cache[key]


def _signature(dst: Path) -> tuple:
    paths = [dst / "atlas.hcl", dst / ANSWERS_FILE, *sorted((dst / "schemas").glob("*.sql"))]
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file())
