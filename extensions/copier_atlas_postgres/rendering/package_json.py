"""The template's part of the server's package.json (.copier/package.fragment.json): its scripts
and dependencies for one set of answers. tasks/merged_files.py merges it into the app's own
package.json on copy and after every update."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..questions.rules import EMBEDDED_POSTGRES_RELEASES
from .dev_databases import db_scripts

# Where the template writes the Better Auth config when the app has none of its own.
DEFAULT_AUTH_CONFIG = "src/auth.ts"
# Squawk, the PostgreSQL migration linter that db:lint runs (its binary comes in a platform package).
SQUAWK_RELEASE = "2.66.0"


def scripts(answers: Mapping) -> dict[str, str]:
    """package.json's scripts, in the order a reader meets them."""
    # Without Atlas Pro, every apply runs through scripts/apply-triggers.sh --after, which passes
    # `npm run X -- ARGS` on to Atlas and then applies triggers/ to the same database.
    then_triggers = "" if answers["atlas_pro"] else "sh scripts/apply-triggers.sh --after "
    result = db_scripts(answers["dev_database"], answers.get("compose_file") or "")
    if not answers["atlas_pro"]:
        result["db:triggers"] = "sh scripts/apply-triggers.sh"
    result["db:check"] = "sh scripts/db-check.sh"
    result["db:lint"] = "node scripts/db-lint.mjs"
    result["db:drift"] = "node scripts/db-drift.mjs"
    if answers["use_better_auth"]:
        # The app's Better Auth config: one of project_files.AUTH_CONFIG_PLACES (plain paths, safe in sh).
        auth_config = answers.get("app_auth_config") or DEFAULT_AUTH_CONFIG
        result["auth:generate"] = f"node scripts/auth-schema.mjs generate {auth_config}"
        result["auth:check"] = f"node scripts/auth-schema.mjs check {auth_config}"
        result["auth:try"] = f"node scripts/auth-try.mjs {auth_config}"
    if answers["production_path"] == "versioned":
        result["migrate:diff"] = "atlas migrate diff --env dev"
        result["migrate:apply"] = f"{then_triggers}atlas migrate apply --env dev"
        result["migrate:hash"] = "atlas migrate hash --env dev"
        result["migrate:status"] = "atlas migrate status --env dev"
        result["migrate:validate"] = "atlas migrate validate --env dev"
    result["schema:inspect"] = "atlas schema inspect --env dev"
    result["schema:diff"] = "atlas schema diff --env dev --from env://url --to env://schema.src"
    result["schema:push"] = "atlas schema push --env dev"
    result["schema:apply"] = f"{then_triggers}atlas schema apply --env dev"
    # prod:apply lints what it would run first, and stops on a finding (scripts/db-lint.mjs).
    lint_first = "node scripts/db-lint.mjs --before "
    if answers["production_path"] == "declarative":
        result["prod:apply"] = f"{lint_first}{then_triggers}atlas schema apply --env prod"
        result["prod:diff"] = "atlas schema diff --env prod --var allow_drops=true --from env://url --to env://schema.src"
    else:
        result["prod:apply"] = f"{lint_first}{then_triggers}atlas migrate apply --env prod"
        result["prod:status"] = "atlas migrate status --env prod"
        result["prod:diff"] = "atlas schema diff --env prod --from env://url --to env://migration.dir"
    result["template:update"] = "copier update --trust --defaults ."
    # GitHub reads workflows only from the repository root; the slug is a plain name (validated).
    workflow = f".github/workflows/{answers['project_slug']}-database.yml"
    result["ci:workflow"] = (f"sh -c 'to=\"$(git rev-parse --show-toplevel)/{workflow}\" && mkdir -p \"${{to%/*}}\""
                             " && cp ci/github-workflow.yml \"$to.tmp\" && mv \"$to.tmp\" \"$to\" && echo \"wrote $to\"'")
    # The current list, filled in; domains are plain identifiers (validated), safe in quotes.
    result["domain:add"] = f"sh scripts/domain-add.sh '{', '.join(answers['domains'] or [])}'"
    return result


def package_json_part(answers: Mapping) -> dict:
    """The scripts, and the dependencies the answers need."""
    part: dict = {"scripts": scripts(answers)}
    if answers["use_better_auth"]:
        from ..world import better_auth  # its data costs a few ms: only for projects that use it

        part["dependencies"] = better_auth.server_dependencies(answers.get("better_auth_plugins") or [])
    part["devDependencies"] = {"squawk-cli": SQUAWK_RELEASE}  # db:lint
    if answers["dev_database"] == "embedded":
        part["devDependencies"]["embedded-postgres"] = EMBEDDED_POSTGRES_RELEASES[str(answers["postgres_version"])]
    return part


def package_json_text(answers: Mapping) -> str:
    return json.dumps(package_json_part(answers), indent=2, ensure_ascii=False)
