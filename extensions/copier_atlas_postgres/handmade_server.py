"""A server built by hand from the convention doc, and the answers its files already give.

The doc's layout: `atlas.hcl` and unnumbered `schemas/<name>.sql` files (`auth.sql`, `public.sql`,
`<domain>.sql`). copier.yml's questions start from what these files say (destination.existing_answers), and
adoption (adoption.py) reads the same model from the last commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import hcl_text, sql_text
from .layout import NUMBERED

PRO_ONLY_KINDS = {"create function", "create procedure", "create trigger", "create event", "do",
                  "create extension", "create view", "create materialized", "create aggregate"}


@dataclass
class SchemaFile:
    path: str  # relative to the server, e.g. "schemas/asset.sql"
    schema: str  # the schema it creates (CREATE SCHEMA), else its file name
    statements: list = field(default_factory=list)
    text: str = ""  # as the team wrote it

    def kinds(self) -> set[str]:
        return {s.kind for s in self.statements}


@dataclass
class ConventionServer:
    """A server laid out as the convention doc says: atlas.hcl and schemas/<name>.sql files."""

    atlas_blocks: list
    atlas_attributes: list
    files: list[SchemaFile]
    has_migrations: bool = False

    def attribute(self, *path: str):
        return next((a for a in self.atlas_attributes if a.path == path), None)

    def env_string(self, key: str, *envs: str) -> str | None:
        for env in envs or ("dev", "prod"):
            if (attr := self.attribute("env", env, *key.split("."))) and attr.string is not None:
                return attr.string
        return None

    @property
    def auth_file(self) -> SchemaFile | None:
        return next((f for f in self.files if f.schema == "auth"), None)

    @property
    def public_file(self) -> SchemaFile | None:
        return next((f for f in self.files if f.schema == "public"), None)

    @property
    def domain_files(self) -> list[SchemaFile]:
        return [f for f in self.files if f.schema not in ("auth", "public")]

    def auth_columns(self) -> dict[str, list[tuple[str, str]]]:
        """Tables of the auth file and their (column, definition), as written."""
        tables = {}
        for statement in self.auth_file.statements if self.auth_file else []:
            if statement.kind == "create table":
                name = sql_text.qualified_name_after(statement, "table")
                if name:
                    tables[name[1]] = sql_text.table_columns(statement)
        return tables

    def answers(self) -> dict:
        """Answer defaults from the files: the values copier.yml's questions start from."""
        found: dict = {}
        if url := self.env_string("url", "dev"):
            parts = urlsplit(url)
            if parts.scheme in ("postgres", "postgresql"):
                found.update(db_user=unquote(parts.username or ""), db_password=unquote(parts.password or ""),
                             db_name=unquote(parts.path.lstrip("/")), db_port=str(parts.port or 5432))
        if dev := self.env_string("dev", "dev"):
            found["dev_database"] = "docker" if dev.startswith("docker://") else "local"
            if match := re.match(r"docker://postgres/(\d+)", dev):
                found["postgres_version"] = match.group(1)
        if repo := self.env_string("schema.repo.name"):
            found["atlas_repo"] = repo
        found["domains"] = [f.schema for f in self.domain_files]
        found["use_better_auth"] = self.auth_file is not None
        if self.auth_file is not None:
            from . import better_auth

            plugins, teams = better_auth.detect_plugins(
                {table: {name for name, _ in columns} for table, columns in self.auth_columns().items()})
            found["better_auth_plugins"] = plugins
            found["organization_teams"] = teams
        # Migration files: the team followed the doc's `migrate diff` / `migrate apply` workflow.
        found["production_path"] = "versioned" if self.has_migrations else "declarative"
        # Functions or triggers in the domain files: the team ran Atlas Pro (the doc's boilerplate).
        found["atlas_pro"] = any(f.kinds() & PRO_ONLY_KINDS for f in self.domain_files)
        return {key: value for key, value in found.items() if value not in ("", None)}


def read_convention_server(root: Path, atlas_hcl: str, sql_texts: dict[str, str] | None = None) -> ConventionServer | None:
    """The convention-doc server in ROOT (with ATLAS_HCL as its atlas.hcl and SQL_TEXTS, file name ->
    text, by default ROOT's schemas/*.sql), or None when those files do not have the doc's shape
    (unnumbered <name>.sql). ValueError (with its line) when atlas.hcl cannot be read."""
    if sql_texts is None:
        sql_texts = {path.name: path.read_text() for path in (Path(root) / "schemas").glob("*.sql")}
    if not sql_texts or any(NUMBERED.match(name) for name in sql_texts):
        return None
    blocks, attributes = hcl_text.read(atlas_hcl)  # ValueError: the copy is refused (destination.py)
    files = []
    for name, text in sorted(sql_texts.items()):
        statements = sql_text.split_statements(text)
        created = [sql_text.qualified_name_after(s, "schema") for s in statements if s.kind == "create schema"]
        schema = created[0][1] if created and created[0] else Path(name).stem
        files.append(SchemaFile(f"schemas/{name}", schema, statements, text))
    return ConventionServer(blocks, attributes, files, has_migrations=any((Path(root) / "migrations").glob("*.sql")))
