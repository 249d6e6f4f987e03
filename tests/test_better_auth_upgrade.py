"""A Better Auth upgrade on a database with users: a user signed up with better-auth 1.3.14 (the real
library), then the app moves to the newest pinned release. auth:check names what it needs and what
each change does to a table with rows; auth:generate writes the steps that keep the rows; they run
(psql, or migrate:apply on the versioned path), the apply finds nothing left that locks or fails,
and the user signs in with the new release. Real npm installs, Atlas, Squawk and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from copier_atlas_postgres.world import better_auth
from tests.helpers.atlas import atlas_url
from tests.helpers.npm import install_older_better_auth, install_squawk, install_typescript_compiler, link_modules, run_npm_script
from tests.helpers.postgres import pg_bin

SIGN_IN = """
import { loadAuth } from "./scripts/auth-config.mjs";
const auth = await loadAuth("src/auth.ts", "sign-in");
const response = await auth.api.signInEmail({ body: { email: process.argv[2], password: process.argv[3] }, asResponse: true });
console.log("signed in", response.status);
process.exit(0);
"""

# The core tables of 1.3.14 lack the indexes 1.4.0 added: on tables with rows, each locks writes.
NEW_INDEXES = {"session_userId_idx", "account_userId_idx", "verification_identifier_idx"}

# Required columns of the app's own, added to its config in the same upgrade: a static default (the
# apply adds it with its DEFAULT), a default Better Auth computes (backfilled), none (a TODO).
REQUIRED_FIELDS = """user: { additionalFields: {
    locale: { type: "string", required: true, defaultValue: "en" },
    plan: { type: "string", required: true, defaultValue: () => "free" },
    nickname: { type: "string", required: true },
  } },"""
NICKNAME_TODO = '-- UPDATE auth."user" SET "nickname" = ... WHERE "nickname" IS NULL;'


@dataclass
class Upgrade:
    """A server whose database holds a user made with better-auth 1.3.14, and the shell around it."""

    project: Path
    uri: str  # the database, for psql and psycopg
    url: str  # the same, for Atlas
    run: Callable[..., subprocess.CompletedProcess]

    def ok(self, *argv: str) -> str:
        done = self.run(*argv)
        assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout}{done.stderr}"
        return done.stdout

    def npm(self, script: str, *args: str) -> str:
        return self.ok("npm", "run", "--silent", script, *(["--", *args] if args else []))

    def migrate_apply(self) -> str:
        """The dev database's apply, here on this database (--url, as a user points it elsewhere)."""
        return self.npm("migrate:apply", "--url", self.url)

    def rows(self) -> dict[str, int]:
        with psycopg.connect(self.uri) as conn:
            return {t: conn.execute(f'SELECT count(*) FROM auth."{t}"').fetchone()[0] for t in ("user", "account")}

    def signs_in(self) -> None:
        (self.project / "sign-in.mjs").write_text(SIGN_IN)
        signed_in = self.run("node", "sign-in.mjs", "ann@example.com", "correct horse battery")
        assert "signed in 200" in signed_in.stdout, signed_in.stdout + signed_in.stderr


