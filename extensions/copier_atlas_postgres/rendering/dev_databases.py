"""The dev database modes (copier.yml's dev_database choices) as one table: what each gives the
server, so that a new mode is one entry here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DevDatabase:
    # package.json's db:up and db:down ('' = no such script); {compose_file} is the answer.
    db_up: str
    db_down: str


DEV_DATABASES = {
    # No db:down: the monorepo's PostgreSQL serves the other apps too.
    "shared": DevDatabase(db_up="sh scripts/shared-postgres.sh", db_down=""),
    "embedded": DevDatabase(db_up="node scripts/dev-postgres.mjs up", db_down="node scripts/dev-postgres.mjs down"),
    "docker": DevDatabase(db_up="docker compose -f {compose_file} up -d --wait postgres",
                          db_down="docker compose -f {compose_file} down"),
    # The team's own PostgreSQL: they start and stop it.
    "local": DevDatabase(db_up="", db_down=""),
}


def db_scripts(mode: str, compose_file: str = "") -> dict[str, str]:
    """package.json's db:up and db:down for MODE, those it has."""
    entry = DEV_DATABASES[mode]
    scripts = {"db:up": entry.db_up, "db:down": entry.db_down}
    return {name: command.format(compose_file=compose_file) for name, command in scripts.items() if command}
