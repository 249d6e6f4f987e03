"""Copying into servers that already exist, as most of our users' servers do: an app server with its
own package.json and code, and a server built by hand from the convention doc (adoption).
Real git, real copier (its CLI for the refusals, its API in this process for the copies and updates
that succeed), real PostgreSQL and the real Atlas engine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from copier.errors import UserMessageError

from copier_atlas_postgres import project_files
from copier_atlas_postgres.questions import defaults
from tests.helpers.answers import MATRIX
from tests.helpers.atlas import run_atlas
from tests.helpers.copier_runs import copier, copy_in_process, update_in_process
from tests.helpers.files import snapshot
from tests.helpers.git import commit_all, git
from tests.helpers.postgres import load_schemas, pg_bin
from tests.helpers.releases import TEMPLATE_ROOT, V2_PUSH

DATA = TEMPLATE_ROOT / "tests" / "data"
APP_PACKAGE = """{
    "name": "shop-server",
    "version": "1.0.0",
    "scripts": {
        "dev": "bun run src/index.ts",
        "schema:apply": "prisma db push"
    },
    "files": ["dist", "src"],
    "dependencies": {
        "hono": "^4.0.0"
    }
}
"""
APP_FILES = {
    "README.md": "# Shop server\n\nOur API.\n",
    ".gitignore": "dist/\nnode_modules/\n",
    "src/index.ts": "export default { fetch: () => new Response('ok') };\n",
    "src/lib/auth.ts": 'import { betterAuth } from "better-auth";\nexport const auth = betterAuth({});\n',
}


def app_server(mono: Path) -> Path:
    """An app server with code and no database part yet, committed."""
    server = mono / "apps" / "shop" / "server"
    for rel, text in {"package.json": APP_PACKAGE, **APP_FILES}.items():
        (server / rel).parent.mkdir(parents=True, exist_ok=True)
        (server / rel).write_text(text)
    commit_all(mono, "the app server")
    return server


def copy(mono: Path, template: Path, *args: str, ref: str = "v1.0.0") -> subprocess.CompletedProcess:
    return copier(mono, "copy", "--trust", "--defaults", "--vcs-ref", ref, *args, str(template), "apps/shop/server")


# ---- an app server with code -------------------------------------------------------------------


def test_copy_into_app_server_then_update_keeps_the_apps_files(template_repo, mono, capfd):
    server = app_server(mono)
    capfd.readouterr()
    copy_in_process(mono, template_repo, "apps/shop/server", {"domains": ["asset"]}, ref="v1.0.0")  # raises unless it succeeds
    stderr = capfd.readouterr().err

    assert "kept your 'schema:apply'" in stderr  # the app's own command for that name
    assert "your config src/lib/auth.ts is kept" in stderr
    assert 'schemaName: "auth"' in stderr
    for rel, text in APP_FILES.items():
        if rel != ".gitignore":
            assert (server / rel).read_text() == text, rel
    assert (server / ".gitignore").read_text() == APP_FILES[".gitignore"] + ".env\n.postgres/\n"
    assert not (server / "src" / "auth.ts").exists()
    database_md = (server / "DATABASE.md").read_text()
    assert "`src/lib/auth.ts` is your Better Auth config" in database_md
    assert 'schemaName: "auth"' in database_md
    package = json.loads((server / "package.json").read_text())
    original = json.loads(APP_PACKAGE)
    assert list(package) == [*original, "devDependencies"]  # the app's keys, in their order; then the template's
    assert package["scripts"]["schema:apply"] == "prisma db push"
    assert package["scripts"]["dev"] == original["scripts"]["dev"]
    assert package["dependencies"]["hono"] == "^4.0.0"
    assert "better-auth" in package["dependencies"]
    assert '\n    "files": ["dist", "src"],\n' in (server / "package.json").read_text()
    assert all(len(indent) % 4 == 0 for indent in re.findall(r"\n( *)\S", (server / "package.json").read_text()))
    commit_all(mono, "copier copy")

    # The team edits one of the template's scripts, one that v2 changes too; v2 also adds one.
    package["scripts"]["schema:push"] = "atlas schema push --env dev --tag ours"
    (server / "package.json").write_text(json.dumps(package, indent=4) + "\n")
    commit_all(mono, "our schema:push")
    app_before = {rel: (server / rel).read_bytes() for rel in APP_FILES}

    update_in_process(mono, "shop")  # raises unless it succeeds
    stderr = capfd.readouterr().err

    scripts = json.loads((server / "package.json").read_text())["scripts"]
    assert scripts["template:check"] == "echo convention v2"  # added by the template
    assert scripts["schema:push"] == "atlas schema push --env dev --tag ours"  # the user's edit survives...
    assert f"kept your 'schema:push'; the template's is \"{V2_PUSH}\"" in stderr  # ...and is named
    assert scripts["schema:apply"] == "prisma db push"
    assert scripts["dev"] == "bun run src/index.ts"
    assert {rel: (server / rel).read_bytes() for rel in APP_FILES} == app_before
    assert "ACTION NEEDED" not in stderr


# ---- refused before anything is written ----------------------------------------------------------


def commit_handmade_server(mono: Path, *, account: bool = False) -> Path:
    """A server built by hand from the convention doc (tests/data/handmade-server), committed."""
    server = mono / "apps" / "shop" / "server"
    shutil.copytree(DATA / "handmade-server", server)
    if account:  # and settings the template's atlas.hcl does not write
        shutil.copy(DATA / "account.sql", server / "schemas" / "account.sql")
        hcl = server / "atlas.hcl"
        hcl.write_text(hcl.read_text().replace('["auth", "asset", "public"]', '["auth", "account", "asset", "public"]')
                       + EXTRA_ATLAS_SETTINGS)
    commit_all(mono, "hand-made server")
    return server


EXTRA_ATLAS_SETTINGS = """
lint {
  destructive {
    error = true
  }
}
"""


def write(server: Path, rel: str, text: str) -> None:
    (server / rel).parent.mkdir(parents=True, exist_ok=True)
    (server / rel).write_text(text)


REFUSALS = {
    # case: (set-up on top of an app server, extra copier arguments, paths the message names)
    "template file": (lambda s: write(s, "DATABASE.md", "# ours\n"), [], ["DATABASE.md"]),
    "trigger folder": (lambda s: write(s, "triggers/x.sql", "select 1;\n"), [], ["triggers"]),
    "numbered schema": (lambda s: write(s, "schemas/20_asset.sql", "select 1;\n"), [], ["schemas/20_asset.sql"]),
    "invalid package.json": (lambda s: write(s, "package.json", '{"name": "x",}\n'), [], ["package.json"]),
    "atlas.hcl, other layout": (lambda s: (write(s, "atlas.hcl", "env \"dev\" {\n}\n"), write(s, "schemas/01_x.sql", "")),
                                [], ["atlas.hcl"]),
    "second compose file": (lambda s: (write(s, "docker-compose.yml", "services: {}\n"), write(s, "compose.db.yaml", "")),
                            [], ["compose.db.yaml"]),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_copy_is_refused_before_writing(template_repo, mono, case):
    """Through copier's API (the message and what is left on disk are the subject); the first case
    also through the CLI, for its exit status and the message without a traceback."""
    set_up, args, named = REFUSALS[case]
    set_up(app_server(mono))
    commit_all(mono, case)

    if case == next(iter(REFUSALS)):
        result = copy(mono, template_repo, *args)
        assert result.returncode != 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        message = result.stderr
    else:
        with pytest.raises(UserMessageError) as refused:
            copy_in_process(mono, template_repo, "apps/shop/server", {}, ref="v1.0.0")
        message = str(refused.value)

    assert "Nothing was written" in message, message
    for path in named:
        assert f"  - {path}" in message, message
    assert git(mono, "status", "--porcelain", "--untracked-files=all") == ""


def test_handmade_server_needs_overwrite_and_a_commit(template_repo, mono):
    server = commit_handmade_server(mono)
    result = copy(mono, template_repo)
    assert result.returncode != 0, result.stderr
    assert "run the same command with --overwrite" in result.stderr, result.stderr
    assert git(mono, "status", "--porcelain", "--untracked-files=all") == ""

    (server / "schemas" / "asset.sql").write_text((server / "schemas" / "asset.sql").read_text() + "-- wip\n")
    before = snapshot(mono / "apps")
    result = copy(mono, template_repo, "--overwrite")
    assert result.returncode != 0, result.stderr
    assert "uncommitted changes; commit them first" in result.stderr, result.stderr
    assert snapshot(mono / "apps") == before


def test_destination_paths_cover_what_the_template_writes(render):
    """Every path the template writes whole is in project_files.TEMPLATE_FILES (so a copy refuses
    to start where the app has one); the others are merged, kept, the answers file, or atlas.hcl
    (refused, or adopted with --overwrite: see the tests above)."""
    shared = {"package.json", "README.md", ".gitignore", ".env", ".env.example", ".copier-answers.yml",
              "schemas/01_auth_custom.sql", "atlas.hcl"}
    for answers in MATRIX:
        project = render(**answers.values[0])
        for path in project.rglob("*"):
            rel = path.relative_to(project).as_posix()
            if not path.is_file() or rel in shared or rel.startswith(("src/", "compose")):
                continue
            assert any(Path(rel).match(p) or rel.startswith(p + "/") for p in project_files.TEMPLATE_FILES), rel
        # Every file of a copy is one that a copy run again after an interruption may clear (in whatever
        # order copier wrote them: that is the file system's).
        for path in project.rglob("*"):
            rel = path.relative_to(project).as_posix()
            assert not path.is_file() or any(Path(rel).match(p) or rel.startswith(p + "/") for p in project_files.WRITTEN), rel


# ---- a server built by hand from the convention doc -----------------------------------------------


def build_old_database(atlas, pg_tcp, server: Path, tmp_path: Path) -> str:
    """The database the team built with `atlas schema apply` from the hand-made files, after the
    minimal fixes Atlas needs: getenv() for env(), and files loaded auth first (Atlas loads them by
    name, so a domain sorting before auth could not reference auth."user")."""
    db, scratch = f"old_{uuid.uuid4().hex[:8]}", f"scratch_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(db)
    pg_tcp.create_database(scratch)
    work = tmp_path / "as-built"
    (work / "schemas").mkdir(parents=True)
    (work / "atlas.hcl").write_text((server / "atlas.hcl").read_text().replace("env(", "getenv("))
    order = sorted((server / "schemas").glob("*.sql"), key=lambda p: (p.stem != "auth", p.stem != "public", p.stem))
    for index, path in enumerate(order):
        shutil.copy(path, work / "schemas" / f"{index}_{path.name}")
    applied = run_atlas(atlas, work, "schema", "apply", "--env", "dev", "--url", pg_tcp.admin_url(db),
                        "--dev-url", pg_tcp.admin_url(scratch), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return db


def planned_statements(output: str) -> list[str]:
    """The SQL statements of an Atlas dry-run plan (comments dropped)."""
    if "Schema is synced, no changes to be made" in output:
        return []
    sql = "\n".join(line for line in output.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in sql.split(";") if s.strip()]


@pytest.mark.parametrize(("pro", "account", "plugins"), [
    (False, True, ["organization"]),  # without Atlas Pro: the doc's boilerplate leaves schemas/
    (True, False, []),  # the doc exactly, with Atlas Pro (what the files suggest)
], ids=["free-account-organization", "pro-doc-exact"])
def test_adopt_handmade_server(template_repo, mono, atlas, pg_tcp, fresh_db, tmp_path, capfd, pro, account, plugins):
    server = commit_handmade_server(mono, account=account)
    old_db = build_old_database(atlas, pg_tcp, server, tmp_path)
    history = {p.name: git(mono, "log", "--format=%H", "--", f"apps/shop/server/schemas/{p.name}").split()
               for p in (server / "schemas").glob("*.sql")}

    capfd.readouterr()
    copy_in_process(mono, template_repo, "apps/shop/server", {"atlas_pro": pro, "better_auth_plugins": plugins},
                    ref="v1.0.0", overwrite=True)  # raises unless it succeeds
    stderr = capfd.readouterr().err

    answers = (server / ".copier-answers.yml").read_text()
    # Defaults came from the hand-made files.
    assert "db_name: database_name" in answers
    assert "atlas_repo: project-name" in answers
    assert ("- account\n" in answers) == account
    assert "- asset\n" in answers
    moves = {"auth.sql": "00_auth.sql", "public.sql": "10_public.sql", "asset.sql": "20_asset.sql",
             **({"account.sql": "20_account.sql"} if account else {})}
    for old, new in moves.items():
        assert f"schemas/{old} -> schemas/{new}" in stderr
    assert "auth.user.plan: your column, moved to schemas/01_auth_custom.sql" in stderr
    assert 'ALTER TABLE auth."user" ADD COLUMN "plan" text not null' in (server / "schemas/01_auth_custom.sql").read_text()
    if plugins:
        assert "table auth.organization" in stderr  # what the first apply will add, listed
    if account:  # the old atlas.hcl's own settings are reported, with where to find them
        assert "the old one set more (see `git show HEAD:apps/shop/server/atlas.hcl`)" in stderr
        assert "line 26: lint { ... }\n      line 27: lint destructive { ... }\n      line 28: lint.destructive.error = true\n" in stderr

    # The moves are staged alone: committing them first keeps each file's history.
    git(mono, "commit", "-q", "-m", "Move schema files to the numbered names")
    commit_all(mono, "adopt copier-atlas-postgres")
    for old, new in moves.items():
        followed = git(mono, "log", "--follow", "--format=%H", "--", f"apps/shop/server/schemas/{new}").split()
        assert set(history[old]) <= set(followed), f"{new} lost the history of {old}"
    if not pro:  # the official Atlas build refuses functions and triggers in schemas/ without Pro
        for path in (server / "schemas").glob("*.sql"):
            assert not re.search(r"create\s+(or\s+replace\s+)?(function|trigger)", path.read_text(), re.I), path.name

    # Real Atlas, the adopted project against the database the old files built: nothing dropped,
    # no user table changed; only what Better Auth is missing is added.
    scratch = f"scratch_{uuid.uuid4().hex[:8]}"
    pg_tcp.create_database(scratch)
    plan = run_atlas(atlas, server, "schema", "apply", "--env", "dev", "--url", pg_tcp.admin_url(old_db),
                     "--dev-url", pg_tcp.admin_url(scratch), "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    statements = planned_statements(plan.stdout)
    assert not any("DROP" in s.upper() for s in statements), plan.stdout
    assert all(re.match(r'(CREATE TABLE|CREATE INDEX \S+ ON|ALTER TABLE) "auth"\.', s) for s in statements), plan.stdout
    assert all(" ADD COLUMN " in s for s in statements if s.startswith("ALTER TABLE")), plan.stdout
    assert bool(statements) == bool(plugins), plan.stdout

    # The new files load in PostgreSQL, in Atlas's order, and updated_at triggers still work.
    load_schemas(fresh_db, server)
    if not pro:
        env = {"PSQL": pg_bin("psql"), "PATH": "/usr/bin:/bin"}
        run = subprocess.run(["sh", "scripts/apply-triggers.sh", fresh_db], cwd=server, env=env,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("INSERT INTO asset.holding (symbol, created_at, updated_at)"
                     " VALUES ('X', now() - interval '1 hour', now() - interval '1 hour')")
        conn.execute("UPDATE asset.holding SET symbol = 'Y'")
        assert conn.execute("SELECT updated_at > created_at FROM asset.holding").fetchone() == (True,)

    # Afterwards it is a generated project like any other.
    update_in_process(mono, "shop")  # raises unless it succeeds
    assert "_commit: v2.0.0" in (server / ".copier-answers.yml").read_text()


def test_answer_defaults_come_from_the_handmade_files(tmp_path):
    server = shutil.copytree(DATA / "handmade-server", tmp_path / "apps" / "shop" / "server")
    assert defaults.inferred_answers(server) == {
        # the doc's dev URL and docker:// dev database, its registry repo
        "db_user": "username", "db_password": "password", "db_name": "database_name", "db_port": "5432",
        "dev_database": "docker", "postgres_version": "17", "atlas_repo": "project-name",
        # the schema files: auth.sql is Better Auth's core (plus the team's column), asset.sql a domain
        # with the doc's function and triggers (so the team ran Atlas Pro), no migrations/
        "domains": ["asset"], "adopted_domains": ["asset"], "use_better_auth": True, "better_auth_plugins": [], "organization_teams": False,
        "atlas_pro": True, "production_path": "declarative",
    }
    (server / "migrations").mkdir()
    (server / "migrations" / "20250101000000_init.sql").write_text("CREATE SCHEMA asset;\n")
    hcl = server / "atlas.hcl"
    hcl.write_text(hcl.read_text().replace("postgres://username:password@localhost:5432/database_name",
                                           "postgres://owner:it%27s@localhost:6000/Shop"))  # two values no rule accepts
    found = defaults.inferred_answers(server)
    assert found["production_path"] == "versioned"  # the doc's migrate diff / migrate apply workflow
    assert (found["db_port"], found["db_user"]) == ("6000", "owner")  # valid values are offered...
    assert "db_name" not in found
    assert "db_password" not in found  # ...invalid ones never


def test_adoption_names_auth_columns_defined_differently(template_repo, mono, capfd):
    """A hand-made auth column whose type differs from Better Auth's (here an older `timestamp`): the
    first apply changes it, and the adoption output says so."""
    server = commit_handmade_server(mono)
    auth = server / "schemas" / "auth.sql"
    auth.write_text(auth.read_text().replace('"createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt"'
                                             ' timestamptz default CURRENT_TIMESTAMP not null, "plan"',
                                             '"createdAt" timestamp default CURRENT_TIMESTAMP not null, "updatedAt"'
                                             ' timestamptz default CURRENT_TIMESTAMP not null, "plan"'))
    commit_all(mono, "an older Better Auth")
    capfd.readouterr()
    copy_in_process(mono, template_repo, "apps/shop/server", {}, ref="v1.0.0", overwrite=True)  # raises unless it succeeds
    stderr = capfd.readouterr().err
    assert "auth.user.createdAt: yours is `timestamp default CURRENT_TIMESTAMP not null`" in stderr
    assert "auth.user.updatedAt" not in stderr  # same type and nullability: nothing to say
