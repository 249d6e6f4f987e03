"""The template's part of the server's package.json (.copier/package.fragment.json): its scripts
and dependencies for one set of answers. tasks/merged_files.py merges it into the app's own
package.json on copy and after every update."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping

from ..questions.rules import EMBEDDED_POSTGRES_RELEASES
from ..world import schema_views
from .dev_databases import checked_first, db_scripts

# Where the template writes the Better Auth config when the app has none of its own.
DEFAULT_AUTH_CONFIG = "src/auth.ts"
# Squawk, the PostgreSQL migration linter that db:lint runs (its binary comes in a platform package).
SQUAWK_RELEASE = "2.66.0"

# The Atlas scripts that plan against atlas.hcl's dev database (prod:apply only in the declarative
# path: `migrate apply` runs the files as written).
PLANNING = ("migrate:diff", "migrate:validate", "schema:diff", "schema:push", "schema:apply", "prod:apply", "prod:diff")


def scripts(answers: Mapping) -> dict[str, str]:
    """package.json's scripts, in the order a reader meets them."""
    # Without Atlas Pro, every apply runs through scripts/apply-triggers.sh --after, which passes
    # `npm run X -- ARGS` on to Atlas and then applies triggers/ to the same database.
    then_triggers = "" if answers["atlas_pro"] else "sh scripts/apply-triggers.sh --after "
    # Every apply on the dev database runs through scripts/schema-views.mjs --after, which then
    # rewrites SCHEMA.md and src/db/types.ts when the schema changed.
    then_views = "node scripts/schema-views.mjs --after "
    # Paths reach sh through npm: quoted (the rules allow only plain ones, so the bytes stay the same).
    compose_file = answers.get("compose_file") or ""
    result = db_scripts(answers["dev_database"], shlex.quote(compose_file) if compose_file else "")
    if not answers["atlas_pro"]:
        result["db:triggers"] = "sh scripts/apply-triggers.sh"
    result |= {
        "db:check": "sh scripts/db-check.sh",
        "db:lint": "node scripts/db-lint.mjs",
        "db:drift": "node scripts/db-drift.mjs",
        "db:types": "node scripts/schema-views.mjs types",
        "db:erd": "node scripts/schema-views.mjs erd",
        "db:views:check": "node scripts/schema-views.mjs check",
    }
    if answers["use_better_auth"]:
        # The app's Better Auth config: one of project_files.AUTH_CONFIG_PLACES (plain paths, safe in sh).
        auth_config = shlex.quote(answers.get("app_auth_config") or DEFAULT_AUTH_CONFIG)
        result |= {
            "auth:generate": f"node scripts/auth-schema.mjs generate {auth_config}",
            "auth:check": f"node scripts/auth-schema.mjs check {auth_config}",
            "auth:try": f"node scripts/auth-try.mjs {auth_config}",
        }
    if answers["production_path"] == "versioned":
        result |= {
            "migrate:diff": "atlas migrate diff --env dev",
            "migrate:apply": f"{then_views}{then_triggers}atlas migrate apply --env dev",
            "migrate:hash": "atlas migrate hash --env dev",
            "migrate:status": "atlas migrate status --env dev",
            "migrate:validate": "atlas migrate validate --env dev",
        }
    result |= {
        "schema:inspect": "atlas schema inspect --env dev",
        "schema:diff": "atlas schema diff --env dev --from env://url --to env://schema.src",
        "schema:push": "atlas schema push --env dev",
        "schema:apply": f"{then_views}{then_triggers}atlas schema apply --env dev",
    }
    # prod:apply lints what it would run first, and stops on a finding (scripts/db-lint.mjs).
    lint_first = "node scripts/db-lint.mjs --before "
    if answers["production_path"] == "declarative":
        result |= {
            "prod:apply": f"{lint_first}{then_triggers}atlas schema apply --env prod",
            "prod:diff": "atlas schema diff --env prod --var allow_drops=true --from env://url --to env://schema.src",
        }
    else:
        result |= {
            "prod:apply": f"{lint_first}{then_triggers}atlas migrate apply --env prod",
            "prod:status": "atlas migrate status --env prod",
            "prod:diff": "atlas schema diff --env prod --from env://url --to env://migration.dir",
        }
    result |= {
        # copier update --trust --defaults ., after the checks copier would meet with a traceback or
        # a message that loses work (a half-applied update, an empty answers file).
        "template:update": "sh scripts/template-update.sh",
        # Every project of the monorepo made from this template (scripts/template.mjs finds them).
        "template:update-all": "node scripts/template.mjs update --all",
        "template:check": "node scripts/template.mjs check",
        "template:check-all": "node scripts/template.mjs check --all",
        "ci:workflow": "sh scripts/ci-workflow.sh",  # ci/github-workflow.yml to where GitHub reads it
        # The current list is the answers file's: package.json does not change on each domain:add.
        "domain:add": "sh scripts/domain-add.sh",
    }
    for name in PLANNING:
        if name in result and not (name == "prod:apply" and answers["production_path"] == "versioned"):
            result[name] = checked_first(answers["dev_database"], name, result[name])
    return result


def own_names(ours: Mapping, app: Mapping, last: Mapping) -> dict[str, str]:
    """Where the app keeps a script of its own under one of our names (another command, kept by
    the merge): our name -> the name ours also goes under, `db:<name>`, which every command we
    print or document then uses. APP: the app's package.json scripts; LAST: the template's part
    as last written (a script still as the template wrote it is not the app's own)."""
    return {name: f"db:{name}" for name, command in ours.items()
            if not name.startswith("db:") and isinstance(app.get(name), str)
            and app[name] not in (command, last.get(name))}


def package_json_part(answers: Mapping, app: Mapping | None = None, last: Mapping | None = None) -> dict:
    """The scripts (also under our own names where the app's own differ), and the dependencies
    the answers need."""
    ours = scripts(answers)
    renamed = own_names(ours, app or {}, last or {})
    part: dict = {"scripts": {**ours, **{renamed[name]: ours[name] for name in renamed}}}
    if answers["use_better_auth"]:
        from ..world import better_auth  # its data costs a few ms: only for projects that use it

        part["dependencies"] = better_auth.server_dependencies(answers.get("better_auth_plugins") or [])
    dev_dependencies = schema_views.dev_dependencies(bool(answers["use_better_auth"]))
    dev_dependencies["squawk-cli"] = SQUAWK_RELEASE  # db:lint
    if answers["dev_database"] == "embedded":
        dev_dependencies["embedded-postgres"] = EMBEDDED_POSTGRES_RELEASES[str(answers["postgres_version"])]
    part["devDependencies"] = dict(sorted(dev_dependencies.items()))
    return part


def package_json_text(answers: Mapping, app: Mapping | None = None, last: Mapping | None = None) -> str:
    return json.dumps(package_json_part(answers, app, last), indent=2, ensure_ascii=False)
