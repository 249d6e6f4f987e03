"""What refuses adopting a hand-made server: domain schemas named so that the template cannot write
them into its file names and SQL as they are (questions/destination.py lists these refusals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..world.sql_text import quote_identifier, sql_identifier
from .rules import adopted_domain_error, to_identifier

if TYPE_CHECKING:
    from ..world.handmade_server import HandmadeServer


def name_problems(server: HandmadeServer) -> list[str]:
    """One line per schema of SERVER that cannot stay a domain as it is named: its files, and the rename."""
    problems = []
    for schema in server.domains:
        if adopted_domain_error(schema):
            files = ", ".join(f.path for f in server.files_of(schema))
            problems.append(
                f"{files}: schema {quote_identifier(schema)}: domain schemas are named a-z, 0-9"
                f" and _ (its files are named after it); rename it in your files and in each database"
                f" (ALTER SCHEMA {quote_identifier(schema)} RENAME TO {sql_identifier(to_identifier(schema))}),"
                " commit, then copy again")
    return problems
