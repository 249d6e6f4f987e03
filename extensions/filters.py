"""Jinja extensions used by copier.yml and template/: each registers one filter.

copier-template-extensions loads this file by path, so sibling modules are loaded
by path too (a package import would pin whichever template version was imported
first in the process, e.g. the old one during `copier update`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from jinja2.ext import Extension


def _sibling(name: str):
    path = Path(__file__).with_name(f"{name}.py")
    module_name = f"copier_atlas_postgres_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


answers = _sibling("answers")
rendering = _sibling("rendering")
# Loaded before existing_server, which uses them (and finds them in sys.modules).
sql_text = _sibling("sql_text")
hcl_text = _sibling("hcl_text")
existing_server = _sibling("existing_server")
_better_auth = None


def better_auth():
    """The Better Auth model, loaded only by projects that use it."""
    global _better_auth
    if _better_auth is None:
        _better_auth = _sibling("better_auth")
    return _better_auth


def _filter(name: str, function):
    class OneFilter(Extension):
        def __init__(self, environment):
            super().__init__(environment)
            environment.filters[name] = function

    OneFilter.__name__ = OneFilter.__qualname__ = f"{name.title().replace('_', '')}Filter"
    return OneFilter


AnswerError = _filter("answer_error", answers.answer_error)
ToIdentifier = _filter("to_identifier", answers.to_identifier)
OwnerRole = _filter("owner_role", answers.owner_role)
DefaultSlug = _filter("default_slug", answers.default_slug)
PostgresUrl = _filter("postgres_url", lambda parts: rendering.postgres_url(*parts))
HclString = _filter("hcl_string", rendering.hcl_string)
DotenvValue = _filter("dotenv_value", rendering.dotenv_value)
JsonString = _filter("json_string", rendering.json_string)
SchemaNames = _filter("schema_names", rendering.schema_names)
HclList = _filter("hcl_list", rendering.hcl_list)
ScratchDatabase = _filter("scratch_database", rendering.scratch_database)
PostgresDataDir = _filter("postgres_data_dir", rendering.postgres_data_dir)
BetterAuthSql = _filter("better_auth_sql", lambda plugins, teams=False: better_auth().auth_schema_sql(plugins or [], teams))
BetterAuthDependencies = _filter("better_auth_dependencies", lambda plugins: better_auth().npm_dependencies(plugins or []))
BetterAuthPluginOrder = _filter("better_auth_plugin_order", lambda plugins: list(better_auth().selected_plugins(plugins or [])))
RefuseCopyProblems = _filter("refuse_copy_problems", existing_server.refuse_copy_problems)
ExistingAnswer = _filter("existing_answer",
                         lambda dst, question, fallback: existing_server.existing_answers(dst).get(question, fallback))
AppAuthConfig = _filter("app_auth_config", existing_server.app_auth_config)
ComposeFile = _filter("compose_file", existing_server.compose_file)
FreePort = _filter("free_port", existing_server.free_port)
BetterAuthImports = _filter("better_auth_imports", lambda plugins: better_auth().plugin_imports(plugins or []))
BetterAuthPluginsError = _filter("better_auth_plugins_error",
                                 lambda plugins: answers.fit("better_auth_plugins", better_auth().plugins_error(plugins)))


class TemplateFilters(Extension):
    """All the filters above as one extension (copier.yml lists only this, for start-up time)."""

    def __init__(self, environment):
        super().__init__(environment)
        for extension in (AnswerError, ToIdentifier, OwnerRole, DefaultSlug, PostgresUrl, HclString, DotenvValue, JsonString,
                          SchemaNames, HclList, ScratchDatabase, PostgresDataDir, BetterAuthSql,
                          BetterAuthDependencies, BetterAuthPluginOrder, BetterAuthImports, RefuseCopyProblems,
                          ExistingAnswer, AppAuthConfig, ComposeFile, FreePort, BetterAuthPluginsError):
            extension(environment)
