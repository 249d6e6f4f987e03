"""Where an existing server keeps its database schema, and the commands that move it to the layout
adoption takes: atlas.hcl in the server folder, the SQL schema files in `schemas/`, migrations in
`migrations/` (the convention doc's layout; handmade_server.py reads it, adoption.py adopts it).

Real servers keep their schema elsewhere: one file anywhere (`src = "file://internal/store/schema.sql"`),
a list of files, a folder with another name, atlas.hcl in a subfolder, migrations in another folder,
an HCL schema, or SQL files and no atlas.hcl at all. Copying the template beside any of these would
make Atlas manage schema `public` from files that lack the team's tables: the first apply would plan
their DROP. So `copy_problems` (destination.py) refuses, naming each file, and prints the commands
that move them (`git mv`, so history follows), tested by running them as printed. Nothing here writes.
"""

from __future__ import annotations

import glob
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import hcl_text, not_schema, sql_text
from .handmade_server import defines_something

SCHEMA_FOLDER = "schemas"
MIGRATION_FOLDER = "migrations"
# Folders whose SQL is not the server's schema (dependencies, builds, tests): not looked into.
NOT_SCHEMA_FOLDERS = frozenset({"node_modules", "vendor", "dist", "build", "target", "test", "tests", "testdata",
                                "fixtures", "__tests__", "__pycache__"})
COMMIT = 'git commit -m "Database schema in the layout copier-atlas-postgres adopts"'


@dataclass
class Layout:
    """What is wrong with a server's layout, and the commands (run in the server folder, in order)
    that fix it."""

    problems: list[str] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)  # git mv, mkdir: first
    exports: list[str] = field(default_factory=list)  # commands that write new files (then `git add`)
    not_schema: list[str] = field(default_factory=list)  # "<file>: <why>", left where they are

    def commands(self, dst: object) -> list[str]:
        if not (self.moves or self.exports):
            return []
        body = list(dict.fromkeys(self.moves)) + self.exports
        if self.exports:
            body.append(f"git add -- {SCHEMA_FOLDER}")
        return [f"cd {shlex.quote(str(dst))}", *body, COMMIT]


def _q(path: str) -> str:
    return shlex.quote(path)


def server_files(dst: Path) -> list[str]:
    """The server's files (relative paths), without hidden folders and NOT_SCHEMA_FOLDERS."""
    found = []
    for folder, dirs, files in os.walk(dst):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in NOT_SCHEMA_FOLDERS)
        found += [(Path(folder) / name).relative_to(dst).as_posix() for name in sorted(files)]
    return found


