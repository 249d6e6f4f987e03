"""The monorepo a project lands in: its package manager (found from its files, then used by every
command the template prints, documents and runs), the ports its compose files already publish, and
the app's name. A pnpm workspace of the convention doc's shape, copied into in this process; the
commands DATABASE.md types run through real pnpm (corepack)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from copier.errors import UserMessageError

from copier_atlas_postgres.questions import rules
from copier_atlas_postgres.world import monorepo, package_managers
from copier_atlas_postgres.world.compose import COMPOSE_FILE, shared_postgres, taken_ports
from tests.helpers.copier_runs import copy_in_process, update_in_process
from tests.helpers.files import compose_errors
from tests.helpers.git import commit_all, git, git_init
from tests.helpers.npm import COREPACK_ENV, PNPM_VERSION
from tests.helpers.postgres import pg_bin
from tests.helpers.releases import TEMPLATE_ROOT

DATA = TEMPLATE_ROOT / "tests" / "data"

PNPM_ENV = {**os.environ, **COREPACK_ENV}

# The monorepo's one PostgreSQL for every app, as the convention doc's monorepo has it: the image
# makes POSTGRES_USER its superuser and runs the init config on first start.
SHARED_USER, SHARED_PASSWORD = "hyperbaric_admin", "hb-dev-pw"
ROOT_COMPOSE = """\
services:
  postgres:
    image: postgres:17
    environment:
      POSTGRES_USER: {user}
      POSTGRES_PASSWORD: {password}
    ports: ["{port}:5432"]
    volumes:
      - ./docker/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql
  redis:
    image: redis:7
    ports:
      - "127.0.0.1:6379:6379"
