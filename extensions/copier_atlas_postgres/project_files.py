"""Where things are in a project the template writes: the names every step agrees on."""

from __future__ import annotations

import shlex
from pathlib import Path

ANSWERS_FILE = ".copier-answers.yml"
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
# Beside an app's own compose file, the template's database service gets a file of its own.
SIDE_COMPOSE_FILE = "compose.db.yaml"
# Where an app keeps its Better Auth config: where Better Auth's CLI searches (auth.* in the root,
# lib/, utils/, server/, also under src/ and app/), plus auth/ folders. Relative to the server.
AUTH_CONFIG_PLACES = tuple(
    f"{root}{folder}{name}"
    for root in ("", "src/", "app/")
    for folder in ("", "lib/", "utils/", "server/", "lib/server/", "auth/")
    for name in ("auth.ts", "auth.js", "auth.mts", "auth.mjs", "auth.tsx", "auth.jsx", "auth.server.ts", "index.ts")
    if name != "index.ts" or folder == "auth/"
)
# Files the template shares with the app: it merges its part (.copier/) into them.
MERGED_FILES = ("package.json", ".gitignore", ".env", ".env.example")
# Better Auth's tables: written by copier from the answers, or by `npm run auth:generate` from the
# app's auth config (better_auth.written_by_auth_generate says which).
AUTH_SCHEMA_FILE = "schemas/00_auth.sql"
# Paths the template writes whole (not merged): a copy refuses to start where one exists.
# tests/test_existing_server.py checks this list against what the template really writes.
TEMPLATE_FILES = ("DATABASE.md", ".copier", "triggers", "scripts/apply-triggers.sh", "scripts/domain-add.sh", "scripts/template-update.sh",
                  "scripts/db-check.sh", "scripts/db-check.sql", "scripts/auth-schema.mjs", "scripts/auth-config.mjs",
                  "scripts/auth-try.mjs", "scripts/dev-postgres.mjs", "scripts/shared-postgres.sh",
                  "scripts/docker-check.sh",
                  "scripts/node-psql.mjs", "scripts/dotenv.mjs", "scripts/template.mjs", "scripts/schema-views.mjs", "db-check-waivers.txt",
                  "scripts/db-lint.mjs", "db-lint-waivers.txt", "scripts/db-drift.mjs", "scripts/atlas-cli.mjs",
                  "ci/github-workflow.yml", "scripts/ci-workflow.sh",
                  AUTH_SCHEMA_FILE, "schemas/10_public.sql", "schemas/20_*.sql")
# Without Atlas Pro, a team's CREATE EXTENSION statements (adopted): applied before Atlas, to the
# database it changes and to the dev database it loads schemas/ on (scripts/apply-triggers.sh).
EXTENSIONS_FOLDER = "extensions"
EXTENSIONS_FILE = f"{EXTENSIONS_FOLDER}/00_adopted.sql"
# What the template owns and the team does not edit (a folder ends with /): `template:check` compares
# them with what the project's recorded release renders for its answers.
TEMPLATE_OWNED = ("DATABASE.md", ".copier/", "scripts/")
# Every path a copy may write (whole or merged): what an interrupted copy can have left behind.
WRITTEN = (*TEMPLATE_FILES, *MERGED_FILES, ANSWERS_FILE, "README.md", *COMPOSE_FILES, SIDE_COMPOSE_FILE,
           "src/auth.ts", "schemas/01_auth_custom.sql", "atlas.hcl", EXTENSIONS_FILE)
# Written into the destination when a copy starts, removed when it ends: the files that were there.
COPY_STARTED = ".copier-copy-started"
# Written when an update starts to write, removed when it ends: an update that stopped half-way
# (the new template files written, the team's edits not put back yet) is recognised by it.
UPDATE_STARTED = ".copier-update-started"
# The command that puts a half-applied update back to the last commit, run in the project folder
# (`git clean` removes only what the update created: copier updates only a clean folder).
ROLL_BACK = "git checkout -- . && git clean -fd -- ."


def roll_back_command(project: Path) -> str:
    """ROLL_BACK as typed from anywhere: it starts in PROJECT."""
    return f"cd {shlex.quote(str(Path(project).resolve()))} && {ROLL_BACK}"
# The template's files in schemas/, in load order: Better Auth's (generated), the team's own auth
# columns, public, then one per domain.
AUTH_FILE = "00_auth.sql"
AUTH_CUSTOM_FILE = "01_auth_custom.sql"
PUBLIC_FILE = "10_public.sql"


def domain_file(domain: str) -> str:
    return f"20_{domain}.sql"


def schema_file_name(schema: str) -> str:
    """The file of schemas/ that holds the team's statements of SCHEMA (auth: their own columns)."""
    return {"auth": AUTH_CUSTOM_FILE, "public": PUBLIC_FILE}.get(schema) or domain_file(schema)


def is_generated(dst: Path) -> bool:
    """DST holds a project the template generated (its answers file)."""
    return (Path(dst) / ANSWERS_FILE).is_file()
