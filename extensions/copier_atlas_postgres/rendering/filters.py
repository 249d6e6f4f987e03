"""Every Jinja filter and global copier.yml and template/ use, as a plain name -> function table,
registered by one Extension.

copier.yml lists `extensions/loader.py:TemplateFilters`; each filter is a named function below
that hands its arguments to the module doing the work. A relative destination (copier's
`_copier_conf.dst_path`) is read from the folder copier started in, which the Extension records
on each Jinja environment copier builds (`started_in`): an update also renders while its current
folder is a temporary copy of the old release.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath

from jinja2 import pass_context, pass_environment
from jinja2.ext import Extension

from .. import git
from ..project_files import AUTH_SCHEMA_FILE, ROLL_BACK, TEMPLATE_OWNED, UPDATE_STARTED
from ..questions import defaults, destination, rules
from ..world import monorepo, package_managers, sql_text
from . import dev_databases, package_json, values


def started_in(environment, dst: object) -> Path:
    """DST as copier means it: relative to the folder copier started in."""
    return environment.started_in / str(dst)


def _better_auth():
    """The Better Auth model, imported only by projects that use it (its data costs a few ms)."""
    from ..world import better_auth

    return better_auth


# ---- before anything is written: checks and defaults ----------------------------------------------

@pass_environment
def default_answer(environment, dst: object, question: str, dev_database: object, derived: object) -> object:
    return defaults.default_answer(started_in(environment, dst), question, dev_database, derived)


@pass_environment
def dev_database_default(environment, dst: object) -> str:
    return defaults.dev_database_default(started_in(environment, dst))


@pass_environment
def dev_database_choices(environment, dst: object, data: object, user_defaults: object) -> dict[str, str]:
    """DATA: the answers given (--data); USER_DEFAULTS: copier's user defaults (settings, or an API caller's)."""
    given = {**dict(user_defaults or {}), **dict(data or {})}
    return dev_databases.choices(rules.shared_service_given_or_found(given, started_in(environment, dst)))


@pass_environment
def refuse_given_answers(environment, data: object, dst: object) -> str:
    return rules.refuse_given_answers(data, started_in(environment, dst))


@pass_environment
def detect_package_manager(environment, dst: object) -> str:
    return package_managers.detect_package_manager(started_in(environment, dst))


def better_auth_plugins_error(plugins: object) -> str:
    return rules.fit("better_auth_plugins", _better_auth().plugins_error(plugins))


# ---- while rendering ------------------------------------------------------------------------------

def postgres_url(parts: list) -> str:
    return values.postgres_url(*parts)


def _app_scripts(context) -> tuple[dict, dict]:
    """The scripts of the app's package.json, and of the template's part as last written."""
    conf = context.get("_copier_conf")
    dst = started_in(context.environment, conf["dst_path"] if conf else ".")
    try:
        last = json.loads((dst / ".copier" / "package.fragment.json").read_text(encoding="utf-8")).get("scripts")
    except (OSError, ValueError, AttributeError):
        last = None
    app = monorepo.package_json(dst).get("scripts")
    return (app if isinstance(app, dict) else {}), (last if isinstance(last, dict) else {})


@pass_context
def run(context, script: str) -> str:
    """`{{ "schema:apply --dry-run" | run }}`: the command a user types for that script and its
    arguments, with the project's package_manager answer; under our own name where the app keeps
    a script of its own under that one."""
    name, _, args = script.partition(" ")
    try:
        ours = package_json.scripts(context.get_all())
    except KeyError:  # not every answer is in yet
        ours = {}
    if name in ours:
        name = package_json.own_names(ours, *_app_scripts(context)).get(name, name)
    return package_managers.run_command(f"{name} {args}".strip(), context.get("package_manager"))


@pass_context
def package_json_part(context) -> str:
    """`{{ package_json_part() }}`: .copier/package.fragment.json for this project's answers."""
    return package_json.package_json_text(context.get_all(), *_app_scripts(context))


def dev_database_mode(name: object) -> dev_databases.DevDatabase:
    return dev_databases.DEV_DATABASES[str(name)]


@pass_context
def dev_database_doc(context, field: str) -> str | list[str]:
    """`{{ dev_database_doc("start") }}`: DATABASE.md's text FIELD for this project's dev database."""
    return dev_databases.doc_text(context.get_all(), field, lambda script: run(context, script))


@pass_context
def dev_database_installs(context) -> str:
    """`{{ dev_database_installs() }}`: what `npm install` brings for this project ('' = nothing)."""
    return dev_databases.and_list(dev_databases.installs(context.get_all()))


def package_manager_commands(name: object) -> package_managers.PackageManager:
    return package_managers.PACKAGE_MANAGERS[str(name)]


def better_auth_sql(plugins: object, teams: bool = False) -> str:
    return _better_auth().auth_schema_sql(plugins or [], teams)


def better_auth_dependencies(plugins: object) -> dict:
    return _better_auth().npm_dependencies(plugins or [])


def better_auth_plugin_order(plugins: object) -> list:
    return list(_better_auth().selected_plugins(plugins or []))


def better_auth_imports(plugins: object) -> dict:
    return _better_auth().plugin_imports(plugins or [])


# ---- after rendering: the copy's and the update's last message ------------------------------------

@pass_context
def dev_database_next_steps(context) -> list[str]:
    """The copy's first next steps for this project's dev database: install, start it."""
    return dev_databases.next_steps(context.get_all(), lambda script: run(context, script))


@pass_environment
def auth_schema_if_generated(environment, dst: object) -> str:
    """copier.yml's _skip_if_exists: 00_auth.sql once `npm run auth:generate` wrote it, else nothing."""
    return AUTH_SCHEMA_FILE if _better_auth().written_by_auth_generate(started_in(environment, dst)) else ""


