"""Bring a server built by hand from the convention doc under the template, losing nothing.

Run after `copier copy --overwrite` rendered the template into such a server (tasks.after_copy):
the answers were defaulted from its files (handmade_server.py), copier wrote the new
atlas.hcl and the numbered files, and this moves the team's own files onto the numbered names:

* `schemas/<domain>.sql` -> `schemas/20_<domain>.sql` and `public.sql` -> `10_public.sql`, with the
  team's text (their tables stay where they were);
* `schemas/auth.sql` -> `schemas/00_auth.sql`, which now holds the generated Better Auth schema; the
  team's own columns, tables and indexes in `auth` move to `schemas/01_auth_custom.sql`, theirs to
  keep, loaded right after;
* without Atlas Pro, functions and triggers leave `schemas/` (the official Atlas build refuses them
  there): the doc's `updated_at` boilerplate is dropped, since `triggers/` covers every table with
  an `updated_at` column under the same names; any other one moves to
  `triggers/90_<schema>_adopted.sql`, made safe to run again.

Each move is a `git mv` (staged alone, so committing it first keeps `git log --follow` history)
and the new text is left unstaged for review. Nothing is committed. Everything starts from the last
commit, so running the adoption again, before that commit or after a kill, ends as one clean run. The report lists what moved,
what the old atlas.hcl set that the new one does not, and what the first apply will add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import better_auth, sql_text
from .git import committed, git
from .handmade_server import PRO_ONLY_KINDS, read_convention_server
from .layout import ANSWERS_FILE, COMPOSE_FILES
from .sql_text import quote_identifier

AUTH_CUSTOM = "schemas/01_auth_custom.sql"
FROM_AUTH_SQL = "-- From the hand-made schemas/auth.sql:\n"
# What the template's atlas.hcl writes itself: any other setting of the old file is reported.
GENERATED_SETTINGS = {("url",), ("dev",), ("schemas",), ("schema", "src"), ("schema", "repo", "name"),
                      ("migration", "dir")}


@dataclass
class Adoption:
    moves: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what happened, one line each
    review: list[str] = field(default_factory=list)  # what the user must look at
    additions: list[str] = field(default_factory=list)  # what the first apply adds (Better Auth)
    resumed: int = 0  # moves an earlier run of the same adoption had made


def hand_made_server(project: Path):
    """The convention-doc server this copy landed on, read from the last commit, or None."""
    if committed(project, ANSWERS_FILE) is not None:
        return None  # generated before: not an adoption
    atlas_hcl = committed(project, "atlas.hcl")
    if atlas_hcl is None:
        return None
    tracked = git(project, "ls-tree", "--name-only", "HEAD", "schemas/").stdout.split()
    # The committed texts, not the files on disk: an adoption run again (or after a kill) starts from
    # what the team committed, whatever an earlier run moved or copier wrote since.
    texts = {Path(p).name: committed(project, p) for p in tracked if p.endswith(".sql")}
    return read_convention_server(project, atlas_hcl, texts)


def adopt(project: Path, answers: dict) -> Adoption | None:
    server = hand_made_server(project)
    if server is None:
        return None
    result = Adoption()
    pro = bool(answers.get("atlas_pro"))
    domains = list(answers.get("domains") or [])
    for schema_file in server.files:
        if schema_file.schema == "auth" and answers.get("use_better_auth"):
            _adopt_auth(project, server, answers, result)
            _move(project, schema_file.path, "schemas/00_auth.sql", None, result)
        elif schema_file.schema == "public" or schema_file.schema in domains:
            prefix = "10" if schema_file.schema == "public" else "20"
            target = f"schemas/{prefix}_{schema_file.schema}.sql"
            statements = schema_file.statements if pro else _move_pro_only(project, schema_file, result)
            text = _onto_rendered((project / target).read_text(), statements, _tail(schema_file.text))
            _move(project, schema_file.path, target, text, result)
        elif schema_file.schema == "auth":
            result.review.append(f"{schema_file.path}: left as is (you answered no Better Auth); it loads among"
                                 " the domains now: rename it 01_auth.sql and list auth in atlas.hcl, or git rm it")
        else:
            result.review.append(f"{schema_file.path}: schema {schema_file.schema} is not among the answered"
                                 " domains; left as is (add it with `npm run domain:add`, or git rm it)")
    _report_atlas_settings(project, server, result)
    for name in COMPOSE_FILES:
        if name != answers.get("compose_file", "compose.yaml") and (project / name).is_file() \
                and answers.get("dev_database") == "docker":
            result.review.append(f"{name}: yours, kept; the template's postgres service is in"
                                 f" {answers.get('compose_file')} (`npm run db:up`); drop yours if it runs the same database")
    return result


def _onto_rendered(rendered: str, statements: list, tail: str) -> str:
    """The team's statements in the file the template rendered for their schema: its header (up to
    its CREATE SCHEMA), its updated_at function (with Atlas Pro, unless the team has its own) and
    closing comments stay; its example table, index and trigger give way to the team's statements.
    So the file reads to later updates like any project where the team replaced the example."""
    rendered_statements = sql_text.split_statements(rendered)
    schema = next(s for s in rendered_statements if s.kind == "create schema")
    head = rendered[:schema.start + len(schema.text)]
    last = rendered_statements[-1]
    closing = rendered[last.start + len(last.text):]
    theirs = {sql_text.qualified_name_after(s, "function") for s in statements if s.kind == "create function"}
    functions = [s.text for s in rendered_statements
                 if s.kind == "create function" and sql_text.qualified_name_after(s, "function") not in theirs]
    body = "".join(functions + [s.text for s in statements if s.kind != "create schema"]) + tail
    ending = closing.rstrip("\n") + "\n" if closing.strip() else "\n"
    return head.rstrip("\n") + "\n\n" + body.strip("\n") + ending


def _tail(text: str) -> str:
    """What follows the last statement of a file (closing comments, the final newline)."""
    statements = sql_text.split_statements(text)
    if not statements:
        return text
    last = statements[-1]
    return text[last.start + len(last.text):]


def _move(project: Path, old: str, new: str, text: str | None, result: Adoption) -> None:
    """git mv OLD NEW (the team's committed text, staged as a pure rename), then NEW's text:
    TEXT, or what copier rendered there when TEXT is None (left unstaged, for review)."""
    rendered = (project / new).read_text() if (project / new).is_file() else ""
    if git(project, "ls-files", "--error-unmatch", "--", old, check=False).returncode == 0:
        if not (project / old).exists():  # a run killed inside `git mv`: the committed file back first
            git(project, "checkout", "HEAD", "--", old)
        git(project, "mv", "-f", "--", old, new)
    else:  # an earlier run moved it (the index holds the rename); only NEW's text is written again
        result.resumed += 1
    (project / new).write_text(rendered if text is None else text)
    result.moves.append((old, new))


_BOILERPLATE = re.compile(r"\bupdate_updated_at_column\b", re.I)


def _move_pro_only(project: Path, schema_file, result: Adoption) -> list:
    """The file's statements without functions and triggers; the doc's updated_at boilerplate is
    dropped (triggers/ covers it), anything else goes to triggers/90_<schema>_adopted.sql."""
    kept, moved, dropped = [], [], []
    for statement in schema_file.statements:
        if statement.kind not in PRO_ONLY_KINDS:
            kept.append(statement)
        elif statement.kind in ("create function", "create trigger") and _BOILERPLATE.search(statement.code):
            dropped.append(statement.kind.split()[1])
        else:
            moved.append(statement)
    if dropped:
        result.notes.append(f"{schema_file.path}: the doc's updated_at {dropped.count('function')} function(s) and"
                            f" {dropped.count('trigger')} trigger(s) removed: triggers/ covers every table with"
                            " updated_at, under the same names")
    if moved:
        target = f"triggers/90_{schema_file.schema}_adopted.sql"
        header = (f"-- Moved from {schema_file.path} when the server was adopted (Atlas without Pro does not\n"
                  "-- manage these). Applied after every apply by scripts/apply-triggers.sh: keep it safe to run\n"
                  "-- again (CREATE OR REPLACE, IF NOT EXISTS).\n")
        (project / "triggers").mkdir(exist_ok=True)
        (project / target).write_text(header + "".join(_rerunnable(s) for s in moved).lstrip("\n") + "\n")
        result.notes.append(f"{schema_file.path}: {len(moved)} function/trigger statement(s) moved to {target}")
        if any(s.kind == "do" for s in moved):
            result.review.append(f"{target}: holds a DO block; make sure it is safe to run again")
    return kept


_CREATE = re.compile(r"^(\s*(?:--[^\n]*\n\s*)*)create\s+(?!or\s+replace\b)", re.I)


def _rerunnable(statement) -> str:
    """CREATE FUNCTION/TRIGGER/VIEW/PROCEDURE -> CREATE OR REPLACE; CREATE EXTENSION -> IF NOT EXISTS."""
    text = statement.text
    if statement.kind == "create extension" and not re.search(r"\bif\s+not\s+exists\b", statement.code, re.I):
        return re.sub(r"\bextension\b", "EXTENSION IF NOT EXISTS", text, count=1, flags=re.I)
    if statement.kind in ("create function", "create procedure", "create trigger", "create view"):
        return _CREATE.sub(lambda m: m.group(1) + "CREATE OR REPLACE ", text, count=1)
    return text


# ---- Better Auth's tables -------------------------------------------------------------------


def _normalized(definition: str) -> str:
    return re.sub(r"\s+", " ", definition.replace('"', "")).strip().lower()


def _adopt_auth(project: Path, server, answers: dict, result: Adoption) -> None:
    """The team's own columns, tables and indexes in auth -> 01_auth_custom.sql; the rest is generated."""
    plugins = answers.get("better_auth_plugins") or []
    teams = bool(answers.get("organization_teams"))
    model = {t.name: {c.name: c for c in t.columns} for t in better_auth.auth_tables(plugins, teams)}
    generated_indexes = {index.name for table in better_auth.auth_tables(plugins, teams) for index in table.indexes}
    theirs = server.auth_columns()
    custom: list[str] = []
    for statement in server.auth_file.statements:
        if statement.kind == "create table":
            table = sql_text.qualified_name_after(statement, "table")[1]
            if table not in model:
                custom.append(statement.text.strip() + "\n")
                result.notes.append(f"auth.{table}: your table, moved to {AUTH_CUSTOM}")
        elif statement.kind == "create index":
            name = sql_text.qualified_name_after(statement, "index")
            if name and name[1] not in generated_indexes:
                custom.append(statement.text.strip() + "\n")
                result.notes.append(f"index {name[1]}: yours, moved to {AUTH_CUSTOM}")
        elif statement.kind not in ("create schema", ""):
            custom.append(statement.text.strip() + "\n")
            result.review.append(f"{server.auth_file.path}: a {statement.kind} statement moved to {AUTH_CUSTOM}")
    for table, columns in theirs.items():
        if table not in model:
            continue
        for column, definition in columns:
            if column not in model[table]:
                custom.insert(0, f"ALTER TABLE auth.{quote_identifier(table)} ADD COLUMN {quote_identifier(column)} {definition};\n")
                result.notes.append(f"auth.{table}.{column}: your column, moved to {AUTH_CUSTOM}"
                                    " (declare it in additionalFields)")
            elif (ours := better_auth.column_sql(model[table][column])) and not _same_type(definition, ours):
                result.review.append(f"auth.{table}.{column}: yours is `{definition}`, Better Auth's is"
                                     f" `{ours.split(' ', 1)[1]}`; the first apply changes it")
        for column in model[table]:
            if column not in {name for name, _ in columns}:
                result.additions.append(f"column auth.{table}.{column}")
    for table in model:
        if table not in theirs:
            result.additions.append(f"table auth.{table}")
    if custom:
        path = project / AUTH_CUSTOM
        existing = path.read_text() if path.is_file() else (
            "-- Your own columns, tables and indexes in schema auth (loads right after 00_auth.sql;\n"
            "-- never touched by template updates).\n")
        existing = existing.split(FROM_AUTH_SQL, 1)[0]  # an earlier run's block: written again, not twice
        path.write_text(existing.rstrip("\n") + "\n\n" + FROM_AUTH_SQL + "".join(custom))


def _same_type(theirs: str, ours: str) -> bool:
    """Same column type and nullability (spelling aside: timestamptz = timestamp with time zone)."""
    def shape(definition: str) -> tuple[str, bool]:
        text = _normalized(definition).replace("timestamp with time zone", "timestamptz")
        return text.split(" ", 1)[0], "not null" in text or "primary key" in text
    return shape(theirs) == shape(ours.split(" ", 1)[1])


# ---- the old atlas.hcl ---------------------------------------------------------------------------


def _without_strings(expression: str) -> str:
    """An HCL expression with its string literals elided: a setting may hold a password."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', expression)


def _report_atlas_settings(project: Path, server, result: Adoption) -> None:
    unhandled = []  # (line, text)
    for attribute in server.atlas_attributes:
        path = attribute.path
        known = len(path) >= 3 and path[0] == "env" and path[1] in ("dev", "prod") and tuple(path[2:]) in GENERATED_SETTINGS
        if not known:
            unhandled.append((attribute.line, f"{'.'.join(path)} = {_without_strings(attribute.expression)}"))
    for block in server.atlas_blocks:
        if block.path[0] == "env" and len(block.path) == 2 and block.path[1] not in ("dev", "prod"):
            unhandled.append((block.line, f"env \"{block.path[1]}\" (an env the template does not write)"))
        elif block.path[0] != "env":
            unhandled.append((block.line, f"{' '.join(block.path)} {{ ... }}"))
    url = server.attribute("env", "prod", "url")
    if url and re.match(r"env\s*\(", url.expression):
        result.notes.append("atlas.hcl: prod url now uses getenv(\"DATABASE_URL\") (env() is not an Atlas function)")
    if unhandled:
        prefix = git(project, "rev-parse", "--show-prefix").stdout.strip()
        result.review.append(f"atlas.hcl: regenerated; the old one set more (see `git show HEAD:{prefix}atlas.hcl`):")
        result.review += [f"  line {line}: {text}" for line, text in sorted(unhandled)]


def report_text(adoption: Adoption) -> str:
    lines = ["Adopted a server built from the convention doc:"]
    if adoption.resumed:
        lines.append(f"  (an earlier run had made {adoption.resumed} of these moves, not committed yet: the files"
                     " are written again from the last commit)")
    if adoption.moves:
        lines.append("  Moved (git mv, staged alone):")
        lines += [f"    {old} -> {new}" for old, new in adoption.moves]
    lines += [f"  {note}" for note in adoption.notes]
    if adoption.additions:
        lines.append("  The first `atlas schema apply` adds what Better Auth needs and your schema lacks:")
        lines += [f"    {item}" for item in adoption.additions]
    if adoption.review:
        lines.append("  Review:")
        lines += [f"    {item}" for item in adoption.review]
    lines += [
        "  Next: commit the moves first, so history follows the files:",
        "    git commit -m 'Move schema files to the numbered names'",
        "    then review `git diff`, `git add -A` and commit the rest;",
        "    check with `npm run schema:apply -- --dry-run`: it must plan no DROP.",
    ]
    return "\n".join(lines)