def is_schema_sql(path: Path) -> bool:
    """SQL that defines tables or schemas (not a seed of INSERTs, not a psql or cluster script)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    return not_schema.reason(text) is None and any(defines_something(s) for s in sql_text.split_statements(text))


def _not_schema(dst: Path, files: list[str]) -> dict[str, str]:
    """The SQL files among FILES that are not schema (not_schema.py), with why."""
    found = {}
    for rel in files:
        if rel.endswith(".sql"):
            try:
                why = not_schema.reason((dst / rel).read_text(errors="replace"))
            except OSError:
                continue
            if why:
                found[rel] = why
    return found


def _migration_folders(files: list[str]) -> set[str]:
    """Folders that hold migrations: named migrations (any tool's, subfolders included), or holding
    Atlas's atlas.sum."""
    folders = set()
    for rel in files:
        parts = Path(rel).parts
        if Path(rel).name == "atlas.sum":
            folders.add(Path(rel).parent.as_posix())
        elif rel.endswith(".sql") and MIGRATION_FOLDER in parts[:-1]:
            folders.add("/".join(parts[:parts.index(MIGRATION_FOLDER) + 1]))
    return folders


def read_layout(dst: object) -> Layout:
    """The problems of DST's layout for adoption, and the commands that fix them (no problem when
    adoption can take the server as it is, or when it holds no database schema)."""
    dst = Path(str(dst))
    layout = Layout()
    files = server_files(dst)
    migrations = _migration_folders(files)
    scripts = _not_schema(dst, [rel for rel in files if not any(rel.startswith(f + "/") for f in migrations)])
    layout.not_schema = [f"{rel}: {why}" for rel, why in scripts.items()]
    for rel in scripts:
        if Path(rel).parent.as_posix() == SCHEMA_FOLDER:  # Atlas would run it on every database it plans with
            layout.problems.append(f"{rel}: not schema ({scripts[rel]}), in the folder Atlas loads: moved out")
            layout.moves.append(f"git mv -- {_q(rel)} {_q(_free_name(dst, Path(rel).name))}")
    hcl_files = [rel for rel in files if Path(rel).name == "atlas.hcl"]
    hcl = "atlas.hcl" if "atlas.hcl" in hcl_files else (hcl_files[0] if len(hcl_files) == 1 else None)
    sources: list[str] = []  # SQL schema files outside schemas/, in the team's load order
    has_src = has_dir = False
    if hcl is not None:
        _, attributes = hcl_text.read((dst / hcl).read_text())  # ValueError: refused by the caller
        base = Path(hcl).parent
        split = _split_problem(hcl, attributes)
        if split:
            layout.problems.append(split)
        for attribute in attributes:
            path = attribute.path
            if len(path) >= 3 and path[0] == "env" and path[2:] in (("src",), ("schema", "src")):
                has_src = True
                if not split:  # two projects' schemas are never moved into one
                    sources += _schema_source(dst, base, attribute, layout, migrations)
            elif len(path) >= 3 and path[0] == "env" and path[2:] == ("migration", "dir"):
                has_dir = True
                _migration_dir(dst, base, attribute, layout)
    if not has_src:  # nothing says where the schema is: every SQL file that defines tables is it
        loose = [rel for rel in files if rel.endswith(".sql") and Path(rel).parent.as_posix() != SCHEMA_FOLDER
                 and not any(rel.startswith(folder + "/") for folder in migrations) and is_schema_sql(dst / rel)]
        layout.problems += [f"{rel}: SQL that defines tables; the template adopts schema files in {SCHEMA_FOLDER}/"
                            for rel in loose]
        sources += loose
    # Atlas's migrations (atlas.sum) elsewhere move to migrations/ when no atlas.hcl names their
    # folder; another tool's stay where that tool reads them.
    others = sorted(f for f in migrations - {MIGRATION_FOLDER} if not (dst / f / "atlas.sum").is_file())
    if not has_dir:
        for folder in sorted(migrations - {MIGRATION_FOLDER, *others}):
            _move_migrations(dst, folder, layout)
    sources = list(dict.fromkeys(sources))
    # Several envs naming the same schema: each reason and command once.
    layout.problems, layout.exports = (list(dict.fromkeys(items)) for items in (layout.problems, layout.exports))
    if sources:
        if has_src:
            for name in sorted(p.name for p in (dst / SCHEMA_FOLDER).glob("*.sql")
                               if f"{SCHEMA_FOLDER}/{p.name}" not in scripts):
                layout.problems.append(f"{SCHEMA_FOLDER}/{name}: SQL that Atlas does not manage (atlas.hcl's src is"
                                       f" elsewhere), in the folder of the template's schema files: moved out")
                layout.moves.append(f"git mv -- {_q(f'{SCHEMA_FOLDER}/{name}')} {_q(_free_name(dst, name))}")
        layout.moves[:0] = [f"mkdir -p {SCHEMA_FOLDER}"]
        layout.moves += [f"git mv -- {_q(source)} {_q(f'{SCHEMA_FOLDER}/{target}')}"
                         for source, target in zip(sources, _targets(sources), strict=True)]
    schema_sql = bool(sources or layout.exports or any(is_schema_sql(p) for p in (dst / SCHEMA_FOLDER).glob("*.sql")))
    with_migrations = [*([f"{MIGRATION_FOLDER}/"] if any((dst / MIGRATION_FOLDER).glob("*.sql")) or any(
        m.endswith(f" {MIGRATION_FOLDER}") for m in layout.moves) else []), *(f"{f}/" for f in others)]
    if not schema_sql and with_migrations:
        export = export_command('--url "<a database migrated to the last one>" --exclude atlas_schema_revisions')
        layout.problems.append(
            f"{', '.join(with_migrations)}: migrations, but no schema file says what they build (the template plans from"
            f" {SCHEMA_FOLDER}/): write it there as SQL, e.g. {export}, then git add it, commit and copy again")
    if not schema_sql and not with_migrations:
        if hcl == "atlas.hcl" and not layout.problems:
            layout.problems.append("atlas.hcl: Atlas's project file, but no SQL schema file to adopt; the template"
                                   " writes its own atlas.hcl: keep yours beside it under another name")
            layout.moves.append("git mv -- atlas.hcl atlas.hcl.orig")
        return layout
    if hcl is not None and hcl != "atlas.hcl":
        layout.problems.insert(0, f"{hcl}: Atlas's project file, in a subfolder; the template keeps it in the"
                                  " server folder (it runs Atlas from there)")
        layout.moves.insert(0, f"git mv -- {_q(hcl)} atlas.hcl")
    elif hcl is None and len(hcl_files) > 1:
        layout.problems.insert(0, f"{', '.join(hcl_files)}: several Atlas project files; move the one for this"
                                  " server's database to the server folder (git mv <it> atlas.hcl)")
    return layout


# Atlas's inspect loads a schema on its env's dev database (often Docker): $ATLAS_DEV_URL replaces it.
DEV_NOTE = (" (Atlas uses the env's dev database; without Docker, first export ATLAS_DEV_URL=<an empty database"
            " on your PostgreSQL>)")


def export_command(inspect_args: str, then: str = "") -> str:
    """A command that writes schemas/schema.sql from `atlas schema inspect INSPECT_ARGS`, whole or
    not at all: into a scratch file first (a failed inspect leaves no empty schema.sql), then THEN."""
    scratch = "schema.sql.inspected"
    return (f"mkdir -p {SCHEMA_FOLDER} && atlas schema inspect {inspect_args}"
            ' ${ATLAS_DEV_URL:+--dev-url "$ATLAS_DEV_URL"}'
            f" --format '{{{{ sql . }}}}' > {scratch} && mv {scratch} {SCHEMA_FOLDER}/schema.sql{then}")


def _env_source(attribute) -> str:
    """inspect's arguments that read an env's schema source."""
    return f"--env {_q(attribute.path[1])} --url env://{'.'.join(attribute.path[2:])}"


def _split_problem(hcl: str, attributes: list) -> str:
    """'' unless atlas.hcl's envs keep different schemas (each its own src, for its own database):
    two projects, which one server folder cannot hold (its schemas/ is one database's schema)."""
    srcs: dict[str, str] = {}  # env -> its src, as written
    databases: dict[str, str] = {}
    for attribute in attributes:
        path = attribute.path
        if len(path) >= 3 and path[0] == "env" and path[2:] in (("src",), ("schema", "src")):
            srcs[path[1]] = attribute.expression.strip()
        elif len(path) == 3 and path[0] == "env" and path[2] == "url" and attribute.string:
            databases[path[1]] = urlsplit(attribute.string).path.lstrip("/")  # its name: no password
    if len(set(srcs.values())) < 2:
        return ""
    envs = "; ".join(f'env "{env}": src = {src}' + (f" (database {databases[env]})" if databases.get(env) else "")
                     for env, src in srcs.items())
    return (f"{hcl}: its envs keep different schemas ({envs}): one server folder is one project, for one"
            " database. Split them: keep here the env of this server's database and its schema files; move each"
            " other env's schema files, with a copy of this atlas.hcl holding only that env, to a server folder"
            " of its own (git mv, e.g. apps/<name>/server/); commit, then copy the template into each folder")


def _schema_source(dst: Path, base: Path, attribute, layout: Layout, migrations: set[str]) -> list[str]:
    """The SQL files one `src` names (outside schemas/), in load order; problems for the rest."""
    values = attribute.strings if attribute.strings is not None else (
        [attribute.string] if attribute.string is not None else None)
    if values is None:
        layout.problems.append(f"atlas.hcl line {attribute.line}: src = {attribute.expression}: not a plain"
                               f" file:// path; set it to \"file://{SCHEMA_FOLDER}\" with your SQL files there")
        return []
    found = []
    for value in values:
        if not value.startswith("file://"):
            layout.problems.append(
                f"atlas.hcl line {attribute.line}: src = \"{value}\" is not files of this server; the template adopts"
                f" SQL files: write them with {export_command(_env_source(attribute))}{DEV_NOTE},"
                f" set src = \"file://{SCHEMA_FOLDER}\", git add and commit, then copy again")
            continue
        written = value[len("file://"):]
        if outside := _outside(dst, base, written):
            layout.problems.append(f"{written}: atlas.hcl's src, outside the server folder; the template adopts SQL"
                                   f" files in {SCHEMA_FOLDER}/: moved in (git mv keeps their history; if another"
                                   " project reads them too, copy them instead)")
            layout.moves += [f"mkdir -p {SCHEMA_FOLDER}"] + [
                f"git mv -- {_q(os.path.relpath(p, dst))} {_q(f'{SCHEMA_FOLDER}/{target}')}"
                for p, target in zip(outside, _targets([p.name for p in outside]), strict=True)]
            continue
        rel = _resolve(dst, base, written)
        if rel is None:
            continue  # the path is gone: nothing there to lose
        path = dst / rel
        members = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        hcl_members = [p for p in members if p.name.endswith(".hcl")]
        if hcl_members:
            names = ", ".join(p.relative_to(dst).as_posix() for p in hcl_members)
            layout.problems.append(f"{names}: an HCL schema, not SQL; the template adopts SQL files: Atlas writes it"
                                   f" as SQL into {SCHEMA_FOLDER}/schema.sql (then adoption splits it by schema),"
                                   f" and only then removes it{DEV_NOTE}")
            layout.exports.append(export_command(_env_source(attribute), " && git rm -q -- " + " ".join(
                _q(p.relative_to(dst).as_posix()) for p in hcl_members)))
            continue
        if rel == SCHEMA_FOLDER:
            continue  # the convention doc's layout
        sql = [p.relative_to(dst).as_posix() for p in members if p.name.endswith(".sql")
               and not_schema.reason(p.read_text(errors="replace")) is None]
        what = "a schema file" if path.is_file() else f"a schema folder other than {SCHEMA_FOLDER}/"
        layout.problems.append(f"{rel}: atlas.hcl's src, {what}; the template adopts SQL files in"
                               f" {SCHEMA_FOLDER}/ (its own go there too)")
        found += [s for s in sql if not any(s.startswith(folder + "/") for folder in migrations)]
    return found


def _migration_dir(dst: Path, base: Path, attribute, layout: Layout) -> str | None:
    """The migration folder a `migration { dir }` names (moved when it is not migrations/)."""
    value = attribute.string
    if value is None or not value.startswith("file://"):
        return None
    rel = _resolve(dst, base, value[len("file://"):])
    if rel is not None and rel != MIGRATION_FOLDER:
        _move_migrations(dst, rel, layout)
    return rel


def _move_migrations(dst: Path, folder: str, layout: Layout) -> None:
    if (dst / MIGRATION_FOLDER).exists():
        layout.problems.append(f"{folder}/: migrations, and {MIGRATION_FOLDER}/ exists too; keep the ones production"
                               f" runs in {MIGRATION_FOLDER}/, commit, then copy again")
        return
    layout.problems.append(f"{folder}/: the migrations; the template's atlas.hcl reads them from {MIGRATION_FOLDER}/")
    layout.moves.append(f"git mv -- {_q(folder)} {MIGRATION_FOLDER}")


def _outside(dst: Path, base: Path, path: str) -> list[Path]:
    """The .sql files a src path (a file, a folder or a glob) names outside DST, [] when it names
    none there. Read from where Atlas runs: the server folder, or the project file's own folder."""
    for start in (dst, dst / base):
        matched = sorted(Path(p).resolve() for p in glob.glob(str(start / path)))
        files = [f for m in matched for f in (sorted(m.glob("*.sql")) if m.is_dir() else [m]) if f.suffix == ".sql"]
        if matched:
            return [f for f in files if not f.is_relative_to(dst.resolve())] if not any(
                m.is_relative_to(dst.resolve()) for m in matched) else []
    return []


def _resolve(dst: Path, base: Path, path: str) -> str | None:
    """A file:// path of atlas.hcl as a path in DST, or None when it is missing or outside. Atlas
    reads paths from where it runs: the server folder, or the project file's own folder."""
    for start in (dst, dst / base):
        candidate = (start / path).resolve()
        if candidate.exists() and candidate.is_relative_to(dst.resolve()):
            return candidate.relative_to(dst.resolve()).as_posix() or "."
    return None


def _targets(sources: list[str]) -> list[str]:
    """Names in schemas/ for SOURCES that load in the same order (numbered when their names would not)."""
    names = [Path(s).name for s in sources]
    if len(set(names)) == len(names) and names == sorted(names):
        return names
    return [f"{index:02d}_{name}" for index, name in enumerate(names, 1)]


def _free_name(dst: Path, name: str) -> str:
    candidate, index = name, 1
    while (dst / candidate).exists():
        candidate, index = f"{Path(name).stem}_{index}{Path(name).suffix}", index + 1
    return candidate
