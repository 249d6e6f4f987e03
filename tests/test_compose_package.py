"""The compose file against the compose spec, and package.json's Atlas command lines."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml

from tests.helpers.answers import DEFAULT_DEV_DATABASE, MATRIX
from tests.helpers.files import compose_errors

# Atlas subcommands that exist and take --env (reference/atlas.md, "Commands").
ATLAS_COMMANDS = {
    ("migrate", "diff"), ("migrate", "apply"), ("migrate", "status"), ("migrate", "validate"), ("migrate", "hash"),
    ("schema", "inspect"), ("schema", "diff"), ("schema", "push"), ("schema", "apply"),
}
# The dev scripts of each production path; the convention doc's migrate:* scripts belong to the
# versioned path only (one path per project: no script invites the other one).
PATH_SCRIPTS = {
    "declarative": {"schema:inspect", "schema:diff", "schema:push", "schema:apply", "prod:apply", "prod:diff"},
    "versioned": {"schema:inspect", "schema:diff", "schema:push", "schema:apply", "migrate:diff", "migrate:apply",
                  "migrate:hash", "migrate:status", "migrate:validate", "prod:apply", "prod:status", "prod:diff"},
}
# Without Atlas Pro these run Atlas through the trigger script (which then applies triggers/).
APPLY_SCRIPTS = {"schema:apply", "migrate:apply", "prod:apply"}


def strict_json(text: str):
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
        return dict(pairs)

    return json.loads(text, object_pairs_hook=no_duplicates)


def commands(script: str) -> list[list[str]]:
    return [shlex.split(part) for part in script.split("&&")]


@pytest.mark.parametrize("answers", [a for a in MATRIX if a.values[0].get("dev_database", DEFAULT_DEV_DATABASE) == "docker"])
def test_compose_file(render, answers):
    project = render(**answers)
    compose = project / "compose.yaml"
    spec = yaml.safe_load(compose.read_text())
    assert compose_errors(spec) == []
    postgres = spec["services"]["postgres"]
    assert postgres["image"] == f"postgres:{answers.get('postgres_version', '17')}"
    port = yaml.safe_load((project / ".copier-answers.yml").read_text())["db_port"]
    assert postgres["ports"] == [f"127.0.0.1:{port}:5432"]  # the answered port, never on every interface
    assert (project / postgres["env_file"]).is_file()
    assert postgres["env_file"] == ".env"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    for mount in postgres["volumes"]:  # every named volume is declared
        assert mount.split(":")[0] in spec["volumes"]
    env = dict(line.split("=", 1) for line in (project / ".env").read_text().splitlines() if "=" in line and not line.startswith("#"))
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= set(env)


def test_postgres_18_mounts_its_new_data_dir(render):
    spec = yaml.safe_load((render(postgres_version="18", dev_database="docker") / "compose.yaml").read_text())
    assert spec["services"]["postgres"]["volumes"] == ["pgdata:/var/lib/postgresql"]


def unwrapped(script: str) -> list[str]:
    """The command a script runs, past the docker mode's check (scripts/docker-check.sh NAME [--compose])."""
    argv = commands(script)[0]
    return argv[4 if argv[3] == "--compose" else 3:] if argv[:2] == ["sh", "scripts/docker-check.sh"] else argv