@contextmanager
def signed_up(render, pg_server, atlas, better_auth_check, tmp_path, production_path: str,
              first_apply: Callable[[Upgrade], object]) -> Iterator[Upgrade]:
    """A fresh server on PRODUCTION_PATH, its auth tables written for 1.3.14 and applied by
    FIRST_APPLY, and a user signed up through 1.3.14; the databases are dropped after."""
    project = shutil.copytree(render(use_better_auth=True, dev_database="local", production_path=production_path),
                              tmp_path / "server")
    link_modules(project, install_older_better_auth("1.3.14"), install_typescript_compiler())
    database = f"upgrade_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
        conn.execute(f'CREATE DATABASE "{database}_scratch"')
    uri = pg_server.get_uri(database)
    # better-auth 1.3.14 ignores database.schemaName: the pool's search_path finds schema auth.
    node_url = better_auth_check.node_database_url(uri) + "?options=-c%20search_path%3Dauth"
    (project / ".env").write_text(f"DATABASE_URL={node_url}\nBETTER_AUTH_SECRET={'s' * 32}\n"
                                  "BETTER_AUTH_URL=http://localhost:3000\n")
    tools = os.pathsep.join([str(Path(atlas).parent), str(install_squawk()),
                             str(Path(pg_bin("psql")).parent), os.environ["PATH"]])
    url = atlas_url(pg_server, database)
    env = {**os.environ, "PATH": tools, "ATLAS_NO_UPDATE_NOTIFIER": "1", "DATABASE_URL": url,
           "ATLAS_DEV_URL": atlas_url(pg_server, f"{database}_scratch")}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120)

    upgrade = Upgrade(project, uri, url, run)
    try:
        upgrade.npm("auth:generate")
        first_apply(upgrade)
        assert "signed up ann@example.com" in upgrade.npm("auth:try", "ann@example.com", "correct horse battery")
        yield upgrade
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{database}_scratch" WITH (FORCE)')


def upgrade_modules(upgrade: Upgrade, release_modules, version: str) -> None:
    shutil.rmtree(upgrade.project / "node_modules")
    link_modules(upgrade.project, release_modules(version), install_typescript_compiler())


def test_an_upgrade_keeps_every_row_and_the_sign_in(render, pg_server, atlas, release_modules, better_auth_check,
                                                    tmp_path):
    """Declarative: the new release's indexes and the app's new required columns, through auth-upgrade.sql."""
    newest = better_auth.release_for([]).version
    def apply(upgrade: Upgrade) -> str:
        return upgrade.npm("prod:apply", "--auto-approve")  # lints first

    with signed_up(render, pg_server, atlas, better_auth_check, tmp_path, "declarative", apply) as upgrade:
        project = upgrade.project
        upgrade_modules(upgrade, release_modules, newest)
        config = project / "src" / "auth.ts"
        config.write_text(config.read_text().replace("plugins: [],", REQUIRED_FIELDS + "\n  plugins: [],", 1))

        checked = run_npm_script(project, "auth:check")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert checked.stdout.startswith(
            f"auth:check: schemas/00_auth.sql is written for better-auth 1.3.14; the app runs {newest}, which needs:\n")
        named = [line for line in checked.stdout.splitlines() if line.startswith("  index ")]
        assert {line.split('"')[1] for line in named} == NEW_INDEXES, checked.stdout
        assert all(line.endswith("-- locks writes while it builds: auth:generate builds it CONCURRENTLY first")
                   for line in named), checked.stdout
        columns = {line.split('"')[3]: line for line in checked.stdout.splitlines() if line.startswith("  column ")}
        assert columns.keys() == {"locale", "plan", "nickname"}, checked.stdout
        assert columns["locale"].endswith("NOT NULL"), columns  # its DEFAULT fills the rows there are
        assert all("fails on a table with rows" in columns[c] for c in ("plan", "nickname")), columns

        generated = run_npm_script(project, "auth:generate")
        assert generated.returncode == 0, generated.stderr
        assert "wrote auth-upgrade.sql: 9 steps" in generated.stdout
        steps = (project / "auth-upgrade.sql").read_text()
        assert steps.count("CREATE INDEX CONCURRENTLY IF NOT EXISTS") == 3, steps
        assert NICKNAME_TODO in steps, steps
        psql = (pg_bin("psql"), "-v", "ON_ERROR_STOP=1", upgrade.uri, "-f", "auth-upgrade.sql")

        # Until the TODO is done the steps stop at its SET NOT NULL, which changes nothing.
        stopped = upgrade.run(*psql)
        assert stopped.returncode != 0 and 'column "nickname" of relation "user" contains null values' in stopped.stderr, \
            stopped.stderr
        with psycopg.connect(upgrade.uri) as conn:
            user = conn.execute('SELECT plan, nickname FROM auth."user"').fetchall()
            nullable = {r[0]: r[1] for r in conn.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'auth' "
                "AND table_name = 'user' AND column_name IN ('plan', 'nickname')")}
        assert user == [("free", None)] and nullable == {"plan": "NO", "nickname": "YES"}

        (project / "auth-upgrade.sql").write_text(
            steps.replace(NICKNAME_TODO, 'UPDATE auth."user" SET "nickname" = name WHERE "nickname" IS NULL;'))
        for _ in range(2):  # safe to run again
            upgrade.ok(*psql)
        apply(upgrade)
        assert run_npm_script(project, "auth:check").returncode == 0

        assert upgrade.rows() == {"user": 1, "account": 1}
        with psycopg.connect(upgrade.uri) as conn:
            indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'auth'")}
            user = conn.execute('SELECT locale, plan, nickname = name FROM auth."user"').fetchall()
        assert NEW_INDEXES <= indexes and user == [("en", "free", True)]
        upgrade.signs_in()


