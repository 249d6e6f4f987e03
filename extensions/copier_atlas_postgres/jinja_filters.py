"""Every Jinja filter copier.yml and template/ use, registered by one Extension.

copier.yml lists `extensions/loader.py:TemplateFilters`; the filters are thin: the work is done
by the plain functions of the modules named in each entry.
"""

from __future__ import annotations

from jinja2.ext import Extension

from . import answers, destination, git, monorepo, rendering


def _better_auth():
    """The Better Auth model, imported only by projects that use it (its data costs a few ms)."""
    from . import better_auth

    return better_auth


FILTERS = {
    # answers
    "answer_error": answers.answer_error,
    "to_identifier": answers.to_identifier,
    "owner_role": answers.owner_role,
    "default_slug": answers.default_slug,
    # rendering
    "postgres_url": lambda parts: rendering.postgres_url(*parts),
    "hcl_string": rendering.hcl_string,
    "hcl_list": rendering.hcl_list,
    "dotenv_value": rendering.dotenv_value,
    "json_string": rendering.json_string,
    "schema_names": rendering.schema_names,
    "scratch_database": rendering.scratch_database,
    "postgres_data_dir": rendering.postgres_data_dir,
    # the destination and the monorepo around it
    "refuse_copy_problems": destination.refuse_copy_problems,
    "refuse_given_answers": destination.refuse_given_answers,
    "mark_copy_started": destination.mark_copy_started,
    "app_auth_config": destination.app_auth_config,
    "compose_file": destination.compose_file,
    "existing_answer": lambda dst, question, fallback: destination.existing_answers(dst).get(question, fallback),
    "free_port": monorepo.free_port,
    "has_uncommitted_changes": git.has_changes,
    # Better Auth
    "better_auth_sql": lambda plugins, teams=False: _better_auth().auth_schema_sql(plugins or [], teams),
    "better_auth_dependencies": lambda plugins: _better_auth().npm_dependencies(plugins or []),
    "better_auth_plugin_order": lambda plugins: list(_better_auth().selected_plugins(plugins or [])),
    "better_auth_imports": lambda plugins: _better_auth().plugin_imports(plugins or []),
    "better_auth_plugins_error":
        lambda plugins: answers.fit("better_auth_plugins", _better_auth().plugins_error(plugins)),
}


class TemplateFilters(Extension):
    """All the filters above, and the lists copier.yml offers as choices (one source each)."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.globals["postgres_versions_offered"] = lambda: list(answers.SUPPORTED_POSTGRES_VERSIONS)
        environment.globals["better_auth_plugins_offered"] = lambda: list(_better_auth().PLUGINS)