@pytest.mark.parametrize("answers", MATRIX)
def test_package_json_scripts(render, answers):
    project = render(**answers)
    package = strict_json((project / "package.json").read_text())
    scripts = package["scripts"]
    path = answers.get("production_path", "declarative")
    free = not answers.get("atlas_pro", False)
    dev_database = answers.get("dev_database", DEFAULT_DEV_DATABASE)
    auth = answers.get("use_better_auth", True)
    helpers = {"template:update", "template:update-all", "template:check", "template:check-all", "domain:add",
               "db:check", "db:types", "db:erd", "db:views:check", "db:lint", "db:drift", "ci:workflow"}
    helpers |= ({"db:up", "db:down"} if dev_database in ("embedded", "docker") else set()) | (
        {"db:up"} if dev_database == "shared" else set()) | (
        {"db:triggers"} if free else set()) | ({"auth:generate", "auth:check", "auth:try"} if auth else set())
    assert set(scripts) == PATH_SCRIPTS[path] | helpers
    for name, script in scripts.items():
        argv = commands(script)
        if dev_database == "docker" and argv[0][:2] == ["sh", "scripts/docker-check.sh"]:  # through the Docker check
            assert argv[0][2] == name and (project / argv[0][1]).is_file(), name
            argv = [argv[0][4 if argv[0][3] == "--compose" else 3:]]
        assert len(argv) == 1, f"{name}: npm appends `-- ARGS` to the last command of a chain"
        argv = argv[0]
        if name in APPLY_SCRIPTS and not name.startswith("prod:"):  # SCHEMA.md and the types after a dev apply
            assert argv[:3] == ["node", "scripts/schema-views.mjs", "--after"], name
            argv = argv[3:]
        if name == "prod:apply":  # db:lint first, with every argument
            assert argv[:3] == ["node", "scripts/db-lint.mjs", "--before"], name
            argv = argv[3:]
        if name in APPLY_SCRIPTS and free:  # the trigger step runs after Atlas, with every argument
            assert argv[:3] == ["sh", "scripts/apply-triggers.sh", "--after"], name
            assert (project / argv[1]).is_file()
            argv = argv[3:]
        if argv[0] == "atlas":
            assert tuple(argv[1:3]) in ATLAS_COMMANDS, name
            assert argv[3:5] == ["--env", "prod" if name.startswith("prod:") else "dev"], name
        elif name == "db:triggers":
            assert argv == ["sh", "scripts/apply-triggers.sh"]
        elif name in ("db:types", "db:erd", "db:views:check"):
            assert argv == ["node", "scripts/schema-views.mjs", {"db:types": "types", "db:erd": "erd"}.get(name, "check")]
            assert (project / argv[1]).is_file(), name
        elif name.startswith("template:") and name != "template:update":  # every project made from the template
            assert argv[:3] == ["node", "scripts/template.mjs", name.split(":")[1].split("-")[0]], name
            assert (project / argv[1]).is_file(), name
        elif name in ("db:lint", "db:drift"):
            assert argv == ["node", f"scripts/{name.replace(':', '-')}.mjs"], name
            assert (project / argv[1]).is_file(), name
        elif name in ("template:update", "domain:add", "db:check", "ci:workflow"):  # scripts of the project's own
            assert argv[0] == "sh", name
            assert (project / argv[1]).is_file(), name
        elif dev_database == "embedded" and name in ("db:up", "db:down"):  # the npm-provided server
            assert argv == ["node", "scripts/dev-postgres.mjs", name.split(":")[1]], name
            assert (project / argv[1]).is_file(), name
        elif dev_database == "shared" and name == "db:up":  # the monorepo's server: no db:down
            assert argv == ["sh", "scripts/shared-postgres.sh"], name
            assert (project / argv[1]).is_file(), name
        elif name in ("auth:generate", "auth:check"):  # the config the template wrote
            assert argv == ["node", "scripts/auth-schema.mjs", name.split(":")[1], "src/auth.ts"], name
            assert (project / argv[1]).is_file(), name
            assert (project / argv[3]).is_file(), name
        elif name == "auth:try":  # npm appends `-- EMAIL [PASSWORD]`
            assert argv == ["node", "scripts/auth-try.mjs", "src/auth.ts"], name
            assert (project / argv[1]).is_file(), name
            assert (project / argv[2]).is_file(), name
        else:
            assert argv[:2] == ["docker", "compose"], name
    if path == "versioned":
        assert unwrapped(scripts["migrate:diff"]) == ["atlas", "migrate", "diff", "--env", "dev"]  # name is positional
        assert unwrapped(scripts["prod:apply"])[-5:] == ["atlas", "migrate", "apply", "--env", "prod"]
        assert unwrapped(scripts["prod:diff"])[5:] == ["--from", "env://url", "--to", "env://migration.dir"]
    else:
        assert unwrapped(scripts["prod:apply"])[-5:] == ["atlas", "schema", "apply", "--env", "prod"]
        # drift report: what schemas/ no longer has is listed too, though prod:apply keeps it
        assert unwrapped(scripts["prod:diff"])[5:] == ["--var", "allow_drops=true", "--from", "env://url",
                                                          "--to", "env://schema.src"]
    assert unwrapped(scripts["schema:diff"])[5:] == ["--from", "env://url", "--to", "env://schema.src"]