def test_a_versioned_upgrade_is_migrations_that_keep_every_row(render, pg_server, atlas, release_modules,
                                                                better_auth_check, tmp_path):
    """Versioned: the steps auth:generate writes are migrations, hashed and applied by Atlas before
    the config's own diff; the one with a TODO fails whole, then applies once it is done."""
    newest = better_auth.release_for([]).version

    def first_migration(upgrade: Upgrade) -> None:
        upgrade.npm("migrate:diff", "initial")
        upgrade.migrate_apply()

    with signed_up(render, pg_server, atlas, better_auth_check, tmp_path, "versioned", first_migration) as upgrade:
        project = upgrade.project
        upgrade_modules(upgrade, release_modules, newest)
        config = project / "src" / "auth.ts"
        config.write_text(config.read_text().replace("plugins: [],", REQUIRED_FIELDS + "\n  plugins: [],", 1))
        generated = upgrade.npm("auth:generate")
        initial, columns, indexes = sorted((project / "migrations").glob("*.sql"))
        name = f"better_auth_{newest.replace('.', '_')}"
        assert (columns.name.split("_", 1)[1], indexes.name.split("_", 1)[1]) == (f"{name}.sql", f"{name}_indexes.sql")
        assert f"wrote migrations/{columns.name}: 6 steps" in generated, generated
        assert f"wrote migrations/{indexes.name}: 3 steps" in generated, generated
        assert "Next: npm run migrate:hash" in generated, generated
        assert indexes.read_text().startswith("-- atlas:txmode none\n") and "txmode" not in columns.read_text()

        upgrade.npm("migrate:hash")
        stopped = upgrade.run("npm", "run", "--silent", "migrate:apply", "--", "--url", upgrade.url)
        assert stopped.returncode != 0 and 'column "nickname" of relation "user" contains null values' in stopped.stderr, \
            stopped.stdout + stopped.stderr
        with psycopg.connect(upgrade.uri) as conn:  # the whole file undone: "plan" is not there either
            added = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'auth' "
                                 "AND column_name IN ('plan', 'nickname')").fetchall()
        assert added == []
        columns.write_text(columns.read_text().replace(
            NICKNAME_TODO, 'UPDATE auth."user" SET "nickname" = name WHERE "nickname" IS NULL;'))
        upgrade.npm("migrate:hash")
        applied = upgrade.migrate_apply()
        assert applied.count("CREATE INDEX CONCURRENTLY") == 3, applied
        upgrade.npm("migrate:diff", "auth_config")  # what the new schema file holds beyond the steps: locale
        assert "ADD COLUMN \"locale\"" in upgrade.migrate_apply()
        assert run_npm_script(project, "auth:check").returncode == 0
        assert upgrade.rows() == {"user": 1, "account": 1}
        with psycopg.connect(upgrade.uri) as conn:
            user = conn.execute('SELECT locale, plan, nickname = name FROM auth."user"').fetchall()
        assert user == [("en", "free", True)]
        upgrade.signs_in()
