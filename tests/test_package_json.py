"""The template's part of package.json as a function of the answers: one fact per row.

test_compose_package.py checks the rendered scripts run what they name; these rows check which
scripts and dependencies each answer brings, without rendering."""

from __future__ import annotations

import shlex

import pytest

from copier_atlas_postgres.rendering.package_json import package_json_part

# copier.yml's defaults, with the embedded dev database (the mode that brings the most).
DEFAULTS = {"dev_database": "embedded", "compose_file": "", "atlas_pro": False, "use_better_auth": True,
            "app_auth_config": "", "production_path": "declarative", "domains": [], "better_auth_plugins": [],
            "postgres_version": "17"}
APPLY_SCRIPTS = ("schema:apply", "prod:apply", "migrate:apply")


def applies_triggers_after(part) -> bool:
    """Every apply script runs the trigger step after Atlas, with npm's arguments passed to Atlas."""
    applies = [s for name, s in part["scripts"].items() if name in APPLY_SCRIPTS]
    return all(unwrapped(shlex.split(s))[:3] == ["sh", "scripts/apply-triggers.sh", "--after"] for s in applies)


# The scripts that run an apply's command line for it: db:lint before (prod:apply), the schema views after.
WRAPPERS = (["node", "scripts/db-lint.mjs", "--before"], ["node", "scripts/schema-views.mjs", "--after"])


def unwrapped(words: list[str]) -> list[str]:
    """The command an apply script runs inside its wrappers."""
    while words[:3] in WRAPPERS:
        words = words[3:]
    return words


def views_after_dev_applies(part) -> bool:
    """The dev applies (not prod:apply) rewrite the schema views after Atlas."""
    argvs = {name: shlex.split(s) for name, s in part["scripts"].items() if name in APPLY_SCRIPTS}
    return all((argv[:3] == WRAPPERS[1]) == (name != "prod:apply") for name, argv in argvs.items())


def db_scripts(part) -> set[str]:
    """The scripts that start and stop a dev database server."""
    return {name for name in part["scripts"] if name in ("db:up", "db:down")}


def auth_configs(part) -> set[str]:
    """The file each auth script reads: its last argument."""
    return {shlex.split(s)[-1] for name, s in part["scripts"].items() if name.startswith("auth:")}


ROWS = [
    # dev database modes: who starts and stops the server
    ("embedded: db:up and db:down", {}, lambda p: db_scripts(p) == {"db:up", "db:down"}),
    ("docker: db:up and db:down", {"dev_database": "docker", "compose_file": "compose.db.yaml"},
     lambda p: db_scripts(p) == {"db:up", "db:down"}),
    ("docker: both use the compose file answered", {"dev_database": "docker", "compose_file": "compose.db.yaml"},
     lambda p: all(shlex.split(p["scripts"][n])[6:8] == ["-f", "compose.db.yaml"] for n in ("db:up", "db:down"))),
    ("shared: no db:down, the server is the monorepo's", {"dev_database": "shared"},
     lambda p: db_scripts(p) == {"db:up"}),
    ("local: neither, the team runs its server", {"dev_database": "local"},
     lambda p: db_scripts(p) == set()),
    ("embedded: embedded-postgres for the answered major", {"postgres_version": "15"},
     lambda p: p["devDependencies"]["embedded-postgres"].split(".")[0] == "15"),
    ("docker: no embedded-postgres", {"dev_database": "docker"}, lambda p: "embedded-postgres" not in p["devDependencies"]),
    ("local: no embedded-postgres", {"dev_database": "local"}, lambda p: "embedded-postgres" not in p["devDependencies"]),
    # the schema views (SCHEMA.md, src/db/types.ts)
    ("views: kysely-codegen and the TypeScript it loads", {},
     lambda p: {"kysely-codegen", "typescript"} <= set(p["devDependencies"])),
    ("views: without Better Auth, Kysely and pg too", {"use_better_auth": False},
     lambda p: {"kysely", "pg"} <= set(p["devDependencies"])),
    ("views: db:types, db:erd, db:views:check", {},
     lambda p: {"db:types", "db:erd", "db:views:check"} <= set(p["scripts"])),
    ("views: rewritten after every dev apply, not prod's", {"production_path": "versioned"}, views_after_dev_applies),
    ("db:lint and db:drift", {}, lambda p: {"db:lint", "db:drift"} <= set(p["scripts"])),
    ("the linter db:lint runs, pinned", {}, lambda p: p["devDependencies"]["squawk-cli"][0].isdigit()),
    ("prod:apply lints first", {}, lambda p: p["scripts"]["prod:apply"].startswith("node scripts/db-lint.mjs --before ")),
    # production paths
    ("declarative: no migrate scripts", {}, lambda p: not any(n.startswith("migrate:") for n in p["scripts"])),
    ("versioned: the migrate scripts", {"production_path": "versioned"},
     lambda p: {n for n in p["scripts"] if n.startswith("migrate:")}
     == {"migrate:diff", "migrate:apply", "migrate:hash", "migrate:status", "migrate:validate"}),
    ("declarative: prod:apply applies the schema", {}, lambda p: "atlas schema apply --env prod" in p["scripts"]["prod:apply"]),
    ("versioned: prod:apply applies migrations", {"production_path": "versioned"},
     lambda p: "atlas migrate apply --env prod" in p["scripts"]["prod:apply"]),
    ("versioned: prod:status", {"production_path": "versioned"}, lambda p: "prod:status" in p["scripts"]),
    # Atlas Pro or the trigger step
    ("without Pro: the trigger step after every apply", {"production_path": "versioned"}, applies_triggers_after),
    ("without Pro: db:triggers", {}, lambda p: "db:triggers" in p["scripts"]),
    ("with Pro: Atlas alone applies", {"atlas_pro": True, "production_path": "versioned"},
     lambda p: not any("apply-triggers" in s for s in p["scripts"].values())),
    # Better Auth
    ("auth: generate, check and try", {}, lambda p: {n for n in p["scripts"] if n.startswith("auth:")}
     == {"auth:generate", "auth:check", "auth:try"}),
    ("auth: the config the template writes", {}, lambda p: auth_configs(p) == {"src/auth.ts"}),
    ("auth: the app's own config", {"app_auth_config": "app/lib/server/auth.mts"},
     lambda p: auth_configs(p) == {"app/lib/server/auth.mts"}),
    ("auth: better-auth and the pg driver", {}, lambda p: {"better-auth", "pg"} <= set(p["dependencies"])),
    ("auth: a plugin's own package", {"better_auth_plugins": ["passkey"]},
     lambda p: "@better-auth/passkey" in p["dependencies"]),
    ("auth: exact versions", {"better_auth_plugins": ["stripe"]},
     lambda p: all(v[0].isdigit() for v in p["dependencies"].values())),
    ("no auth: no auth scripts", {"use_better_auth": False}, lambda p: auth_configs(p) == set()),
    ("no auth: no dependencies", {"use_better_auth": False}, lambda p: "dependencies" not in p),
    # the project's own scripts
    ("domain:add: the list is the answers file's", {"domains": ["asset"]},
     lambda p: p["scripts"]["domain:add"] == "sh scripts/domain-add.sh"),
]


@pytest.mark.parametrize(("answers", "fact"), [(a, f) for _, a, f in ROWS], ids=[r[0] for r in ROWS])
def test_package_json_part(answers, fact):
    assert fact(package_json_part({**DEFAULTS, **answers}))