@pass_environment
def catalog_notes(environment, dst: object) -> list[str]:
    return package_managers.catalog_notes(started_in(environment, dst))


@pass_environment
def env_file_notes(environment, dst: object) -> list[str]:
    from ..tasks import merged_files  # imported only for the copy's and update's last message

    return merged_files.env_file_notes(started_in(environment, dst))


@pass_environment
def docker_warning(environment, dst: object) -> list[str]:
    from ..world import docker  # only the copy's last message asks

    return docker.warning_lines(started_in(environment, dst), "dev_database docker")


@pass_environment
def relative_template_warning(environment, src: object) -> list[str]:
    """copier records the template's path as typed: a relative one leads nowhere from the project
    folder, where template:update and domain:add run. The lines that say so and give the fix."""
    src = str(src or "")
    if not src or PurePath(src).is_absolute() or ":" in src or src.startswith("~") \
            or not (environment.started_in / src).exists():
        return []  # absolute, a URL (https://, gh:, git@host:) or not a local path
    absolute = (environment.started_in / src).resolve()
    return [f"Warning: the template path {src} is relative, and .copier-answers.yml records it as",
            "  typed: template:update and domain:add run in this folder, where it leads nowhere.",
            "  Set its _src_path to the absolute path:",
            f"    _src_path: {absolute}"]


@pass_environment
def app_url(environment, dst: object) -> str:
    """BETTER_AUTH_URL in development: localhost on the port the app's dev script declares."""
    from ..world import app_runtime

    return f"http://localhost:{app_runtime.app_port(started_in(environment, dst))}"


@pass_environment
def better_auth_version_notes(environment, dst: object) -> list[str]:
    return _better_auth().version_notes(started_in(environment, dst))


FILTERS = {
    # before anything is written
    "refuse_copy_problems": destination.refuse_copy_problems,
    "refuse_given_answers": refuse_given_answers,
    "refuse_shared_without_service": rules.refuse_shared_without_service,
    "refuse_breaking_default": rules.refuse_breaking_default,
    "mark_copy_started": destination.mark_copy_started,
    "mark_update_started": destination.mark_update_started,
    "answer_error": rules.answer_error,
    "better_auth_plugins_error": better_auth_plugins_error,
    "default_answer": default_answer,
    "dev_database_default": dev_database_default,
    "dev_database_choices": dev_database_choices,
    "detect_package_manager": detect_package_manager,
    "project_name_from_package": monorepo.project_name_from_package,
    "default_slug": defaults.default_slug,
    "to_identifier": rules.to_identifier,
    "owner_role": defaults.owner_role,
    "free_port": defaults.free_port,
    "compose_file": defaults.compose_file,
    "app_auth_config": defaults.app_auth_config,
    # while rendering
    "postgres_url": postgres_url,
    "hcl_string": values.hcl_string,
    "hcl_list": values.hcl_list,
    "sql_identifier": sql_text.sql_identifier,
    "dotenv_value": values.dotenv_value,
    "app_url": app_url,
    "json_string": values.json_string,
    "schema_names": values.schema_names,
    "scratch_database": values.scratch_database,
    "example_domain": values.example_domain,
    "postgres_data_dir": values.postgres_data_dir,
    "run": run,
    "package_manager_commands": package_manager_commands,
    "dev_database_mode": dev_database_mode,
    "better_auth_sql": better_auth_sql,
    "better_auth_dependencies": better_auth_dependencies,
    "better_auth_plugin_order": better_auth_plugin_order,
    "better_auth_imports": better_auth_imports,
    # after rendering: the last message
    "has_uncommitted_changes": git.has_changes,
    "auth_schema_if_generated": auth_schema_if_generated,
    "catalog_notes": catalog_notes,
    "env_file_notes": env_file_notes,
    "docker_warning": docker_warning,
    "relative_template_warning": relative_template_warning,
    "better_auth_version_notes": better_auth_version_notes,
}


def package_managers_offered() -> list[str]:
    return list(package_managers.PACKAGE_MANAGERS)


def postgres_versions_offered() -> list[str]:
    return list(rules.SUPPORTED_POSTGRES_VERSIONS)


def better_auth_plugins_offered() -> list[str]:
    return list(_better_auth().PLUGINS)


def auth_schema_facts() -> dict:
    """What scripts/auth-schema.mjs shares with the template: the schema, the file, its first line."""
    return {"schema": _better_auth().SCHEMA, "file": AUTH_SCHEMA_FILE, "generated_mark": _better_auth().GENERATED_MARK,
            "supported": _better_auth().SCRIPTS_SUPPORT}


def template_script_facts() -> dict:
    """What scripts/template.mjs shares with the template: the files it owns, the mark of a
    half-applied update and the command that puts one back."""
    return {"owned": list(TEMPLATE_OWNED), "update_started": UPDATE_STARTED, "roll_back": ROLL_BACK}


# The lists copier.yml offers as choices (one source each), and facts the template's files share.
GLOBALS = {
    "package_managers_offered": package_managers_offered,
    "postgres_versions_offered": postgres_versions_offered,
    "better_auth_plugins_offered": better_auth_plugins_offered,
    "pnpm_build_decisions": package_managers.pnpm_build_decisions,
    "auth_schema_facts": auth_schema_facts,
    "package_json_part": package_json_part,
    "dev_database_next_steps": dev_database_next_steps,
    "dev_database_doc": dev_database_doc,
    "dev_database_installs": dev_database_installs,
    "template_script_facts": template_script_facts,
}


class TemplateFilters(Extension):
    """All the filters and globals above."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.extend(started_in=Path.cwd())
        environment.filters.update(FILTERS)
        environment.globals.update(GLOBALS)
