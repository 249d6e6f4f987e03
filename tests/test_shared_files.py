"""The merge of the template's part into the app's package.json, .gitignore and .env (merged_files.py)."""

from __future__ import annotations

import json

import pytest

from copier_atlas_postgres.tasks import merged_files
from copier_atlas_postgres.tasks.merged_files import Report, merge_entries, merge_env, merge_gitignore, merge_package_json

APP_PACKAGE = """{
    "name": "shop-server",
    "version": "1.0.0",
    "scripts": {
        "dev": "bun run src/index.ts",
        "db:up": "docker compose up db"
    },
    "files": ["dist", "src"],
    "dependencies": {
        "hono": "^4.0.0"
    }
}
"""
TEMPLATE_V1 = {"scripts": {"db:up": "docker compose -f compose.yaml up", "schema:apply": "atlas schema apply --env dev",
                           "old": "echo old"},
               "dependencies": {"better-auth": "1.7.5"}}


@pytest.mark.parametrize(("current", "base", "new", "user_wins", "merged", "change"), [
    ({}, None, {"a": "1"}, True, {"a": "1"}, "added"),
    ({"a": "1"}, None, {"a": "1"}, True, {"a": "1"}, None),
    ({"a": "mine"}, None, {"a": "1"}, True, {"a": "mine"}, "kept"),  # first copy: the app's value wins
    ({"a": "1"}, {"a": "1"}, {"a": "2"}, True, {"a": "2"}, "updated"),  # untouched: the template's change
    ({"a": "mine"}, {"a": "1"}, {"a": "2"}, True, {"a": "mine"}, "kept"),  # edited: the user's value
    ({"a": "mine"}, {"a": "1"}, {"a": "2"}, False, {"a": "2"}, "replaced"),  # .env follows the answers
    ({"a": "mine"}, {"a": "1"}, {"a": "1"}, False, {"a": "mine"}, None),  # template unchanged: theirs, quietly
    ({}, {"a": "1"}, {"a": "1"}, True, {}, None),  # deleted by the user: stays deleted
    ({"a": "1"}, {"a": "1"}, {}, True, {}, "removed"),  # dropped by the template, untouched
    ({"a": "mine"}, {"a": "1"}, {}, True, {"a": "mine"}, None),  # dropped by the template, edited: kept
])
def test_three_way_rules(current, base, new, user_wins, merged, change):
    result, changes = merge_entries(current, base, new, user_wins=user_wins)
    assert result == merged
    assert changes.get("a") == change


def test_package_json_keeps_the_apps_keys_order_and_bytes():
    report = Report()
    text = merge_package_json(APP_PACKAGE, None, TEMPLATE_V1, report)
    merged = json.loads(text)
    assert list(merged) == ["name", "version", "scripts", "files", "dependencies"]
    assert merged["scripts"] == {"dev": "bun run src/index.ts", "db:up": "docker compose up db",
                                 "schema:apply": "atlas schema apply --env dev", "old": "echo old"}
    assert merged["dependencies"] == {"hono": "^4.0.0", "better-auth": "1.7.5"}
    # Untouched members keep their bytes (the inline array), and the 4-space indentation stays.
    assert '    "files": ["dist", "src"],\n' in text
    assert text.startswith('{\n    "name": "shop-server",\n')
    assert '\n        "schema:apply": "atlas schema apply --env dev",\n' in text
    assert report.kept == ["package.json scripts: kept your 'db:up'; the template's is "
                           '"docker compose -f compose.yaml up"']


def test_package_json_three_way_across_versions():
    first = merge_package_json(APP_PACKAGE, None, TEMPLATE_V1, Report())
    edited = first.replace('"atlas schema apply --env dev"', '"atlas schema apply --env dev --auto-approve"')
    v2 = {"scripts": {"db:up": "docker compose -f compose.yaml up -d", "schema:apply": "atlas schema apply --env dev -q",
                      "new": "echo new"},
          "dependencies": {"better-auth": "1.7.7"}}
    report = Report()
    merged = json.loads(merge_package_json(edited, TEMPLATE_V1, v2, report))
    assert merged["scripts"] == {"dev": "bun run src/index.ts", "db:up": "docker compose up db",
                                 "schema:apply": "atlas schema apply --env dev --auto-approve", "new": "echo new"}
    assert merged["dependencies"] == {"hono": "^4.0.0", "better-auth": "1.7.7"}
    assert "package.json scripts: added new" in report.lines
    assert "package.json scripts: removed old" in report.lines
    assert any("kept your 'schema:apply'" in line for line in report.kept)


@pytest.mark.parametrize("text", ["{}", "{}\n", '{"name": "x"}', '{\n\t"name": "x"\n}\n', '{ "a": {"b": 1} }'])
def test_package_json_gains_the_sections_whatever_its_shape(text):
    merged = merge_package_json(text, None, TEMPLATE_V1, Report())
    assert json.loads(merged) == {**json.loads(text), **TEMPLATE_V1}
    assert merged.endswith("\n") == text.endswith("\n")


