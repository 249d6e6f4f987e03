"""Where things are in a project the template writes: the names every step agrees on."""

from __future__ import annotations

import re

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
SHARED_FILES = ("package.json", ".gitignore", ".env", ".env.example")
# Paths the template writes whole (not merged): a copy refuses to start where one exists.
# tests/test_existing_server.py checks this list against what the template really writes.
TEMPLATE_FILES = ("DATABASE.md", ".copier", "triggers", "scripts/apply-triggers.sh", "scripts/domain-add.sh",
                  "scripts/db-check.sh", "scripts/db-check.sql", "db-check-waivers.txt",
                  "schemas/00_auth.sql", "schemas/10_public.sql", "schemas/20_*.sql")
# Every path a copy may write (whole or merged): what an interrupted copy can have left behind.
WRITTEN = (*TEMPLATE_FILES, *SHARED_FILES, ANSWERS_FILE, "README.md", *COMPOSE_FILES, SIDE_COMPOSE_FILE,
           "src/auth.ts", "schemas/01_auth_custom.sql")
# Written into the destination when a copy starts, removed when it ends: the files that were there.
COPY_STARTED = ".copier-copy-started"
# The template's schema files are numbered (00_auth.sql, 20_<domain>.sql); the convention doc's are not.
NUMBERED = re.compile(r"\d+_")
