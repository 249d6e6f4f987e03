"""Just enough of PostgreSQL's lexical rules to read hand-written schema files.

Adopting a server built by hand from the convention doc means reading its `schemas/*.sql`: which
schemas each file creates, which tables and columns, which statements are functions and triggers.
This runs in the user's copier environment, where PostgreSQL's own parser (pglast) is not
installed, so it is a small tokenizer: statements end at a `;` outside quotes, comments and
dollar-quoted bodies; names follow PostgreSQL's folding (unquoted lowercased, "quoted" kept).
The tests check it against pglast on the doc's shapes and the template's own files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# PostgreSQL keywords that cannot be a bare identifier (written by maint/pg_keywords.py from pglast).
PG_RESERVED: frozenset[str] = frozenset(
    (Path(__file__).parent.parent / "data" / "pg_reserved_keywords.txt").read_text(encoding="utf-8").split())

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r'[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")*"')


def _skip_quoted(text: str, i: int) -> int:
    """Index just past the quoted token or comment starting at i, or i if there is none."""
    ch = text[i]
    if text.startswith("--", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end + 1
    if text.startswith("/*", i):
        depth, j = 0, i
        while j < len(text):
            if text.startswith("/*", j):
                depth, j = depth + 1, j + 2
            elif text.startswith("*/", j):
                depth, j = depth - 1, j + 2
                if depth == 0:
                    return j
            else:
                j += 1
        return len(text)
    if ch in "'\"":
        escapes = ch == "'" and i > 0 and text[i - 1] in "eE" and (i < 2 or not text[i - 2].isalnum())
        j = i + 1
        while j < len(text):
            if escapes and text[j] == "\\":
                j += 2
            elif text[j] == ch:
                if text.startswith(ch * 2, j):
                    j += 2
                else:
                    return j + 1
            else:
                j += 1
        return len(text)
    if ch == "$" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
        if match := _DOLLAR_TAG.match(text, i):
            end = text.find(match.group(0), match.end())
            return len(text) if end < 0 else end + len(match.group(0))
    return i


def code_only(text: str, *, keep_strings: bool = False) -> str:
    """TEXT with comments blanked (same length, newlines kept) and, unless KEEP_STRINGS, quoted
    strings and dollar-quoted bodies blanked too; "quoted identifiers" always stay. Word searches
    on the result see only the statement's structure."""
    out, i = [], 0
    while i < len(text):
        end = _skip_quoted(text, i)
        if end == i:
            out.append(text[i])
            i += 1
        else:
            comment = text.startswith(("--", "/*"), i)
            kept = text[i] == '"' or (keep_strings and not comment)
            out.append(text[i:end] if kept else re.sub(r"[^\n]", " ", text[i:end]))
            i = end
    return "".join(out)


@dataclass(frozen=True)
class Statement:
    text: str  # as written, with the comments and blank lines before it, and its `;`
    start: int  # offset of `text` in the file

    @property
    def code(self) -> str:
        return code_only(self.text).strip()

    @property
    def words(self) -> list[str]:
        """The statement's words and identifiers, folded as PostgreSQL folds them."""
        return [fold(w) for w in _WORD.findall(self.code)]

    @property
    def kind(self) -> str:
        """'create table', 'create function', 'create trigger', 'create index', 'create schema',
        'alter table', 'do', 'create extension', ... (optional words such as OR REPLACE, UNIQUE,
        CONSTRAINT, TEMP are left out)."""
        words = [w for w in self.words[:6] if w not in _OPTIONAL_WORDS]
        if not words:
            return ""
        if words[0] in ("create", "alter", "drop", "comment") and len(words) > 1:
            return f"{words[0]} {words[1]}"
        return words[0]


_OPTIONAL_WORDS = {"or", "replace", "unique", "constraint", "temp", "temporary", "unlogged", "global", "local"}


def quote_identifier(identifier: str) -> str:
    """A quoted SQL identifier: the name exactly as written."""
    return '"' + identifier.replace('"', '""') + '"'


def split_statements(text: str) -> list[Statement]:
    """The statements of a SQL file, in order; trailing comments without a statement are dropped."""
    statements, start, i = [], 0, 0
    while i < len(text):
        end = _skip_quoted(text, i)
        if end != i:
            i = end
        elif text[i] == ";":
            statements.append(Statement(text[start:i + 1], start))
            start = i = i + 1
        else:
            i += 1
    if code_only(text[start:]).strip():
        statements.append(Statement(text[start:], start))
    return statements


def fold(word: str) -> str:
    """An identifier as PostgreSQL stores it: "Quoted" kept, unquoted lowercased."""
    if word.startswith('"'):
        return word[1:-1].replace('""', '"')
    return word.lower()


def qualified_name_after(statement: Statement, *keywords: str) -> tuple[str | None, str] | None:
    """The (schema, name) that follows the first occurrence of KEYWORDS in the statement
    (IF [NOT] EXISTS skipped), e.g. qualified_name_after(s, "table") -> ("auth", "user")."""
    code = statement.code
    tokens = [(m.group(0), m.end()) for m in _WORD.finditer(code)]
    folded = [fold(t) for t, _ in tokens]
    n = len(keywords)
    for k in range(len(folded) - n + 1):
        if folded[k:k + n] == list(keywords) and not tokens[k][0].startswith('"'):
            j = k + n
            while j < len(folded) and folded[j] in ("if", "not", "exists", "only") and not tokens[j][0].startswith('"'):
                j += 1
            if j >= len(tokens):
                return None
            first, end = tokens[j]
            rest = code[end:]
            if match := re.match(r'\s*\.\s*([A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")*")', rest):
                return fold(first), fold(match.group(1))
            return None, fold(first)
    return None


def parenthesized_body(statement: Statement) -> str | None:
    """The text inside the statement's first top-level parentheses (a CREATE TABLE's columns)."""
    code = code_only(statement.text)
    open_at = code.find("(")
    if open_at < 0:
        return None
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                return statement.text[open_at + 1:i]
    return None


_TABLE_CONSTRAINTS = {"constraint", "primary", "unique", "foreign", "check", "exclude", "like"}


def table_columns(statement: Statement) -> list[tuple[str, str]]:
    """(column name, its definition as written) of a CREATE TABLE, table constraints left out."""
    body = parenthesized_body(statement)
    if body is None:
        return []
    code, columns, depth, start = code_only(body), [], 0, 0
    for i, ch in enumerate(code + ","):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            start_item = start + len(code[start:i]) - len(code[start:i].lstrip())
            item_code = code[start_item:i]
            start = i + 1
            match = _WORD.match(item_code)
            if not match or (not match.group(0).startswith('"') and match.group(0).lower() in _TABLE_CONSTRAINTS):
                continue
            definition = code_only(body[start_item:i], keep_strings=True)[match.end():]
            columns.append((fold(match.group(0)), re.sub(r"\s+", " ", definition).strip()))
    return columns


def sql_identifier(name: str) -> str:
    """NAME as SQL writes it: bare when PostgreSQL reads it back unchanged, else quoted (a domain a
    hand-made server already had may be a reserved word: "user")."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in PG_RESERVED:
        return name
    return quote_identifier(name)