"""
INIT_SQL = "CREATE DATABASE null_horizon;\nCREATE DATABASE chronicler;\n"


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def pnpm_monorepo(root: Path, postgres_port: int = 5432) -> Path:
    """A pnpm workspace with catalogs, turbo, one PostgreSQL for every app in the root compose file
    (on POSTGRES_PORT), and an app server that has code but no database part yet; committed."""
    git_init(root)
    write_json(root / "package.json", {"name": "horizon", "private": True, "packageManager": f"pnpm@{PNPM_VERSION}",
                                       "scripts": {"dev": "turbo dev"}, "devDependencies": {"turbo": "^2.5.0"}})
    (root / "pnpm-workspace.yaml").write_text(
        'packages: ["apps/**/*", "packages/*"]\ncatalogs:\n  backend:\n    better-auth: ^1.2.0\n    pg: ^8.16.0\n')
    write_json(root / "turbo.json", {"tasks": {"dev": {"cache": False, "persistent": True}}})
    compose = ROOT_COMPOSE.format(user=SHARED_USER, password=SHARED_PASSWORD, port=postgres_port)
    assert compose_errors(yaml.safe_load(compose)) == []
    (root / "docker-compose.yml").write_text(compose)
    (root / "docker" / "postgres").mkdir(parents=True)
    (root / "docker" / "postgres" / "init.sql").write_text(INIT_SQL)
    write_json(root / "packages" / "typescript-config" / "package.json", {"name": "@repo/typescript-config"})
    write_json(root / "apps" / "null-horizon" / "server" / "package.json", {
        "name": "null-horizon-server", "private": True, "scripts": {"dev": "tsx watch src/index.ts"},
        "dependencies": {"better-auth": "catalog:backend"}, "devDependencies": {"@repo/typescript-config": "workspace:*"}})
    commit_all(root, "monorepo")
    return root


@pytest.fixture
def pnpm_mono(tmp_path) -> Path:
    return pnpm_monorepo(tmp_path / "horizon")


def pnpm(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["corepack", "pnpm", *args], cwd=cwd, env=PNPM_ENV, capture_output=True, text=True, timeout=120)


def test_a_pnpm_workspace_gets_pnpm_commands_its_name_and_a_free_port(template_repo, pnpm_mono, capfd):
    server = pnpm_mono / "apps" / "null-horizon" / "server"
    # The app's own env file, which it loads over .env, still points at the old database.
    (server / ".env.local").write_text("DATABASE_URL=postgres://old:old@localhost:5432/old\nPORT=3000\n")
    capfd.readouterr()
    # A PostgreSQL of the project's own: the port the root compose file publishes is taken.
    copy_in_process(pnpm_mono, template_repo, "apps/null-horizon/server", {"dev_database": "embedded"}, ref="v1.0.0")
    printed = capfd.readouterr().err

    answers = yaml.safe_load((server / ".copier-answers.yml").read_text())
    assert (answers["package_manager"], answers["project_name"], answers["project_slug"]) == \
        ("pnpm", "Null Horizon", "null-horizon")
    assert answers["db_port"] == "5433"  # the root compose file's shared PostgreSQL publishes 5432
    next_steps = printed.split("Next, in", 1)[1]
    assert "pnpm install" in next_steps and "pnpm run db:up" in next_steps and "pnpm run schema:apply" in next_steps
    assert not re.search(r"\bnpm (run|install)\b", next_steps)

    manual = (server / "DATABASE.md").read_text()
    assert not re.search(r"\bnpm (run|install)\b", manual)
    assert "`pnpm run schema:apply --auto-approve`" in manual  # pnpm hands a `--` on to Atlas
    recipe = yaml.safe_load((server / "ci" / "github-workflow.yml").read_text())
    steps = recipe["jobs"]["db-check"]["steps"]
    assert {"run": "corepack enable"} in steps
    assert "pnpm install" in [step.get("run") for step in steps]
    # The app's own way of pinning is kept; the template's scripts are run as DATABASE.md types them.
    package = json.loads((server / "package.json").read_text())
    assert package["dependencies"]["better-auth"] == "catalog:backend"
    # The catalog the app uses gets the template's other packages; its better-auth range is named.
    notes = next_steps.split("pnpm catalogs:", 1)[1]
    fragment = json.loads((server / ".copier" / "package.fragment.json").read_text())
    pinned = {**fragment["dependencies"], **fragment["devDependencies"]}
    assert "in catalogs.backend\n  of pnpm-workspace.yaml" in notes and "'catalog:backend'" in notes
    added = dict(re.findall(r"^    (\S+): (\S+)$", notes, re.M))
    assert {json.loads(name): version for name, version in added.items()} == \
        {name: version for name, version in pinned.items() if name not in ("better-auth", "pg")}  # in the catalog
    assert "better-auth: catalog 'backend' says '^1.2.0', which allows releases other than\n" \
        f"  {pinned['better-auth']}, the one schemas/00_auth.sql was written for" in notes
    assert "catalogs.backend has pg: write 'catalog:backend'\n  for them in package.json" in notes
    assert ".env.local: DATABASE_URL differs from .env, which the template's scripts read" in notes
    assert [line for line in notes.splitlines() if len(line) > 80] == []
    # An update that changes the project says the same, until the workspace follows it.
    commit_all(pnpm_mono, "null-horizon's database")
    update_in_process(pnpm_mono, "null-horizon")
    after_update = capfd.readouterr().err.split("Next: review", 1)[1]
    assert "pnpm catalogs: to keep the template's packages in catalogs.backend" in after_update
    assert ".env.local: DATABASE_URL differs from .env" in after_update
    typed = re.search(r"`(pnpm run db:check --load-order)`", manual).group(1)
    result = pnpm(server, *typed.split()[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Usage" not in result.stdout  # the flag reached the script, not pnpm
    refused = pnpm(server, "run", "domain:add")
    assert refused.returncode != 0
    assert "e.g. pnpm run domain:add billing" in refused.stderr


def test_the_monorepos_postgres_gets_a_database_per_app_and_no_second_server(template_dir, tmp_path, pg_tcp, atlas, capfd):
    """The shared dev database: a new server and one hand-made from the doc both default to the root
    compose file's PostgreSQL, and `pnpm run db:up` (as printed) creates their databases on it,
    run twice or after a kill. A real PostgreSQL stands in for the compose service (no Docker here)."""
    root = pnpm_monorepo(tmp_path / "horizon", postgres_port=pg_tcp.port)
    chronicler = root / "apps" / "chronicler" / "server"  # hand-made from the doc, on the shared server
    shutil.copytree(DATA / "handmade-server", chronicler)
    hcl = chronicler / "atlas.hcl"
    hcl.write_text(hcl.read_text().replace("username:password@localhost:5432/database_name",
                                           f"{SHARED_USER}:{SHARED_PASSWORD}@localhost:{pg_tcp.port}/chronicler"))
    commit_all(root, "chronicler's server, by hand")
    before = {path: path.read_bytes() for path in root.rglob("*") if path.is_file() and ".git" not in path.parts}
    # What the image does on first start: POSTGRES_USER as superuser, then the init config, as that user.
    pg_tcp.execute(f"CREATE ROLE {SHARED_USER} SUPERUSER LOGIN PASSWORD '{SHARED_PASSWORD}'")
    run_psql = [pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(root / "docker" / "postgres" / "init.sql"),
                pg_tcp.url(SHARED_USER, SHARED_PASSWORD, "postgres")]
    subprocess.run(run_psql, check=True, capture_output=True)

    capfd.readouterr()
    copy_in_process(root, template_dir, "apps/null-horizon/server", {})
    next_steps = capfd.readouterr().err.split("Next, in", 1)[1]
    commit_all(root, "null-horizon's database")
    copy_in_process(root, template_dir, "apps/chronicler/server", {}, overwrite=True)  # the adoption
    commit_all(root, "chronicler adopted")

    for server, db_name in ((root / "apps" / "null-horizon" / "server", "null_horizon"), (chronicler, "chronicler")):
        answers = yaml.safe_load((server / ".copier-answers.yml").read_text())
        assert {key: answers[key] for key in ("dev_database", "db_port", "db_user", "db_password", "db_name",
                                              "postgres_version", "shared_compose_file", "shared_service")} == {
            "dev_database": "shared", "db_port": str(pg_tcp.port), "db_user": SHARED_USER, "db_password": SHARED_PASSWORD,
            "db_name": db_name, "postgres_version": "17", "shared_compose_file": "../../../docker-compose.yml",
            "shared_service": "postgres"}
        assert not [path.name for path in server.iterdir() if COMPOSE_FILE.fullmatch(path.name)]
        assert "db:down" not in json.loads((server / "package.json").read_text())["scripts"]  # the others' server
    # Nothing outside the two servers changed.
    assert {path: path.read_bytes() for path in before if not path.is_relative_to(root / "apps")} == \
        {path: data for path, data in before.items() if not path.is_relative_to(root / "apps")}
    assert not [line for line in git(root, "log", "--name-only", "--format=", "HEAD~2..").splitlines()
                if not line.startswith(("apps/null-horizon/server/", "apps/chronicler/server/"))]

    # db:up as printed, with psql on PATH: killed once, then run twice per app.
    db_up = re.search(r"^  (pnpm run db:up)\b", next_steps, re.M).group(1).split()
    env = {**PNPM_ENV, "PATH": os.pathsep.join([str(Path(atlas).parent), str(Path(pg_bin("psql")).parent), os.environ["PATH"]])}
    server = root / "apps" / "null-horizon" / "server"
    killed = subprocess.Popen(["corepack", *db_up], cwd=server, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    for app in (server, server, chronicler):
        result = subprocess.run(["corepack", *db_up], cwd=app, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    databases = pg_tcp_databases(pg_tcp)
    assert {"null_horizon", "null_horizon_atlas_dev", "chronicler", "chronicler_atlas_dev"} <= databases

    # Each app's schemas reach its own database through real Atlas (the dev database is its EMPTY
    # one); db:check passes on the new one (the hand-made one breaks the conventions: it says so).
    for app, typed in ((server, "pnpm run schema:apply --auto-approve"), (server, "pnpm run db:check"),
                       (chronicler, "pnpm run schema:apply --auto-approve")):
        assert f"`{typed}`" in (app / "DATABASE.md").read_text()
        result = subprocess.run(["corepack", *typed.split()], cwd=app, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "db:check: ok" in result.stdout or typed != "pnpm run db:check"
    assert sorted(tables_in(pg_tcp, "null_horizon")) == ["auth.account", "auth.session", "auth.user", "auth.verification"]
    assert {"asset.holding", "public.app_setting"} <= tables_in(pg_tcp, "chronicler")
    assert pg_tcp_databases(pg_tcp) == databases  # no database more than the two per app


def tables_in(pg_tcp, database: str) -> set[str]:
    with psycopg.connect(pg_tcp.admin_url(database)) as conn:
        return {row[0] for row in conn.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")}


def pg_tcp_databases(pg_tcp) -> set[str]:
    with psycopg.connect(pg_tcp.admin_url()) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


@pytest.mark.parametrize(("files", "expected"), [
    ({"package.json": '{"packageManager": "yarn@4.9.1"}', "pnpm-lock.yaml": ""}, "yarn"),  # the field first
    ({"pnpm-workspace.yaml": "packages: []"}, "pnpm"),
    ({"yarn.lock": ""}, "yarn"),
    ({"bun.lockb": ""}, "bun"),
    ({"bun.lock": "", "package.json": '{"packageManager": "deno@2"}'}, "bun"),  # a manager not offered
    ({"package-lock.json": "{}"}, "npm"),
    ({}, "npm"),
])
def test_package_manager_from_the_monorepo_root(tmp_path, files, expected):
    root = tmp_path / "mono"
    (root / ".git").mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    assert package_managers.detect_package_manager(root / "apps" / "shop" / "server") == expected


def test_package_manager_nearest_field_wins_and_nothing_above_the_monorepo_is_read(tmp_path):
    (tmp_path / "pnpm-lock.yaml").write_text("")  # above the monorepo: not its file
    root = tmp_path / "mono"
    (root / ".git").mkdir(parents=True)
    server = root / "apps" / "shop" / "server"
    assert package_managers.detect_package_manager(server) == "npm"
    write_json(root / "package.json", {"packageManager": "pnpm@10.0.0"})
    write_json(server / "package.json", {"packageManager": "bun@1.2.0"})
    assert package_managers.detect_package_manager(server) == "bun"


def test_a_bad_package_manager_answer_is_one_line_naming_the_question():
    message = rules.given_answer_error({"package_manager": "pnpm; rm -rf /"})
    assert message == "Validation error for question 'package_manager': one of npm, pnpm, yarn, bun"
    assert len(message) <= 80
    assert rules.given_answer_error({"package_manager": "yarn"}) == ""


def test_npm_is_refused_for_an_app_npm_cannot_install(template_dir, pnpm_mono):
    """The app's catalog: and workspace: dependencies stop `npm install` (EUNSUPPORTEDPROTOCOL):
    answering npm there is refused in one line, before anything is written."""
    server = pnpm_mono / "apps" / "null-horizon" / "server"
    message = rules.given_answer_error({"package_manager": "npm"}, server)
    assert message == "Validation error for question 'package_manager': catalog: needs pnpm, not npm"
    assert len(message) <= 80
    with pytest.raises(UserMessageError, match="catalog: needs pnpm, not npm"):
        copy_in_process(pnpm_mono, template_dir, "apps/null-horizon/server", {"package_manager": "npm"}, ref="HEAD")
    assert sorted(p.name for p in server.iterdir()) == ["package.json"]
    # Where npm can install everything, npm stays a valid answer.
    assert rules.given_answer_error({"package_manager": "npm"}, pnpm_mono / "apps" / "other" / "server") == ""


def test_run_command_puts_arguments_where_each_manager_passes_them():
    assert package_managers.run_command("schema:apply --dry-run", "npm") == "npm run schema:apply -- --dry-run"
    assert package_managers.run_command("schema:apply --dry-run", "pnpm") == "pnpm run schema:apply --dry-run"
    assert package_managers.run_command("db:up", "bun") == "bun run db:up"


def test_ports_published_by_any_compose_file_of_the_monorepo(tmp_path):
    root = tmp_path / "mono"
    (root / ".git").mkdir(parents=True)
    (root / "docker-compose.yml").write_text(ROOT_COMPOSE.format(user=SHARED_USER, password=SHARED_PASSWORD, port=5432))
    (root / "infra").mkdir()
    (root / "infra" / "compose.dev.yaml").write_text(
        "services:\n  a: {ports: ['${PG_PORT:-5434}:5432', '9000', {target: 80, published: '5435'}]}\n"
        "  b: {image: x}\n")
    (root / "apps" / "shop" / "server").mkdir(parents=True)
    (root / "apps" / "shop" / "server" / "compose.yaml").write_text("services: {p: {ports: ['5436:5432']}}\n")
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "compose.yaml").write_text("services: {p: {ports: ['5437:5432']}}\n")
    (root / "broken").mkdir()
    (root / "broken" / "compose.yml").write_text("services: [\n")
    assert taken_ports(root / "apps" / "web" / "server") == {5432, 6379, 5434, 5435, 5436}
    # A project's own compose file does not take its own port.
    assert 5436 not in taken_ports(root / "apps" / "shop" / "server")
    assert taken_ports(tmp_path / "not-in-git") == set()


@pytest.mark.parametrize(("compose", "root_env", "expected"), [
    # The doc's shape; a service that is not PostgreSQL comes first.
    ("services:\n  cache: {image: redis:7, ports: ['6379:6379']}\n"
     "  db: {image: 'postgres:16-alpine', environment: {POSTGRES_USER: admin, POSTGRES_PASSWORD: pw}, ports: ['5432:5432']}\n",
     "", ("db", "5432", "admin", "pw", "16")),
    # Interpolated from the root .env or its default, an env_file, a list environment, the long port syntax.
    ("services:\n  pg:\n    image: pgvector/pgvector:pg17\n    env_file: [.env.db]\n"
     "    environment: ['POSTGRES_USER=${PG_USER:-team}']\n    ports: [{target: 5432, published: '${PG_PORT}'}]\n",
     "PG_PORT=5440\n", ("pg", "5440", "team", "from-env-file", "17")),
    # The image's defaults: user postgres, no password; a tag without a version.
    ("services:\n  postgres: {image: 'docker.io/library/postgres:latest', ports: ['127.0.0.1:5433:5432']}\n",
     "", ("postgres", "5433", "postgres", None, None)),
    # Not reachable from this machine (no published port), or not PostgreSQL.
    ("services:\n  postgres: {image: 'postgres:17'}\n  web: {image: nginx, ports: ['5432:80']}\n", "", None),
])
def test_the_monorepos_postgres_service_is_found_in_its_root_compose_file(tmp_path, compose, root_env, expected):
    root = tmp_path / "mono"
    (root / ".git").mkdir(parents=True)
    (root / "compose.yaml").write_text(compose)
    (root / ".env").write_text(root_env)
    (root / ".env.db").write_text("POSTGRES_PASSWORD='from-env-file'\n")
    found = shared_postgres(root / "apps" / "web" / "server")
    if expected is None:
        assert found is None
    else:
        assert (found.service, found.port, found.user, found.password, found.version) == expected
        assert found.compose_file == "../../../compose.yaml"
    # Only the monorepo's root is read: a compose file further down is an app's own.
    (root / "apps" / "api").mkdir(parents=True)
    (root / "compose.yaml").rename(root / "apps" / "api" / "compose.yaml")
    assert shared_postgres(root / "apps" / "web" / "server") is None


@pytest.mark.parametrize(("name", "expected"), [
    ("null-horizon-server", "Null Horizon"),
    ("@repo/chronicler-api", "Chronicler"),
    ("my_shop.backend", "My Shop Backend"),
    ("-server", "My App"),
    (42, "My App"),
])
def test_project_name_from_the_apps_package_json(tmp_path, name, expected):
    write_json(tmp_path / "package.json", {"name": name})
    assert monorepo.project_name_from_package(tmp_path, "My App") == expected