def test_package_json_that_is_not_an_object_is_refused():
    with pytest.raises(ValueError):
        merge_package_json("[1, 2]", None, TEMPLATE_V1, Report())


def test_gitignore_only_gains_missing_lines():
    report = Report()
    assert merge_gitignore("dist/\nnode_modules/", [".env", "node_modules/"], report) == "dist/\nnode_modules/\n.env\n"
    assert report.lines == [".gitignore: added .env"]
    assert merge_gitignore("# x\n.env\n", [".env"], Report()) == "# x\n.env\n"


ENV_V1 = {"POSTGRES_PORT": "'5432'", "DATABASE_URL": "'postgres://u:p@localhost:5432/d'", "BETTER_AUTH_SECRET": "'placeholder'"}
ENV_V2 = {**ENV_V1, "POSTGRES_PORT": "'5440'", "DATABASE_URL": "'postgres://u:p@localhost:5440/d'"}


def test_env_follows_the_answers_and_keeps_every_other_line():
    user_env = ("# mine\nexport API_KEY=abc  \nPOSTGRES_PORT='5432'\n"
                "DATABASE_URL='postgres://u:p@localhost:5432/d'\r\nBETTER_AUTH_SECRET='s3cret'\nLAST=1")
    report = Report()
    merged = merge_env(user_env, ENV_V1, ENV_V2, secret="fresh", name=".env", report=report)
    assert merged == ("# mine\nexport API_KEY=abc  \nPOSTGRES_PORT='5440'\n"
                      "DATABASE_URL='postgres://u:p@localhost:5440/d'\r\nBETTER_AUTH_SECRET='s3cret'\nLAST=1")
    assert report.lines == [".env: updated POSTGRES_PORT, DATABASE_URL"]
    assert "s3cret" not in "\n".join(report.lines + report.kept)


def test_env_gets_a_fresh_secret_once_and_the_example_the_placeholder():
    merged = merge_env("", None, ENV_V1, secret="fresh", name=".env", report=Report())
    assert merged_files.env_values(merged) == {**ENV_V1, "BETTER_AUTH_SECRET": "'fresh'"}
    again = merge_env(merged, ENV_V1, ENV_V1, secret="other", name=".env", report=Report())
    assert again == merged
    example = merge_env("", None, ENV_V1, secret=None, name=".env.example", report=Report())
    assert merged_files.env_values(example)["BETTER_AUTH_SECRET"] == "'placeholder'"


def test_env_value_the_user_set_before_the_first_copy_is_kept_and_named():
    report = Report()
    merged = merge_env("DATABASE_URL=postgres://elsewhere\n", None, ENV_V1, secret="x", name=".env", report=report)
    assert "DATABASE_URL=postgres://elsewhere\n" in merged
    assert report.kept == [".env: kept your DATABASE_URL (differs from atlas.hcl's dev database: review)"]


def test_env_key_the_user_changed_is_replaced_when_the_answers_change_it():
    """.env follows the answers: a value of the user's own for a template key gives way (and the
    update says so, without the value) when the answers change that key."""
    report = Report()
    mine = "POSTGRES_PORT='5432'\nDATABASE_URL='postgres://me@elsewhere/d'\n"
    merged = merge_env(mine, ENV_V1, ENV_V2, secret="x", name=".env", report=report)
    assert merged_files.env_values(merged)["DATABASE_URL"] == ENV_V2["DATABASE_URL"]
    assert report.kept == [".env: the answers changed DATABASE_URL: your own value was replaced"]
    assert "elsewhere" not in "\n".join(report.lines + report.kept)


def test_an_apps_own_env_file_is_named_where_it_disagrees_with_env(tmp_path):
    (tmp_path / ".copier").mkdir()
    (tmp_path / ".copier" / "env.fragment").write_text(
        "POSTGRES_DB='shop'\nDATABASE_URL='postgres://a:b@localhost:5432/shop'\nBETTER_AUTH_SECRET='x'\n")
    (tmp_path / ".env").write_text("POSTGRES_DB='shop'\nDATABASE_URL='postgres://a:b@localhost:5432/shop'\nBETTER_AUTH_SECRET='s'\n")
    # The same values, quoted or not, and keys that are not the template's: nothing to say.
    (tmp_path / ".env.local").write_text("POSTGRES_DB=shop\nDATABASE_URL=\"postgres://a:b@localhost:5432/shop\"\n"
                                         "BETTER_AUTH_SECRET=other\nPORT=3000\n")
    assert merged_files.env_file_notes(tmp_path) == []
    (tmp_path / ".env.development").write_text("POSTGRES_DB=legacy\nDATABASE_URL=postgres://a:b@localhost:5432/legacy\n"
                                               "BETTER_AUTH_SECRET=other\n")
    assert merged_files.env_file_notes(tmp_path) == [
        ".env.development: DATABASE_URL, POSTGRES_DB differ from .env, which the template's scripts read;",
        "  if the app loads .env.development, it uses another database: make them agree."]
