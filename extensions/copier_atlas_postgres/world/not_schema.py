"""SQL files that are not a database schema: psql scripts and cluster-level set-up.

Servers keep bootstrap scripts beside their schema (compose init scripts, `make db` helpers): they
create the database and its roles, connect with `\\c`, read psql variables (`:"db_name"`), grant
rights. Atlas loads a schema file on an empty dev database and plans it against the team's: such a
file would create roles and databases on whatever server it reaches, or fail at the first psql
command. So a file that holds any of these is never schema: it is named, left where it is, and
nothing the template prints or runs executes it.
"""

from __future__ import annotations

import re

from . import sql_text

# Statements that act on the cluster, not on one database's schemas.
CLUSTER_KINDS = frozenset({"create database", "alter database", "drop database", "create role", "alter role",
                           "drop role", "create user", "alter user", "drop user", "create group", "alter group",
                           "create tablespace", "alter tablespace", "alter system", "reassign", "drop owned"})
# Statements that grant or set, and define nothing: a file of only these is a rights script.
_RIGHTS_KINDS = frozenset({"grant", "revoke", "alter default", "set", "reset", "select", "begin", "commit"})
# A psql meta-command: a backslash starting a line (\c, \connect, \set, \i, \gexec at a line's end).
_META = re.compile(r"^[ \t]*\\[A-Za-z!]|\\gexec\b", re.M)
# A psql variable: :name, :'name', :"name" (not a :: cast, not an array slice's bound).
_VARIABLE = re.compile(r"(?<![:\w\[])(:[\"']?)[A-Za-z_]\w*[\"']?")


def reason(text: str) -> str | None:
    """Why TEXT (a .sql file) is not a database schema, or None when it may be one."""
    code = sql_text.code_only(text)  # comments and strings blanked, "identifiers" kept
    if match := _META.search(code):
        command = match.group(0).strip().split()[0]
        return f"a psql script ({command} is a psql command, not SQL)"
    # :'name' is a string to the tokenizer: look for its colon in the code, its name in the text.
    with_strings = sql_text.code_only(text, keep_strings=True)
    for match in _VARIABLE.finditer(with_strings):
        if code[match.start()] == ":":
            return f"a psql script ({match.group(0)} is a psql variable)"
    statements = sql_text.split_statements(text)
    if cluster := sorted({s.kind.upper() for s in statements if s.kind in CLUSTER_KINDS}):
        return f"cluster set-up ({', '.join(cluster)}), not one database's schema"
    kinds = {s.kind for s in statements if s.kind}
    if kinds and kinds <= _RIGHTS_KINDS and kinds & {"grant", "revoke", "alter default"}:
        return "grants rights and defines nothing"
    return None
