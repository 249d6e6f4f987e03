"""Bring a server built by hand from the convention doc under the template, losing nothing.

Run after `copier copy --overwrite` rendered the template into such a server (tasks.after_copy):
the answers were defaulted from its files (handmade_server.py), copier wrote the new
atlas.hcl and the numbered files, and this moves the team's own statements onto the numbered names,
schema by schema, whichever of their files holds them:

* a domain's statements -> `schemas/20_<domain>.sql` and public's -> `10_public.sql`, with the team's
  text (their tables stay where they were); several files of one schema become one, a file of
  several schemas is split;
* statements that use what a later file defines (a domain referencing a domain whose name sorts
  after it) go, with the rest of their schema's, to `schemas/30_<schema>.sql` (31_, ... when that
  one must wait for another): the order the team's files loaded in still loads;
* auth's -> `schemas/00_auth.sql`, which now holds the generated Better Auth schema; the
  team's own columns, tables and indexes in `auth` move to `schemas/01_auth_custom.sql`, theirs to
  keep, loaded right after;
* without Atlas Pro, functions and triggers leave `schemas/` (the official Atlas build refuses them
  there): the doc's `updated_at` boilerplate is dropped, since `triggers/` covers every table with
  an `updated_at` column under the same names; any other one moves to
  `triggers/90_<schema>_adopted.sql`, made safe to run again.

Each file is renamed in git's index onto the file that takes most of its text (staged alone, so
committing it first keeps `git log --follow` history; a file merged into another is `git rm`-ed),
and the new text is left unstaged for review. Nothing is committed. Everything starts from the last
commit, so running the adoption again, before that commit or after a kill, ends as one clean run.
The report lists what moved, how atlas.hcl's schemas list changed, what the old atlas.hcl set that
the new one does not, and what the first apply will add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_atomically
from ..git import committed, git
from ..project_files import ANSWERS_FILE, AUTH_CUSTOM_FILE, AUTH_FILE, COMPOSE_FILES, schema_file_name
from ..rendering.values import hcl_list, schema_names
from ..world import better_auth, sql_text
from ..world.handmade_server import PRO_ONLY_KINDS, read_handmade_server
from ..world.sql_text import quote_identifier

AUTH_CUSTOM = f"schemas/{AUTH_CUSTOM_FILE}"
# Without Better Auth, the team's own auth schema keeps a file of its own, loading where auth.sql did.
OWN_AUTH_FILE = "01_auth.sql"
FROM_AUTH_SQL = "-- From the hand-made schemas/auth.sql:\n"
# What the template's atlas.hcl writes itself: any other setting of the old file is reported.
GENERATED_SETTINGS = {("url",), ("dev",), ("schemas",), ("src",), ("schema", "src"), ("schema", "repo", "name"),
                      ("migration", "dir")}


@dataclass
class Adoption:
    moves: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what happened, one line each
    review: list[str] = field(default_factory=list)  # what the user must look at
    additions: list[str] = field(default_factory=list)  # what the first apply adds (Better Auth)
    resumed: int = 0  # moves an earlier run of the same adoption had made


def hand_made_server(project: Path):
    """The hand-made server this copy landed on, read from the last commit, or None."""
    if committed(project, ANSWERS_FILE) is not None:
        return None  # generated before: not an adoption
    tracked = git(project, "ls-tree", "-z", "--name-only", "HEAD", "schemas/", check=False).stdout.split("\0")
    # The committed texts, not the files on disk: an adoption run again (or after a kill) starts from
    # what the team committed, whatever an earlier run moved or copier wrote since.
    texts = {Path(p).name: committed(project, p) for p in tracked if p.endswith(".sql")}
    if not texts:
        return None
    return read_handmade_server(project, committed(project, "atlas.hcl"), texts)


def adopt(project: Path, answers: dict) -> Adoption | None:
    server = hand_made_server(project)
    if server is None:
        return None
    result = Adoption()
    pro = bool(answers.get("atlas_pro"))
    auth = bool(answers.get("use_better_auth"))
    managed = {"public", *(answers.get("domains") or [])}
    # What copier rendered, read before any file moves onto (or away from) these names.
    names = {schema_file_name(schema) for schema in managed} | ({AUTH_FILE} if auth else set())
    rendered = {name: (project / "schemas" / name).read_text() for name in names
                if (project / "schemas" / name).is_file()}

    kept = {id(s) for schema in server.schemas for s in
            (server.statements_of(schema) if pro or schema == "auth" else
             _move_pro_only(project, server, schema, result))}
    plan = server.load_plan(lambda statement: id(statement) in kept)

    def target_of(placed) -> str:
        if placed.schema == "auth":
            return AUTH_FILE if auth else OWN_AUTH_FILE
        return plan.target.get(id(placed.statement), schema_file_name(placed.schema))

    # Each file goes, in git's index, to the target that takes most of its text; a file whose target
    # another file already took is merged into it (git rm).
    texts: dict[str, list] = {}  # target -> its statements, in load order
    sources: dict[str, list] = {}  # team file -> [(target, share of its text)]
    for placed in server.statements:
        target = target_of(placed)
        if id(placed.statement) in kept:
            texts.setdefault(target, []).append(placed)
        shares = sources.setdefault(placed.source.path, [])
        shares.append((target, len(placed.statement.text)))
    claimed: dict[str, str] = {}  # target -> the team file renamed onto it
    for schema_file in server.files:
        totals: dict[str, int] = {}
        for target, size in sources.get(schema_file.path, []):
            totals[target] = totals.get(target, 0) + size
        main = max(totals, key=totals.get) if totals else schema_file_name(schema_file.schema)  # first of equals
        if main not in claimed:
            claimed[main] = schema_file.path
            if schema_file.path != f"schemas/{main}":
                result.moves.append((schema_file.path, f"schemas/{main}"))
        else:
            result.notes.append(f"{schema_file.path}: merged into schemas/{main} (git rm; its history stays under"
                                " its old name)")
        for target in totals:
            if target != main:
                schemas = sorted({p.schema for p in server.statements
                                  if p.source is schema_file and target_of(p) == target})
                result.notes.append(f"{schema_file.path}: its statements of {', '.join(schemas)} -> schemas/{target}")
    result.resumed = _stage_renames(project, server, claimed)
    for later, uses in plan.later.items():
        schema = texts[later][0].schema
        result.notes.append(f"schemas/{later}: {schema}'s statements that use what {', '.join(f'schemas/{u}' for u in uses)}"
                            f" define{'s' if len(uses) == 1 else ''}, so they load after {'it' if len(uses) == 1 else 'them'}")

    for target, placed in texts.items():
        schema = placed[0].schema
        if schema == "auth":
            continue
        statements = _from_each_file([p for p in placed if target not in rendered or p.statement.kind != "create schema"])
        source = next((f for f in server.files if f.path == claimed.get(target)), None)
        tail = _tail(source.text) if source else "\n"
        if target in rendered:
            text = _onto_rendered(rendered[target], statements, tail)
        elif schema in managed:
            text = _later_file(schema, target, plan.later.get(target, []), statements, tail)
        else:  # a schema not among the answered domains (given with --data): kept, not managed
            text = "".join(s.text for s in statements).lstrip("\n")
            result.review.append(f"schemas/{target}: schema {schema} is not among the answered domains: kept as"
                                 " your files had it, and Atlas does not manage it (atlas.hcl does not list it)")
        write_atomically(project / "schemas" / target, text)
    for schema in managed & set(server.schemas):
        name = schema_file_name(schema)  # all its statements went to a later file, or to triggers/
        if name not in texts and name in rendered:
            write_atomically(project / "schemas" / name, _onto_rendered(rendered[name], [], "\n"))
    if "auth" in server.schemas:
        if auth:
            _adopt_auth(project, server, answers, result)
            write_atomically(project / "schemas" / AUTH_FILE, rendered.get(AUTH_FILE, ""))
        else:
            write_atomically(project / "schemas" / OWN_AUTH_FILE,
                             "".join(s.text for s in server.statements_of("auth")).lstrip("\n"))
            result.review.append(f"schemas/{OWN_AUTH_FILE}: your schema auth (you answered no Better Auth), kept;"
                                 " atlas.hcl does not list auth, so Atlas leaves it alone (git rm it if unused)")
    _report_schemas_list(server, answers, result)
    _report_atlas_settings(project, server, result)
    for name in COMPOSE_FILES:
        if name != answers.get("compose_file", "compose.yaml") and (project / name).is_file() \
                and answers.get("dev_database") == "docker":
            result.review.append(f"{name}: yours, kept; the template's postgres service is in"
                                 f" {answers.get('compose_file')} (`npm run db:up`); drop yours if it runs the same database")
    return result


def _stage_renames(project: Path, server, claimed: dict[str, str]) -> int:
    """Stage each team file as renamed onto the target it claimed (its committed text at the new
    name), the others as deleted, and take them off the disk where no target is written. Index
    operations only, from the last commit: running it again changes nothing. Returns how many of
    these renames the index already held (an earlier run)."""
    prefix = git(project, "rev-parse", "--show-prefix").stdout.strip()
    committed_entries = {}
    for line in git(project, "ls-tree", "-z", "HEAD", "--", "schemas/").stdout.split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            mode, _, blob = meta.split()
            committed_entries[path] = (mode, blob)
    paths = [f.path for f in server.files]
    staged = {}  # path -> blob, as the index has it now
    for line in git(project, "ls-files", "-s", "-z", "--", "schemas/").stdout.split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            staged[path] = meta.split()[1]
    resumed = sum(1 for target, source in claimed.items() if f"schemas/{target}" != source
                  and staged.get(f"schemas/{target}") == committed_entries[source][1])
    git(project, "update-index", "--force-remove", "--", *paths)
    for target, source in claimed.items():
        mode, blob = committed_entries[source]
        git(project, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{prefix}schemas/{target}")
    targets = {f"schemas/{t}" for t in claimed}
    for path in paths:
        if path not in targets:
            (project / path).unlink(missing_ok=True)
    return resumed


def _from_each_file(placed: list) -> list:
    """The statements of PLACED, each starting on a line of its own; where they come from several
    of the team's files, each file's run of them starts with a comment naming it."""
    several = len({id(p.source) for p in placed}) > 1
    statements, source = [], None
    for p in placed:
        text = p.statement.text
        if several and p.source is not source:
            text = f"\n\n-- From {p.source.path}:\n" + text.lstrip("\n")
        elif statements and not text.startswith("\n"):
            text = "\n" + text
        statements.append(sql_text.Statement(text, p.statement.start))
        source = p.source
    return statements


def _later_file(schema: str, name: str, uses: list[str], statements: list, tail: str) -> str:
    after = ", ".join(f"schemas/{u}" for u in uses)
    header = (f"-- Schema {schema}, continued: statements that use what {after} define{'s' if len(uses) == 1 else ''},\n"
              f"-- so this file loads after {'it' if len(uses) == 1 else 'them'} (Atlas loads schemas/*.sql in"
              " file-name order).\n-- Written when the server was adopted; yours: template updates never touch it.\n")
    return header + "\n" + "".join(s.text for s in statements).strip("\n") + (tail if tail.strip() else "\n")


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
    if not body.strip("\n"):
        return head.rstrip("\n") + "\n" + ending
    return head.rstrip("\n") + "\n\n" + body.strip("\n") + ending


def _tail(text: str) -> str:
    """What follows the last statement of a file (closing comments, the final newline)."""
    statements = sql_text.split_statements(text)
    if not statements:
        return text
    last = statements[-1]
    return text[last.start + len(last.text):]


_BOILERPLATE = re.compile(r"\bupdate_updated_at_column\b", re.I)


def _move_pro_only(project: Path, server, schema: str, result: Adoption) -> list:
    """SCHEMA's statements without functions and triggers; the doc's updated_at boilerplate is
    dropped (triggers/ covers it), anything else goes to triggers/90_<schema>_adopted.sql."""
    kept, moved, dropped = [], [], []
    for statement in server.statements_of(schema):
        if statement.kind not in PRO_ONLY_KINDS:
            kept.append(statement)
        elif statement.kind in ("create function", "create trigger") and _BOILERPLATE.search(statement.code):
            dropped.append(statement.kind.split()[1])
        else:
            moved.append(statement)
    where = ", ".join(f.path for f in server.files_of(schema))
    if dropped:
        result.notes.append(f"{where}: the doc's updated_at {dropped.count('function')} function(s) and"
                            f" {dropped.count('trigger')} trigger(s) removed: triggers/ covers every table with"
                            " updated_at, under the same names")
    if moved:
        target = f"triggers/90_{schema}_adopted.sql"
        header = (f"-- Moved from {where} when the server was adopted (Atlas without Pro does not\n"
                  "-- manage these). Applied after every apply by scripts/apply-triggers.sh: keep it safe to run\n"
                  "-- again (CREATE OR REPLACE, IF NOT EXISTS).\n")
        (project / "triggers").mkdir(exist_ok=True)
        write_atomically(project / target, header + "".join(_rerunnable(s) for s in moved).lstrip("\n") + "\n")
        result.notes.append(f"{where}: {len(moved)} function/trigger statement(s) moved to {target}")
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
    for statement in server.statements_of("auth"):
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
            result.review.append(f"{server.auth_file.path if server.auth_file else 'auth'}: a {statement.kind}"
                                 f" statement moved to {AUTH_CUSTOM}")
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
        write_atomically(path, existing.rstrip("\n") + "\n\n" + FROM_AUTH_SQL + "".join(custom))


def _same_type(theirs: str, ours: str) -> bool:
    """Same column type and nullability (spelling aside: timestamptz = timestamp with time zone)."""
    def shape(definition: str) -> tuple[str, bool]:
        text = _normalized(definition).replace("timestamp with time zone", "timestamptz")
        return text.split(" ", 1)[0], "not null" in text or "primary key" in text
    return shape(theirs) == shape(ours.split(" ", 1)[1])


# ---- the old atlas.hcl ---------------------------------------------------------------------------


def _report_schemas_list(server, answers: dict, result: Adoption) -> None:
    """How atlas.hcl's `schemas` list changed: what Atlas manages now that it did not, and why
    each schema it no longer manages is left alone."""
    before = server.listed_schemas()
    if not before:
        return  # no atlas.hcl, or one without a list
    now = schema_names(answers.get("domains"), bool(answers.get("use_better_auth")))
    added, removed = [s for s in now if s not in before], [s for s in before if s not in now]
    if not added and not removed:
        return
    result.notes.append(f"atlas.hcl: schemas = {hcl_list(before)} before, {hcl_list(now)} now")
    for schema in added:
        why = "your schema files define it" if schema in server.schemas else (
            "Better Auth's tables" if schema == "auth" else "a domain you added")
        result.notes.append(f"  {schema}: now managed ({why}); the first apply creates what the database lacks there")
    for schema in removed:
        if schema == "auth":
            why = "you answered no Better Auth"
        elif schema not in server.schemas:
            why = "no schema file defines anything in it, so Atlas planned it empty"
        else:
            why = "not among the answered domains"
        result.review.append(f"atlas.hcl: schema {schema} is no longer listed ({why}): Atlas leaves it alone now")


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
        lines.append("  Moved (staged alone, as renames):")
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
