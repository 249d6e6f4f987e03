"""The small SQL and HCL readers that adoption uses, against the real parsers (pglast, python-hcl2)."""

from __future__ import annotations

import re

import hcl2
import pglast
import pytest
from hcl2 import SerializationOptions

from copier_atlas_postgres.world import hcl_text, sql_text
from tests.helpers.answers import MATRIX
from tests.helpers.postgres import schema_files
from tests.helpers.releases import TEMPLATE_ROOT

DATA = TEMPLATE_ROOT / "tests" / "data"
TRICKY_SQL = r"""
-- a comment; with a semicolon
CREATE SCHEMA IF NOT EXISTS "Weird;Name";
/* block /* nested; */ comment; */
CREATE TABLE "Weird;Name"."t;1" (
  "id;" text PRIMARY KEY,  -- trailing, comment
  note text DEFAULT 'it''s; here',
  escaped text DEFAULT E'back\'slash;',
  body text DEFAULT $tag$ dollar; $$ quoted $tag$,
  CONSTRAINT t_check CHECK (length(note) > 0),
  price numeric(10, 2) NOT NULL
);
CREATE OR REPLACE FUNCTION "Weird;Name".f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.x = 'a;b'; RETURN NEW; END;
$$;
CREATE UNIQUE INDEX i ON "Weird;Name"."t;1" (note);
create constraint trigger tr after insert on "Weird;Name"."t;1" for each row execute function "Weird;Name".f();
DO $$ BEGIN PERFORM 1; END $$;
-- trailing comment only
"""

PGLAST_KINDS = {"CreateSchemaStmt": "create schema", "CreateStmt": "create table", "CreateFunctionStmt": "create function",
                "IndexStmt": "create index", "CreateTrigStmt": "create trigger", "DoStmt": "do",
                "AlterTableStmt": "alter table", "CreateExtensionStmt": "create extension"}


def doc_sql() -> list[str]:
    """The doc's SQL samples, minus the two mistakes PostgreSQL rejects (a trailing comma before `)`,
    and an index on a column named `column`, a reserved word)."""
    text = (DATA / "convention-doc-samples.sql").read_text()
    return [re.sub(r",\s*(--[^\n]*\n\s*)?\)", r"\n)", text).replace("(column)", "(name)")]


def sources(render) -> list[str]:
    rendered = [render(**answers.values[0]) for answers in MATRIX]
    return [TRICKY_SQL, *doc_sql(), *(p.read_text() for project in rendered for p in schema_files(project)),
            *(p.read_text() for project in rendered for p in sorted(project.glob("triggers/*.sql")))]


def test_statements_kinds_and_names_match_pglast(render):
    for text in sources(render):
        ours = sql_text.split_statements(text)
        theirs = pglast.parse_sql(text)
        assert len(ours) == len(theirs), text
        for mine, raw in zip(ours, theirs, strict=True):
            statement = raw.stmt
            kind = type(statement).__name__
            assert mine.kind == PGLAST_KINDS[kind], mine.text
            if kind == "CreateStmt":
                relation = statement.relation
                assert sql_text.qualified_name_after(mine, "table") == (relation.schemaname, relation.relname)
                names = [element.colname for element in statement.tableElts if hasattr(element, "colname")]
                assert [name for name, _ in sql_text.table_columns(mine)] == names
            elif kind == "CreateSchemaStmt":
                assert sql_text.qualified_name_after(mine, "schema") == (None, statement.schemaname)


def test_column_definitions_lose_comments_and_keep_strings():
    (table,) = [s for s in sql_text.split_statements(TRICKY_SQL) if s.kind == "create table"]
    columns = dict(sql_text.table_columns(table))
    assert columns["id;"] == "text PRIMARY KEY"
    assert columns["note"] == "text DEFAULT 'it''s; here'"
    assert columns["price"] == "numeric(10, 2) NOT NULL"


def test_statement_text_reassembles_the_file():
    statements = sql_text.split_statements(TRICKY_SQL)
    rebuilt = "".join(s.text for s in statements)
    assert TRICKY_SQL.startswith(rebuilt)
    assert TRICKY_SQL[len(rebuilt):].strip() == "-- trailing comment only"


def hcl_sources(render) -> list[str]:
    doc_hcl = (DATA / "handmade-server" / "atlas.hcl").read_text()  # the convention doc's, verbatim
    return [doc_hcl, *((render(**a.values[0]) / "atlas.hcl").read_text() for a in MATRIX)]


def flatten(value, path=()):
    """python-hcl2's dict as (path, value) pairs, in the shape hcl_text reports."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, (*path, key.strip('"')))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for inner in value:
            yield from flatten(inner, path)
    else:
        yield path, value


def test_hcl_attributes_match_python_hcl2(render):
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    for text in hcl_sources(render):
        theirs = dict(flatten(hcl2.loads(text, serialization_options=options)))
        _, attributes = hcl_text.read(text)
        assert {a.path for a in attributes} == set(theirs), text
        for attribute in attributes:
            if attribute.string is not None:
                assert theirs[attribute.path] == attribute.string
            if attribute.strings is not None:
                assert theirs[attribute.path] == attribute.strings


def test_hcl_blocks_have_their_labels_and_lines():
    blocks, attributes = hcl_text.read('# c\nenv "dev" {\n  x = "a"\n  lint {\n    y = [1,\n 2]\n  }\n}\nz = f("q")\n')
    assert [(b.path, b.line) for b in blocks] == [(("env", "dev"), 2), (("env", "dev", "lint"), 4)]
    assert [(a.path, a.expression, a.line) for a in attributes] == [
        (("env", "dev", "x"), '"a"', 3), (("env", "dev", "lint", "y"), "[1,\n 2]", 5), (("z",), 'f("q")', 9)]
    assert attributes[2].string is None  # an expression, not a literal
    with pytest.raises(ValueError):
        hcl_text.read('env "dev" x = 1\n')
